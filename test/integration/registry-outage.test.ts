// A schema registry outage in the middle of a stream, on every transport: the publisher's registry requests fail
// with retriable REGISTRY errors while it is down, the entries wait in the queue, and once the registry is back
// delivery resumes by itself (`sent` grows again before close(), with no call), every entry arriving once. The
// registry is restarted as a NEW server on the same data file and port, so the schema ids survive the restart.
// Every transport publishes through the SAME outage (one publisher each, concurrently).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { ErrorCodes, type KafkaLogError } from '../../src/errors.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { decodeWireMessage, registerKongSchemas, topicSubject } from '../../src/registry/index.js';
import { richEntry, startRegistry } from '../support/test-registry.js';
import { consumeWithPython, createTopic, kafkaClient, readTopic } from '../support/test-registry-kafka.js';
import { TRANSPORTS, type TransportName } from './transports.js';

const brokers = inject('kafka').brokers;
const servers: TestRegistry[] = [];
/** Entries per transport: the first before the outage, the rest while the registry is down. */
const BEFORE = 4;
const COUNT = 10;

interface Stream {
  topic: string;
  schemaId: number;
  publisher: KafkaLogPublisher;
  retries: KafkaLogError[];
  /** Stats when the registry went down. */
  atOutage?: PublisherStats;
  /** Stats at the first delivery after the registry came back, before close(). */
  resumed?: PublisherStats;
  /** Stats after close(). */
  final?: PublisherStats;
}
const streams = new Map<TransportName, Stream>();
let registryUrl = '';

/** Resolves with the stats at the first delivery that takes `sent` past `from` (undefined after `timeoutMs`). */
function deliveredPast(publisher: KafkaLogPublisher, from: number, timeoutMs: number): Promise<PublisherStats | undefined> {
  return new Promise((resolve) => {
    const onDelivered = () => {
      if (publisher.stats().sent > from) done(publisher.stats());
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    function done(stats: PublisherStats | undefined) {
      clearTimeout(timer);
      publisher.off('publisher.delivered', onDelivered);
      resolve(stats);
    }
    publisher.on('publisher.delivered', onDelivered);
  });
}

beforeAll(async () => {
  const dataFile = join(mkdtempSync(join(tmpdir(), 'kafka-log-registry-')), 'registry.json');
  const first = await startRegistry({ dataFile });
  servers.push(first);
  registryUrl = first.url;
  const kafka = kafkaClient(brokers);
  for (const transport of TRANSPORTS) {
    const topic = `kl-registry-outage-${transport}-${randomUUID().slice(0, 8)}`;
    await createTopic(kafka, topic);
    const { id } = await registerKongSchemas({ url: first.url }, { type: 'AVRO', subject: topicSubject(topic) });
    // refreshIntervalMs 0 (Kong's ttl = 0): every request asks the registry, so the outage shows on every request.
    const publisher = new KafkaLogPublisher({
      transport,
      brokers,
      topic,
      flushTimeout: 10,
      maxRetryDelay: 200,
      logLevel: 'silent',
      schemaRegistry: { url: first.url, valueSchema: { subject: topicSubject(topic), version: 'latest' }, refreshIntervalMs: 0, requestTimeoutMs: 1000 },
    });
    const stream: Stream = { topic, schemaId: id, publisher, retries: [] };
    publisher.on('publisher.retry', (event) => stream.retries.push(event.error));
    await publisher.connect();
    streams.set(transport, stream);
  }

  for (const { publisher } of streams.values()) for (let i = 0; i < BEFORE; i++) publisher.publish(richEntry(i));
  await Promise.all([...streams.values()].map((s) => s.publisher.flush()));

  await first.stop();
  for (const stream of streams.values()) {
    stream.atOutage = stream.publisher.stats();
    for (let i = BEFORE; i < COUNT; i++) stream.publisher.publish(richEntry(i));
  }
  // Retried while down: at least one retriable failure per publisher before the registry comes back.
  const deadline = Date.now() + 30_000;
  while ([...streams.values()].some((s) => s.retries.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  const resumed = [...streams.values()].map(async (stream) => {
    stream.resumed = await deliveredPast(stream.publisher, stream.atOutage?.sent ?? 0, 60_000);
  });
  // Back as a fresh server process would be: same port, same data file.
  servers.push(await startRegistry({ port: first.port, dataFile }));
  await Promise.all(resumed);
  await Promise.all(
    [...streams.values()].map(async (stream) => {
      await stream.publisher.close({ timeoutMs: 30_000 });
      stream.final = stream.publisher.stats();
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([...streams.values()].map((s) => s.publisher.close({ timeoutMs: 0 })));
  await Promise.all(servers.map((server) => server.close()));
});

describe('registry stopped mid-stream, then restarted as a new server on the same data', () => {
  it.each(TRANSPORTS)('over %s: retriable REGISTRY errors while down, delivery resumes by itself, every entry once', async (transport) => {
    const stream = streams.get(transport);
    if (!stream?.final) throw new Error(`no stream for ${transport}`);
    expect(stream.atOutage).toMatchObject({ accepted: BEFORE, sent: BEFORE });
    expect(stream.retries.length).toBeGreaterThan(0);
    for (const error of stream.retries) expect({ code: error.code, retriable: error.retriable }).toEqual({ code: ErrorCodes.REGISTRY, retriable: true });
    // Resumed by itself: sent grew past its value at the outage while the publisher was still open.
    expect(stream.resumed?.sent ?? 0).toBeGreaterThan(BEFORE);
    expect(stream.final).toMatchObject({ accepted: COUNT, sent: COUNT, dropped: { total: 0 }, buffered: 0, inFlight: 0 });

    const messages = await readTopic(kafkaClient(brokers), stream.topic, COUNT);
    expect(messages.map((m) => decodeWireMessage(m.value).schemaId)).toEqual(Array(COUNT).fill(stream.schemaId));
    const records = await consumeWithPython({ brokers, registryUrl, topic: stream.topic, type: 'avro', count: COUNT });
    expect(records.map((r) => (r.value.request as { id: string }).id).sort()).toEqual(Array.from({ length: COUNT }, (_, i) => `req-${i}`).sort());
    // nothing twice: Python read exactly COUNT; the topic holds no more than that
    const admin = kafkaClient(brokers).admin();
    await admin.connect();
    const [partition] = await admin.fetchTopicOffsets(stream.topic);
    await admin.disconnect();
    expect(Number(partition?.high)).toBe(COUNT);
  });
});
