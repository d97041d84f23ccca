#!/usr/bin/env node
// npm run bench:idle - what a connected publisher costs a process while no request comes: CPU time per second of
// wall time, after one entry was delivered (so every connection has had answers), each way in a process of its own:
//   node                 a node process that only waits (the floor)
//   kafkajs alone        a kafkajs producer that sent one message
//   publisher, kafkajs   KafkaLogPublisher on kafkajs that delivered one entry
//   @platformatic/kafka alone, publisher on @platformatic/kafka: the same on the other client
// Rounds in permuted order; medians. A client's own idle work (kafkajs checks its request queue every millisecond
// once a connection has had an answer; kafka-log stops that timer) is what the figures compare.
// Last line: {"bench":"idle","kafkajs_cpu_ms_per_s":N,"raw_kafkajs_cpu_ms_per_s":N,"platformatic_cpu_ms_per_s":N,
//             "raw_platformatic_cpu_ms_per_s":N,"node_cpu_ms_per_s":N,"kafkajs_vs_raw":R}
// Environment: BENCH_ROUNDS (default 3), BENCH_WINDOW (seconds measured per process, default 4).
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, rotatedOrder, table } from './lib/measure.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW_S = Number(process.env.BENCH_WINDOW ?? 4);
const SETTLE_MS = 1000;
const WAYS = {
  node: 'node, waiting',
  'raw-kafkajs': 'kafkajs alone',
  kafkajs: 'publisher, kafkajs',
  'raw-platformatic': '@platformatic/kafka alone',
  platformatic: 'publisher, @platformatic/kafka',
};
const script = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(script), '..');

if (process.argv[2] === '--way') {
  await runWay(process.argv[3], JSON.parse(process.argv[4]));
} else {
  await main();
}

async function main() {
  const { ensureKafka } = await import('../scripts/local-kafka.mjs');
  const kafka = await ensureKafka({ log: false });
  const topic = `bench-idle-${randomUUID().slice(0, 8)}`;
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const names = Object.keys(WAYS);
  const results = new Map(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of rotatedOrder(names, round)) {
      const msPerS = await measureInChild(name, { brokers: kafka.brokers, topic });
      results.get(name).push(msPerS);
      process.stderr.write(`  round ${round + 1} ${name.padEnd(18)} ${msPerS.toFixed(2)} ms of CPU per s\n`);
    }
  }
  const med = (name) => median(results.get(name));
  process.stdout.write(
    `bench:idle  CPU a process spends per second while no request comes, one entry delivered before; ${ROUNDS} rounds x ${WINDOW_S} s, Node ${process.version}\n`,
  );
  process.stdout.write(
    `${table(
      names.map((name) => ({
        way: WAYS[name],
        'CPU ms per s': med(name).toFixed(2),
        rounds: results.get(name).map((v) => v.toFixed(2)).join(' '),
      })),
    )}\n`,
  );
  const round2 = (value) => Math.round(value * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'idle',
      kafkajs_cpu_ms_per_s: round2(med('kafkajs')),
      raw_kafkajs_cpu_ms_per_s: round2(med('raw-kafkajs')),
      platformatic_cpu_ms_per_s: round2(med('platformatic')),
      raw_platformatic_cpu_ms_per_s: round2(med('raw-platformatic')),
      node_cpu_ms_per_s: round2(med('node')),
      kafkajs_vs_raw: Math.round((med('kafkajs') / med('raw-kafkajs')) * 1000) / 1000,
    })}\n`,
  );
}

/** Runs one way in a child process; resolves with its CPU ms per second of the window. */
function measureInChild(name, config) {
  return new Promise((resolve, reject) => {
    const child = fork(script, ['--way', name, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message) => resolve(message.msPerS));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${name} exited with ${code}`));
    });
  });
}

async function runWay(name, { brokers, topic }) {
  const require = createRequire(import.meta.url);
  const value = JSON.stringify({ request: { uri: '/idle' }, response: { status: 200 } });
  let release = async () => {};
  if (name === 'raw-kafkajs') {
    const { Kafka, logLevel } = require('kafkajs');
    const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value }], acks: 1 });
    release = () => producer.disconnect();
  } else if (name === 'raw-platformatic') {
    const { Producer } = await import('@platformatic/kafka');
    const producer = new Producer({ clientId: 'bench-idle', bootstrapBrokers: brokers, acks: 1 });
    await producer.send({ messages: [{ topic, value: Buffer.from(value) }], acks: 1 });
    release = () => producer.close();
  } else if (name === 'kafkajs' || name === 'platformatic') {
    const { KafkaLogPublisher, buildLogEntry } = require(path.join(root, 'dist/index.js'));
    const publisher = new KafkaLogPublisher({ brokers, topic, transport: name, logLevel: 'warn' });
    await publisher.connect();
    const now = Date.now();
    publisher.publish(
      buildLogEntry({
        request: { method: 'GET', uri: '/idle', scheme: 'http', port: 8080, headers: ['Host', 'localhost'] },
        response: { status: 200, headers: [] },
        remoteAddress: '127.0.0.1',
        timings: { startedAt: now, total: 1, receive: 0 },
      }),
    );
    await publisher.flush();
    if (publisher.stats().sent !== 1) throw new Error(`the publisher on ${name} did not deliver its entry`);
    release = () => publisher.close();
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000));
  const used = process.cpuUsage(before);
  const seconds = (performance.now() - started) / 1000;
  process.send({ msPerS: (used.user + used.system) / 1000 / seconds });
  await release();
  process.disconnect();
  process.exit(0);
}
