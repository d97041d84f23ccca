#!/usr/bin/env node
// npm run bench:publish - delivery throughput against the local broker (scripts/local-kafka.mjs), in one run:
//   publisher   KafkaLogPublisher: publish() each entry, then flush()   (default batching: 200 messages a request)
//   sendBatch   hand-tuned kafkajs: serialize, sendBatch 200 messages at a time, one request in flight
//   naive       kafkajs producer.send() per entry, awaited
//   platformatic KafkaLogPublisher with transport: 'platformatic' (@platformatic/kafka), same settings as `publisher`
//   avro        KafkaLogPublisher with schemaRegistry: the TEST registry (scripts/local-registry.mjs) serving the shipped
//               Avro schema; values encoded at request time in the Confluent wire format. Compared with `publisher`.
// Same ~1.4 KB Kong entries, same serializer, acks 1, no compression, a fresh one-partition topic per variant and
// round. Rounds are interleaved so machine noise hits every variant alike; ratios are medians of per-round ratios.
// Then the throughput profile (700 messages a request, 4 in flight) for the publisher on each transport, against
// kafkajs sendBatch at its best (the faster of 200 x 1 and 700 x 4 in that round): `platformatic_vs_sendbatch`
// comes from it; `platformatic_vs_sendbatch_kong_defaults` from the first table.
// Last line: {"bench":"publish","entries_per_s":N,"vs_sendbatch":R,"vs_naive":R,"platformatic_vs_sendbatch":R,
//             "platformatic_vs_sendbatch_kong_defaults":R,"bulk_kafkajs_vs_sendbatch":R,"avro_entries_per_s":N,"avro_vs_json":R}
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafka } from '../scripts/local-kafka.mjs';
import { startTestRegistry } from '../scripts/local-registry.mjs';
import { median, table } from './lib/measure.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 20_000);
const NAIVE_ENTRIES = Number(process.env.BENCH_NAIVE_ENTRIES ?? 1_500);
const PER_REQUEST = 200;
// The throughput profile: requests of 700 messages (about 1 MB, under the broker's default message.max.bytes), 4 in
// flight (close to the settings the transports were compared
// with when @platformatic/kafka was chosen), for the publisher on each transport and for sendBatch alike.
const BULK = { perRequest: 700, inFlight: 4 };

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

async function runPublisher(variant = 'publisher', profile) {
  const topic = await freshTopic(variant);
  let schemaRegistry;
  if (variant === 'avro') {
    const subject = lib.topicSubject(topic);
    await lib.registerKongSchemas({ url: registry.url }, { type: 'AVRO', subject });
    schemaRegistry = { url: registry.url, valueSchema: { subject, version: 'latest' } };
  }
  const publisher = new lib.KafkaLogPublisher({
    brokers,
    topic,
    clientId: `bench-${variant}`,
    ...(variant === 'platformatic' ? { transport: 'platformatic' } : {}),
    logLevel: 'silent',
    // the whole run is published in one synchronous burst: let the queue hold it (nothing may be dropped)
    maxEntries: ENTRIES,
    maxBufferedMessages: ENTRIES,
    schemaRegistry,
    ...(profile === BULK
      ? { maxMessagesPerRequest: BULK.perRequest, concurrencyLimit: BULK.inFlight }
      : {}),
  });
  await publisher.connect();
  const start = performance.now();
  for (let i = 0; i < ENTRIES; i++) publisher.publish(entries[i]);
  await publisher.flush();
  const seconds = (performance.now() - start) / 1000;
  const stats = publisher.stats();
  await publisher.close();
  if (stats.sent !== ENTRIES) throw new Error(`${variant} sent ${stats.sent} of ${ENTRIES}: ${JSON.stringify(stats)}`);
  return { perSecond: ENTRIES / seconds, valueBytes: stats.bytesSent / ENTRIES };
}

async function withProducer(fn) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

function runSendBatch() {
  return withProducer(async (producer) => {
    const topic = await freshTopic('sendbatch');
    const start = performance.now();
    let messages = [];
    for (let i = 0; i < ENTRIES; i++) {
      messages.push({ value: lib.serializeLogEntry(entries[i]) });
      if (messages.length === PER_REQUEST || i === ENTRIES - 1) {
        await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: 1 });
        messages = [];
      }
    }
    return ENTRIES / ((performance.now() - start) / 1000);
  });
}

