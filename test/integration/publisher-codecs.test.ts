import { describe, expect, inject, it } from 'vitest';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import type { CompressionType } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const { brokers } = inject('kafka');

describe.each(TRANSPORTS)('compression codecs over %s round-trip through the broker and a real consumer', (transport) => {
  it.each<CompressionType>(['gzip', 'snappy', 'lz4', 'zstd'])('%s', async (compression) => {
    const topic = uniqueTopic(`pub-${transport}-${compression}`);
    await createTopics(brokers, [topic]);
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, compression, maxBatchSize: 4, maxCoalescingDelay: 20 });
    const errors: string[] = [];
    publisher.on('publisher.delivery_failure', (e) => errors.push(e.error.message));
    const entries = Array.from({ length: 200 }, (_, i) => realisticEntry(i));
    for (const e of entries) publisher.publish(e);
    await publisher.close();
    expect(errors).toEqual([]);
    expect(publisher.stats()).toMatchObject({ sent: 200, dropped: { total: 0 } });
    const messages = await readTopic({ brokers }, topic, 50);
    expect(messages.map((m) => m.value)).toEqual(
      Array.from({ length: 50 }, (_, i) => serializeLogEntry(entries.slice(i * 4, i * 4 + 4))),
    );
  });
});
