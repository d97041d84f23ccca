// The worker transport end to end: real worker threads running the built delivery thread
// (dist/transport-worker.js, built by `npm test` before the suite) publish to the local broker, and what was
// published is read back with an independent kafkajs consumer.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { type DeliveryThread, createWorkerTransport } from '../../src/transport/worker.js';
import type { WorkerData } from '../../src/transport/worker-protocol.js';
import { createTopics, publishRealistic, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const kafka = inject('kafka');
const brokers = kafka.brokers;
const ROOT = path.resolve(__dirname, '../..');
const WORKER_SCRIPT = path.join(ROOT, 'dist', 'transport-worker.js');
const balanced = (s: PublisherStats) => s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;

beforeAll(() => {
  if (!existsSync(WORKER_SCRIPT)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

/** Real delivery threads on the built script, kept at hand so a test can end one. */
function realThreads() {
  const threads: Worker[] = [];
  const spawn = (data: WorkerData): DeliveryThread => {
    const worker = new Worker(WORKER_SCRIPT, { workerData: data });
    threads.push(worker);
    return worker as unknown as DeliveryThread;
  };
  return { threads, spawn };
}

describe.each(TRANSPORTS)('worker transport running %s in a thread, against the local broker', (client) => {
  it('delivers N entries exactly once, byte-identical, and close() delivers what is buffered', async () => {
    const topic = uniqueTopic(`worker-${client}`);
    await createTopics(brokers, [topic], 3);
    const { threads, spawn } = realThreads();
    const publisher = new KafkaLogPublisher({
      brokers,
      topic,
      // Nothing leaves before close(): close() must deliver it all through the thread.
      flushTimeout: 60_000,
      transport: (config, hooks) => createWorkerTransport(config, hooks, { client, spawn }),
    });
    const n = 600;
    const expected = publishRealistic(publisher, n);
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: n, sent: n, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(threads).toHaveLength(1);
    // The thread ended with close().
    expect(threads[0]?.threadId).toBe(-1);
    const messages = await readTopic({ brokers }, topic, n);
    expect(messages).toHaveLength(n);
    expect(new Set(messages.map((m) => m.value))).toEqual(expected);
  });

  it('a delivery thread that dies mid-stream: its requests in flight are retried on a new thread, counted, none lost', async () => {
    const topic = uniqueTopic(`worker-crash-${client}`);
    await createTopics(brokers, [topic], 1);
    const { threads, spawn } = realThreads();
    const logs: string[] = [];
    const publisher = new KafkaLogPublisher({
      brokers,
      topic,
      initialRetryDelay: 50,
      logLevel: 'error',
      logger: {
        error: (first: string | Record<string, unknown>, message?: string) => logs.push(typeof first === 'string' ? first : (message ?? '')),
        warn: () => undefined,
        info: () => undefined,
        debug: () => undefined,
      },
      transport: (config, hooks) => createWorkerTransport(config, hooks, { client, spawn }),
    });
    await publisher.connect();
    // 200 entries fill a request, which goes out at once: end the thread while it is in flight.
    for (let i = 0; i < 400; i++) publisher.publish(realisticEntry(i));
    expect(publisher.stats().inFlight).toBeGreaterThan(0);
    await threads[0]?.terminate();
    for (let i = 400; i < 600; i++) publisher.publish(realisticEntry(i));
    await publisher.close();

    const stats = publisher.stats();
    expect(balanced(stats)).toBe(true);
    expect(stats).toMatchObject({ accepted: 600, sent: 600, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(stats.retried).toBeGreaterThanOrEqual(200);
    expect(threads.length).toBeGreaterThanOrEqual(2);
    expect(logs.some((line) => line.includes('delivery thread stopped'))).toBe(true);
    // At least once: a request the broker took just before the thread ended is sent again.
    const messages = await readTopic({ brokers }, topic, 600);
    const ids = new Set(messages.map((m) => (JSON.parse(m.value) as { request: { id: string } }).request.id));
    expect(ids.size).toBe(600);
  });
});

describe('workerTransport from the package', () => {
  const require = createRequire(__filename);
  it.each(['index.js', 'index.mjs'])('dist/%s finds its delivery thread next to itself and delivers', async (file) => {
    const lib = (file.endsWith('.mjs')
      ? await import(pathToFileURL(path.join(ROOT, 'dist', file)).href)
      : require(path.join(ROOT, 'dist', file))) as typeof import('../../src/index.js');
    const topic = uniqueTopic('worker-package');
    await createTopics(brokers, [topic], 1);
    const publisher = new lib.KafkaLogPublisher({ brokers, topic, transport: lib.workerTransport() });
    for (let i = 0; i < 50; i++) publisher.publish(realisticEntry(i));
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: 50, sent: 50, dropped: { total: 0 } });
    expect(await readTopic({ brokers }, topic, 50)).toHaveLength(50);
  });
});
