// KafkaLogPublisher with a schema registry, end to end on the real local broker and the TEST registry, over every
// transport: entries
// published with an Avro, a JSON Schema and a Protobuf value schema (and, through Kong's `schema_registry` block,
// an Avro key schema) are read back and decoded to the same entries by kafkajs and by Confluent's Python
// deserializers; a registry outage (at start and mid-stream) loses nothing and duplicates nothing; a misfit entry
// is dropped alone as `schema_mismatch`; a refused subject is dropped as `registry`, with no secret anywhere.
import { randomUUID } from 'node:crypto';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { ErrorCodes, type KafkaLogError, SchemaMismatchError } from '../../src/errors.js';
import type { DropEvent, LogEvent } from '../../src/publisher/events.js';
import { fromKongConfig } from '../../src/publisher/kong-plugin-config.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { parseProtobufSchema } from '../../src/registry/protobuf.js';
import { decodeWireMessage, registerKongSchemas, topicSubject } from '../../src/registry/index.js';
import { asJson, fromAvroShape, richEntry, startRegistry, independentRegistryClient } from '../support/test-registry.js';
import {
  consumeWithPython,
  createTopic,
  fromProtobufJson,
  kafkaClient,
  protobufStructsToJson,
  readTopic,
} from '../support/test-registry-kafka.js';
import { TRANSPORTS, type TransportName } from './transports.js';


const brokers = inject('kafka').brokers;
const COUNT = 3;
const run = randomUUID().slice(0, 8);
const balanced = (s: PublisherStats) => s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;

let kafka: Kafka;
let registry: TestRegistry;
/** The transport of the suite running (set by each suite's beforeAll). */
let transport: TransportName = 'kafkajs';
const servers: TestRegistry[] = [];

