// A registry outage in the middle of a stream: the encoder's errors are retriable REGISTRY errors, so a
// publisher-style retry loop (backoff, same entry again) delivers every entry once the registry is back. The
// registry is restarted as a NEW server on the same data file and port, so the ids survive the restart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, expect, inject, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { ErrorCodes, type KafkaLogError } from '../../src/errors.js';
import { createRegistryEncoder, decodeWireMessage, registerKongSchemas, topicSubject } from '../../src/registry/index.js';
import { richEntry, startRegistry } from '../support/test-registry.js';
import { consumeWithPython, createTopic, kafkaClient, readTopic, setUpPython } from '../support/test-registry-kafka.js';

const servers: TestRegistry[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

it('registry stopped mid-stream, then restarted: retriable errors meanwhile, every entry delivered after', async () => {
  const python = setUpPython();
  const dataFile = join(mkdtempSync(join(tmpdir(), 'kafka-log-registry-')), 'registry.json');
  const first = await startRegistry({ dataFile });
  servers.push(first);
  const kafka = kafkaClient(inject('kafka').brokers);
  const topic = `kl-registry-outage-${randomUUID().slice(0, 8)}`;
  await createTopic(kafka, topic);
  const { id } = await registerKongSchemas({ url: first.url }, { type: 'AVRO', subject: topicSubject(topic) });
  // refreshIntervalMs 0 (Kong's ttl = 0): every encode asks the registry, so the outage shows on every entry.
  const encoder = createRegistryEncoder({ url: first.url, valueSchema: { subject: topicSubject(topic), version: 'latest' }, refreshIntervalMs: 0, requestTimeoutMs: 1000 });
  const producer = kafka.producer();
  await producer.connect();

  const retriable: KafkaLogError[] = [];
  let restarted: Promise<TestRegistry> | undefined;
  for (let i = 0; i < 10; i++) {
    if (i === 4) {
      await first.stop();
      // Back after a while, as a fresh server process would be: same port, same data file.
      restarted = new Promise((resolve) => setTimeout(() => resolve(startRegistry({ port: first.port, dataFile })), 600));
    }
    // What the publisher does with a retriable error: back off, try the same entry again.
    for (let attempt = 0; ; attempt++) {
      try {
        const value = await encoder.encodeValue(richEntry(i));
        await producer.send({ topic, messages: [{ value }] });
        break;
      } catch (error) {
        const failure = error as KafkaLogError;
        expect(failure.code).toBe(ErrorCodes.REGISTRY);
        expect(failure.retriable).toBe(true);
        retriable.push(failure);
        if (attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
  await producer.disconnect();
  await encoder.close();
  const second = await (restarted as Promise<TestRegistry>);
  servers.push(second);

  expect(retriable.length).toBeGreaterThan(0);
  const messages = await readTopic(kafka, topic, 10);
  expect(messages.map((m) => decodeWireMessage(m.value).schemaId)).toEqual(Array(10).fill(id));
  await python;
  const records = await consumeWithPython({ brokers: inject('kafka').brokers, registryUrl: second.url, topic, type: 'avro', count: 10 });
  expect(records.map((r) => (r.value.request as { id: string }).id)).toEqual(Array.from({ length: 10 }, (_, i) => `req-${i}`));
});
