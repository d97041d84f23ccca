#!/usr/bin/env node
// HTTP benchmark (`npm run bench:http`, which builds first): what kafka-log adds to each request of an Express
// hello-world app, measured from inside the server process at a fixed offered rate.
//
// Every variant (bench/lib/http-server.mjs) runs in a server process of its own while autocannon drives it from
// here, a fresh one for the saturation rounds and for each fixed-rate round: no logging; kafka-log/express and http.createServer(withKafkaLog(app)), each on kafkajs and on
// @platformatic/kafka, with Kong's default options, every entry delivered to the local broker (started if
// needed); pino-http writing to a file asynchronously; informative: kafka-log/express building and serializing
// entries without sending them, an empty Express middleware, and the control: the no-logging app in a second
// process, whose overhead says how far the harness itself is from fair (0 within noise). Every server runs
// without V8's memory reducer (bench/lib/http-driver.mjs says why).
//
// 1. Saturation (informative): each variant as fast as it goes, rounds interleaved.
// 2. Fixed rate: every variant at the same offered rate (autocannon's overallRate, `-R`), by default 45% of the
//    no-logging maximum measured in step 1, a rate every variant sustains without queueing. Rounds interleaved, the
//    order permuted each round so that no variant always follows the same neighbour; each round's fresh servers
//    are driven BENCH_ROUND_WARMUP s each at that rate first. Per window the server reports
//    its CPU time (process.cpuUsage: user + system, all threads) and event-loop busy time
//    (performance.eventLoopUtilization) and the requests it answered. Each variant's window sits between two
//    no-logging windows; its overhead is the difference to their mean. Figures are medians over rounds (ratios:
//    medians of per-round ratios). Informative: the main
//    thread's own CPU per request (Linux; the event loop's busy time also counts time it waited for a core), the local
//    broker's CPU per request (it shares the machine), and how often the publisher produced and how many records
//    each produce request carried.
// 3. Every publisher is closed with its set of servers: entries accepted must equal entries sent and requests
//    answered, or the run fails.
//
// Last line:
//   {"bench":"http","cpu_overhead_us":N,"wrapper_cpu_overhead_us":N,"platformatic_cpu_overhead_us":N,
//    "main_thread_overhead_us":N,"pino_cpu_overhead_us":N,"vs_pino_overhead":R,"vs_nolog":R,"vs_pino":R,"p99_ms":N,
//    "control_cpu_overhead_us":N}
// cpu_overhead_us: kafka-log/express on the default transport, CPU µs per request over no logging;
// wrapper_/platformatic_: the node:http wrapper (default transport), kafka-log/express on @platformatic/kafka;
// main_thread_overhead_us: kafka-log/express's event-loop busy µs per request over no logging; pino_cpu_overhead_us:
// pino-http's; vs_pino_overhead: kafka-log/express's CPU overhead over pino-http's; vs_nolog, vs_pino: its
// throughput at saturation over no logging's and pino-http's (informative); p99_ms: its p99 at the fixed rate;
// control_cpu_overhead_us: the second no-logging process's (the harness's own bias).
//
// Environment: BENCH_ROUNDS (fixed-rate rounds, default 8), BENCH_DURATION (s per fixed-rate window, default 2.5),
// BENCH_WINDOW_WARMUP (s driven before each window is measured, default 0.5),
// BENCH_RATE (requests/s; default BENCH_RATE_FRACTION x the no-logging maximum), BENCH_RATE_FRACTION (default 0.45: the
// load generator, on a CPU it shares with the broker, keeps this rate steady),
// BENCH_SATURATION_ROUNDS (default 2), BENCH_SATURATION_DURATION (s, default 3), BENCH_CONNECTIONS (default 32),
// BENCH_WARMUP (s before the saturation rounds, default 3), BENCH_ROUND_WARMUP (s per server before each fixed-rate
// round, default 10), BENCH_VARIANTS (comma-separated subset; `nolog` is always included), BENCH_PIN (0: do not
// pin the server to a CPU of its own, see bench/lib/cpu-pinning.mjs).

