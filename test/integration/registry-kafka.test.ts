// The registry encoder end to end: entries encoded with an Avro, a JSON Schema and a Protobuf value schema (and
// an Avro key schema) are produced to the real local broker with kafkajs, read back and decoded to the same
// entries; then Confluent's own Python client (librdkafka consumer + official deserializers) reads the same
// topics. The publisher is not wired yet, so this test produces with kafkajs directly.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { ErrorCodes, type SchemaMismatchError } from '../../src/errors.js';
import { parseProtobufSchema } from '../../src/registry/protobuf.js';
import { createRegistryEncoder, decodeWireMessage, registerKongSchemas, topicSubject, type RegistryEncoder } from '../../src/registry/index.js';
import { asJson, fromAvroShape, richEntry, startRegistry, independentRegistryClient } from '../support/test-registry.js';
import {
  consumeWithPython,
  createTopic,
  fromProtobufJson,
  kafkaClient,
  protobufStructsToJson,
  readTopic,
} from '../support/test-registry-kafka.js';


const TYPES = [
  { type: 'AVRO', python: 'avro' },
  { type: 'JSON', python: 'json' },
  { type: 'PROTOBUF', python: 'protobuf' },
] as const;
const COUNT = 3;
const SHIPPED = { AVRO: 'kong-log-entry.avsc', JSON: 'kong-log-entry.schema.json', PROTOBUF: 'kong-log-entry.proto' } as const;

let kafka: Kafka;
let registry: TestRegistry;
const topics: Record<string, string> = {};
const run = randomUUID().slice(0, 8);

beforeAll(async () => {
  kafka = kafkaClient(inject('kafka').brokers);
  registry = await startRegistry();
  for (const { type } of TYPES) {
    const topic = `kl-registry-${type.toLowerCase()}-${run}`;
    topics[type] = topic;
    await createTopic(kafka, topic);
    await registerKongSchemas({ url: registry.url }, { type, subject: topicSubject(topic) });
  }
  // The Avro topic's keys have a key schema too: a plain Avro string.
  await fetch(`${registry.url}/subjects/${topicSubject(topics.AVRO as string, 'key')}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: '"string"' }),
  });
});

afterAll(async () => {
  await registry?.close();
});

async function produce(topic: string, encoder: RegistryEncoder): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const messages = [];
    for (let i = 0; i < COUNT; i++) {
      const entry = richEntry(i);
      messages.push({ key: await encoder.encodeKey(`route-${i}`), value: await encoder.encodeValue(entry) });
    }
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Produces richEntry(0..COUNT-1) with the topic's value schema, reads them back with kafkajs and with Confluent's Python client. */
async function expectRoundTrip(type: (typeof TYPES)[number]['type'], python: (typeof TYPES)[number]['python'], topic: string, withKey: boolean) {
  const encoder = createRegistryEncoder({
    url: registry.url,
    valueSchema: { subject: topicSubject(topic), version: 'latest' },
    ...(withKey ? { keySchema: { subject: topicSubject(topic, 'key'), version: 'latest' as const } } : {}),
  });
  try {
    await produce(topic, encoder);
  } finally {
    await encoder.close();
  }

  const messages = await readTopic(kafka, topic, COUNT);
  const kafkajsRegistry = independentRegistryClient(registry.url);
  for (const [i, message] of messages.entries()) {
    const expected = asJson(richEntry(i));
    if (type === 'AVRO') {
      expect(fromAvroShape(asJson(await kafkajsRegistry.decode(message.value)))).toEqual(expected);
      if (withKey) expect(await kafkajsRegistry.decode(message.key as Buffer)).toBe(`route-${i}`);
    } else if (type === 'JSON') {
      expect(await kafkajsRegistry.decode(message.value)).toEqual(expected);
    } else {
      const wire = decodeWireMessage(message.value, true);
      const schema = (await (await fetch(`${registry.url}/schemas/ids/${wire.schemaId}`)).json()) as { schema: string };
      const { message: type } = await parseProtobufSchema(schema.schema);
      const object = type.toObject(type.decode(wire.payload), { longs: String });
      expect(fromProtobufJson(protobufStructsToJson(object) as Record<string, unknown>)).toEqual(expected);
    }
    if (!withKey) expect(message.key?.toString()).toBe(`route-${i}`);
  }

  const records = await consumeWithPython({
    brokers: inject('kafka').brokers,
    registryUrl: registry.url,
    topic,
    type: python,
    keyType: withKey ? 'avro' : 'string',
    count: COUNT,
  });
  expect(records).toHaveLength(COUNT);
  for (const [i, record] of records.entries()) {
    const expected = asJson(richEntry(i));
    expect(record.key).toBe(`route-${i}`);
    if (type === 'AVRO') expect(fromAvroShape(record.value)).toEqual(expected);
    if (type === 'JSON') expect(record.value).toEqual(expected);
    if (type === 'PROTOBUF') expect(fromProtobufJson(record.value)).toEqual(expected);
  }
  // Kong's trace_id shape (one key per tracing format) survives every schema and decoder.
  expect(records.every((record) => Object.keys(record.value.trace_id as object).length === 8)).toBe(true);
}

describe.each(TYPES)('$type value schema', ({ type, python }) => {
  it('is produced to Kafka, read back and decoded to the same entries (kafkajs), and by Confluent\'s Python deserializer', async () => {
    await expectRoundTrip(type, python, topics[type] as string, type === 'AVRO');
  });

  it('the shipped file under schemas/, registered as it is, decodes the same entries', async () => {
    const topic = `kl-registry-file-${type.toLowerCase()}-${run}`;
    await createTopic(kafka, topic);
    const schema = readFileSync(join(__dirname, '..', '..', 'schemas', SHIPPED[type]), 'utf8');
    const registered = await fetch(`${registry.url}/subjects/${topicSubject(topic)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(type === 'AVRO' ? { schema } : { schema, schemaType: type }),
    });
    expect(registered.status).toBe(200);
    await expectRoundTrip(type, python, topic, false);
  });
});

it('an entry that violates the schema is refused with SCHEMA_MISMATCH naming the path; the others are sent', async () => {
  const topic = `kl-registry-mismatch-${run}`;
  await createTopic(kafka, topic);
  await registerKongSchemas({ url: registry.url }, { type: 'AVRO', subject: topicSubject(topic) });
  const encoder = createRegistryEncoder({ url: registry.url, valueSchema: { subject: topicSubject(topic), version: 'latest' } });
  const bad = richEntry(1);
  (bad as unknown as { source: string }).source = 'proxy';
  const values: Buffer[] = [];
  const refused: SchemaMismatchError[] = [];
  for (const entry of [richEntry(0), bad, richEntry(2)]) {
    try {
      values.push(await encoder.encodeValue(entry));
    } catch (error) {
      refused.push(error as SchemaMismatchError);
    }
  }
  await encoder.close();
  expect(refused).toHaveLength(1);
  expect(refused[0]?.code).toBe(ErrorCodes.SCHEMA_MISMATCH);
  expect(refused[0]?.retriable).toBe(false);
  expect(refused[0]?.path).toBe('source');
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
  const records = await consumeWithPython({ brokers: inject('kafka').brokers, registryUrl: registry.url, topic, type: 'avro', count: 2 });
  expect(records.map((r) => (r.value.request as { id: string }).id)).toEqual(['req-0', 'req-2']);
});
