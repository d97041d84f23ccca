#!/usr/bin/env node
// HTTP benchmark of kafka-log's Express adapter (`npm run bench:http`, which builds first).
//
// One run drives the same Express app several ways, each in its own child process (the server) while
// autocannon runs here (the client):
//   nolog                     no logging at all
//   kafka-log (kafkajs)       kafka-log/express publishing every entry to the local Kafka broker (started if
//                             needed) over the default transport, one Kafka record per entry
//   kafka-log (platformatic)  the same over @platformatic/kafka
//   kafka-log (kafkajs, maxBatchSize 50)  Kong's queue batching: one record holds a JSON array of up to 50
//                             entries, so far fewer records to encode and send per entry
//   pino-http                 pino-http writing one JSON line per request to a file (asynchronously)
//   kafka-log-nosend          (informative) kafka-log/express building and serializing entries, sending none
//   noop-middleware           (informative) an empty middleware (`(req, res, next) => next()`): what one more
//                             middleware layer costs in Express itself, before it does any work
// Same duration and connections for each; rounds are interleaved (the order rotates every round) so drift of
// the machine hits all variants alike. Prints a table, then as its LAST line one JSON object:
//   {"bench":"http","vs_nolog":R,"vs_pino":R,"p99_ms":N,
//    "platformatic_vs_nolog":R,"platformatic_vs_pino":R,"platformatic_p99_ms":N,
//    "batched_vs_nolog":R,"batched_vs_pino":R,"batched_p99_ms":N}
// vs_nolog and vs_pino are the default transport's (kafkajs) requests/s over the other variant's; p99_ms is its
// p99 latency. The platformatic_ and batched_ keys are the same figures for the other two publishing variants.
//
// Environment: BENCH_DURATION (s per measurement, default 5), BENCH_ROUNDS (default 3),
// BENCH_CONNECTIONS (default 32), BENCH_WARMUP (s, default 2).

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuOf, startServer, stopServer } from './lib/servers.mjs';

// `kafka-log-nosend` (informative): the same middleware with a sink that drops entries after they are built
// and serialized, separating the adapter's and entry's cost from the Kafka client's and the broker's.
// Each publishing variant: the publisher options it adds (everything else is the same app and load), and the
// prefix of its keys in the last-line JSON ('' for the default transport's, kept as the headline figures).
const PUBLISHING = {
  'kafka-log (kafkajs)': { options: { transport: 'kafkajs' }, key: '' },
  'kafka-log (platformatic)': { options: { transport: 'platformatic' }, key: 'platformatic_' },
  'kafka-log (kafkajs, maxBatchSize 50)': { options: { transport: 'kafkajs', maxBatchSize: 50 }, key: 'batched_' },
};
const VARIANTS = ['nolog', ...Object.keys(PUBLISHING), 'pino-http', 'kafka-log-nosend', 'noop-middleware'];
const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--server') {
  await runServer(JSON.parse(process.argv[3]));
} else {
  await runBench();
}

// ---------------------------------------------------------------------------------------------------------
// the server (child process)

async function runServer({ variant, brokers, topic, logFile }) {
  const { default: express } = await import('express');
  const http = await import('node:http');
  const app = express();
  let publisher;
  let pinoLogger;

  if (Object.hasOwn(PUBLISHING, variant)) {
    const { KafkaLogPublisher } = await import('kafka-log');
    const { kafkaLog } = await import('kafka-log/express');
    publisher = new KafkaLogPublisher({ brokers, topic, logLevel: 'silent', ...PUBLISHING[variant].options });
    app.use(kafkaLog({ sink: publisher }));
  } else if (variant === 'kafka-log-nosend') {
    const { serializeLogEntry } = await import('kafka-log');
    const { kafkaLog } = await import('kafka-log/express');
    app.use(kafkaLog({ sink: { publish: (entry) => serializeLogEntry(entry) } }));
  } else if (variant === 'noop-middleware') {
    app.use((_request, _response, next) => next());
  } else if (variant === 'pino-http') {
    const { default: pino } = await import('pino');
    const { default: pinoHttp } = await import('pino-http');
    pinoLogger = pino(pino.destination({ dest: logFile, sync: false, minLength: 4096 }));
    app.use(pinoHttp({ logger: pinoLogger }));
  }

  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'Ada Lovelace', roles: ['admin', 'dev'], fields: req.query.fields ?? null });
  });

  const server = http.createServer(app);
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send({ type: 'ready', port: server.address().port });

  process.on('message', async (message) => {
    if (message?.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'cpu', micros: user + system });
      return;
    }
    if (message?.type !== 'stop') return;
    server.closeAllConnections();
    server.close();
    let stats;
    if (publisher) {
      await publisher.close({ timeoutMs: 30_000 });
      stats = publisher.stats();
    }
    if (pinoLogger) pinoLogger.flush();
    process.send({ type: 'stopped', stats });
    setTimeout(() => process.exit(0), 50);
  });
}

