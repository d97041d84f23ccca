#!/usr/bin/env node
// npm run bench:expressions - the per-entry cost of custom-field expression strings (QuickJS sandbox) against the
// same fields written as functions, on the realistic entry of bench:entry (3.7 KB, a 1 KiB JSON body parsed):
//   functions          three function fields (the baseline)
//   plain              the same three as plain expressions (no calls: member access, operators, literals)
//   calls              three expressions with method calls (the sandbox's hard time limit runs for each entry)
//   whole entry        one expression that reads the whole entry (Object.keys(entry))
// Each variant is applied to a fresh copy of the entry (structuredClone, the same in every variant).
// Last line: {"bench":"expressions","plain_vs_functions":R,"calls_vs_functions":R,"whole_entry_vs_functions":R,...}
import { createRequire } from 'node:module';
import { median, opsPerSecond, table } from './lib/measure.mjs';
import { realisticExchange } from './lib/realistic-exchange.mjs';

const require = createRequire(import.meta.url);
const { applyCustomFields, compileCustomFields, createLogEntryBuilder } = require('../dist/index.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);

const entry = createLogEntryBuilder({ logRequestBody: true }).build(realisticExchange());
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
const variants = Object.fromEntries(
  Object.entries(FIELDS).map(([name, fields]) => {
    const compiled = compileCustomFields(fields);
    return [name, () => applyCustomFields(structuredClone(entry), compiled, context)];
  }),
);
for (const [name, run] of Object.entries(variants)) {
  const failures = run();
  if (failures.length > 0) throw new Error(`${name}: ${failures[0].message}`);
  opsPerSecond(run, 300); // warm-up: V8 and the WebAssembly tiers
}
const rates = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) rates[name].push(opsPerSecond(run, ROUND_MS));
}
/** Time per entry of `name` against the functions (median of per-round ratios). */
const ratio = (name) => median(rates[name].map((rate, i) => rates.functions[i] / rate));
console.log(`expressions benchmark (${process.version}): ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, medians (ratios per round)\n`);
console.log(
  table(
    Object.keys(variants).map((name) => ({
      variant: name,
      'µs per entry': (1e6 / median(rates[name])).toFixed(1),
      'time vs functions': ratio(name).toFixed(1),
    })),
  ),
);
console.log(
  JSON.stringify({
    bench: 'expressions',
    node: process.version,
    functions_us: Number((1e6 / median(rates.functions)).toFixed(1)),
    plain_us: Number((1e6 / median(rates.plain)).toFixed(1)),
    calls_us: Number((1e6 / median(rates.calls)).toFixed(1)),
    whole_entry_us: Number((1e6 / median(rates['whole entry'])).toFixed(1)),
    plain_vs_functions: Number(ratio('plain').toFixed(2)),
    calls_vs_functions: Number(ratio('calls').toFixed(2)),
    whole_entry_vs_functions: Number(ratio('whole entry').toFixed(2)),
  }),
);
