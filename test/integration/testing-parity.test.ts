// The test publisher records exactly what the real publisher sends, over every transport: the same inputs go
// through createTestPublisher and through a KafkaLogPublisher to the local broker, and a kafkajs consumer reads the
// broker's copy back. Value bytes, keys and headers must be equal, message for message.
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { buildLogEntry } from '../../src/entry/build.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { createTestPublisher, exchangeFixture } from '../../src/testing/index.js';
import { createTopics } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const { Kafka, logLevel } = kafkajs;
const kafka = inject('kafka');
const client = new Kafka({ clientId: 'testing-parity', brokers: kafka.brokers, logLevel: logLevel.NOTHING });

interface Seen {
  key: Buffer | null;
  headers: Record<string, Buffer>;
  value: Buffer;
}


function inputs(): Array<{ entry: LogEntry; meta?: { headers: Record<string, string> } }> {
  const methods = ['GET', 'POST', 'GET', 'DELETE', 'GET', 'GET', 'POST'];
  return methods.map((method, i) => ({
    entry: buildLogEntry(
      exchangeFixture({
        request: { method, uri: `/orders/${i}?tenant=t${i % 2}` },
        response: { status: i === 3 ? 503 : 200 },
        timings: { startedAt: 1_714_564_800_000 + i },
      }),
    ),
    ...(i % 3 === 0 ? { meta: { headers: { 'x-trace': `trace-${i}` } } } : {}),
  }));
}

async function readBack(topic: string, count: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  const consumer = client.consumer({ groupId: `testing-parity-${randomUUID()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, Buffer> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = value as Buffer;
        seen.push({ key: message.key, headers, value: message.value as Buffer });
        if (seen.length >= count) resolve();
      },
    });
  });
  const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`only ${seen.length}/${count} messages`)), 30_000));
  try {
    await Promise.race([done, timeout]);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

describe.each(TRANSPORTS.flatMap((transport) => [1, 3].map((maxBatchSize) => ({ transport, maxBatchSize }))))(
  'over $transport with maxBatchSize $maxBatchSize',
  ({ transport, maxBatchSize }) => {
    it('records the same value bytes, keys and headers the broker receives', async () => {
      const topic = `testing-parity-${transport}-${maxBatchSize}-${randomUUID().slice(0, 8)}`;
      await createTopics(kafka.brokers, [topic]);
      const options: Omit<KafkaLogPublisherOptions, 'brokers' | 'transport'> = {
        topic,
        maxBatchSize,
        keyQueryArg: 'tenant',
        messageHeaders: (entry) => ({ 'x-status': String(entry.response.status), 'x-bytes': Buffer.from([0xff, 0]) }),
        compression: 'gzip',
      };

      const recorder = createTestPublisher(options);
      const real = new KafkaLogPublisher({ ...options, brokers: kafka.brokers, transport });
      for (const { entry, meta } of inputs()) {
        recorder.publish(entry, meta);
        real.publish(entry, meta);
      }
      await Promise.all([recorder.flush(), real.flush()]);
      await Promise.all([recorder.close(), real.close()]);
      expect(real.stats()).toMatchObject({ accepted: 7, sent: 7, dropped: { total: 0 } });

      const recorded = recorder.messages();
      if (maxBatchSize === 1) {
        expect(recorded).toHaveLength(7);
      } else {
        // Two keys (tenant t0, t1), batched up to 3 entries per message.
        expect(recorded.length).toBeLessThan(7);
        expect(recorded.some((m) => m.value.toString().startsWith('['))).toBe(true);
      }
      const seen = await readBack(topic, recorded.length);
      expect(seen).toEqual(recorded.map(({ key, headers, value }) => ({ key, headers, value })));
      expect(recorder.entries()).toHaveLength(7);
    });
  },
);
