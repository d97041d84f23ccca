#!/usr/bin/env node
// npm run bench:publish - delivery throughput to the local broker (scripts/local-kafka.mjs): 20,000 Kong entries
// (about 1.4 KB each) delivered as fast as each way goes, every way in one run:
//   publisher            KafkaLogPublisher on kafkajs: publish() each entry, then flush(); Kong's defaults
//                        (200 messages a request, 1 in flight), 200 x 4 in flight and 700 x 4 (`maxMessagesPerRequest`,
//                        `concurrencyLimit`)
//                        Published in one synchronous burst, nothing can go out before the last entry is queued; "as
//                        entries arrive" publishes them 200 at a time, one event-loop turn apart, as a server's
//                        requests end (the hand-written pipelines below also serialize while sends are in flight)
//   platformatic         the same on @platformatic/kafka (`transport: 'platformatic'`)
//   worker (informative) the same on kafkajs in a worker thread (`transport: workerTransport()`), Kong's defaults
//   avro                 the publisher with a schema registry (scripts/local-registry.mjs) encoding Avro values
//   kafkajs sendBatch    hand-written kafkajs: serialize, then one sendBatch of 200 at a time, awaited
//   kafkajs pipelined    hand-written kafkajs: batches serialized while up to 4 sendBatch calls are in flight
//                        (200 and 700 messages a batch), or every entry serialized before the first send
//   raw platformatic     hand-written @platformatic/kafka: Producer.send of batches, awaited or pipelined the same
//                        ways
//   naive                kafkajs producer.send() per entry, awaited (1,500 entries)
// Same entries, same serializer, acks 1, no compression, a fresh one-partition topic per run. Each round runs every
// way once, the order permuted from round to round; each side is taken at its best in the round (the fastest of
// its batchings), and ratios are medians of per-round ratios.
// Last line: {"bench":"publish","entries_per_s":N,"vs_sendbatch":R,"platformatic_vs_raw":R,"platformatic_vs_sendbatch":R,
//             "vs_naive":R,"worker_vs_publisher":R,"avro_entries_per_s":N,"avro_vs_json":R}
// vs_sendbatch: the publisher on kafkajs over hand-written kafkajs; platformatic_vs_raw: the publisher on
// @platformatic/kafka over hand-written @platformatic/kafka; platformatic_vs_sendbatch: the publisher on
// @platformatic/kafka over hand-written kafkajs; vs_naive: the publisher with Kong's defaults over naive send;
// worker_vs_publisher: kafkajs in a worker over kafkajs in the thread, Kong's defaults; entries_per_s: the
// publisher on kafkajs with Kong's defaults.
// Environment: BENCH_ROUNDS (default 5), BENCH_ENTRIES (default 20000), BENCH_NAIVE_ENTRIES (default 1500).
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafka } from '../scripts/local-kafka.mjs';
import { startTestRegistry } from '../scripts/local-registry.mjs';
import { median, rotatedOrder, table } from './lib/measure.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 20_000);
const NAIVE_ENTRIES = Number(process.env.BENCH_NAIVE_ENTRIES ?? 1_500);
// Kong's defaults, and the throughput profile: requests of 700 messages (about 1 MB, under the broker's default
// message.max.bytes), 4 in flight.
const KONG = { perRequest: 200, inFlight: 1 };
const BULK = { perRequest: 700, inFlight: 4 };
const PIPELINED = { perRequest: 200, inFlight: 4 };
/** Entries published per event-loop turn "as entries arrive". */
const ARRIVING_SLICE = 200;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The built package (`npm run bench:publish` builds first). */
function loadLibrary() {
  return require(path.join(root, 'dist/index.js'));
}

