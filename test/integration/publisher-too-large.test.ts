// A message the broker refuses as too large is dropped alone: on a topic created with a small `max.message.bytes`
// (Kafka applies it to each partition's record batch), one entry larger than the limit sits among entries that fit.
// The broker refuses the whole batch it arrived in; the publisher resends the neighbours in smaller requests until
// only the entry too large is left, drops it (`message_too_large`), and every neighbour is in the topic exactly once.
import { describe, expect, inject, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const brokers = inject('kafka').brokers;
const MAX_MESSAGE_BYTES = 4096;
const balanced = (s: PublisherStats) => s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;

/** A realistic entry of about 1.4 KB, or with `big` one of about 7 KB (over the topic's limit, under maxBytesPerRequest). */
function entryOf(i: number, big: boolean): LogEntry {
  const entry = realisticEntry(i);
  if (big) entry.request.headers = { ...entry.request.headers, 'x-padding': 'p'.repeat(6000) };
  return entry;
}

const idOf = (value: string) => (JSON.parse(value) as { request: { id: string } }).request.id;

describe.each(TRANSPORTS)(`over %s, a topic with max.message.bytes ${MAX_MESSAGE_BYTES}`, (transport) => {
  it('keyless: the entry too large is dropped alone, its neighbours of the same request arrive once each', async () => {
    const topic = uniqueTopic('pub-too-large');
    await createTopics(brokers, [topic], 1, { 'max.message.bytes': String(MAX_MESSAGE_BYTES) });
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, flushTimeout: 60_000, logLevel: 'silent' });
    const samples: boolean[] = [];
    publisher.on('publisher.delivered', () => samples.push(balanced(publisher.stats())));
    publisher.on('publisher.drop', () => samples.push(balanced(publisher.stats())));
    const n = 12;
    const bigOne = 5;
    // all in one produce request (flushTimeout keeps them until the flush)
    for (let i = 0; i < n; i++) publisher.publish(entryOf(i, i === bigOne));
    expect(publisher.stats().buffered).toBe(n);
    await publisher.flush();
    await publisher.close();
    expect(publisher.stats()).toMatchObject({
      accepted: n,
      sent: n - 1,
      buffered: 0,
      inFlight: 0,
      dropped: { total: 1, byReason: { message_too_large: 1 } },
    });
    expect(samples.every(Boolean)).toBe(true);
    const messages = await readTopic({ brokers }, topic, n - 1);
    const ids = messages.map((m) => idOf(m.value));
    expect(ids).toHaveLength(n - 1);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: n }, (_, i) => i).filter((i) => i !== bigOne).map((i) => realisticEntry(i).request.id)));
  });

  it('keyed over 3 partitions: only the refused partition is resent, no neighbour twice, keys stay on their partition', async () => {
    const topic = uniqueTopic('pub-too-large-keys');
    await createTopics(brokers, [topic], 3, { 'max.message.bytes': String(MAX_MESSAGE_BYTES) });
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, flushTimeout: 60_000, logLevel: 'silent' });
    const n = 24;
    const bigOne = 13;
    for (let i = 0; i < n; i++) publisher.publish(entryOf(i, i === bigOne), { key: `tenant-${i % 4}` });
    await publisher.flush();
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: n, sent: n - 1, dropped: { total: 1, byReason: { message_too_large: 1 } } });
    const messages = await readTopic({ brokers }, topic, n - 1);
    const ids = messages.map((m) => idOf(m.value));
    expect(ids).toHaveLength(n - 1);
    expect(new Set(ids).size).toBe(n - 1);
    expect(ids).not.toContain(realisticEntry(bigOne).request.id);
    const partitionsOfKey = new Map<string, Set<number>>();
    for (const m of messages) partitionsOfKey.set(m.key as string, (partitionsOfKey.get(m.key as string) ?? new Set()).add(m.partition));
    for (const partitions of partitionsOfKey.values()) expect(partitions.size).toBe(1);
  });
});
