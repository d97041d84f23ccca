#!/usr/bin/env node
// npm run bench:entry - the entry hot path against V8's native JSON.stringify of the same finished entry:
//   serialize          serializeLogEntry(entry)
//   build+serialize    createLogEntryBuilder(...).build(exchange) then serializeLogEntry
// on a realistic exchange (12 request headers, 8 response headers, a 1 KiB JSON body logged and parsed).
// Runs on this Node, then the same figures on Node 24 (from the npm registry, see scripts/node24.mjs).
// Last line: {"bench":"entry","serialize_vs_stringify":R,"build_serialize_vs_stringify":R,"build_serialize_per_s":N}
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median, opsPerSecond, table } from './lib/measure.mjs';
import { realisticExchange } from './lib/realistic-exchange.mjs';

const require = createRequire(import.meta.url);
const { createLogEntryBuilder, serializeLogEntry } = require('../dist/index.js');

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);

function measure() {
  const builder = createLogEntryBuilder({ logRequestBody: true });
  const headersOnly = createLogEntryBuilder();
  const exchange = realisticExchange();
  const entry = builder.build(exchange);
  const entryWithoutBody = headersOnly.build(exchange);
  if (JSON.stringify(JSON.parse(serializeLogEntry(entry))) === undefined) throw new Error('unreachable');
  const variants = {
    'JSON.stringify': () => JSON.stringify(entry),
    serializeLogEntry: () => serializeLogEntry(entry),
    'build+serialize': () => serializeLogEntry(builder.build(exchange)),
    // Informative: the same exchange with body logging off (Kong's default), against stringify of that entry.
    'JSON.stringify (no body)': () => JSON.stringify(entryWithoutBody),
    'build+serialize (no body)': () => serializeLogEntry(headersOnly.build(exchange)),
  };
  for (const fn of Object.values(variants)) opsPerSecond(fn, 200); // warm-up: let V8 optimize each path
  const rates = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(variants)) rates[name].push(opsPerSecond(fn, ROUND_MS));
  }
  const ratio = (name, baseline = 'JSON.stringify') => median(rates[name].map((rate, i) => rate / rates[baseline][i]));
  return {
    node: process.version,
    entryBytes: Buffer.byteLength(serializeLogEntry(entry)),
    stringifyPerS: median(rates['JSON.stringify']),
    serializePerS: median(rates.serializeLogEntry),
    buildSerializePerS: median(rates['build+serialize']),
    serializeVsStringify: ratio('serializeLogEntry'),
    buildSerializeVsStringify: ratio('build+serialize'),
    noBodyBuildSerializeVsStringify: ratio('build+serialize (no body)', 'JSON.stringify (no body)'),
  };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[2] === '--child') {
  process.stdout.write(`${JSON.stringify(measure())}\n`);
} else {
  const results = [measure()];
  if (process.env.BENCH_SKIP_NODE24 !== '1') {
    try {
      const { ensureNode24 } = await import('../scripts/node24.mjs');
      const output = execFileSync(ensureNode24(), [self, '--child'], { encoding: 'utf8' });
      results.push(JSON.parse(output.trim().split('\n').pop()));
    } catch (error) {
      console.error(`Node 24 run skipped: ${error.message}`);
    }
  }
  const rows = results.map((r) => ({
    node: r.node,
    'entry bytes': r.entryBytes,
    'JSON.stringify/s': Math.round(r.stringifyPerS),
    'serialize/s': Math.round(r.serializePerS),
    'build+serialize/s': Math.round(r.buildSerializePerS),
    'serialize vs stringify': r.serializeVsStringify.toFixed(2),
    'build+serialize vs stringify': r.buildSerializeVsStringify.toFixed(2),
    'same, body logging off': r.noBodyBuildSerializeVsStringify.toFixed(2),
  }));
  console.log(`entry benchmark: ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, medians (ratios per round)\n`);
  console.log(table(rows));
  const [own, node24] = results;
  const figures = {
    bench: 'entry',
    serialize_vs_stringify: Number(own.serializeVsStringify.toFixed(3)),
    build_serialize_vs_stringify: Number(own.buildSerializeVsStringify.toFixed(3)),
    build_serialize_per_s: Math.round(own.buildSerializePerS),
    no_body_build_serialize_vs_stringify: Number(own.noBodyBuildSerializeVsStringify.toFixed(3)),
  };
  if (node24) {
    figures.node24_serialize_vs_stringify = Number(node24.serializeVsStringify.toFixed(3));
    figures.node24_build_serialize_vs_stringify = Number(node24.buildSerializeVsStringify.toFixed(3));
    figures.node24_build_serialize_per_s = Math.round(node24.buildSerializePerS);
  }
  console.log(JSON.stringify(figures));
}
