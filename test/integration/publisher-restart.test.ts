// The broker goes away for 10 s in the middle of a stream and comes back: delivery resumes by itself (`sent`
// grows again while the publisher is still open, with no call), every accepted entry arrives, none twice. Runs on a private single-node cluster so the shared broker of the other test files is untouched.
// Every transport publishes through the SAME outage (one publisher each, concurrently): a broker restart costs
// ~15-20 s of JVM start, paid once rather than once per transport; each transport is then checked on its own.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../scripts/local-kafka.mjs';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS, type TransportName } from './transports.js';

let cluster: LocalCluster;

/** One transport's stream through the outage. */
interface Stream {
  topic: string;
  publisher: KafkaLogPublisher;
  published: number;
  retries: number;
  /** Stats at the end of the outage. */
  down?: PublisherStats;
  /** Stats once delivery resumed after the restart, before close(). */
  resumed?: PublisherStats;
  /** From the broker's restart to the first delivery after it, ms. */
  resumedAfterMs?: number;
}
const streams = new Map<TransportName, Stream>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes 20 entries every 50 ms on every stream for `ms`. */
async function publishFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const stream of streams.values()) {
      for (let i = 0; i < 20; i++) stream.publisher.publish(realisticEntry(stream.published++));
    }
    await sleep(50);
  }
}

beforeAll(async () => {
  const { startCluster } = await import('../../scripts/local-kafka.mjs');
  cluster = await startCluster({ nodes: 1, dir: path.resolve('.local/publisher-restart'), log: false });
  for (const transport of TRANSPORTS) {
    const topic = uniqueTopic(`pub-restart-${transport}`);
    await createTopics(cluster.brokers, [topic], 2);
    const publisher = new KafkaLogPublisher({
      transport,
      brokers: cluster.brokers,
      topic,
      idempotent: true,
      flushTimeout: 10,
      maxRetryDelay: 500,
      // The retry bound is not under test: a request in flight when the broker stopped retries through the whole
      // outage and the restart, which on a busy machine takes longer than the default 60 s.
      maxRetryTime: 300_000,
      requestTimeout: 1000,
      timeout: 1000,
    });
    const stream: Stream = { topic, publisher, published: 0, retries: 0 };
    publisher.on('publisher.retry', () => {
      stream.retries += 1;
    });
    // Connected and delivering before the outage (a client's first connection may take a while on a busy machine).
    await publisher.connect();
    streams.set(transport, stream);
  }
  await publishFor(1000);
  while ([...streams.values()].some((s) => s.publisher.stats().sent === 0)) await publishFor(200);

  const node = cluster.nodes[0];
  if (!node) throw new Error('no node');
  await node.kill('SIGTERM');
  await publishFor(10_000);
  for (const stream of streams.values()) stream.down = stream.publisher.stats();
  await node.restart();
  const restartedAt = Date.now();
  // Nobody calls anything: each publisher must deliver again on its own (first delivery event after the restart).
  const resumed = Promise.all(
    [...streams.values()].map(
      (stream) =>
        new Promise<void>((resolve) => {
          const onDelivered = () => {
            if (stream.publisher.stats().sent <= (stream.down?.sent ?? 0)) return;
            stream.resumed = stream.publisher.stats();
            stream.resumedAfterMs = Date.now() - restartedAt;
            stream.publisher.off('publisher.delivered', onDelivered);
            resolve();
          };
          stream.publisher.on('publisher.delivered', onDelivered);
        }),
    ),
  );
  await publishFor(1000);
  await Promise.race([resumed, sleep(60_000)]);
  await Promise.all([...streams.values()].map((s) => s.publisher.close({ timeoutMs: 30_000 })));
}, 240_000);

afterAll(async () => {
  await Promise.all([...streams.values()].map((s) => s.publisher.close({ timeoutMs: 0 })));
  await cluster?.stop();
});

describe('broker stopped for 10 s mid-stream (idempotent producer)', () => {
  it.each(TRANSPORTS)('over %s: delivery resumes by itself before close(), every accepted entry arrives, none twice', async (transport) => {
    const stream = streams.get(transport);
    if (!stream) throw new Error(`no stream for ${transport}`);
    const { publisher, published, topic } = stream;
    console.log(`publisher-restart ${transport} ${JSON.stringify({ published, down: stream.down, resumedAfterMs: stream.resumedAfterMs, final: publisher.stats() })}`);
    expect((stream.down?.buffered ?? 0) + (stream.down?.inFlight ?? 0)).toBeGreaterThan(0);
    expect(stream.retries).toBeGreaterThan(0);
    // Resumed by itself: sent grew past its outage value before close() was called.
    expect(stream.resumed?.sent ?? 0).toBeGreaterThan(stream.down?.sent ?? Number.POSITIVE_INFINITY);
    expect(publisher.stats()).toMatchObject({ accepted: published, sent: published, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    const messages = await readTopic({ brokers: cluster.brokers }, topic, published, { timeoutMs: 60_000 });
    const ids = messages.map((m) => (JSON.parse(m.value) as { request: { id: string } }).request.id);
    expect(new Set(ids).size).toBe(published);
    expect(ids).toHaveLength(published);
  });
});
