import { execFileSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { bundleChild, sourcePath } from './child-support.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const kafka = inject('kafka');
const brokers = kafka.brokers;
const balanced = (s: PublisherStats) => s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;

describe.each(TRANSPORTS)('KafkaLogPublisher over %s against the local broker', (transport) => {
  it('delivers N entries exactly once, byte-identical to serializeLogEntry', async () => {
    const topic = uniqueTopic('pub-exact');
    await createTopics(brokers, [topic], 3);
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, flushTimeout: 20 });
    const n = 1000;
    const expected = new Set<string>();
    for (let i = 0; i < n; i++) {
      const entry = realisticEntry(i);
      expected.add(serializeLogEntry(entry));
      publisher.publish(entry);
    }
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: n, sent: n, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    const messages = await readTopic({ brokers }, topic, n);
    expect(messages).toHaveLength(n);
    const values = messages.map((m) => m.value);
    expect(new Set(values).size).toBe(n);
    for (const value of values) expect(expected.has(value)).toBe(true);
    // keyless records of one request stick to one partition; several requests spread over partitions
    expect(new Set(messages.map((m) => m.partition)).size).toBeGreaterThan(1);
  });

  it('with maxBatchSize > 1 writes JSON arrays of entries', async () => {
    const topic = uniqueTopic('pub-batch');
    await createTopics(brokers, [topic]);
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, maxBatchSize: 25, flushTimeout: 10, maxCoalescingDelay: 50 });
    const entries = Array.from({ length: 110 }, (_, i) => realisticEntry(i));
    for (const e of entries) publisher.publish(e);
    await publisher.close();
    const messages = await readTopic({ brokers }, topic, 5);
    expect(messages.map((m) => (JSON.parse(m.value) as unknown[]).length)).toEqual([25, 25, 25, 25, 10]);
    expect(messages[0]?.value).toBe(serializeLogEntry(entries.slice(0, 25)));
    expect(messages.flatMap((m) => JSON.parse(m.value) as unknown[])).toHaveLength(110);
  });

  it('keys by key_query_arg, routes allowed topics, sends headers; sync mode resolves on ack', async () => {
    const topic = uniqueTopic('pub-keys');
    const audit = uniqueTopic('pub-audit');
    await createTopics(brokers, [topic, audit], 4);
    const publisher = new KafkaLogPublisher({
      transport,
      brokers,
      topic,
      async: false,
      keyQueryArg: 'tenant',
      topicQueryArg: 'log_topic',
      allowedTopics: [audit],
      messageHeaders: (e) => ({ 'x-route': String(e.route?.name ?? '') }),
    });
    await publisher.publish(realisticEntry(1, { tenant: 'acme' }));
    await publisher.publish(realisticEntry(2, { tenant: 'acme', log_topic: audit }));
    await Promise.all([publisher.publish(realisticEntry(3, { tenant: 'globex' })), publisher.publish(realisticEntry(4, { tenant: 'acme' }))]);
    expect(publisher.stats()).toMatchObject({ sent: 4, buffered: 0, inFlight: 0 });
    await publisher.close();
    const main = await readTopic({ brokers }, topic, 3);
    expect(main.map((m) => m.key).sort()).toEqual(['acme', 'acme', 'globex']);
    const acme = main.filter((m) => m.key === 'acme');
    expect(acme[0]?.partition).toBe(acme[1]?.partition);
    expect(main[0]?.headers).toEqual({ 'x-route': 'orders-read' });
    const routed = await readTopic({ brokers }, audit, 1);
    expect(routed.map((m) => m.key)).toEqual(['acme']);
  });

  it('close() delivers everything buffered before it resolves', async () => {
    const topic = uniqueTopic('pub-close');
    await createTopics(brokers, [topic]);
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, flushTimeout: 60_000, maxCoalescingDelay: 60_000, maxBatchSize: 7 });
    for (let i = 0; i < 300; i++) publisher.publish(realisticEntry(i));
    expect(publisher.stats().sent).toBe(0);
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: 300, sent: 300, buffered: 0, inFlight: 0 });
    const messages = await readTopic({ brokers }, topic, 43);
    expect(messages.flatMap((m) => JSON.parse(m.value) as unknown[])).toHaveLength(300);
  });

  it('over the bounds: drops counted exactly, memory bounded, accepted = sent + dropped + buffered', async () => {
    const topic = uniqueTopic('pub-bounds');
    await createTopics(brokers, [topic]);
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, maxEntries: 2000, maxBytes: 2_000_000, flushTimeout: 5 });
    let maxBufferedBytes = 0;
    const total = 20_000;
    for (let i = 0; i < total; i++) {
      publisher.publish(realisticEntry(i));
      const s = publisher.stats();
      maxBufferedBytes = Math.max(maxBufferedBytes, s.bufferedBytes);
      if (i % 1000 === 0) expect(balanced(s)).toBe(true);
    }
    const during = publisher.stats();
    expect(balanced(during)).toBe(true);
    expect(during.buffered).toBeLessThanOrEqual(2000);
    expect(maxBufferedBytes).toBeLessThanOrEqual(2_000_000);
    expect(during.dropped.total).toBeGreaterThan(0);
    expect(during.dropped.byReason.queue_full_entries + during.dropped.byReason.queue_full_bytes).toBe(during.dropped.total);
    await publisher.close();
    const after = publisher.stats();
    expect(after.sent + after.dropped.total).toBe(total);
    const messages = await readTopic({ brokers }, topic, after.sent);
    expect(messages).toHaveLength(after.sent);
  });

  it('drops a message larger than maxBytesPerRequest as message_too_large', async () => {
    const topic = uniqueTopic('pub-large');
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, maxBytesPerRequest: 4096 });
    const big = realisticEntry(1);
    big.request.headers['x-big'] = 'x'.repeat(5000);
    publisher.publish(big);
    await publisher.close();
    expect(publisher.stats().dropped.byReason.message_too_large).toBe(1);
  });

  it('a process that publishes and closes exits by itself', async () => {
    const topic = uniqueTopic('pub-exit');
    await createTopics(brokers, [topic]);
    const child = bundleChild(
      `test-publisher-exit-${transport}`,
      `import { KafkaLogPublisher } from ${sourcePath('src/publisher/publisher.ts')};
       import { realisticEntry } from ${sourcePath('test/integration/publisher-support.ts')};
       const publisher = new KafkaLogPublisher({ transport: ${JSON.stringify(transport)}, brokers: ${JSON.stringify(brokers)}, topic: ${JSON.stringify(topic)} });
       for (let i = 0; i < 50; i++) publisher.publish(realisticEntry(i));
       publisher.close().then(() => console.log(JSON.stringify(publisher.stats())));`,
    );
    // Hangs (and fails on the timeout) if a socket or timer is left behind.
    const out = execFileSync(process.execPath, [child], { timeout: 20_000, encoding: 'utf8' });
    expect(JSON.parse(out.trim())).toMatchObject({ accepted: 50, sent: 50 });
  });
});
