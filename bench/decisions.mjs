#!/usr/bin/env node
// npm run bench:decisions - what `filter`, `sampleRate` and body conditions cost per request, and that leaving them
// unset costs nothing. A plain node:http app (the cheapest there is, so kafka-log's share is as large as it gets)
// logging with kafka-log/http, each entry built and serialized by a sink that sends nothing (bench:http's
// `kafka-log-nosend`), driven by autocannon. Each variant is a server of its own (a child process):
//   no logging              the app alone, for scale
//   unset                   kafka-log with no decision option: the path of every user who sets none
//   baseline                `unset` on another build of kafka-log (BENCH_BASELINE_REF, e.g. `main`: exported with
//                           `git archive` and built with tsup in the system's temp folder): unset against baseline is
//                           what these options cost those who do not use them
//   filter (keeps all)      filter: () => true
//   sampleRate fn (1)       sampleRate: () => 1
//   body condition (no)     logResponseBody: (entry) => entry.response.status >= 400 on 200 responses (the body is
//                           kept up to maxBodySize while the response runs, then dropped unparsed)
//   sampleRate 0.01         sampleRate: 0.01 on requests with W3C trace ids (what sampling saves)
// The figure is the server's CPU time per request (steadier than requests/s on a shared machine), as a ratio to
// `unset` measured in the same round; rounds are interleaved (the order rotates every round), ratios are medians.
// Last line: {"bench":"decisions","baseline_cpu_vs_unset":R|null,"filter_cpu_vs_unset":R,...}
//
// Environment: BENCH_DURATION (s per measurement, default 3), BENCH_ROUNDS (default 5), BENCH_CONNECTIONS (default
// 16), BENCH_WARMUP (s, default 2), BENCH_BASELINE_REF (a git ref; none by default).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, table } from './lib/measure.mjs';
import { cpuOf, startServer, stopServer } from './lib/servers.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.join(path.dirname(SELF), '..');
const OPTIONS = {
  unset: {},
  'filter (keeps all)': { filter: 'keepAll' },
  'sampleRate fn (1)': { sampleRate: 'one' },
  'body condition (no)': { logResponseBody: 'onErrors' },
  'sampleRate 0.01': { sampleRate: 0.01 },
};
/** The functions the options name (options cross the process boundary as JSON). */
const FUNCTIONS = { keepAll: () => true, one: () => 1, onErrors: (entry) => entry.response.status >= 400 };
const KEYS = {
  baseline: 'baseline_cpu_vs_unset',
  'filter (keeps all)': 'filter_cpu_vs_unset',
  'sampleRate fn (1)': 'sample_fn_cpu_vs_unset',
  'body condition (no)': 'body_condition_cpu_vs_unset',
  'sampleRate 0.01': 'sampled_cpu_vs_unset',
};

if (process.argv[2] === '--server') {
  await runServer(JSON.parse(process.argv[3]));
} else {
  await runBench();
}

// ---------------------------------------------------------------------------------------------------------
// the server (child process)

async function runServer({ dist, options }) {
  const http = await import('node:http');
  const listener = (_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end('{"id":"42","name":"Ada Lovelace","roles":["admin","dev"]}');
  };
  const counts = { published: 0, skipped: 0 };
  let handler = listener;
  if (dist !== undefined) {
    const require = createRequire(SELF);
    const { withKafkaLog } = require(path.join(dist, 'http.js'));
    const { serializeLogEntry } = require(path.join(dist, 'index.js'));
    const sink = {
      publish: (entry) => {
        counts.published++;
        serializeLogEntry(entry);
      },
      skipped: () => {
        counts.skipped++;
      },
    };
    const resolved = Object.fromEntries(Object.entries(options).map(([key, value]) => [key, typeof value === 'string' ? FUNCTIONS[value] : value]));
    handler = withKafkaLog(listener, { sink, ...resolved });
  }
  const server = http.createServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send({ type: 'ready', port: server.address().port });
  process.on('message', (message) => {
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'cpu', micros: user + system });
    } else if (message?.type === 'stop') {
      server.closeAllConnections();
      server.close();
      process.send({ type: 'stopped', counts });
      setTimeout(() => process.exit(0), 50);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// the driver (parent process)

/** Exports `ref` with git archive and builds it with this checkout's node_modules; returns its dist folder. */
function buildBaseline(ref) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kafka-log-baseline-'));
  execFileSync('sh', ['-c', `git archive ${JSON.stringify(ref)} | tar -x -C ${JSON.stringify(dir)}`], { cwd: ROOT, stdio: 'inherit' });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsup'), ['--silent'], { cwd: dir, stdio: 'inherit' });
  return path.join(dir, 'dist');
}

async function runBench() {
  const duration = Number(process.env.BENCH_DURATION ?? 3);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
  const warmup = Number(process.env.BENCH_WARMUP ?? 2);
  const baselineRef = process.env.BENCH_BASELINE_REF;
  const dist = path.join(ROOT, 'dist');

  const configs = { 'no logging': { dist: undefined, options: {} } };
  for (const [name, options] of Object.entries(OPTIONS)) configs[name] = { dist, options };
  if (baselineRef !== undefined) configs.baseline = { dist: buildBaseline(baselineRef), options: {} };
  const names = Object.keys(configs);
  const children = new Map();
  for (const name of names) children.set(name, await startServer(SELF, configs[name]));

  const { default: autocannon } = await import('autocannon');
  // Every request carries its own W3C trace id, so sampling decides on it.
  const requests = Array.from({ length: 256 }, () => ({
    method: 'GET',
    path: '/users/42?fields=name',
    headers: { traceparent: `00-${randomBytes(16).toString('hex')}-b7ad6b7169203331-01` },
  }));
  const fire = (port, seconds) =>
    autocannon({
      url: `http://127.0.0.1:${port}`,
      connections,
      duration: seconds,
      headers: { accept: 'application/json', 'user-agent': 'kafka-log-bench', 'x-request-id': 'bench-request' },
      requests,
    });

  process.stderr.write(`bench:decisions  ${rounds} rounds x ${duration}s, ${connections} connections${baselineRef ? `, baseline ${baselineRef}` : ''}\n`);
  for (const name of names) await fire(children.get(name).port, warmup);
  const perRound = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const before = await cpuOf(children.get(name));
      const result = await fire(children.get(name).port, duration);
      const after = await cpuOf(children.get(name));
      perRound[name].push({ cpuPerRequest: (after - before) / result.requests.total, rate: result.requests.total / result.duration, errors: result.errors + result.non2xx });
    }
  }
  const counts = new Map();
  for (const name of names) counts.set(name, (await stopServer(children.get(name))).counts);

  const cpuRatio = (name) => median(perRound[name].map((r, i) => r.cpuPerRequest / perRound.unset[i].cpuPerRequest));
  const rows = names.map((name) => ({
    variant: name,
    'cpu µs/req': Math.round(median(perRound[name].map((r) => r.cpuPerRequest))),
    'cpu vs unset': cpuRatio(name).toFixed(3),
    'req/s': Math.round(median(perRound[name].map((r) => r.rate))),
    published: counts.get(name)?.published ?? 0,
    skipped: counts.get(name)?.skipped ?? 0,
    errors: perRound[name].reduce((sum, r) => sum + r.errors, 0),
  }));
  process.stdout.write(`${table(rows)}\n`);
  const summary = { bench: 'decisions', node: process.version };
  for (const [name, key] of Object.entries(KEYS)) summary[key] = name in perRound ? Math.round(cpuRatio(name) * 1000) / 1000 : null;
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
