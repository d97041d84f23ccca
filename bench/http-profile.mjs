#!/usr/bin/env node
// Where kafka-log's cost per request goes (`npm run bench:http:profile`, which builds first, with
// source maps: the package itself ships none): each variant of
// bench:http (bench/lib/http-server.mjs) is driven at a fixed rate while V8's sampling profiler runs inside the
// server process; the profile's samples are then attributed, through dist/'s source maps, to what kafka-log does
// per request:
//   capture     the adapters' node:http capture, Express hooks, request ids (src/capture/, src/adapters/)
//   build       the entry builder (src/entry/ but the serializer)
//   serialize   serializeLogEntry (src/entry/serialize.ts, fast-json-stringify)
//   hand-over   publish(): routing, queueing, timers, the publisher's bookkeeping of requests (src/publisher/)
//   encode      the Kafka client encoding produce requests (its protocol code; kafkajs' CRC32C)
//   client      the rest of the Kafka client and its transport (src/transport/): request bookkeeping, responses
//   send        socket writes the Kafka client made
//   logger      pino-http's own code and its file writes, in the pino-http variant (to compare with kafka-log's)
//   host        Express, node:http and everything else (compare with no logging); gc, program: V8 and native
// A sample counts for the innermost of these a stack passes through, except that node:http code called back
// from the capture's wrappers (res.end) or from pino-http (its `next()`) counts as host, socket writes below the
// client as send and file writes below pino as logger. The columns `host +` and `gc +` are host and gc over no
// logging's in the same run; host time moves by up to ±20 µs from one server process to the next (the control,
// `nolog-control`, the no-logging app in a second process, shows part of it), so it is not read as a variant's
// cost.
// Figures are µs of main-thread CPU per request answered in the profiled window; a worker thread's own work is
// in bench:http's CPU figures, not here.
//
// Not pinned to a CPU as bench:http is (bench/lib/cpu-pinning.mjs): V8's sampling thread would then take turns with the
// very thread it samples, and every figure would grow.
//
// Environment: BENCH_RATE (requests/s, default 1500; `max`: saturation), BENCH_DURATION (profiled s, default 20),
// BENCH_WARMUP (s, default 5), BENCH_VARIANTS (default nolog,nolog-control,express-kafkajs,wrapper-kafkajs,
// express-platformatic,express-nosend,pino-http), BENCH_LOAD (`inprocess`: requests fed through in-memory
// connections, as bench:http:inprocess does, instead of autocannon over loopback sockets), BENCH_INTERVAL (sampling
// interval µs, default 200), BENCH_TOP (list the N functions of kafka-log, the clients and pino-http with the most
// self time, default 0), BENCH_PROFILE_DIR (keep the .cpuprofile files there).

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ask, createTopic, startServer, stopServer } from './lib/http-driver.mjs';
import { table } from './lib/measure.mjs';

// `max`: as fast as the server goes (saturation).
const RATE = process.env.BENCH_RATE === 'max' ? undefined : Number(process.env.BENCH_RATE ?? 1500);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const INTERVAL = Number(process.env.BENCH_INTERVAL ?? 200);
const TOP = Number(process.env.BENCH_TOP ?? 0);
// `inprocess`: requests fed through in-memory connections as in bench:http:inprocess, no autocannon, no sockets.
const IN_MEMORY = process.env.BENCH_LOAD === 'inprocess';
const VARIANTS = (process.env.BENCH_VARIANTS ?? 'nolog,nolog-control,express-kafkajs,wrapper-kafkajs,express-platformatic,express-nosend,pino-http').split(',');
const CATEGORIES = ['capture', 'build', 'serialize', 'hand-over', 'encode', 'client', 'send', 'logger', 'host', 'gc', 'program'];
const KAFKA_LOG = new Set(['capture', 'build', 'serialize', 'hand-over', 'encode', 'client', 'send']);
/** pino-http and the packages pino writes with (its serializers, redaction, formatting, sonic-boom's file writes). */
const PINO = /\/node_modules\/(pino|pino-http|pino-std-serializers|sonic-boom|fast-redact|quick-format-unescaped|safe-stable-stringify|on-exit-leak-free|thread-stream|atomic-sleep)\//;

