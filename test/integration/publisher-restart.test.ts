// The broker goes away for 10 s in the middle of a stream and comes back: every accepted entry must arrive,
// none twice. Runs on a private single-node cluster so the shared broker of the other test files is untouched.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../scripts/local-kafka.mjs';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';

let cluster: LocalCluster;

beforeAll(async () => {
  const { startCluster } = await import('../../scripts/local-kafka.mjs');
  cluster = await startCluster({ nodes: 1, dir: path.resolve('.local/publisher-restart'), log: false });
});

afterAll(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('broker stopped mid-stream', () => {
  it('delivers every accepted entry exactly once after a 10 s outage (idempotent producer)', async () => {
    const topic = uniqueTopic('pub-restart');
    await createTopics(cluster.brokers, [topic], 2);
    const publisher = new KafkaLogPublisher({
      brokers: cluster.brokers,
      topic,
      idempotent: true,
      flushTimeout: 10,
      maxRetryDelay: 500,
      requestTimeout: 1000,
      timeout: 1000,
    });
    let retries = 0;
    publisher.on('publisher.retry', () => {
      retries += 1;
    });
    let next = 0;
    const publishFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (let i = 0; i < 20; i++) publisher.publish(realisticEntry(next++));
        await sleep(50);
      }
    };
    await publishFor(1500);
    expect(publisher.stats().sent).toBeGreaterThan(0);
    const node = cluster.nodes[0];
    if (!node) throw new Error('no node');
    await node.kill('SIGTERM');
    await publishFor(10_000);
    const down = publisher.stats();
    expect(down.buffered + down.inFlight).toBeGreaterThan(0);
    await node.restart();
    await publishFor(1500);
    await publisher.close({ timeoutMs: 30_000 });

    const stats = publisher.stats();
    expect(retries).toBeGreaterThan(0);
    expect(stats).toMatchObject({ accepted: next, sent: next, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    const messages = await readTopic({ brokers: cluster.brokers }, topic, next, { timeoutMs: 60_000, settleMs: 500 });
    const ids = messages.map((m) => (JSON.parse(m.value) as { request: { id: string } }).request.id);
    expect(new Set(ids).size).toBe(next);
    expect(ids).toHaveLength(next);
  });
});