// ---------------------------------------------------------------------------------------------------------
// the driver (parent process)

async function runBench() {
  const duration = Number(process.env.BENCH_DURATION ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const warmup = Number(process.env.BENCH_WARMUP ?? 2);

  const { ensureKafka } = await import('../scripts/local-kafka.mjs');
  const kafka = await ensureKafka({ log: false });
  const topic = `bench-http-${randomUUID().slice(0, 8)}`;
  await createTopic(kafka.brokers, topic);
  const logFile = path.join(os.tmpdir(), `kafka-log-bench-pino-${process.pid}.log`);

  const { default: autocannon } = await import('autocannon');
  const children = new Map();
  for (const variant of VARIANTS) {
    children.set(variant, await startServer(SELF, { variant, brokers: kafka.brokers, topic, logFile }));
  }

  const fire = (port, seconds) =>
    autocannon({
      url: `http://127.0.0.1:${port}/users/42?fields=name`,
      connections,
      duration: seconds,
      headers: { accept: 'application/json', 'user-agent': 'kafka-log-bench', 'x-request-id': 'bench-request' },
    });

  process.stderr.write(`bench:http  ${rounds} rounds x ${duration}s, ${connections} connections, warm-up ${warmup}s\n`);
  for (const variant of VARIANTS) await fire(children.get(variant).port, warmup);

  const results = new Map(VARIANTS.map((variant) => [variant, { requests: 0, seconds: 0, p99: [], errors: 0, non2xx: 0, cpuMicros: 0 }]));
  for (let round = 0; round < rounds; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const variant of order) {
      const cpuBefore = await cpuOf(children.get(variant));
      const result = await fire(children.get(variant).port, duration);
      const cpuAfter = await cpuOf(children.get(variant));
      const entry = results.get(variant);
      entry.cpuMicros += cpuAfter - cpuBefore;
      entry.requests += result.requests.total;
      entry.seconds += result.duration;
      entry.p99.push(result.latency.p99);
      entry.errors += result.errors + result.timeouts;
      entry.non2xx += result.non2xx;
      process.stderr.write(`  round ${round + 1} ${variant.padEnd(36)} ${Math.round(result.requests.average)} req/s  p99 ${result.latency.p99} ms\n`);
    }
  }

  const publisherStats = new Map();
  for (const variant of VARIANTS) {
    const { stats } = await stopServer(children.get(variant));
    if (stats) publisherStats.set(variant, stats);
  }
  fs.rmSync(logFile, { force: true });

  const rps = (variant) => results.get(variant).requests / results.get(variant).seconds;
  const p99 = (variant) => median(results.get(variant).p99);
  const rows = VARIANTS.map((variant) => ({
    variant,
    'req/s': Math.round(rps(variant)),
    'p99 ms': p99(variant),
    'vs nolog': (rps(variant) / rps('nolog')).toFixed(3),
    // Server CPU time per request: steadier than req/s on a shared machine.
    'cpu µs/req': Math.round(results.get(variant).cpuMicros / results.get(variant).requests),
    errors: results.get(variant).errors + results.get(variant).non2xx,
  }));
  console.table(rows);
  for (const [variant, stats] of publisherStats) {
    console.log(`${variant} publisher: accepted ${stats.accepted}, sent ${stats.sent}, dropped ${stats.dropped.total}`);
  }
  const summary = { bench: 'http' };
  for (const [variant, { key }] of Object.entries(PUBLISHING)) {
    summary[`${key}vs_nolog`] = round3(rps(variant) / rps('nolog'));
    summary[`${key}vs_pino`] = round3(rps(variant) / rps('pino-http'));
    summary[`${key}p99_ms`] = p99(variant);
  }
  console.log(JSON.stringify(summary));
}

async function createTopic(brokers, topic) {
  const { default: kafkajs } = await import('kafkajs');
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round3(value) {
  return Math.round(value * 1000) / 1000;
}
