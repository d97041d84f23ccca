// Kafka unreachable mid-stream, under load, against the real broker. An app (node:http with the `kafka-log/http`
// adapter, logging request bodies) runs as a child process with plain `node --expose-gc` and publishes to the local
// broker through a TCP proxy on loopback (test/support/kafka-proxy.ts), which the test cuts: a network partition
// (silence both ways, new connections never answered) while the broker, shared with the other test files, runs on.
// Traffic goes on through the outage; then the link returns.
//
// Asserted, at the figures the README's "Guarantees" table states:
// - the queue never holds more than `maxBytes` (every sample), and was full;
// - what the app retains after a full collection grows by at most `maxBytes` plus the stated overhead;
// - request p99 during the outage is within OUTAGE_P99_FACTOR of before it (plus a small floor), both measured here
//   under the same load;
// - delivery resumes by itself: `sent` grows again and the backlog drains before `close()` is called;
// - every accepted entry is accounted for: accepted = sent + dropped.total + buffered + inFlight at every sample,
//   accepted = sent + dropped.total after close, only `queue_full_bytes` drops, and the topic holds exactly `sent`
//   entries, none twice.
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { type KafkaProxy, startKafkaProxy } from '../support/kafka-proxy.js';
import { appControlSource, bundleChild, DRAIN_AND_ANSWER_SOURCE, sourcePath } from './child-support.js';
import { createTopics, readTopic, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS, type TransportName } from './transports.js';

/** The part of autocannon's result this test reads (the package ships no types). */
interface LoadResult {
  requests: { total: number };
  latency: { p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<LoadResult>;
const autocannon = createRequire(__filename)('autocannon') as Autocannon;

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_BYTES = 2 * MiB;
const MAX_BYTES_PER_REQUEST = 1 * MiB;
/**
 * What the app may retain beyond `maxBytes` while the queue is full (README, "Guarantees"; the terms of "Buffer
 * sizing"): the request in flight twice (its messages and the client's encoded request), 1 KiB of bookkeeping per
 * entry held, and 1 MiB for the collector and the client's reconnection state. Measured on a loaded two-core machine:
 * at most 0.9 MiB beyond `maxBytes` in all, against 1.4-2.5 MiB allowed.
 */
const SLACK = 1 * MiB;
const overhead = (held: PublisherStats, entryBytes: number) => 2 * held.inFlight * entryBytes + (held.buffered + held.inFlight) * KiB + SLACK;
/** Request p99 during the outage may be at most this factor of before it, plus P99_FLOOR_MS. */
const OUTAGE_P99_FACTOR = 3;
// A request that waited on Kafka would take seconds (the outage lasts 4 s); the floor absorbs a loaded machine's noise.
const P99_FLOOR_MS = 150;
const RATE = 400; // requests/s
/** Requests of the phases before and during the outage: ~10 MiB of entries, 5 times maxBytes, at any pace. */
const PHASE_REQUESTS = 1600;
// 6 KB logged request bodies: entries of ~6.6 KB.
const BODY = 'b'.repeat(6000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Retained {
  heapUsed: number;
  external: number;
  stats: PublisherStats;
}
type AppMessage =
  | { event: 'listening'; port: number }
  | { event: 'sample'; at: number; stats: PublisherStats }
  | ({ event: 'retained' } & Retained)
  | { event: 'closed'; stats: PublisherStats };

interface App {
  child: ChildProcess;
  port: number;
  samples: { at: number; stats: PublisherStats }[];
  stderr: string[];
  retained(): Promise<Retained>;
  close(): Promise<PublisherStats>;
}

let script: string;
beforeAll(() => {
  script = bundleChild(
    'reliability-outage',
    `import * as http from 'node:http';
     import { KafkaLogPublisher } from ${sourcePath('src/publisher/publisher.ts')};
     import { withKafkaLog } from ${sourcePath('src/adapters/http.ts')};
     const send = (message: object) => process.send?.(message);
     const publisher = new KafkaLogPublisher(JSON.parse(process.env.PUBLISHER_OPTIONS ?? '{}'));
     const server = http.createServer(
       withKafkaLog(
         ${DRAIN_AND_ANSWER_SOURCE},
         { sink: publisher, logRequestBody: true },
       ),
     );
     const sampler = setInterval(() => send({ event: 'sample', at: Date.now(), stats: publisher.stats() }), 50);
     // connected before it takes requests, as an app that awaits connect() at start-up
     publisher.connect().then(() =>
       server.listen(0, '127.0.0.1', () => send({ event: 'listening', port: (server.address() as { port: number }).port })),
     );
     ${appControlSource(10000)}`,
  );
});

async function startApp(options: Record<string, unknown>): Promise<App> {
  const child = fork(script, [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, PUBLISHER_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (d) => stderr.push(String(d)));
  const samples: App['samples'] = [];
  const waiting = new Map<string, (message: AppMessage) => void>();
  child.on('message', (message: AppMessage) => {
    if (message.event === 'sample') samples.push({ at: message.at, stats: message.stats });
    waiting.get(message.event)?.(message);
    waiting.delete(message.event);
  });
  const next = <E extends AppMessage['event']>(event: E) =>
    new Promise<Extract<AppMessage, { event: E }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${event}" from the app; stderr: ${stderr.join('')}`)), 30_000);
      waiting.set(event, (message) => {
        clearTimeout(timer);
        resolve(message as Extract<AppMessage, { event: E }>);
      });
    });
  const { port } = await next('listening');
  return {
    child,
    port,
    samples,
    stderr,
    retained() {
      const reply = next('retained');
      child.send('gc');
      return reply;
    },
    async close() {
      const reply = next('closed');
      child.send('close');
      return (await reply).stats;
    },
  };
}

/**
 * Load at RATE (at most) for `seconds`, or until `amount` requests were answered, each request to its own path (so
 * each entry can be told apart in the topic).
 */
function load(port: number, length: { seconds: number } | { amount: number }, counter: { next: number }): Promise<LoadResult> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 10,
    overallRate: RATE,
    ...('amount' in length ? { amount: length.amount } : { duration: length.seconds }),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: BODY,
        setupRequest: (request: Record<string, unknown>) => ({ ...request, path: `/orders/${counter.next++}` }),
      },
    ],
  });
}