beforeAll(async () => {
  kafka = kafkaClient(brokers);
  registry = await startRegistry();
  servers.push(registry);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** A fresh topic with the shipped Kong schema of `type` registered as its value subject. */
async function registeredTopic(name: string, type: 'AVRO' | 'JSON' | 'PROTOBUF', url = registry.url): Promise<string> {
  const topic = `kl-pub-registry-${transport}-${name}-${run}`;
  await createTopic(kafka, topic);
  await registerKongSchemas({ url }, { type, subject: topicSubject(topic) });
  return topic;
}

function publisherFor(topic: string, schemaRegistry: KafkaLogPublisherOptions['schemaRegistry'], extra: Partial<KafkaLogPublisherOptions> = {}) {
  return new KafkaLogPublisher({ transport, brokers, topic, flushTimeout: 20, logLevel: 'silent', schemaRegistry, ...extra });
}

async function publishAll(publisher: KafkaLogPublisher, entries: LogEntry[], key?: (i: number) => string): Promise<PublisherStats> {
  for (const [i, entry] of entries.entries()) publisher.publish(entry, key ? { key: key(i) } : undefined);
  await publisher.flush();
  const stats = publisher.stats();
  await publisher.close();
  return stats;
}

/** Decodes one value written with `type` back to Kong's plain entry (the registry tests' normalisation). */
async function decodeValue(type: 'AVRO' | 'JSON' | 'PROTOBUF', value: Buffer, decoder: SchemaRegistry): Promise<unknown> {
  if (type === 'AVRO') return fromAvroShape(asJson(await decoder.decode(value)));
  if (type === 'JSON') return decoder.decode(value);
  const wire = decodeWireMessage(value, true);
  const schema = (await (await fetch(`${registry.url}/schemas/ids/${wire.schemaId}`)).json()) as { schema: string };
  const { message } = await parseProtobufSchema(schema.schema);
  return fromProtobufJson(protobufStructsToJson(message.toObject(message.decode(wire.payload), { longs: String })) as Record<string, unknown>);
}

async function endOffset(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [partition] = await admin.fetchTopicOffsets(topic);
    return Number(partition?.high ?? -1);
  } finally {
    await admin.disconnect();
  }
}

const TYPES = [
  { type: 'AVRO', python: 'avro' },
  { type: 'JSON', python: 'json' },
  { type: 'PROTOBUF', python: 'protobuf' },
] as const;

describe.each(TRANSPORTS)('over %s', (suiteTransport) => {
  beforeAll(() => {
    transport = suiteTransport;
  });

  describe.each(TYPES)('publisher with a $type value schema', ({ type, python: pythonType }) => {
    it('publishes entries that kafkajs and Confluent\'s Python deserializer decode to the same entries', async () => {
      const topic = await registeredTopic(type.toLowerCase(), type);
      const publisher = publisherFor(topic, { url: registry.url, valueSchema: { subject: topicSubject(topic), version: 'latest' } });
      const entries = Array.from({ length: COUNT }, (_, i) => richEntry(i));
      const stats = await publishAll(publisher, entries);
      expect(stats).toMatchObject({ accepted: COUNT, sent: COUNT, dropped: { total: 0 }, buffered: 0, inFlight: 0 });

      const decoder = independentRegistryClient(registry.url);
      const messages = await readTopic(kafka, topic, COUNT);
      for (const [i, message] of messages.entries()) expect(await decodeValue(type, message.value, decoder)).toEqual(asJson(entries[i]));

        const records = await consumeWithPython({ brokers, registryUrl: registry.url, topic, type: pythonType, count: COUNT });
      const plain = records.map((r) => (type === 'AVRO' ? fromAvroShape(r.value) : type === 'PROTOBUF' ? fromProtobufJson(r.value) : r.value));
      expect(plain).toEqual(entries.map(asJson));
    });
  });

  it('Kong\'s schema_registry block through fromKongConfig, with an Avro key schema: keys and values decode (kafkajs, Python)', async () => {
    const topic = await registeredTopic('key', 'AVRO');
    const keySubject = topicSubject(topic, 'key');
    await fetch(`${registry.url}/subjects/${keySubject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: '"string"' }),
    });
    const options = fromKongConfig({
      bootstrap_servers: brokers.map((b) => ({ host: b.slice(0, b.lastIndexOf(':')), port: Number(b.slice(b.lastIndexOf(':') + 1)) })),
      topic,
      producer_async_flush_timeout: 20,
      schema_registry: {
        confluent: {
          url: registry.url,
          ttl: 0,
          value_schema: { subject_name: topicSubject(topic), schema_version: 'latest' },
          key_schema: { subject_name: keySubject, schema_version: 1 },
        },
      },
      // Kong batches ten entries a message for JSON only: with a registry every entry is its own message.
      queue: { max_batch_size: 10 },
    });
    const publisher = new KafkaLogPublisher({ ...options, transport, logLevel: 'silent' });
    const entries = Array.from({ length: COUNT }, (_, i) => richEntry(i));
    const stats = await publishAll(publisher, entries, (i) => `route-${i}`);
    expect(stats).toMatchObject({ accepted: COUNT, sent: COUNT, dropped: { total: 0 } });

    const decoder = independentRegistryClient(registry.url);
    const messages = await readTopic(kafka, topic, COUNT);
    expect(messages).toHaveLength(COUNT);
    for (const [i, message] of messages.entries()) {
      expect(await decoder.decode(message.key as Buffer)).toBe(`route-${i}`);
      expect(fromAvroShape(asJson(await decoder.decode(message.value)))).toEqual(asJson(entries[i]));
    }
    const records = await consumeWithPython({ brokers, registryUrl: registry.url, topic, type: 'avro', keyType: 'avro', count: COUNT });
    expect(records.map((r) => r.key)).toEqual(entries.map((_, i) => `route-${i}`));
    expect(records.map((r) => fromAvroShape(r.value))).toEqual(entries.map(asJson));
  });

  it('registry down at start, then stopped mid-stream and restarted: every accepted entry arrives once', async () => {
    const outage = await startRegistry();
    servers.push(outage);
    const topic = await registeredTopic('outage', 'AVRO', outage.url);
    // refreshIntervalMs 0 (Kong's ttl = 0): every encode asks the registry, so the outage shows on every request.
    const publisher = publisherFor(topic, { url: outage.url, valueSchema: { subject: topicSubject(topic), version: 'latest' }, refreshIntervalMs: 0, requestTimeoutMs: 1000 });
    const retries: KafkaLogError[] = [];
    publisher.on('publisher.retry', (event) => retries.push(event.error));
    const restartAfter = (ms: number) => new Promise<void>((resolve) => setTimeout(() => resolve(outage.start()), ms));

    // Down before the first request: ready() fails retriably and the request waits, it is not fatal.
    await outage.stop();
    for (let i = 0; i < 4; i++) publisher.publish(richEntry(i));
    let restarted = restartAfter(500);
    await publisher.flush();
    await restarted;
    const startRetries = retries.length;
    expect(startRetries).toBeGreaterThan(0);

    // Mid-stream: more entries while it is down.
    await outage.stop();
    for (let i = 4; i < 10; i++) publisher.publish(richEntry(i));
    restarted = restartAfter(700);
    await publisher.flush();
    await restarted;
    const stats = publisher.stats();
    await publisher.close();

    expect(retries.length).toBeGreaterThan(startRetries);
    for (const error of retries) expect({ code: error.code, retriable: error.retriable }).toEqual({ code: ErrorCodes.REGISTRY, retriable: true });
    expect(stats).toMatchObject({ accepted: 10, sent: 10, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(stats.retried).toBeGreaterThan(0);
    const messages = await readTopic(kafka, topic, 10);
    const ids = messages.map((m) => decodeWireMessage(m.value).schemaId);
    expect(new Set(ids).size).toBe(1);
    expect(await endOffset(topic)).toBe(10); // nothing twice
    const records = await consumeWithPython({ brokers, registryUrl: outage.url, topic, type: 'avro', count: 10 });
    expect(records.map((r) => (r.value.request as { id: string }).id)).toEqual(Array.from({ length: 10 }, (_, i) => `req-${i}`));
  });

  it('an entry that violates the schema is dropped alone (schema_mismatch, path in the drop event); the others arrive', async () => {
    const topic = await registeredTopic('mismatch', 'AVRO');
    const publisher = publisherFor(topic, { url: registry.url, valueSchema: { subject: topicSubject(topic), version: 'latest' } }, { flushTimeout: 200 });
    const drops: DropEvent[] = [];
    publisher.on('publisher.drop', (event) => drops.push(event));
    const delivered: number[] = [];
    publisher.on('publisher.delivered', (event) => delivered.push(event.entries));
    const bad = richEntry(1);
    (bad as unknown as { source: string }).source = 'proxy';
    const stats = await publishAll(publisher, [richEntry(0), bad, richEntry(2)]);

    expect(stats).toMatchObject({ accepted: 3, sent: 2, dropped: { total: 1, byReason: { schema_mismatch: 1 } } });
    expect(balanced(stats)).toBe(true);
    expect(delivered).toEqual([2]); // the same request carried the two others
    expect(drops).toHaveLength(1);
    const [drop] = drops;
    expect(drop?.reason).toBe('schema_mismatch');
    expect(drop?.count).toBe(1);
    expect(drop?.error?.message).toContain('"source"');
    const cause = drop?.error?.cause;
    expect(cause).toBeInstanceOf(SchemaMismatchError);
    expect(cause).toMatchObject({ path: 'source' });
    const records = await consumeWithPython({ brokers, registryUrl: registry.url, topic, type: 'avro', count: 2 });
    expect(records.map((r) => (r.value.request as { id: string }).id)).toEqual(['req-0', 'req-2']);
  });

  it('a registry refusing for good drops as `registry`; the basic-auth password shows nowhere', async () => {
    const password = `registry-secret-${run}`;
    const guarded = await startRegistry({ basicAuth: { username: 'logger', password: 'the-right-one' } });
    servers.push(guarded);
    const topic = `kl-pub-registry-refused-${transport}-${run}`;
    await createTopic(kafka, topic);
    const publisher = publisherFor(
      topic,
      { url: guarded.url, auth: { mode: 'basic', username: 'logger', password }, valueSchema: { subject: topicSubject(topic), version: 'latest' } },
      { logLevel: 'debug' },
    );
    const seen: unknown[] = [];
    publisher.on('publisher.drop', (event: DropEvent) => seen.push({ ...event, message: event.error?.message, cause: String(event.error?.cause) }));
    publisher.on('publisher.delivery_failure', (event) => seen.push({ ...event, message: event.error.message }));
    publisher.on('publisher.log', (event: LogEvent) => seen.push(event));
    const stats = await publishAll(publisher, [richEntry(0), richEntry(1)]);

    expect(stats).toMatchObject({ accepted: 2, sent: 0, dropped: { total: 2, byReason: { registry: 2 } } });
    const drop = seen.find((e): e is DropEvent => (e as DropEvent).reason === 'registry');
    expect(drop?.error?.cause).toMatchObject({ code: ErrorCodes.REGISTRY, retriable: false });
    const everything = JSON.stringify([seen, stats]);
    expect(everything).toContain('401');
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(Buffer.from(`logger:${password}`).toString('base64'));
  });
});
