// Cluster failover: three KRaft brokers on 127.0.0.1, a topic with replication factor 3 and
// min.insync.replicas=2, an idempotent publisher with acks=all streaming entries with unique ids. The partition
// leader is killed with SIGKILL mid-stream and restarted later. Every accepted entry must be in the topic exactly
// once, and the publisher's counters must say so too.
//
// Bounded: about 25 s of traffic at ~1,000 entries/s (plus the cluster's start, ~15-30 s on two cores).
import * as path from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../scripts/local-kafka.mjs';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';

let cluster: LocalCluster;
let admin: Admin;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  const { startCluster } = await import('../../scripts/local-kafka.mjs');
  cluster = await startCluster({ nodes: 3, dir: path.resolve('.local/reliability-failover'), log: false });
  admin = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
}, 180_000);

afterAll(async () => {
  await admin?.disconnect().catch(() => undefined);
  await cluster?.stop();
}, 60_000);

interface PartitionState {
  leader: number;
  isr: number[];
}

async function partitionState(topic: string): Promise<PartitionState> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = meta.topics[0]?.partitions[0];
  return { leader: p?.leader ?? -1, isr: p?.isr ?? [] };
}

/** Polls the topic's metadata until `ready` holds (kafkajs' waitForLeaders is unreliable on a busy machine). */
async function waitFor(topic: string, ready: (s: PartitionState) => boolean, timeoutMs: number): Promise<PartitionState> {
  const deadline = Date.now() + timeoutMs;
  let last: PartitionState = { leader: -1, isr: [] };
  while (Date.now() < deadline) {
    try {
      last = await partitionState(topic);
      if (ready(last)) return last;
    } catch {
      // metadata may fail while a node is down or the topic is being created
    }
    await sleep(200);
  }
  throw new Error(`topic ${topic}: condition not met within ${timeoutMs} ms (leader ${last.leader}, isr ${last.isr.join(',')})`);
}

describe('three-broker cluster, partition leader killed with SIGKILL mid-stream', () => {
  it('delivers every accepted entry exactly once (acks=all, idempotent, RF 3, min.insync.replicas 2)', async () => {
    const t0 = Date.now();
    const topic = uniqueTopic('reliability-failover');
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      waitForLeaders: false,
    });
    const initial = await waitFor(topic, (s) => s.leader > 0 && s.isr.length === 3, 30_000);

    const publisher = new KafkaLogPublisher({
      brokers: cluster.brokers,
      topic,
      acks: -1,
      idempotent: true,
      flushTimeout: 10,
      maxCoalescingDelay: 10,
      timeout: 1000,
      requestTimeout: 2000,
      maxRetryDelay: 500,
      maxRetryTime: 60_000,
    });
    let retries = 0;
    publisher.on('publisher.retry', () => {
      retries += 1;
    });

    let next = 0;
    const ids = (n: number) => `failover-${n}`;
    const publishFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        for (let i = 0; i < 20; i++) {
          const entry = realisticEntry(next);
          entry.request.id = ids(next);
          next += 1;
          publisher.publish(entry);
        }
        await sleep(20);
      }
    };

    // Connected and delivering before the kill: on a busy machine the idempotent producer's first InitProducerId
    // can take seconds (the coordinator loading), so wait for the first acknowledgement, bounded.
    await publisher.connect();
    await publishFor(3000);
    for (let waited = 0; publisher.stats().sent === 0 && waited < 20_000; waited += 200) await publishFor(200);
    const beforeKill = publisher.stats();
    expect(beforeKill.sent).toBeGreaterThan(0);

    const leaderNode = cluster.nodes.find((n) => n.id === initial.leader);
    if (!leaderNode) throw new Error(`no node ${initial.leader}`);
    const killedAt = Date.now();
    const streaming = publishFor(8000);
    await sleep(500);
    await leaderNode.kill('SIGKILL');
    const afterKill = await waitFor(topic, (s) => s.leader > 0 && s.leader !== initial.leader, 30_000);
    await streaming;
    const failoverMs = Date.now() - killedAt;

    await leaderNode.restart();
    await publishFor(3000);
    await waitFor(topic, (s) => s.isr.length === 3, 60_000);
    await publisher.close({ timeoutMs: 30_000 });

    const stats = publisher.stats();
    const messages = await readTopic({ brokers: cluster.brokers }, topic, next, { timeoutMs: 60_000, settleMs: 1000 });
    const seen = new Map<string, number>();
    for (const m of messages) {
      const id = (JSON.parse(m.value) as { request: { id: string } }).request.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const missing = Array.from({ length: next }, (_, i) => ids(i)).filter((id) => !seen.has(id));
    const duplicates = [...seen.values()].filter((c) => c > 1).length;

    const figures = {
      streamed: next,
      accepted: stats.accepted,
      sent: stats.sent,
      dropped: stats.dropped.total,
      delivered: messages.length,
      loss: missing.length,
      duplicates,
      retries,
      oldLeader: initial.leader,
      newLeader: afterKill.leader,
      failoverStreamMs: failoverMs,
      testMs: Date.now() - t0,
    };
    console.log(`reliability-failover ${JSON.stringify(figures)}`);

    expect(retries).toBeGreaterThan(0); // the kill did hit requests in flight
    expect(missing).toEqual([]);
    expect(duplicates).toBe(0);
    expect(messages).toHaveLength(next);
    expect(stats).toMatchObject({ accepted: next, sent: next, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(stats.accepted).toBe(stats.sent + stats.dropped.total + stats.buffered + stats.inFlight);
  }, 150_000);
});
