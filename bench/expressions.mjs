#!/usr/bin/env node
// npm run bench:expressions - what custom fields add to building an entry, per request: the realistic exchange of
// bench:entry (3.7 KB entry, a 1 KiB JSON body parsed), built by createLogEntryBuilder (the baseline), then
//   functions          three function fields
//   plain              the same three as plain expressions (no calls: member access, operators, literals)
//   calls              three expressions with method calls (the sandbox's hard time limit runs for each entry)
//   whole entry        one expression that reads the whole entry (Object.keys(entry))
// Last line: {"bench":"expressions","functions_vs_build":R,"plain_vs_build":R,"calls_vs_build":R,"whole_entry_vs_build":R}
import { createRequire } from 'node:module';
import { median, opsPerSecond, table } from './lib/measure.mjs';
import { realisticExchange } from './lib/realistic-exchange.mjs';

const require = createRequire(import.meta.url);
const { applyCustomFields, compileCustomFields, createLogEntryBuilder } = require('../dist/index.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);

const builder = createLogEntryBuilder({ logRequestBody: true });
const exchange = realisticExchange();
const context = { request: { url: '/api/v1/orders/42/items', method: 'POST', params: { id: '42' } } };
const FIELDS = {
  functions: {
    latency_class: (e) => (e.latencies.request > 500 ? 'slow' : 'ok'),
    'request.agent': (e) => e.request.headers['user-agent'],
    summary: (e) => ({ method: e.request.method, status: e.response.status }),
  },
  plain: {
    latency_class: "entry.latencies.request > 500 ? 'slow' : 'ok'",
    'request.agent': "entry.request.headers['user-agent']",
    summary: '({ method: entry.request.method, status: entry.response.status })',
  },
  calls: {
    latency_class: "entry.latencies.request > 500 ? 'slow' : 'ok'",
    'request.path': "entry.request.uri.split('?')[0]",
    'request.agent': "String(entry.request.headers['user-agent']).toLowerCase()",
  },
  'whole entry': { keys: 'Object.keys(entry).length' },
};
const variants = { build: () => [builder.build(exchange)] };
for (const [name, fields] of Object.entries(FIELDS)) {
  const compiled = compileCustomFields(fields);
  variants[name] = () => applyCustomFields(builder.build(exchange), compiled, context);
}
for (const [name, run] of Object.entries(variants)) {
  const failures = name === 'build' ? [] : run();
  if (failures.length > 0) throw new Error(`${name}: ${failures[0].message}`);
  opsPerSecond(run, 300); // warm-up: V8 and the WebAssembly tiers
}
const rates = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) rates[name].push(opsPerSecond(run, ROUND_MS));
}
/** Time per entry of `name` against building the entry alone (median of per-round ratios). */
const ratio = (name) => median(rates[name].map((rate, i) => rates.build[i] / rate));
console.log(`expressions benchmark (${process.version}): ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, medians (ratios per round)\n`);
console.log(
  table(
    Object.keys(variants).map((name) => ({
      variant: name,
      'µs per entry': (1e6 / median(rates[name])).toFixed(1),
      'time vs build': ratio(name).toFixed(2),
    })),
  ),
);
console.log(
  JSON.stringify({
    bench: 'expressions',
    node: process.version,
    functions_vs_build: Number(ratio('functions').toFixed(2)),
    plain_vs_build: Number(ratio('plain').toFixed(2)),
    calls_vs_build: Number(ratio('calls').toFixed(2)),
    whole_entry_vs_build: Number(ratio('whole entry').toFixed(2)),
  }),
);