function entry(i) {
  return {
    request: {
      id: `7f9c2ba4e88f827d616045507605853e-${i}`,
      uri: `/api/v2/orders/${i}?expand=items&currency=EUR`,
      url: `https://shop.example.internal:8443/api/v2/orders/${i}?expand=items&currency=EUR`,
      querystring: { expand: 'items', currency: 'EUR' },
      method: 'GET',
      headers: {
        host: 'shop.example.internal:8443',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0',
        accept: 'application/json, text/plain, */*',
        'accept-encoding': 'gzip, deflate, br',
        authorization: 'REDACTED',
        'x-request-id': `7f9c2ba4e88f827d616045507605853e-${i}`,
        'x-forwarded-for': '203.0.113.7, 10.0.0.12',
      },
      size: 734,
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', client_verify: 'NONE' },
    },
    upstream_uri: `/orders/${i}?expand=items&currency=EUR`,
    upstream_status: '200',
    response: {
      status: 200,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': '2841',
        'cache-control': 'no-store',
        via: '1.1 kong/3.16.0',
        date: 'Tue, 14 May 2024 10:12:03 GMT',
      },
      size: 3120,
    },
    latencies: { request: 14, proxy: 12, kong: 1, receive: 0 },
    route: { id: '9b1d3c2e-aaaa-4bbb-8ccc-dddddddddddd', name: 'orders-read', paths: ['/api/v2/orders'] },
    service: { id: '1a2b3c4d-eeee-4fff-8000-111111111111', name: 'orders', host: 'orders.svc', port: 8080 },
    consumer: { id: '0f5b7c4e-2d9a-4e1b-8c3d-6a7b8c9d0e1f', username: 'web-frontend' },
    client_ip: '203.0.113.7',
    started_at: 1_715_681_523_000 + i,
    source: 'upstream',
    workspace_name: 'default',
  };
}

