#!/usr/bin/env node
// kafka-log in one command: an Express app logs every request to Kafka, and the demo reads the entries back.
//
//   npm run demo                                   # the project's local broker (started if needed)
//   KAFKA_BROKERS=host:9092 npm run demo           # your cluster (plaintext); topic KAFKA_TOPIC or kafka-log-demo
//   npm run demo -- --all                          # print every entry in full, not just one
//   npm run demo -- --verbose                      # also the publisher's (and Kafka client's) log lines
//
// Needs the build (`npm run demo` builds first): the app imports kafka-log by its package name.
// Exit code 0 when every entry came back from Kafka; 1 with the reason otherwise.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createDemoApp } from './demo/app.mjs';
import { demoClient, ensureTopic, resolveBrokers, startReader, stopLocalBroker } from './demo/kafka.mjs';
import { prettyEntry, tableHeader, tableLine } from './demo/print.mjs';
import { sendRequests } from './demo/requests.mjs';
import { bold, cyan, dim, formatBytes, green, red, since, statusColor, yellow } from './demo/style.mjs';

const ENTRIES_TIMEOUT_MS = 30_000; // entries must be back this long after the last request
const AFTER_BROKER_TIMEOUT_MS = 90_000; // everything after the broker is up, shutdown included
const HEARTBEAT_MS = 15_000; // the first broker start is silent for minutes while Maven downloads

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (n, title) => say(`\n${bold(`[${n}/5]`)} ${bold(title)}`);
const ok = (line) => say(`  ${green('✓')} ${line}`);

/** Undo actions, run last-in first-out, each bounded; the demo must not hang on shutdown. */
const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    const { label, run } = cleanups.pop();
    try {
      await Promise.race([run(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 25_000).unref())]);
      ok(label);
    } catch (error) {
      say(`  ${red('✗')} ${label}: ${error.message}`);
    }
  }
}

async function fail(message) {
  say(`\n${red(bold('demo failed:'))} ${message}`);
  await cleanUp();
  process.exit(1);
}

