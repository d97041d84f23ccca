// One key, one partition, whichever client wrote it: the same keyed entries published over every transport to
// topics of the same partition count land, key by key, on the same partition, and that partition is the Java
// client's (murmur2 of the key bytes, sign bit cleared, modulo the partition count). The Java client's murmur2
// values come from Apache Kafka's own tests (clients' UtilsTest.testMurmur2), not from either JavaScript client.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS, type TransportName } from './transports.js';

const kafka = inject('kafka');
const PARTITIONS = 6;

/** murmur2 of each key's UTF-8 bytes as Apache Kafka's Java client computes it. */
const JAVA_MURMUR2: Record<string, number> = {
  '21': -973932308,
  foobar: -790332482,
  'a-little-bit-long-string': -985981536,
  'a-little-bit-longer-string': -1486304829,
  lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
  abc: 479470107,
};
const javaPartition = (key: string) => ((JAVA_MURMUR2[key] as number) & 0x7fffffff) % PARTITIONS;
const KEYS = [...Object.keys(JAVA_MURMUR2), ...Array.from({ length: 30 }, (_, i) => `tenant-${i}`)];

const publishers: KafkaLogPublisher[] = [];
afterAll(async () => {
  await Promise.all(publishers.map((p) => p.close({ timeoutMs: 0 })));
});

/** Publishes every key (twice, in two requests) over `transport`; returns key -> partitions it landed on. */
async function partitionsByKey(transport: TransportName): Promise<Map<string, Set<number>>> {
  const topic = uniqueTopic(`pub-partitioning-${transport}`);
  await createTopics(kafka.brokers, [topic], PARTITIONS);
  const publisher = new KafkaLogPublisher({ transport, brokers: kafka.brokers, topic, flushTimeout: 10 });
  publishers.push(publisher);
  for (const round of [0, 1]) {
    for (const [i, key] of KEYS.entries()) publisher.publish(realisticEntry(round * KEYS.length + i), { key });
    await publisher.flush();
  }
  await publisher.close();
  expect(publisher.stats()).toMatchObject({ accepted: KEYS.length * 2, sent: KEYS.length * 2, dropped: { total: 0 } });
  const messages = await readTopic({ brokers: kafka.brokers }, topic, KEYS.length * 2);
  expect(messages).toHaveLength(KEYS.length * 2);
  const byKey = new Map<string, Set<number>>();
  for (const m of messages) {
    const seen = byKey.get(m.key as string) ?? new Set<number>();
    seen.add(m.partition);
    byKey.set(m.key as string, seen);
  }
  return byKey;
}

describe('keyed entries', () => {
  it('land on the same partition over every transport, the Java client\'s partition', async () => {
    const results = new Map<TransportName, Map<string, Set<number>>>();
    for (const transport of TRANSPORTS) results.set(transport, await partitionsByKey(transport));
    const [first] = TRANSPORTS;
    const reference = results.get(first as TransportName) as Map<string, Set<number>>;
    for (const [transport, byKey] of results) {
      for (const key of KEYS) {
        // Both requests of a key went to one partition, the reference transport's one.
        expect({ transport, key, partitions: [...(byKey.get(key) ?? [])] }).toEqual({ transport, key, partitions: [...(reference.get(key) ?? [])] });
        expect(byKey.get(key)?.size).toBe(1);
      }
      for (const key of Object.keys(JAVA_MURMUR2)) expect({ transport, key, partition: [...(byKey.get(key) ?? [])][0] }).toEqual({ transport, key, partition: javaPartition(key) });
    }
    // Spread over the partitions, so agreement is not the trivial one of a single partition.
    expect(new Set([...reference.values()].map((s) => [...s][0])).size).toBeGreaterThan(3);
  });
});
