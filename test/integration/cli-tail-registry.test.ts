// `kafka-log tail --registry`: values in the Confluent wire format (here Avro, registered and encoded by
// Confluent's kafkajs registry client) are decoded through the registry and printed like JSON entries.
import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { lines, runCli } from './cli-support.js';
import { createTopics } from './publisher-support.js';

const { Kafka, logLevel } = kafkajs;
const kafka = inject('kafka');
const topic = `cli-tail-registry-${randomUUID().slice(0, 8)}`;
let registry: TestRegistry;

const schema = {
  type: 'record',
  name: 'Entry',
  namespace: 'kafka_log.test',
  fields: [
    {
      name: 'request',
      type: { type: 'record', name: 'Request', fields: [{ name: 'method', type: 'string' }, { name: 'uri', type: 'string' }] },
    },
    { name: 'response', type: { type: 'record', name: 'Response', fields: [{ name: 'status', type: 'int' }] } },
    { name: 'latencies', type: { type: 'record', name: 'Latencies', fields: [{ name: 'request', type: 'int' }] } },
    { name: 'client_ip', type: 'string' },
    { name: 'started_at', type: 'long' },
  ],
};

beforeAll(async () => {
  const { startTestRegistry } = await import('../../scripts/local-registry.mjs');
  registry = await startTestRegistry({ port: 0 });
  const client = new SchemaRegistry({ host: registry.url });
  const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });
  const value = await client.encode(id, {
    request: { method: 'PUT', uri: '/orders/9' },
    response: { status: 502 },
    latencies: { request: 77 },
    client_ip: '10.9.9.9',
    started_at: Date.UTC(2024, 4, 1, 12, 0, 0),
  });
  expect(value[0]).toBe(0);
  const cluster = new Kafka({ clientId: 'cli-tail-registry', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = cluster.admin();
  await admin.connect();
  await createTopics(kafka.brokers, [topic]);
  await admin.disconnect();
  const producer = cluster.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value }, { value: '{"request":{"method":"GET","uri":"/plain"},"response":{"status":200}}' }] });
  await producer.disconnect();
});
afterAll(async () => {
  await registry?.close();
});

const base = () => ['tail', '--brokers', kafka.brokers.join(','), '--topic', topic, '--from-beginning', '--no-follow'];

it('decodes registry-encoded values with --registry, next to plain JSON ones', async () => {
  const result = await runCli([...base(), '--registry', registry.url]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(lines(result.stdout)).toEqual([
    '2024-05-01T12:00:00.000Z PUT 502 77ms /orders/9 10.9.9.9',
    '- GET 200 - /plain -',
  ]);
});

it('without --registry, says how to decode them and goes on', async () => {
  const result = await runCli(base());
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/@0: registry-encoded value \(schema id \d+\): pass --registry URL/);
  expect(lines(result.stdout)).toEqual(['- GET 200 - /plain -']);
});
