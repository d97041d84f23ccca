// Cluster failover: three KRaft brokers on 127.0.0.1, one topic per transport with replication factor 3 and
// min.insync.replicas=2, all led by the same node, and an idempotent publisher with acks=all per transport
// streaming entries with unique ids. The common partition leader is killed with SIGKILL mid-stream and restarted
// later. Over every transport, every accepted entry must be in its topic exactly once, and the publisher's
// counters must say so too. Both transports go through the SAME kill (a cluster start costs ~15-30 s of JVMs).
//
// Bounded: about 14 s of traffic at ~1,000 entries/s per transport (plus the cluster's start).
import * as path from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../scripts/local-kafka.mjs';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS, type TransportName } from './transports.js';

let cluster: LocalCluster;
let admin: Admin;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The node every topic of this test is led by: the first replica of each assignment. */
const LEADER = 1;

interface PartitionState {
  leader: number;
  isr: number[];
}

/** One transport's stream through the failover. */
interface Stream {
  topic: string;
  publisher: KafkaLogPublisher;
  published: number;
  retries: number;
  /** Stats when the leader was killed. */
  atKill?: PublisherStats;
  /** Stats after close. */
  final?: PublisherStats;
}
const streams = new Map<TransportName, Stream>();
const figures: Record<string, unknown> = {};

async function partitionState(topic: string): Promise<PartitionState> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = meta.topics[0]?.partitions[0];
  return { leader: p?.leader ?? -1, isr: p?.isr ?? [] };
}

/** Polls every topic's metadata until `ready` holds for all (kafkajs' waitForLeaders is unreliable on a busy machine). */
async function waitFor(ready: (s: PartitionState) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const last = new Map<string, PartitionState>();
  while (Date.now() < deadline) {
    let all = true;
    for (const { topic } of streams.values()) {
      try {
        const state = await partitionState(topic);
        last.set(topic, state);
        all &&= ready(state);
      } catch {
        all = false; // metadata may fail while a node is down or the topic is being created
      }
    }
    if (all) return;
    await sleep(200);
  }
  throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify([...last])}`);
}

/** Publishes 20 entries with unique ids every 20 ms on every stream for `ms`. */
async function publishFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const [transport, stream] of streams) {
      for (let i = 0; i < 20; i++) {
        const entry = realisticEntry(stream.published);
        entry.request.id = `failover-${transport}-${stream.published}`;
        stream.published += 1;
        stream.publisher.publish(entry);
      }
    }
    await sleep(20);
  }
}

beforeAll(async () => {
  const t0 = Date.now();
  const { startCluster } = await import('../../scripts/local-kafka.mjs');
  cluster = await startCluster({ nodes: 3, dir: path.resolve('.local/reliability-failover'), log: false });
  admin = new Kafka({ brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
  figures.clusterStartMs = Date.now() - t0;

  for (const transport of TRANSPORTS) {
    const topic = uniqueTopic(`reliability-failover-${transport}`);
    await admin.createTopics({
      topics: [
        {
          topic,
          replicaAssignment: [{ partition: 0, replicas: [LEADER, 2, 3] }],
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
      waitForLeaders: false,
    });
    const publisher = new KafkaLogPublisher({
      transport,
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
    const stream: Stream = { topic, publisher, published: 0, retries: 0 };
    publisher.on('publisher.retry', () => {
      stream.retries += 1;
    });
    streams.set(transport, stream);
  }
  await waitFor((s) => s.leader === LEADER && s.isr.length === 3, 30_000);
  for (const { publisher } of streams.values()) await publisher.connect();

  await publishFor(3000);
  // Delivering before the kill: on a busy machine the idempotent producer's first InitProducerId can take seconds
  // (the coordinator loading), so wait for each stream's first acknowledgement, bounded.
  for (let waited = 0; [...streams.values()].some((s) => s.publisher.stats().sent === 0) && waited < 20_000; waited += 200) {
    await publishFor(200);
  }
  for (const [transport, stream] of streams) expect({ transport, sent: stream.publisher.stats().sent > 0 }).toEqual({ transport, sent: true });

  const leaderNode = cluster.nodes.find((n) => n.id === LEADER);
  if (!leaderNode) throw new Error(`no node ${LEADER}`);
  const killedAt = Date.now();
  const streaming = publishFor(8000);
  await sleep(500);
  for (const stream of streams.values()) stream.atKill = stream.publisher.stats();
  await leaderNode.kill('SIGKILL');
  await waitFor((s) => s.leader > 0 && s.leader !== LEADER, 30_000);
  figures.newLeaderAfterMs = Date.now() - killedAt;
  await streaming;

  await leaderNode.restart();
  await publishFor(3000);
  await waitFor((s) => s.isr.length === 3, 60_000);
  await Promise.all([...streams.values()].map((s) => s.publisher.close({ timeoutMs: 30_000 })));
  for (const stream of streams.values()) stream.final = stream.publisher.stats();
  figures.trafficAndRecoveryMs = Date.now() - killedAt;
}, 240_000);

afterAll(async () => {
  await Promise.all([...streams.values()].map((s) => s.publisher.close({ timeoutMs: 0 })));
  await admin?.disconnect().catch(() => undefined);
  await cluster?.stop();
}, 60_000);

describe('three-broker cluster, partition leader killed with SIGKILL mid-stream', () => {
  it.each(TRANSPORTS)('over %s: every accepted entry is delivered exactly once (acks=all, idempotent, RF 3, min.insync.replicas 2)', async (transport) => {
    const stream = streams.get(transport);
    if (!stream?.final) throw new Error(`no stream for ${transport}`);
    const { topic, published, final: stats } = stream;
    const messages = await readTopic({ brokers: cluster.brokers }, topic, published, { timeoutMs: 60_000 });
    const seen = new Map<string, number>();
    for (const m of messages) {
      const id = (JSON.parse(m.value) as { request: { id: string } }).request.id;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const missing = Array.from({ length: published }, (_, i) => `failover-${transport}-${i}`).filter((id) => !seen.has(id));
    const duplicates = [...seen.values()].filter((c) => c > 1).length;
    console.log(
      `reliability-failover ${transport} ${JSON.stringify({ streamed: published, ...stats, delivered: messages.length, loss: missing.length, duplicates, retries: stream.retries, ...figures })}`,
    );

    expect(stream.retries).toBeGreaterThan(0); // the kill did hit requests in flight
    expect(missing).toEqual([]);
    expect(duplicates).toBe(0);
    expect(messages).toHaveLength(published);
    expect(stats).toMatchObject({ accepted: published, sent: published, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(stats.accepted).toBe(stats.sent + stats.dropped.total + stats.buffered + stats.inFlight);
  });
});