/** Resolves with the first sample after `from` that `test` accepts; rejects after `timeoutMs`. */
async function waitForSample(app: App, from: number, test: (s: PublisherStats) => boolean, timeoutMs: number): Promise<{ at: number; stats: PublisherStats } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = app.samples.find((s) => s.at >= from && test(s.stats));
    if (found) return found;
    if (Date.now() > deadline) return undefined;
    await sleep(50);
  }
}

const balanced = (s: PublisherStats) => s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;
const retainedBytes = (r: Retained) => r.heapUsed + r.external;

let proxy: KafkaProxy;
beforeAll(async () => {
  proxy = await startKafkaProxy(inject('kafka').brokers[0] as string);
});
afterAll(() => proxy?.close());

describe.each(TRANSPORTS)('%s', (transport: TransportName) => {
  it('Kafka cut off under load: bounded memory, unchanged latency, delivery resumes by itself, every entry accounted for', async () => {
    const brokers = inject('kafka').brokers;
    const topic = uniqueTopic(`outage-${transport}`);
    await createTopics(brokers, [topic]);
    const app = await startApp({
      transport,
      brokers: [`127.0.0.1:${proxy.port}`],
      topic,
      idempotent: true,
      maxBytes: MAX_BYTES,
      maxBytesPerRequest: MAX_BYTES_PER_REQUEST,
      maxEntries: 1_000_000, // maxBytes is the bound under test
      flushTimeout: 20,
      maxCoalescingDelay: 20,
      timeout: 1000,
      requestTimeout: 1000,
      maxRetryDelay: 500,
      logLevel: 'warn',
    });
    const counter = { next: 0 };
    try {
      // Warm-up (JIT, connections), delivered; then the same load with the link up, and cut.
      const warmUp = await load(app.port, { seconds: 1 }, counter);
      expect(await waitForSample(app, Date.now(), (s) => s.sent > 0 && s.buffered === 0 && s.inFlight === 0, 15_000), app.stderr.join('')).toBeDefined();
      const droppedBeforeCut = () => app.samples.at(-1)?.stats.dropped.total ?? 0;

      // Retained memory is measured between the load phases (a forced full collection is a pause the latencies
      // should not see): with the link up and the queue empty, then cut with the queue full.
      const before = await load(app.port, { amount: PHASE_REQUESTS }, counter);
      const control = await app.retained();
      const acceptedAtCut = app.samples.at(-1)?.stats.accepted ?? 0;
      const droppedAtCut = droppedBeforeCut();
      proxy.cut('reset');
      const cutAt = Date.now();
      const outage = await load(app.port, { amount: PHASE_REQUESTS }, counter);
      const during = await app.retained();
      const atRestore = app.samples.at(-1)?.stats as PublisherStats;
      proxy.restore();
      const restoredAt = Date.now();
      const after = load(app.port, { seconds: 2 }, counter);
      // Delivery resumes with nobody calling anything: sent grows past what it was at the restore, and the backlog
      // drains, while the publisher is still open.
      const resumed = await waitForSample(app, restoredAt, (s) => s.sent > atRestore.sent, 30_000);
      const afterResult = await after;
      const drained = await waitForSample(app, Date.now(), (s) => s.buffered === 0 && s.inFlight === 0, 30_000);
      const closed = await app.close();

      // What the topic holds, read back directly from the broker.
      const messages = await readTopic({ brokers }, topic, closed.sent, { timeoutMs: 30_000 });
      const uris = messages.map((m) => (JSON.parse(m.value) as { request: { uri: string } }).request.uri);

      // (an acknowledgement already in the app's socket buffer at the cut may still be read just after it)
      const outageSamples = app.samples.filter((s) => s.at >= cutAt + 2000 && s.at <= restoredAt);
      const peakBufferedBytes = Math.max(...app.samples.map((s) => s.stats.bufferedBytes));
      const heldDuring = during.stats.buffered + during.stats.inFlight;
      const entryBytes = during.stats.bufferedBytes / Math.max(1, during.stats.buffered);
      const growth = retainedBytes(during) - retainedBytes(control);
      const bound = MAX_BYTES + overhead(during.stats, entryBytes);
      const outageEntries = atRestore.accepted - acceptedAtCut;
      const figures = {
        transport,
        requests: counter.next,
        cutMs: restoredAt - cutAt,
        p99BeforeMs: before.latency.p99,
        p99OutageMs: outage.latency.p99,
        p99AfterMs: afterResult.latency.p99,
        maxBytes: MAX_BYTES,
        peakBufferedBytes,
        outageEntries,
        outageOfferedMiB: +((outageEntries * (closed.bytesSent / Math.max(1, closed.sent))) / MiB).toFixed(1),
        retainedGrowthKiB: Math.round(growth / KiB),
        controlBufferedBytes: control.stats.bufferedBytes,
        duringBufferedBytes: during.stats.bufferedBytes,
        boundKiB: Math.round(bound / KiB),
        heldDuring,
        inFlightDuring: during.stats.inFlight,
        sentDuringCut: atRestore.sent - (outageSamples[0]?.stats.sent ?? 0),
        resumedAfterMs: resumed ? resumed.at - restoredAt : undefined,
        drainedAfterMs: drained ? drained.at - restoredAt : undefined,
        droppedAtCut,
        dropped: closed.dropped.byReason,
        accepted: closed.accepted,
        sent: closed.sent,
        inTopic: messages.length,
        proxyConnections: proxy.accepted,
      };
      console.log(`reliability-outage ${JSON.stringify(figures)}`);

      // every request answered, and each is one accepted entry (the warm-up's included)
      const results = [warmUp, before, outage, afterResult];
      expect(results.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0)).toBe(0);
      expect(closed.accepted).toBe(counter.next);
      // the outage was real: nothing was acknowledged while cut, and it offered many times maxBytes
      expect(outageSamples.length).toBeGreaterThan(10);
      expect(figures.sentDuringCut).toBe(0);
      expect(outageEntries * 6000).toBeGreaterThan(3 * MAX_BYTES);
      // the queue never held more than maxBytes, and was full
      for (const s of app.samples) expect(s.stats.bufferedBytes).toBeLessThanOrEqual(MAX_BYTES);
      expect(peakBufferedBytes).toBeGreaterThan(0.9 * MAX_BYTES);
      // retained memory: maxBytes plus the stated overhead, whatever the traffic
      expect(control.stats.buffered).toBeLessThan(100);
      expect(during.stats.bufferedBytes).toBeGreaterThan(0.9 * MAX_BYTES);
      expect(growth).toBeLessThanOrEqual(bound);
      // the app's requests do not slow down while Kafka is away
      expect(figures.p99OutageMs).toBeLessThanOrEqual(OUTAGE_P99_FACTOR * figures.p99BeforeMs + P99_FLOOR_MS);
      // delivery resumed by itself, and everything buffered went out, before close() was called
      expect(resumed).toBeDefined();
      expect(drained).toBeDefined();
      expect((drained as { stats: PublisherStats }).stats.sent).toBeGreaterThanOrEqual(atRestore.sent + atRestore.buffered + atRestore.inFlight);
      // every accepted entry accounted for, at every sample and after close; drops only for the full queue
      expect(app.samples.length).toBeGreaterThan(100);
      for (const s of app.samples) expect(balanced(s.stats)).toBe(true);
      expect(closed).toMatchObject({ accepted: closed.sent + closed.dropped.total, buffered: 0, inFlight: 0 });
      expect(closed.dropped.total).toBeGreaterThan(0);
      expect(closed.dropped.total).toBe(closed.dropped.byReason.queue_full_bytes);
      // the topic holds exactly what was counted as sent, none twice
      expect(messages.length).toBe(closed.sent);
      expect(new Set(uris).size).toBe(uris.length);
    } finally {
      app.child.kill('SIGKILL');
    }
  }, 90_000);
});