const lib = loadLibrary();
const info = await ensureKafka({ log: false });
const brokers = info.brokers;
const kafka = new Kafka({ clientId: 'bench-publish', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
let topicCounter = 0;
async function freshTopic(variant) {
  const topic = `bench-${variant}-${process.pid}-${topicCounter++}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  // kafkajs' waitForLeaders gives up early on a busy machine: poll the metadata instead (bounded).
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      if (topics[0]?.partitions.every((partition) => partition.leader >= 0)) return topic;
    } catch {
      // not known yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`topic ${topic} has no leader after 10 s`);
}

const entries = Array.from({ length: ENTRIES }, (_, i) => entry(i));
const entryBytes = Buffer.byteLength(lib.serializeLogEntry(entries[0]));

async function runPublisher(variant, profile = KONG, arriving = false) {
  const topic = await freshTopic(variant);
  let schemaRegistry;
  if (variant === 'avro') {
    const subject = lib.topicSubject(topic);
    await lib.registerKongSchemas({ url: registry.url }, { type: 'AVRO', subject });
    schemaRegistry = { url: registry.url, valueSchema: { subject, version: 'latest' } };
  }
  const transport = variant === 'platformatic' ? 'platformatic' : variant === 'worker' ? lib.workerTransport('kafkajs') : 'kafkajs';
  const publisher = new lib.KafkaLogPublisher({
    brokers,
    topic,
    clientId: `bench-${variant}`,
    transport,
    logLevel: 'silent',
    // the whole run is published in one synchronous burst: let the queue hold it (nothing may be dropped)
    maxEntries: ENTRIES,
    maxBufferedMessages: ENTRIES,
    schemaRegistry,
    maxMessagesPerRequest: profile.perRequest,
    concurrencyLimit: profile.inFlight,
  });
  await publisher.connect();
  const start = performance.now();
  for (let i = 0; i < ENTRIES; i++) {
    if (arriving && i > 0 && i % ARRIVING_SLICE === 0) await new Promise(setImmediate);
    publisher.publish(entries[i]);
  }
  await publisher.flush();
  const seconds = (performance.now() - start) / 1000;
  const stats = publisher.stats();
  await publisher.close();
  if (stats.sent !== ENTRIES) throw new Error(`${variant} sent ${stats.sent} of ${ENTRIES}: ${JSON.stringify(stats)}`);
  return { perSecond: ENTRIES / seconds, valueBytes: stats.bytesSent / ENTRIES };
}

/**
 * Hand-written pipelining: up to `inFlight` sends outstanding. `first: false` serializes each batch just before it
 * is sent (encoding overlaps the broker's round trips); `first: true` serializes every entry before the first send
 * (as the publisher does with a burst published at once). `send(messages)` sends one batch.
 */
async function pipelined(count, { perRequest, inFlight, first = false }, toMessage, send) {
  const start = performance.now();
  const batches = [];
  const batchOf = (from) => {
    const messages = [];
    for (let i = from; i < Math.min(from + perRequest, count); i++) messages.push(toMessage(lib.serializeLogEntry(entries[i])));
    return messages;
  };
  if (first) for (let from = 0; from < count; from += perRequest) batches.push(batchOf(from));
  const outstanding = new Set();
  for (let from = 0, n = 0; from < count; from += perRequest, n++) {
    const sent = send(first ? batches[n] : batchOf(from)).finally(() => outstanding.delete(sent));
    outstanding.add(sent);
    if (outstanding.size >= inFlight) await Promise.race(outstanding);
  }
  await Promise.all(outstanding);
  return count / ((performance.now() - start) / 1000);
}

async function runKafkajs(profile) {
  const topic = await freshTopic('kafkajs');
  const producer = kafka.producer();
  await producer.connect();
  try {
    return await pipelined(ENTRIES, profile, (value) => ({ value }), (messages) =>
      producer.sendBatch({ topicMessages: [{ topic, messages }], acks: 1 }),
    );
  } finally {
    await producer.disconnect();
  }
}

async function runRawPlatformatic(profile) {
  const topic = await freshTopic('raw-platformatic');
  const { Producer } = await import('@platformatic/kafka');
  const producer = new Producer({ clientId: 'bench-raw-platformatic', bootstrapBrokers: brokers, acks: 1 });
  try {
    await producer.metadata({ topics: [topic] });
    return await pipelined(ENTRIES, profile, (value) => ({ topic, partition: 0, value: Buffer.from(value) }), (messages) =>
      producer.send({ messages, acks: 1 }),
    );
  } finally {
    await producer.close();
  }
}

async function runNaive() {
  const topic = await freshTopic('naive');
  const producer = kafka.producer();
  await producer.connect();
  try {
    const start = performance.now();
    for (let i = 0; i < NAIVE_ENTRIES; i++) {
      await producer.send({ topic, messages: [{ value: lib.serializeLogEntry(entries[i]) }], acks: 1 });
    }
    return NAIVE_ENTRIES / ((performance.now() - start) / 1000);
  } finally {
    await producer.disconnect();
  }
}

/** Every way one round runs, by name. */
const WAYS = {
  'publisher (kafkajs), Kong defaults': () => runPublisher('publisher', KONG),
  'publisher (kafkajs), 200 x 4': () => runPublisher('publisher', PIPELINED),
  'publisher (kafkajs), 700 x 4': () => runPublisher('publisher', BULK),
  'publisher (kafkajs), 200 x 4, as entries arrive': () => runPublisher('publisher', PIPELINED, true),
  'publisher (platformatic), Kong defaults': () => runPublisher('platformatic', KONG),
  'publisher (platformatic), 200 x 4': () => runPublisher('platformatic', PIPELINED),
  'publisher (platformatic), 700 x 4': () => runPublisher('platformatic', BULK),
  'publisher (platformatic), 200 x 4, as entries arrive': () => runPublisher('platformatic', PIPELINED, true),
  'publisher (kafkajs in a worker), Kong defaults': () => runPublisher('worker', KONG),
  'publisher + avro, Kong defaults': () => runPublisher('avro', KONG),
  'kafkajs sendBatch 200 x 1': () => runKafkajs(KONG),
  'kafkajs pipelined 200 x 4': () => runKafkajs(PIPELINED),
  'kafkajs pipelined 700 x 4': () => runKafkajs(BULK),
  'kafkajs 700 x 4, serialized first': () => runKafkajs({ ...BULK, first: true }),
  'raw platformatic 200 x 1': () => runRawPlatformatic(KONG),
  'raw platformatic 200 x 4': () => runRawPlatformatic(PIPELINED),
  'raw platformatic 700 x 4': () => runRawPlatformatic(BULK),
  'raw platformatic 700 x 4, serialized first': () => runRawPlatformatic({ ...BULK, first: true }),
  'naive send': () => runNaive(),
};
const NAMES = Object.keys(WAYS);

const registry = await startTestRegistry();
process.stderr.write(`bench:publish  ${ROUNDS} rounds, ${ENTRIES} entries each (naive: ${NAIVE_ENTRIES})\n`);
// Warm-up: JIT, connections, metadata, both clients and the Avro schema loaded.
for (const name of NAMES) await WAYS[name]();

const rates = new Map(NAMES.map((name) => [name, []]));
let avroValueBytes = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const name of rotatedOrder(NAMES, round)) {
    const result = await WAYS[name]();
    const perSecond = typeof result === 'number' ? result : result.perSecond;
    if (name.startsWith('publisher + avro')) avroValueBytes = result.valueBytes;
    rates.get(name).push(perSecond);
    process.stderr.write(`  round ${round + 1} ${name.padEnd(48)} ${Math.round(perSecond)} entries/s\n`);
  }
}
await admin.disconnect();
await registry.close();

const perRound = (name) => rates.get(name);
const bestOf = (...names) => perRound(names[0]).map((_, round) => Math.max(...names.map((name) => perRound(name)[round])));
const ratio = (top, bottom) => median(top.map((value, round) => value / bottom[round]));
const publisherBest = bestOf(
  'publisher (kafkajs), Kong defaults',
  'publisher (kafkajs), 200 x 4',
  'publisher (kafkajs), 700 x 4',
  'publisher (kafkajs), 200 x 4, as entries arrive',
);
const platformaticBest = bestOf(
  'publisher (platformatic), Kong defaults',
  'publisher (platformatic), 200 x 4',
  'publisher (platformatic), 700 x 4',
  'publisher (platformatic), 200 x 4, as entries arrive',
);
const kafkajsBest = bestOf('kafkajs sendBatch 200 x 1', 'kafkajs pipelined 200 x 4', 'kafkajs pipelined 700 x 4', 'kafkajs 700 x 4, serialized first');
const rawBest = bestOf(
  'raw platformatic 200 x 1',
  'raw platformatic 200 x 4',
  'raw platformatic 700 x 4',
  'raw platformatic 700 x 4, serialized first',
);
const publisherKong = perRound('publisher (kafkajs), Kong defaults');

console.log(
  `kafka-log publish benchmark: ${ENTRIES} entries of ${entryBytes} B (naive: ${NAIVE_ENTRIES}), acks 1, ` +
    `Kafka ${info.version} on ${brokers[0]}, Node ${process.version}; medians of ${ROUNDS} rounds`,
);
console.log(
  table(
    NAMES.map((name) => ({
      way: name,
      'entries/s': Math.round(median(perRound(name))),
      'vs best kafkajs': ratio(perRound(name), kafkajsBest).toFixed(2),
      'vs best raw platformatic': ratio(perRound(name), rawBest).toFixed(2),
    })),
  ),
);
const result = {
  bench: 'publish',
  entries_per_s: Math.round(median(publisherKong)),
  vs_sendbatch: Number(ratio(publisherBest, kafkajsBest).toFixed(3)),
  platformatic_vs_raw: Number(ratio(platformaticBest, rawBest).toFixed(3)),
  platformatic_vs_sendbatch: Number(ratio(platformaticBest, kafkajsBest).toFixed(3)),
  vs_naive: Number(ratio(publisherKong, perRound('naive send')).toFixed(1)),
  worker_vs_publisher: Number(ratio(perRound('publisher (kafkajs in a worker), Kong defaults'), publisherKong).toFixed(3)),
  avro_entries_per_s: Math.round(median(perRound('publisher + avro, Kong defaults'))),
  avro_vs_json: Number(ratio(perRound('publisher + avro, Kong defaults'), publisherKong).toFixed(3)),
};
console.log(
  `publisher at its best: ${result.vs_sendbatch}x hand-written kafkajs at its best, ${result.vs_naive}x naive send (Kong's defaults); ` +
    `on @platformatic/kafka ${result.platformatic_vs_raw}x hand-written @platformatic/kafka, ${result.platformatic_vs_sendbatch}x hand-written kafkajs`,
);
console.log(`avro (schema registry): ${result.avro_vs_json}x plain JSON; values of ${Math.round(avroValueBytes)} B (JSON: ${entryBytes} B)`);
console.log(JSON.stringify(result));