/** Hand-tuned kafkajs for the throughput profile: 700-message batches, 4 sendBatch calls in flight. */
function runSendBatchBulk() {
  return withProducer(async (producer) => {
    const topic = await freshTopic('sendbatch-bulk');
    const start = performance.now();
    const inFlight = new Set();
    for (let from = 0; from < ENTRIES; from += BULK.perRequest) {
      const messages = [];
      for (let i = from; i < Math.min(from + BULK.perRequest, ENTRIES); i++) messages.push({ value: lib.serializeLogEntry(entries[i]) });
      const sent = producer.sendBatch({ topicMessages: [{ topic, messages }], acks: 1 }).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      if (inFlight.size >= BULK.inFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return ENTRIES / ((performance.now() - start) / 1000);
  });
}

function runNaive() {
  return withProducer(async (producer) => {
    const topic = await freshTopic('naive');
    const start = performance.now();
    for (let i = 0; i < NAIVE_ENTRIES; i++) {
      await producer.send({ topic, messages: [{ value: lib.serializeLogEntry(entries[i]) }], acks: 1 });
    }
    return NAIVE_ENTRIES / ((performance.now() - start) / 1000);
  });
}

const registry = await startTestRegistry();
const rows = [];
const vsSendBatch = [];
const vsNaive = [];
const perSecond = [];
const avroPerSecond = [];
const avroVsJson = [];
let avroValueBytes = 0;
await runPublisher(); // warm-up: JIT, connections, metadata
await runPublisher('avro'); // warm-up: avsc loaded, schema compiled
await runSendBatch();
await runPublisher('platformatic'); // warm-up: @platformatic/kafka loaded
const platformaticVsSendBatch = [];
const bulkRows = [];
const bulkPlatformaticVsSendBatch = [];
const bulkKafkajsVsSendBatch = [];
await runSendBatchBulk();
await runPublisher('platformatic', BULK);
for (let round = 1; round <= ROUNDS; round++) {
  const { perSecond: publisher } = await runPublisher();
  const avro = await runPublisher('avro');
  const sendBatch = await runSendBatch();
  const naive = await runNaive();
  const { perSecond: platformatic } = await runPublisher('platformatic');
  platformaticVsSendBatch.push(platformatic / sendBatch);
  perSecond.push(publisher);
  avroPerSecond.push(avro.perSecond);
  avroVsJson.push(avro.perSecond / publisher);
  avroValueBytes = avro.valueBytes;
  vsSendBatch.push(publisher / sendBatch);
  vsNaive.push(publisher / naive);
  rows.push({
    round,
    'publisher entries/s': Math.round(publisher),
    'avro entries/s': Math.round(avro.perSecond),
    'platformatic entries/s': Math.round(platformatic),
    'sendBatch entries/s': Math.round(sendBatch),
    'naive send entries/s': Math.round(naive),
    'avro vs json': (avro.perSecond / publisher).toFixed(2),
    'vs sendBatch': (publisher / sendBatch).toFixed(2),
    'vs naive': (publisher / naive).toFixed(1),
    'platformatic vs sendBatch': (platformatic / sendBatch).toFixed(2),
  });
}
for (let round = 1; round <= ROUNDS; round++) {
  // The hand-tuned baseline is kafkajs at its best: the faster of its two batchings, measured in this round.
  const sendBatch = Math.max(await runSendBatchBulk(), await runSendBatch());
  const { perSecond: kafkajs } = await runPublisher('publisher', BULK);
  const { perSecond: platformatic } = await runPublisher('platformatic', BULK);
  bulkPlatformaticVsSendBatch.push(platformatic / sendBatch);
  bulkKafkajsVsSendBatch.push(kafkajs / sendBatch);
  bulkRows.push({
    round,
    'best sendBatch entries/s': Math.round(sendBatch),
    'publisher (kafkajs) entries/s': Math.round(kafkajs),
    'publisher (platformatic) entries/s': Math.round(platformatic),
    'kafkajs vs sendBatch': (kafkajs / sendBatch).toFixed(2),
    'platformatic vs sendBatch': (platformatic / sendBatch).toFixed(2),
  });
}
await admin.disconnect();
await registry.close();

console.log(
  `kafka-log publish benchmark: ${ENTRIES} entries of ${entryBytes} B (naive: ${NAIVE_ENTRIES}), ` +
    `${PER_REQUEST} messages a request, acks 1, Kafka ${info.version} on ${brokers[0]}, Node ${process.version}`,
);
console.log(table(rows));
console.log(`\nthroughput profile: ${BULK.perRequest} messages a request, ${BULK.inFlight} requests in flight, acks 1`);
console.log(table(bulkRows));
const result = {
  bench: 'publish',
  entries_per_s: Math.round(median(perSecond)),
  vs_sendbatch: Number(median(vsSendBatch).toFixed(3)),
  vs_naive: Number(median(vsNaive).toFixed(1)),
  platformatic_vs_sendbatch: Number(median(bulkPlatformaticVsSendBatch).toFixed(3)),
  platformatic_vs_sendbatch_kong_defaults: Number(median(platformaticVsSendBatch).toFixed(3)),
  bulk_kafkajs_vs_sendbatch: Number(median(bulkKafkajsVsSendBatch).toFixed(3)),
  avro_entries_per_s: Math.round(median(avroPerSecond)),
  avro_vs_json: Number(median(avroVsJson).toFixed(3)),
};
console.log(`median: ${result.entries_per_s} entries/s, ${result.vs_sendbatch}x hand-tuned sendBatch, ${result.vs_naive}x naive send`);
console.log(
  `avro (schema registry): ${result.avro_entries_per_s} entries/s, ${result.avro_vs_json}x plain JSON; ` +
    `values of ${Math.round(avroValueBytes)} B (JSON: ${entryBytes} B)`,
);
console.log(
  `@platformatic/kafka transport: ${result.platformatic_vs_sendbatch}x hand-tuned sendBatch in the throughput profile, ` +
    `${result.platformatic_vs_sendbatch_kong_defaults}x with Kong's defaults`,
);
console.log(JSON.stringify(result));
