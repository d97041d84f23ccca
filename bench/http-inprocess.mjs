#!/usr/bin/env node
// In-process HTTP benchmark (`npm run bench:http:inprocess`, which builds first): what kafka-log adds to each
// request of the Express hello-world app of bench:http, measured where the network cannot blur it (informative;
// the headline figures are bench:http's, at a fixed rate over real sockets).
//
// The server processes and variants are bench:http's (bench/lib/http-server.mjs), entries delivered to the
// local broker as there; only the load differs: instead of autocannon over loopback sockets, each server feeds
// itself requests at a fixed rate through in-memory connections (bench/lib/in-memory-load.mjs). node's parser,
// request/response objects, Express and kafka-log run as for a socket; the kernel's socket work and the load
// generator (which on a 2-core machine takes CPU from the server) are left out, so the per-request figures move
// far less from round to round.
// Per window the server reports its CPU time (process.cpuUsage, all threads) and event-loop busy time; each
// variant's overhead is the difference to the no-logging window of the same round, rounds interleaved with the
// order permuted, figures medians over rounds. Every publisher is closed after its window: entries accepted must
// equal entries sent and requests answered, or the run fails.
//
// Last line:
//   {"bench":"http-inprocess","cpu_overhead_us":N,"wrapper_cpu_overhead_us":N,"platformatic_cpu_overhead_us":N,
//    "main_thread_overhead_us":N,"nosend_cpu_overhead_us":N,"empty_middleware_cpu_us":N,"pino_cpu_overhead_us":N,
//    "vs_pino_overhead":R}
// (keys as bench:http's; nosend_: kafka-log/express building and serializing without sending; empty_middleware_:
// one Express middleware that does nothing.)
//
// Environment: BENCH_ROUNDS (default 6), BENCH_REQUESTS (per window, default 10000), BENCH_RATE (requests/s, default
// 3000, about bench:http's fixed rate; sent in bursts every 10 ms. 0: each of 32 connections sends its next request
// as soon as its response is complete, which keeps the process busiest and its figures steadiest, but outruns the
// publisher's delivery with Kong's defaults, whose queue then fills), BENCH_WARMUP_REQUESTS (per server before its
// window, after 2,000 requests in one second, default 5000), BENCH_VARIANTS (comma-separated subset; `nolog` is
// always included), BENCH_PIN (0: do not pin, see bench/lib/cpu-pinning.mjs).

import fs from 'node:fs';
import { describePlan } from './lib/cpu-pinning.mjs';
import { ask, chooseVariants, deliveryProblem, prepareHttpBench, startServer, stopServer } from './lib/http-driver.mjs';
import { VARIANTS } from './lib/http-server.mjs';
import { median, quantile, rotatedOrder, table } from './lib/measure.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const ROUNDS = env('BENCH_ROUNDS', 6);
const REQUESTS = env('BENCH_REQUESTS', 10_000);
const RATE = env('BENCH_RATE', 3000);
const WARMUP = env('BENCH_WARMUP_REQUESTS', 5000);
const WARMUP_PACED = 2000;
const HEADLINE = 'express-kafkajs';
const DEFAULT_VARIANTS = ['express-empty', 'express-nosend', 'wrapper-nosend', 'express-kafkajs', 'wrapper-kafkajs', 'express-platformatic', 'wrapper-platformatic', 'pino-http'];

const NAMES = chooseVariants(DEFAULT_VARIANTS);
const { kafka, plan, topic, logFile } = await prepareHttpBench('bench-inprocess');

