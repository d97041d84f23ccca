// A small Express app logging every request to Kafka with kafka-log, for the reliability soaks and tests.
// It writes JSON lines on stdout so a parent process can follow it:
//
//   {"event":"listening","port":N}                      once, when it accepts requests
//   {"event":"sample","t":ms,"rss":..,"heapUsed":..,"external":..,"arrayBuffers":..,"stats":{..}}   every SAMPLE_MS
//   {"event":"retained",...same fields, after a full GC}  when the parent sends "gc" over IPC (--expose-gc)
//   {"event":"exit","closeMs":..,"stats":{..},"reconciled":true}                                   on SIGTERM, last line
//
// SIGTERM: stop taking requests, let open ones finish, deliver what is buffered within CLOSE_TIMEOUT_MS, print the
// final stats (accepted = sent + dropped once closed), exit 0.
//
// Environment: KAFKA_BROKERS (required), KAFKA_TOPIC (required), PORT (default 0: any free port), MAX_BYTES,
// MAX_ENTRIES, FLUSH_TIMEOUT_MS, CLOSE_TIMEOUT_MS (default 10000), IDEMPOTENT (1/0, default 1), SAMPLE_MS (default
// 250; 0 for none), TRANSPORT (kafkajs or platformatic; default kafkajs). Needs the built package (`npm run build`).
import http from 'node:http';
import express from 'express';
import { KafkaLogPublisher } from 'kafka-log';
import { kafkaLog } from 'kafka-log/express';

const env = process.env;
const num = (name, fallback) => (env[name] === undefined || env[name] === '' ? fallback : Number(env[name]));
const closeTimeoutMs = num('CLOSE_TIMEOUT_MS', 10_000);
const sampleMs = num('SAMPLE_MS', 250);
const out = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);

const publisher = new KafkaLogPublisher({
  ...(env.TRANSPORT ? { transport: env.TRANSPORT } : {}),
  brokers: (env.KAFKA_BROKERS ?? '').split(','),
  topic: env.KAFKA_TOPIC ?? '',
  idempotent: env.IDEMPOTENT !== '0',
  maxEntries: num('MAX_ENTRIES', 10_000),
  ...(env.MAX_BYTES ? { maxBytes: num('MAX_BYTES', 0) } : {}),
  flushTimeout: num('FLUSH_TIMEOUT_MS', 1000),
  maxCoalescingDelay: num('FLUSH_TIMEOUT_MS', 1000),
  // While the broker is away: short connect/request timeouts, retries capped at 1 s apart.
  timeout: 1000,
  requestTimeout: 2000,
  maxRetryDelay: 1000,
  // LOG_LEVEL=warn (say) prints the publisher's own log lines on stderr.
  ...(env.LOG_LEVEL ? { logLevel: env.LOG_LEVEL, logger: { error: console.error, warn: console.error, info: console.error, debug: console.error } } : {}),
});

const app = express();
app.use(kafkaLog({ sink: publisher, service: () => ({ name: 'soak-app' }) }));
app.get('/orders/:id', (req, res) => {
  res.json({ id: req.params.id, items: [{ sku: 'A-1', qty: 2 }], currency: 'EUR' });
});

const server = http.createServer(app);
server.keepAliveTimeout = 5000;
server.listen(num('PORT', 0), '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));

const sampler =
  sampleMs > 0
    ? setInterval(() => {
        const m = process.memoryUsage();
        out({ event: 'sample', t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, stats: publisher.stats() });
      }, sampleMs)
    : undefined;

// Retained memory on request (needs --expose-gc and an IPC channel): a full collection, then the figures, so
// garbage not yet collected is not mistaken for what the app holds.
process.on('message', (message) => {
  if (message !== 'gc' || typeof globalThis.gc !== 'function') return;
  const before = Date.now();
  globalThis.gc();
  const m = process.memoryUsage();
  out({ event: 'retained', t: Date.now(), gcMs: Date.now() - before, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, stats: publisher.stats() });
});

process.once('SIGTERM', () => {
  const started = Date.now();
  clearInterval(sampler);
  server.close(async () => {
    await publisher.close({ timeoutMs: closeTimeoutMs });
    const stats = publisher.stats();
    out({ event: 'exit', closeMs: Date.now() - started, stats, reconciled: stats.accepted === stats.sent + stats.dropped.total });
    process.exit(0);
  });
  server.closeIdleConnections();
});
