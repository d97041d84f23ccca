#!/usr/bin/env node
// npm run bench:entry - the entry hot path against V8's native JSON.stringify of the same finished entry:
//   serialize          serializeLogEntry(entry)
//   build+serialize    createLogEntryBuilder(...).build(exchange) then serializeLogEntry
// on a realistic exchange (12 request headers, 8 response headers, a 1 KiB JSON body logged and parsed).
// Each builder configuration runs in a process of its own, as in a service (one configuration per process):
// the headline one logs the request body; an informative second one leaves body logging off (Kong's default).
// Both run on this Node, then again on Node 24 (from the npm registry, see scripts/node24.mjs).
// Last line: {"bench":"entry","serialize_vs_stringify":R,"build_serialize_vs_stringify":R,"build_serialize_per_s":N}
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { median, opsPerSecond, table } from './lib/measure.mjs';
import { realisticExchange } from './lib/realistic-exchange.mjs';

const require = createRequire(import.meta.url);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);
const CONFIGURATIONS = {
  body: { logRequestBody: true },
  'no-body': {},
};

/** Measures one builder configuration: stringify, serialize and build+serialize, interleaved per round. */
function measure(configuration) {
  const { createLogEntryBuilder, serializeLogEntry } = require('../dist/index.js');
  const builder = createLogEntryBuilder(CONFIGURATIONS[configuration]);
  const exchange = realisticExchange();
  const entry = builder.build(exchange);
  const variants = {
    'JSON.stringify': () => JSON.stringify(entry),
    serializeLogEntry: () => serializeLogEntry(entry),
    'build+serialize': () => serializeLogEntry(builder.build(exchange)),
  };
  for (const fn of Object.values(variants)) opsPerSecond(fn, 200); // warm-up: let V8 optimize each path
  const rates = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(variants)) rates[name].push(opsPerSecond(fn, ROUND_MS));
  }
  const ratio = (name) => median(rates[name].map((rate, i) => rate / rates['JSON.stringify'][i]));
  return {
    node: process.version,
    configuration,
    entryBytes: Buffer.byteLength(serializeLogEntry(entry)),
    stringifyPerS: median(rates['JSON.stringify']),
    serializePerS: median(rates.serializeLogEntry),
    buildSerializePerS: median(rates['build+serialize']),
    serializeVsStringify: ratio('serializeLogEntry'),
    buildSerializeVsStringify: ratio('build+serialize'),
  };
}

function runChild(node, configuration) {
  const output = execFileSync(node, [fileURLToPath(import.meta.url), '--child', configuration], { encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').pop());
}

if (process.argv[2] === '--child') {
  process.stdout.write(`${JSON.stringify(measure(process.argv[3]))}\n`);
} else {
  const nodes = [process.execPath];
  if (process.env.BENCH_SKIP_NODE24 !== '1') {
    try {
      const { ensureNode24 } = await import('../scripts/node24.mjs');
      nodes.push(ensureNode24());
    } catch (error) {
      console.error(`Node 24 run skipped: ${error.message}`);
    }
  }
  const results = [];
  for (const node of nodes) {
    for (const configuration of Object.keys(CONFIGURATIONS)) results.push(runChild(node, configuration));
  }
  const rows = results.map((r) => ({
    node: r.node,
    'request body': r.configuration === 'body' ? 'logged' : 'off',
    'entry bytes': r.entryBytes,
    'JSON.stringify/s': Math.round(r.stringifyPerS),
    'serialize/s': Math.round(r.serializePerS),
    'build+serialize/s': Math.round(r.buildSerializePerS),
    'serialize vs stringify': r.serializeVsStringify.toFixed(2),
    'build+serialize vs stringify': r.buildSerializeVsStringify.toFixed(2),
  }));
  console.log(`entry benchmark: ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, medians (ratios per round)\n`);
  console.log(table(rows));
  const find = (node, configuration) => results.find((r) => r.node === node && r.configuration === configuration);
  const own = find(process.version, 'body');
  const ownNoBody = find(process.version, 'no-body');
  const figures = {
    bench: 'entry',
    serialize_vs_stringify: Number(own.serializeVsStringify.toFixed(3)),
    build_serialize_vs_stringify: Number(own.buildSerializeVsStringify.toFixed(3)),
    build_serialize_per_s: Math.round(own.buildSerializePerS),
    no_body_serialize_vs_stringify: Number(ownNoBody.serializeVsStringify.toFixed(3)),
    no_body_build_serialize_vs_stringify: Number(ownNoBody.buildSerializeVsStringify.toFixed(3)),
  };
  const node24 = results.find((r) => r.node !== process.version && r.configuration === 'body');
  if (node24) {
    figures.node24 = node24.node;
    figures.node24_serialize_vs_stringify = Number(node24.serializeVsStringify.toFixed(3));
    figures.node24_build_serialize_vs_stringify = Number(node24.buildSerializeVsStringify.toFixed(3));
    figures.node24_build_serialize_per_s = Math.round(node24.buildSerializePerS);
  }
  console.log(JSON.stringify(figures));
}