import fs from 'node:fs';
import { describePlan } from './lib/cpu-pinning.mjs';
import { ask, chooseVariants, deliveryProblem, prepareHttpBench, startServer, stopServer } from './lib/http-driver.mjs';
import { VARIANTS } from './lib/http-server.mjs';
import { median, quantile, rotatedOrder, table } from './lib/measure.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_ROUNDS', 8);
const DURATION = env('BENCH_DURATION', 2.5);
const WINDOW_WARMUP = env('BENCH_WINDOW_WARMUP', 0.5);
const SATURATION_ROUNDS = env('BENCH_SATURATION_ROUNDS', 2);
const SATURATION_DURATION = env('BENCH_SATURATION_DURATION', 3);
const CONNECTIONS = env('BENCH_CONNECTIONS', 32);
const WARMUP = env('BENCH_WARMUP', 3);
// Each server is measured in its steady state, as a service under load runs: a logging server's first seconds (its
// heap still growing, code that runs once per produce request, a dozen times a second, not yet optimized) must not
// count against it. Whether 2 s left such a bias is below this machine's noise: kafka-log/express measured +42,
// +54 and +43 µs per request after 2 s, +31, +49 and +42 after 10-12 s.
const ROUND_WARMUP = env('BENCH_ROUND_WARMUP', 10);
const RATE_FRACTION = env('BENCH_RATE_FRACTION', 0.45);
const HEADLINE = 'express-kafkajs';

const NAMES = chooseVariants(Object.keys(VARIANTS));
const { kafka, plan, topic, logFile } = await prepareHttpBench('bench-http');
const { default: autocannon } = await import('autocannon');

// A fresh set of server processes for the saturation rounds and for every fixed-rate round: each process
// settles in a steady state of its own (what V8 optimized, where its heap lies), ±10-15 µs per request from one
// process to the next, which would otherwise stay with its variant for the whole run. The control variant (the
// no-logging app in a second process) shows it.
let servers = new Map();
const failures = [];
const delivered = new Map();

async function startServers() {
  servers = new Map();
  for (const variant of NAMES) servers.set(variant, await startServer({ variant, brokers: kafka.brokers, topic, logFile }, plan));
}

/** Closes every server: each publisher's entries accepted must equal the entries it sent and the requests answered. */
async function stopServers() {
  for (const variant of NAMES) {
    const { requests, stats } = await stopServer(servers.get(variant));
    if (!stats) continue;
    const total = delivered.get(variant) ?? { requests: 0, accepted: 0, sent: 0, dropped: 0 };
    total.requests += requests;
    total.accepted += stats.accepted;
    total.sent += stats.sent;
    total.dropped += stats.dropped.total;
    delivered.set(variant, total);
    const problem = deliveryProblem(variant, requests, stats);
    if (problem !== undefined) failures.push(problem);
  }
}

/** Drives `variant` for `seconds` (at `rate`, else as fast as it answers); any failed request fails the run. */
async function fire(variant, seconds, rate) {
  const result = await autocannon({
    url: `http://127.0.0.1:${servers.get(variant).port}/users/42?fields=name`,
    connections: CONNECTIONS,
    duration: seconds,
    ...(rate === undefined ? {} : { overallRate: rate }),
    headers: { accept: 'application/json', 'user-agent': 'kafka-log-bench', 'x-request-id': 'bench-request' },
  });
  failOnErrors(variant, result);
  return result;
}

process.stderr.write(
  `bench:http  warm-up ${WARMUP}s, saturation ${SATURATION_ROUNDS} x ${SATURATION_DURATION}s, fixed rate ${ROUNDS} x ${DURATION}s ` +
    `(fresh servers each round, warmed ${ROUND_WARMUP}s), ${CONNECTIONS} connections\n`,
);