const maps = new Map();
const located = new Map();

// Without dist/'s source maps no sample could be told from the host's: say so rather than print zeros.
const distDir = fileURLToPath(new URL('../dist/', import.meta.url));
if (!fs.readdirSync(distDir).some((name) => name.endsWith('.map'))) {
  console.error('bench:http:profile needs dist/ built with source maps: run it as `npm run bench:http:profile`.');
  process.exit(1);
}

const { ensureKafka } = await import('../scripts/local-kafka.mjs');
const kafka = await ensureKafka({ log: false });
const topic = `bench-profile-${randomUUID().slice(0, 8)}`;
await createTopic(kafka.brokers, topic);
const { default: autocannon } = await import('autocannon');
const profileDir = process.env.BENCH_PROFILE_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-log-profile-'));
fs.mkdirSync(profileDir, { recursive: true });
const logFile = path.join(os.tmpdir(), `kafka-log-profile-pino-${process.pid}.log`);

const results = [];
for (const variant of VARIANTS) {
  const server = await startServer({ variant, brokers: kafka.brokers, topic, logFile });
  const fire = (seconds) =>
    IN_MEMORY
      ? ask(server, { type: 'feed', requests: Math.round(seconds * (RATE ?? 3000)), rate: RATE ?? 0 }, 'fed')
      : autocannon({
          url: `http://127.0.0.1:${server.port}/users/42?fields=name`,
          connections: 32,
          duration: seconds,
          ...(RATE === undefined ? {} : { overallRate: RATE }),
          headers: { accept: 'application/json', 'user-agent': 'kafka-log-bench', 'x-request-id': 'bench-request' },
        });
  await fire(WARMUP);
  const file = path.join(profileDir, `${variant}.cpuprofile`);
  await ask(server, { type: 'profile-start', intervalMicros: INTERVAL }, 'profiling');
  await ask(server, { type: 'mark' }, 'marked');
  await fire(DURATION);
  const window = await ask(server, { type: 'read' }, 'window');
  await ask(server, { type: 'profile-stop', file }, 'profiled');
  const { stats } = await stopServer(server);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  results.push({ variant, requests: window.requests, cpu: window.cpuMicros / window.requests, ...attribute(profile, window.requests), stats });
  process.stderr.write(`  ${variant}: ${window.requests} requests profiled\n`);
}
fs.rmSync(logFile, { force: true });
if (!process.env.BENCH_PROFILE_DIR) fs.rmSync(profileDir, { recursive: true, force: true });

const baseline = results.find((r) => r.variant === 'nolog');
console.log(`bench:http:profile  ${RATE ?? 'as many'} requests/s for ${DURATION} s, sampled every ${INTERVAL} µs; main-thread µs per request`);
console.log(
  table(
    results.map((r) => ({
      variant: r.variant,
      ...Object.fromEntries(CATEGORIES.map((c) => [c, r.perRequest[c].toFixed(1)])),
      'kafka-log': CATEGORIES.filter((c) => KAFKA_LOG.has(c))
        .reduce((sum, c) => sum + r.perRequest[c], 0)
        .toFixed(1),
      'host +': baseline === undefined ? '' : (r.perRequest.host - baseline.perRequest.host).toFixed(1),
      'gc +': baseline === undefined ? '' : (r.perRequest.gc - baseline.perRequest.gc).toFixed(1),
      'process cpu': r.cpu.toFixed(1),
    })),
  ),
);
for (const r of results) {
  if (r.stats && r.stats.accepted !== r.stats.sent) console.log(`${r.variant}: accepted ${r.stats.accepted}, sent ${r.stats.sent}`);
}
if (TOP > 0) {
  for (const r of results) {
    // Variants that run none of kafka-log's or the clients' code (no logging, the empty middleware) have no list.
    if (r.top.length === 0) continue;
    console.log(`\n${r.variant}: top ${TOP} functions by self time (µs per request)`);
    console.log(table(r.top.slice(0, TOP).map(([name, micros]) => ({ function: name, 'µs/req': (micros / r.requests).toFixed(2) }))));
  }
}