process.stderr.write(`bench:http:inprocess  ${ROUNDS} rounds x ${REQUESTS} requests${RATE > 0 ? ` at ${RATE} requests/s` : ''}, in-memory connections\n`);
// A fresh server process per variant and round: how V8 happens to optimize a process's code moves its figures by
// several µs for as long as it runs, so each round samples that anew rather than repeating one process's luck.
const windows = new Map(NAMES.map((v) => [v, []]));
const failures = [];
const delivered = new Map(NAMES.map((v) => [v, { requests: 0, accepted: 0, sent: 0, dropped: 0 }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of rotatedOrder(NAMES, round)) {
    const server = await startServer({ variant, brokers: kafka.brokers, topic, logFile }, plan);
    // Paced at first: a client's first produce request (connections, metadata, @platformatic/kafka's loading) takes
    // long enough that unpaced requests would fill the publisher's queue meanwhile (its drops fail the run).
    await ask(server, { type: 'feed', requests: WARMUP_PACED, rate: WARMUP_PACED }, 'fed');
    await ask(server, { type: 'feed', requests: WARMUP, rate: RATE }, 'fed');
    await ask(server, { type: 'mark' }, 'marked');
    const { requests } = await ask(server, { type: 'feed', requests: REQUESTS, rate: RATE }, 'fed');
    const window = await ask(server, { type: 'read' }, 'window');
    if (window.requests !== requests) throw new Error(`${variant}: ${requests} requests fed, ${window.requests} answered by the route`);
    const figures = { cpu: window.cpuMicros / requests, loop: window.loopMicros / requests, main: window.mainMicros / requests };
    windows.get(variant).push(figures);
    const { requests: answered, stats } = await stopServer(server);
    if (stats) {
      const total = delivered.get(variant);
      total.requests += answered;
      total.accepted += stats.accepted;
      total.sent += stats.sent;
      total.dropped += stats.dropped.total;
      const problem = deliveryProblem(variant, answered, stats);
      if (problem !== undefined) failures.push(problem);
    }
    process.stderr.write(`  round ${round + 1} ${variant.padEnd(28)} cpu ${figures.cpu.toFixed(1)} µs/req  loop ${figures.loop.toFixed(1)} µs/req\n`);
  }
}
const delivery = NAMES.filter((v) => VARIANTS[v].publisher !== undefined).map((variant) => {
  const { requests, accepted, sent, dropped } = delivered.get(variant);
  return `${variant}: ${requests} requests, accepted ${accepted}, sent ${sent}, dropped ${dropped}`;
});
fs.rmSync(logFile, { force: true });

const overheads = (variant, field) => windows.get(variant).map((w, i) => w[field] - windows.get('nolog')[i][field]);
const spread = (values) => `${quantile(values, 0.25).toFixed(1)}..${quantile(values, 0.75).toFixed(1)}`;
const rows = NAMES.map((variant) => ({
  variant: VARIANTS[variant].label,
  'cpu µs/req': median(windows.get(variant).map((w) => w.cpu)).toFixed(1),
  'cpu overhead µs': variant === 'nolog' ? '' : median(overheads(variant, 'cpu')).toFixed(1),
  'cpu overhead q1..q3': variant === 'nolog' ? '' : spread(overheads(variant, 'cpu')),
  'loop µs/req': median(windows.get(variant).map((w) => w.loop)).toFixed(1),
  'loop overhead µs': variant === 'nolog' ? '' : median(overheads(variant, 'loop')).toFixed(1),
  'main cpu overhead µs': variant === 'nolog' ? '' : median(overheads(variant, 'main')).toFixed(1),
}));
console.log(
  `bench:http:inprocess  Express hello-world, ${RATE > 0 ? `${RATE} requests/s` : 'unpaced'} through in-memory connections, ${ROUNDS} rounds x ${REQUESTS} requests, a fresh server each; ` +
    `Node ${process.version}, Kafka ${kafka.version}; medians over rounds; ${describePlan(plan)}`,
);
console.log(table(rows));
for (const line of delivery) console.log(line);
if (failures.length > 0) {
  for (const failure of failures) console.error(`FAILED: ${failure}`);
  process.exit(1);
}

const has = (variant) => NAMES.includes(variant);
const round1 = (value) => Math.round(value * 10) / 10;
const overhead = (variant, field = 'cpu') => (has(variant) ? round1(median(overheads(variant, field))) : null);
console.log(
  JSON.stringify({
    bench: 'http-inprocess',
    cpu_overhead_us: overhead(HEADLINE),
    wrapper_cpu_overhead_us: overhead('wrapper-kafkajs'),
    platformatic_cpu_overhead_us: overhead('express-platformatic'),
    main_thread_overhead_us: overhead(HEADLINE, 'loop'),
    nosend_cpu_overhead_us: overhead('express-nosend'),
    empty_middleware_cpu_us: overhead('express-empty'),
    pino_cpu_overhead_us: overhead('pino-http'),
    vs_pino_overhead:
      has(HEADLINE) && has('pino-http')
        ? Math.round(median(overheads(HEADLINE, 'cpu').map((value, i) => value / overheads('pino-http', 'cpu')[i])) * 1000) / 1000
        : null,
  }),
);