// 1. saturation
await startServers();
for (const variant of NAMES) await fire(variant, WARMUP);
const saturation = new Map(NAMES.map((v) => [v, []]));
const saturationBroker = new Map(NAMES.map((v) => [v, []]));
for (let round = 0; round < SATURATION_ROUNDS; round++) {
  for (const variant of rotatedOrder(NAMES, round)) {
    const brokerBefore = brokerCpuMicros();
    const result = await fire(variant, SATURATION_DURATION);
    saturation.get(variant).push(result.requests.total / result.duration);
    saturationBroker.get(variant).push((brokerCpuMicros() - brokerBefore) / result.requests.total);
    process.stderr.write(`  saturation ${round + 1} ${variant.padEnd(22)} ${Math.round(result.requests.total / result.duration)} req/s\n`);
  }
}
await stopServers();
const rate = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : Math.round(RATE_FRACTION * median(saturation.get('nolog')));

// 2. fixed rate: each variant's window sits between two no-logging windows, and its overhead is taken against
// their mean, so the machine's drift (it moves every figure by tens of µs over a minute) cancels out.
const windows = new Map(NAMES.map((v) => [v, []]));
const baselines = new Map(NAMES.map((v) => [v, []]));
for (let round = 0; round < ROUNDS; round++) {
  await startServers();
  for (const variant of rotatedOrder(NAMES, round)) await fire(variant, ROUND_WARMUP, rate);
  let before = await measureWindow('nolog', round);
  for (const variant of rotatedOrder(NAMES, round + SATURATION_ROUNDS).filter((v) => v !== 'nolog')) {
    const measured = await measureWindow(variant, round);
    const after = await measureWindow('nolog', round);
    baselines.get(variant).push(Object.fromEntries(Object.keys(measured).map((key) => [key, (before[key] + after[key]) / 2])));
    before = after;
  }
  await stopServers();
}

/** One window of `variant` at the fixed rate, after a short un-measured start; its figures per request. */
async function measureWindow(variant, round) {
  await fire(variant, WINDOW_WARMUP, rate);
  await ask(servers.get(variant), { type: 'mark' }, 'marked');
  const brokerBefore = brokerCpuMicros();
  const result = await fire(variant, DURATION, rate);
  const brokerMicros = brokerCpuMicros() - brokerBefore;
  const window = await ask(servers.get(variant), { type: 'read' }, 'window');
  const figures = {
    cpu: window.cpuMicros / window.requests,
    loop: window.loopMicros / window.requests,
    main: window.mainMicros / window.requests,
    served: window.requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    broker: brokerMicros / window.requests,
    sends: window.produceRequests / result.duration,
    perSend: window.produceRequests > 0 ? window.records / window.produceRequests : Number.NaN,
  };
  windows.get(variant).push(figures);
  process.stderr.write(
    `  round ${round + 1} ${variant.padEnd(22)} ${Math.round(figures.served)} req/s  ` +
      `cpu ${Math.round(figures.cpu)} µs/req  loop ${Math.round(figures.loop)} µs/req  p99 ${result.latency.p99} ms\n`,
  );
  return figures;
}

// 3. every entry accounted for (checked as each set of servers closed)
const delivery = [...delivered].map(
  ([variant, t]) => `${variant}: ${t.requests} requests, accepted ${t.accepted}, sent ${t.sent}, dropped ${t.dropped}`,
);
fs.rmSync(logFile, { force: true });

