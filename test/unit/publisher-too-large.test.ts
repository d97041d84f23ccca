// A message the broker refuses for its size is dropped alone (`message_too_large`) and its neighbours of the same
// request are delivered, none twice. The "broker" here is a transport that behaves as Kafka with a topic's
// `max.message.bytes`: a partition's batch larger than the limit is refused whole, the other partitions of the same
// request are written, and (as the real transports) a record acknowledged once is never sent again.
import { afterEach, describe, expect, it } from 'vitest';
import { DroppedError } from '../../src/errors.js';
import type { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { type ProduceRecord, type ProduceRequest, type Transport, TransportError } from '../../src/transport/transport.js';
import { balanced, entry, setup } from './publisher-support.js';

/** Kafka's view of a produce request, with a per-topic `max.message.bytes` on each partition's batch. */
class SizeLimitedBroker implements Transport {
  /** Every record written, in order (the topic's content). */
  readonly written: ProduceRecord[] = [];
  /** The records of each produce call. */
  readonly calls: ProduceRecord[][] = [];
  readonly #acknowledged = new WeakSet<ProduceRecord>();

  constructor(
    private readonly maxMessageBytes: number,
    private readonly partitions = 1,
  ) {}

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  async produce(request: ProduceRequest): Promise<void> {
    await new Promise((r) => setImmediate(r));
    const pending = request.records.filter((r) => !this.#acknowledged.has(r));
    this.calls.push(pending);
    const batches = new Map<number, ProduceRecord[]>();
    for (const record of pending) {
      const partition = record.key === null ? 0 : (record.key[0] ?? 0) % this.partitions;
      batches.set(partition, [...(batches.get(partition) ?? []), record]);
    }
    const refused = new Set<ProduceRecord>();
    for (const batch of batches.values()) {
      // a record batch: 61 bytes of header, about 20 per record
      const size = 61 + batch.reduce((sum, r) => sum + 20 + r.value.length + (r.key?.length ?? 0), 0);
      if (size > this.maxMessageBytes) for (const record of batch) refused.add(record);
      else
        for (const record of batch) {
          this.#acknowledged.add(record);
          this.written.push(record);
        }
    }
    if (refused.size > 0) throw new TransportError('message_too_large', `${refused.size} record(s) too large`, false, { refused });
  }
}

const big = (i: number) => {
  const e = entry(i);
  e.request.headers = { pad: 'x'.repeat(3000) };
  return e;
};
const ids = (records: readonly ProduceRecord[]) =>
  records.flatMap((r) => {
    const value = JSON.parse(r.value.toString()) as { request: { id: string } } | { request: { id: string } }[];
    return (Array.isArray(value) ? value : [value]).map((v) => v.request.id);
  });

const open: KafkaLogPublisher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close({ timeoutMs: 100 })));
});

describe('a message refused as too large', () => {
  it('is dropped alone; its neighbours in the same request are delivered, none twice', async () => {
    const broker = new SizeLimitedBroker(2500);
    const { publisher } = setup({ transport: () => broker, flushTimeout: 60_000 });
    open.push(publisher);
    const drops: string[] = [];
    publisher.on('publisher.drop', (e) => drops.push(`${e.reason}:${e.count}`));
    for (let i = 0; i < 9; i++) publisher.publish(i === 4 ? big(i) : entry(i));
    await publisher.flush();
    expect(ids(broker.written).sort()).toEqual([0, 1, 2, 3, 5, 6, 7, 8].map((i) => `req-${i}`).sort());
    // none twice: the broker skips a record it acknowledged, so a duplicate would be a new record of the same entry
    expect(new Set(ids(broker.written)).size).toBe(broker.written.length);
    // the refused request was split, not retried whole: more calls, each smaller
    expect(broker.calls.length).toBeGreaterThan(1);
    expect(drops).toEqual(['message_too_large:1']);
    expect(publisher.stats()).toMatchObject({ accepted: 9, sent: 8, inFlight: 0, buffered: 0, dropped: { total: 1, byReason: { message_too_large: 1 } } });
  });

  it('across partitions: the partitions written are settled, only the refused batch is split and resent', async () => {
    const broker = new SizeLimitedBroker(2000, 3);
    const { publisher } = setup({ transport: () => broker, flushTimeout: 60_000 });
    open.push(publisher);
    const seen: boolean[] = [];
    publisher.on('publisher.delivered', () => seen.push(balanced(publisher.stats())));
    // keys 0,1,2 pick the partitions; partition 1 gets three small entries too many for one batch, and the big one
    for (let i = 0; i < 12; i++) publisher.publish(i === 7 ? big(i) : entry(i), { key: Buffer.from([i % 3]) });
    await publisher.flush();
    expect(ids(broker.written).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11].map((i) => `req-${i}`).sort());
    expect(new Set(ids(broker.written)).size).toBe(11);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every(Boolean)).toBe(true);
    expect(publisher.stats()).toMatchObject({ accepted: 12, sent: 11, dropped: { total: 1, byReason: { message_too_large: 1 } } });
  });

  it('a JSON-array message (maxBatchSize) is split into its entries, and only the entry too large is dropped', async () => {
    const broker = new SizeLimitedBroker(2500);
    const { publisher } = setup({ transport: () => broker, maxBatchSize: 4, flushTimeout: 60_000, maxCoalescingDelay: 60_000 });
    open.push(publisher);
    for (let i = 0; i < 8; i++) publisher.publish(i === 2 ? big(i) : entry(i));
    await publisher.flush();
    expect(ids(broker.written).sort()).toEqual([0, 1, 3, 4, 5, 6, 7].map((i) => `req-${i}`).sort());
    // the halves are still Kong's shape: an array of several entries, a single entry as itself
    for (const record of broker.written) {
      const value = JSON.parse(record.value.toString()) as unknown;
      if (Array.isArray(value)) expect(value.length).toBeGreaterThan(1);
    }
    expect(publisher.stats()).toMatchObject({ accepted: 8, sent: 7, dropped: { byReason: { message_too_large: 1 } } });
  });

  it('in sync mode: the neighbours resolve, the entry too large rejects with a DroppedError', async () => {
    const broker = new SizeLimitedBroker(2500);
    const { publisher } = setup({ transport: () => broker, async: false });
    open.push(publisher);
    const results = await Promise.allSettled([0, 1, 2, 3].map((i) => publisher.publish(i === 1 ? big(i) : entry(i))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DroppedError);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ reason: 'message_too_large' });
  });

  it('a transport that names no records: the request was refused whole, its messages are split the same way', async () => {
    const written: string[] = [];
    const { publisher } = setup({
      flushTimeout: 60_000,
      transport: () => ({
        connect: async () => {},
        close: async () => {},
        produce: async (request) => {
          if (request.records.some((r) => r.value.length > 2000)) throw new TransportError('message_too_large', 'too large', false);
          written.push(...ids(request.records));
        },
      }),
    });
    open.push(publisher);
    for (let i = 0; i < 5; i++) publisher.publish(i === 3 ? big(i) : entry(i));
    await publisher.flush();
    expect(written.sort()).toEqual(['req-0', 'req-1', 'req-2', 'req-4']);
    expect(publisher.stats()).toMatchObject({ sent: 4, dropped: { total: 1, byReason: { message_too_large: 1 } } });
  });
});