async function main() {
  const t0 = Date.now();
  const showAll = process.argv.includes('--all');
  const runId = `demo-${randomBytes(3).toString('hex')}`;
  const topic = process.env.KAFKA_TOPIC?.trim() || 'kafka-log-demo';
  say(bold('kafka-log demo') + dim('  Express app ─▶ kafka-log ─▶ Kafka topic ─▶ back to this terminal'));

  // 1. Kafka
  step(1, 'Kafka');
  let lastProgress = Date.now();
  const progress = (message) => {
    lastProgress = Date.now();
    say(`  ${dim('kafka │')} ${message}`);
  };
  if (!process.env.KAFKA_BROKERS) progress("no KAFKA_BROKERS set: using the project's local broker (scripts/local-kafka.mjs)");
  const heartbeat = setInterval(() => {
    if (Date.now() - lastProgress >= HEARTBEAT_MS) progress(dim(`still working... (${since(t0)})`));
  }, 1_000);
  let broker;
  try {
    broker = await resolveBrokers(progress);
  } catch (error) {
    clearInterval(heartbeat);
    return fail(`could not start the local broker: ${error.message}\n  (it needs Java 17+, Maven 3.8+ and openssl; see CONTRIBUTING.md, "The local Apache Kafka broker")`);
  }
  clearInterval(heartbeat);
  const keepBroker = broker.started && Boolean(process.env.KAFKA_LOG_KEEP_BROKER);
  if (broker.started && !keepBroker) cleanups.push({ label: 'local broker stopped (the demo started it)', run: stopLocalBroker });
  if (broker.local) ok(`local broker ${broker.brokers.join(',')}${broker.started ? ' (started)' : ' (already running, left running)'}`);
  else progress(`using KAFKA_BROKERS=${broker.brokers.join(',')}`);

  // Bounded from here on: a broken cluster or a stuck consumer ends in a clear failure, not a hang.
  setTimeout(() => fail(`gave up after ${AFTER_BROKER_TIMEOUT_MS / 1000} s (is the cluster reachable?)`), AFTER_BROKER_TIMEOUT_MS).unref();

  const client = demoClient(broker.brokers);
  try {
    ok(`topic ${bold(topic)} ${await ensureTopic(client, topic)}`);
  } catch (error) {
    return fail(`cannot reach Kafka at ${broker.brokers.join(',')}: ${error.message}`);
  }
  const reader = await startReader(client, topic, runId).catch((error) => fail(`cannot read ${topic}: ${error.message}`));
  cleanups.push({ label: 'consumer disconnected', run: reader.close });

  // 2. The app, with the published API: the publisher and the Express middleware.
  step(2, 'Express app with kafka-log');
  const { KafkaLogPublisher } = await import('kafka-log');
  const verbose = process.argv.includes('--verbose');
  const logger = { error: console.error, warn: console.error, info: console.error, debug: console.error };
  const publisher = new KafkaLogPublisher({
    brokers: broker.brokers,
    topic,
    clientId: 'kafka-log-demo',
    ...(verbose ? { logger, logLevel: 'debug' } : {}), // the publisher's and the Kafka client's own log lines
  });
  publisher.on('publisher.drop', ({ reason, count }) => say(`  ${yellow('!')} kafka-log dropped ${count} entries: ${reason}`));
  cleanups.push({ label: 'publisher closed (buffered entries delivered)', run: () => publisher.close() });
  const server = http.createServer(createDemoApp(publisher));
  await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
  cleanups.push({
    label: 'HTTP server closed',
    run: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  });
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  ok(`listening on ${baseUrl}, logging to topic ${topic}`);

  // 3. Traffic
  step(3, 'Sending requests');
  const sent = await sendRequests(baseUrl, runId, (r) =>
    say(`  ${dim('→')} ${r.method.padEnd(4)} ${r.path.padEnd(42)} ${statusColor(r.status)(r.status)}  ${dim(r.label)}`),
  );
  await publisher.flush(); // deliver now instead of after the flush delay

  // 4. Back from Kafka
  step(4, `Reading topic ${topic}`);
  try {
    await reader.waitFor(sent.length, ENTRIES_TIMEOUT_MS);
  } catch (error) {
    const stats = publisher.stats();
    return fail(`${error.message}.\n  publisher: accepted ${stats.accepted}, sent ${stats.sent}, dropped ${stats.dropped.total}`);
  }
  const order = new Map(sent.map((r, i) => [r.id, i]));
  const entries = reader.entries().sort((a, b) => order.get(a.request.id) - order.get(b.request.id));
  say(`  ${tableHeader()}`);
  for (const entry of entries) say(`  ${tableLine(entry)}`);
  const full = showAll ? entries : entries.filter((e) => e.request.method === 'POST' && e.request.uri === '/users');
  for (const entry of full) {
    say(`\n  ${bold(`${entry.request.method} ${entry.request.uri}`)} ${dim('in full (Kong Kafka Log format):')}`);
    say(prettyEntry(entry));
  }
  if (!showAll) say(dim('\n  (npm run demo -- --all prints every entry in full)'));

  // 5. Counters and shutdown
  step(5, 'Publisher counters and shutdown');
  await cleanUp();
  const s = publisher.stats();
  const drops = Object.entries(s.dropped.byReason).filter(([, n]) => n > 0);
  say(
    `  accepted ${bold(s.accepted)}  sent ${bold(s.sent)}  retried ${s.retried}  dropped ${s.dropped.total}` +
      `${drops.length ? ` (${drops.map(([r, n]) => `${r}: ${n}`).join(', ')})` : ''}  buffered ${s.buffered}  in flight ${s.inFlight}` +
      `  bytes sent ${formatBytes(s.bytesSent)}`,
  );
  if (s.sent !== sent.length || s.dropped.total > 0) return fail(`expected ${sent.length} entries sent and none dropped`);

  say(`\n${green(bold('done'))} in ${since(t0)}: ${entries.length} requests logged to Kafka and read back.`);
  const where = broker.started && !keepBroker ? '' : `\n  kafka-log tail: ${cyan(`node dist/cli.js tail --brokers ${broker.brokers.join(',')} --topic ${topic} --from-beginning`)}`;
  say(`${dim('  next: examples/ (express, koa, fastify, nest, node-http, gateway), README.md (Quick start)')}${where}`);
  if (broker.started && !keepBroker) say(dim('  tip: KAFKA_LOG_KEEP_BROKER=1 keeps the local broker running for faster re-runs (npm run kafka:stop)'));
}

process.once('SIGINT', () => fail('interrupted'));
process.once('SIGTERM', () => fail('terminated'));
main().then(
  () => process.exit(0),
  (error) => fail(error?.stack ?? String(error)),
);