const perRound = (variant, field) => windows.get(variant).map((w) => w[field]);
const overheads = (variant, field) => windows.get(variant).map((w, i) => w[field] - baselines.get(variant)[i][field]);
const figure = (values) => (values.length === 0 ? Number.NaN : median(values));
const rows = NAMES.map((variant) => ({
  variant: VARIANTS[variant].label,
  'served req/s': Math.round(figure(perRound(variant, 'served'))),
  'cpu µs/req': Math.round(figure(perRound(variant, 'cpu'))),
  'cpu overhead µs': variant === 'nolog' ? '' : Math.round(figure(overheads(variant, 'cpu'))),
  // The middle half of the rounds' overheads: how far this machine's noise moves the figure.
  'cpu overhead q1..q3': variant === 'nolog' ? '' : spread(overheads(variant, 'cpu')),
  'loop µs/req': Math.round(figure(perRound(variant, 'loop'))),
  'loop overhead µs': variant === 'nolog' ? '' : Math.round(figure(overheads(variant, 'loop'))),
  // The main thread's own CPU (Linux): what the request thread did, without time it waited for a core.
  'main cpu µs/req': Math.round(figure(perRound(variant, 'main'))),
  'main cpu overhead µs': variant === 'nolog' ? '' : Math.round(figure(overheads(variant, 'main'))),
  'p50 ms': figure(perRound(variant, 'p50')),
  'p99 ms': figure(perRound(variant, 'p99')),
  // How often the publisher produced, and how many records each produce request carried, at this rate.
  'produce req/s': Number.isNaN(figure(perRound(variant, 'perSend'))) ? '' : figure(perRound(variant, 'sends')).toFixed(1),
  'records/req': Number.isNaN(figure(perRound(variant, 'perSend'))) ? '' : Math.round(figure(perRound(variant, 'perSend'))),
  // The broker's CPU (the JVM shares the machine): what each client's produce requests cost it per entry.
  'broker µs/req': Math.round(figure(perRound(variant, 'broker'))),
  'saturation req/s': Math.round(figure(saturation.get(variant))),
  'saturation broker µs/req': Math.round(figure(saturationBroker.get(variant))),
  'saturation vs nolog': (figure(saturation.get(variant).map((r, i) => r / saturation.get('nolog')[i]))).toFixed(3),
}));

console.log(
  `bench:http  Express hello-world, ${rate} requests/s offered (${process.env.BENCH_RATE ? 'BENCH_RATE' : `${RATE_FRACTION} x the no-logging maximum`}), ` +
    `${ROUNDS} rounds x ${DURATION} s, ${CONNECTIONS} connections; Node ${process.version}, Kafka ${kafka.version}; medians over rounds; ` +
    describePlan(plan),
);
console.log(table(rows));
for (const line of delivery) console.log(line);
if (failures.length > 0) {
  for (const failure of failures) console.error(`FAILED: ${failure}`);
  process.exit(1);
}

const has = (variant) => NAMES.includes(variant);
const overhead = (variant, field = 'cpu') => (has(variant) ? round1(figure(overheads(variant, field))) : null);
const ratioPerRound = (values, baseline) => figure(values.map((value, i) => value / baseline[i]));
const summary = {
  bench: 'http',
  cpu_overhead_us: overhead(HEADLINE),
  wrapper_cpu_overhead_us: overhead('wrapper-kafkajs'),
  platformatic_cpu_overhead_us: overhead('express-platformatic'),
  main_thread_overhead_us: overhead(HEADLINE, 'loop'),
  pino_cpu_overhead_us: overhead('pino-http'),
  vs_pino_overhead:
    has(HEADLINE) && has('pino-http') ? round3(ratioPerRound(overheads(HEADLINE, 'cpu'), overheads('pino-http', 'cpu'))) : null,
  vs_nolog: has(HEADLINE) ? round3(ratioPerRound(saturation.get(HEADLINE), saturation.get('nolog'))) : null,
  vs_pino: has(HEADLINE) && has('pino-http') ? round3(ratioPerRound(saturation.get(HEADLINE), saturation.get('pino-http'))) : null,
  p99_ms: has(HEADLINE) ? figure(perRound(HEADLINE, 'p99')) : null,
  control_cpu_overhead_us: overhead('nolog-control'),
};
console.log(JSON.stringify(summary));

// ---------------------------------------------------------------------------------------------------------

/** CPU time the local broker's JVM used so far, µs (from /proc on Linux; NaN elsewhere). */
function brokerCpuMicros() {
  try {
    const stat = fs.readFileSync(`/proc/${kafka.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime: fields 14 and 15 of the line, in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return Number.NaN;
  }
}

function spread(values) {
  return `${Math.round(quantile(values, 0.25))}..${Math.round(quantile(values, 0.75))}`;
}

function failOnErrors(variant, result) {
  const errors = result.errors + result.timeouts + result.non2xx;
  if (errors > 0) throw new Error(`${variant}: ${errors} failed requests (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx})`);
}

function round1(value) {
  return Math.round(value * 10) / 10;
}

function round3(value) {
  return Math.round(value * 1000) / 1000;
}