// ---------------------------------------------------------------------------------------------------------

/** Attributes the profile's samples to the categories; returns µs per request in each, and top self times. */
function attribute(profile, requests) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryOf = new Map();
  const categorize = (id) => {
    if (categoryOf.has(id)) return categoryOf.get(id);
    const node = byId.get(id);
    const up = parent.get(id);
    const above = up === undefined ? 'host' : categorize(up);
    const name = node.callFrame.functionName;
    let category = above;
    if (name === '(garbage collector)') category = 'gc';
    else if (name === '(program)' || name === '(idle)') category = name.slice(1, -1);
    else {
      const own = classify(node.callFrame);
      if (own === 'host') {
        if ((above === 'client' || above === 'encode') && isSocketWrite(node.callFrame)) category = 'send';
        else if (above === 'capture') category = 'host';
        else if (above === 'logger' && !isFileWrite(node.callFrame)) category = 'host';
      } else if (own !== undefined) {
        category = own;
      }
    }
    categoryOf.set(id, category);
    return category;
  };
  const micros = Object.fromEntries(CATEGORIES.map((c) => [c, 0]));
  micros.idle = 0;
  const self = new Map();
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const dt = deltas[i + 1] ?? 0;
    const category = categorize(id);
    micros[category] += dt;
    if (KAFKA_LOG.has(category) || category === 'logger') {
      const frame = byId.get(id).callFrame;
      const where = locate(frame);
      const key = `${category}  ${frame.functionName || '(anonymous)'}  ${where ? `${where.file}:${where.line}` : frame.url.split('/').slice(-2).join('/')}`;
      self.set(key, (self.get(key) ?? 0) + dt);
    }
  }
  const perRequest = Object.fromEntries(Object.entries(micros).map(([c, m]) => [c, m / requests]));
  return { perRequest, top: [...self].sort((a, b) => b[1] - a[1]) };
}

/** The category of a stack frame's own code, or `undefined` for code with no source (native, eval'd). */
function classify(frame) {
  const url = frame.url;
  if (!url) return undefined;
  if (url.includes('/node_modules/kafkajs/')) return url.includes('/src/protocol/') ? 'encode' : 'client';
  if (url.includes('/node_modules/@platformatic/kafka/')) return /\/(protocol|apis)\//.test(url) ? 'encode' : 'client';
  if (url.includes('/node_modules/fast-json-stringify/')) return 'serialize';
  if (PINO.test(url)) return 'logger';
  const where = locate(frame);
  if (where === undefined) return 'host';
  const file = where.file;
  if (file.includes('src/adapters/') || file.includes('src/capture/')) return 'capture';
  if (file.endsWith('src/entry/serialize.ts')) return 'serialize';
  if (file.includes('src/entry/')) return 'build';
  if (file.includes('src/publisher/') || file.includes('src/errors.ts')) return 'hand-over';
  if (file.includes('src/transport/')) return 'client';
  return 'host';
}

function isFileWrite(frame) {
  return frame.url === 'node:fs' || frame.url === 'node:internal/fs/utils';
}

function isSocketWrite(frame) {
  return /^node:(net|internal\/stream_base_commons|internal\/net)$/.test(frame.url) || /^(writeGeneric|writevGeneric|_writeGeneric|_writev?)$/.test(frame.functionName);
}

/** The original source file and line of a frame in kafka-log's dist/ (through its source map), else `undefined`. */
function locate(frame) {
  const { url, lineNumber, columnNumber } = frame;
  if (!url.includes('/dist/') || url.includes('/node_modules/')) return undefined;
  const key = `${url}:${lineNumber}:${columnNumber}`;
  if (located.has(key)) return located.get(key);
  let map = maps.get(url);
  if (map === undefined) {
    try {
      const file = url.startsWith('file:') ? fileURLToPath(url) : url;
      map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(url, map);
  }
  const entry = map?.findEntry(lineNumber, columnNumber);
  const where = entry?.originalSource ? { file: entry.originalSource.replace(/^.*?(src\/)/, '$1'), line: entry.originalLine + 1 } : undefined;
  located.set(key, where);
  return where;
}
