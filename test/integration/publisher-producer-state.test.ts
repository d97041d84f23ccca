// An idempotent producer after a request that the broker wrote but whose answer never came back (the broker went away
// after writing, as the client sees it), against the real broker. A TCP proxy on loopback (test/support/kafka-proxy.ts)
// loses every Produce answer for a while: the publisher retries the request until its maxRetryTime and drops it,
// counted (`retry_time_exceeded`), although the broker holds it. The client gave that request's sequence numbers back,
// so the next request to the partition reuses them:
// - with fewer records the broker refuses it (OUT_OF_ORDER_SEQUENCE_NUMBER), which used to drop it as not retriable;
// - with as many records the broker takes it for a retry of the request it holds and acknowledges it without writing
//   it: lost without a word.
// The transports obtain a new producer id before sending other records to such a partition (and after a refusal of
// the producer's state): asserted per transport, by reading the topic back, that every entry the publisher counted
// sent is there exactly once, nothing was dropped but the counted `retry_time_exceeded` requests, and those are there
// too (the broker wrote them before their answers were lost).
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { type KafkaProxy, startKafkaProxy } from '../support/kafka-proxy.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS, type TransportName } from './transports.js';

let proxy: KafkaProxy;
let publisher: KafkaLogPublisher | undefined;
beforeEach(async () => {
  proxy = await startKafkaProxy(inject('kafka').brokers[0] as string);
});
afterEach(async () => {
  await publisher?.close({ timeoutMs: 0 });
  publisher = undefined;
  await proxy.close();
});

describe.each(TRANSPORTS)('%s', (transport: TransportName) => {
  it('after a request written but never answered, the next requests to its partition are written, none lost nor refused', async () => {
    const topic = uniqueTopic(`producer-state-${transport}`);
    await createTopics(inject('kafka').brokers, [topic], 1);
    const p = new KafkaLogPublisher({
      transport,
      brokers: [`127.0.0.1:${proxy.port}`],
      topic,
      idempotent: true,
      flushTimeout: 10,
      maxRetryTime: 1500,
      initialRetryDelay: 100,
      maxRetryDelay: 200,
      maxRequestRetries: 1,
      retryBackoff: 50,
      logLevel: 'silent',
    });
    publisher = p;
    await p.connect();
    let published = 0;
    /** Publishes `n` entries with ids `${label}-i` as one request; resolves once they are delivered or dropped. */
    const request = async (label: string, n: number): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const entry = realisticEntry(published++);
        entry.request.id = `${label}-${i}`;
        ids.push(entry.request.id);
        p.publish(entry);
      }
      await p.flush();
      return ids;
    };

    const delivered = await request('before', 5);
    expect(p.stats()).toMatchObject({ sent: 5, dropped: { total: 0 } });
    const abandoned: string[] = [];
    // Round 1: the next request has fewer records (the broker would refuse its sequence numbers); round 2: as many
    // (the broker would take it for the one it holds).
    for (const [round, next] of [
      [1, 4],
      [2, 10],
    ] as const) {
      proxy.loseProduceAnswers(true);
      const lostAnswersBefore = proxy.produceAnswersLost;
      abandoned.push(...(await request(`abandoned${round}`, 10)));
      proxy.loseProduceAnswers(false);
      expect(proxy.produceAnswersLost).toBeGreaterThan(lostAnswersBefore);
      expect(p.stats().dropped.byReason.retry_time_exceeded).toBe(10 * round);
      delivered.push(...(await request(`after${round}`, next)));
      delivered.push(...(await request(`later${round}`, 3)));
    }

    await p.close({ timeoutMs: 10_000 });
    const stats = p.stats();
    const messages = await readTopic({ brokers: inject('kafka').brokers }, topic, delivered.length + abandoned.length, { timeoutMs: 30_000 });
    const seen = new Map<string, number>();
    for (const m of messages) {
      const id = (JSON.parse(m.value) as { request: { id: string } }).request.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    expect({
      accepted: stats.accepted,
      sent: stats.sent,
      dropped: stats.dropped.total,
      droppedForRetryTime: stats.dropped.byReason.retry_time_exceeded,
      // every entry counted sent is in the topic, once
      sentNotOnce: delivered.filter((id) => seen.get(id) !== 1),
      // the abandoned requests were written by the broker, once: every retry under the same producer id was recognised
      abandonedNotOnce: abandoned.filter((id) => seen.get(id) !== 1),
      inTopic: messages.length,
    }).toEqual({
      accepted: published,
      sent: delivered.length,
      dropped: 20,
      droppedForRetryTime: 20,
      sentNotOnce: [],
      abandonedNotOnce: [],
      inTopic: delivered.length + abandoned.length,
    });
    expect(stats.retried).toBeGreaterThan(0);
  });
});
