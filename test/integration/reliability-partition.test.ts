// A silent network partition between the publisher and its broker, against the real broker: the link stops carrying
// data both ways (no reset, no close; new connections are accepted and never answered) for a few seconds, then
// returns. A TCP proxy on loopback (test/support/kafka-proxy.ts) plays the network; the broker runs on.
//
// A socket frozen by a partition never recovers by itself, and nothing tells the client it died: only a request
// timeout does. As the Java client does (request.timeout.ms), a timed-out request closes its connection, so the next
// attempt opens a new one. Asserted per transport, for a publisher streaming entries throughout:
// - delivery resumes by itself: `sent` grows again within the client's request timeout plus the retry delay plus
//   5 s after the link returned, over a connection opened after the restore, while the publisher is still open;
// - a publisher started while the link is silent connects and delivers once it returns (its connect attempts are
//   bounded and retried);
// - every accepted entry is accounted for and delivered: accepted = sent at close, nothing dropped, and the topic
//   holds exactly the published entries, none twice.
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { type KafkaProxy, startKafkaProxy } from '../support/kafka-proxy.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS, type TransportName } from './transports.js';

const REQUEST_TIMEOUT = 2000;
/** What the transports add to `requestTimeout` for the answer's way back (src/transport/). */
const NETWORK_GRACE = 5000;
const MAX_RETRY_DELAY = 500;
/** Delivery resumes within this long after the link returns. */
const RESUME_BOUND_MS = REQUEST_TIMEOUT + NETWORK_GRACE + MAX_RETRY_DELAY + 5000;
const CUT_MS = 4000;
/** Entries published every tick (20 ms): 250 entries/s. */
const PER_TICK = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A publisher fed a steady stream of entries with unique ids, sampling its stats. */
class Stream {
  readonly publisher: KafkaLogPublisher;
  published = 0;
  readonly samples: { at: number; stats: PublisherStats }[] = [];
  readonly #prefix: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(transport: TransportName, proxy: KafkaProxy, topic: string) {
    this.#prefix = `partition-${transport}-${topic}`;
    this.publisher = new KafkaLogPublisher({
      transport,
      brokers: [`127.0.0.1:${proxy.port}`],
      topic,
      idempotent: true,
      flushTimeout: 20,
      maxCoalescingDelay: 20,
      timeout: REQUEST_TIMEOUT,
      requestTimeout: REQUEST_TIMEOUT,
      maxRetryDelay: MAX_RETRY_DELAY,
      logLevel: 'silent',
    });
  }

  id(i: number): string {
    return `${this.#prefix}-${i}`;
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (let i = 0; i < PER_TICK; i++) {
        const entry = realisticEntry(this.published);
        entry.request.id = this.id(this.published);
        this.published += 1;
        this.publisher.publish(entry);
      }
      this.samples.push({ at: Date.now(), stats: this.publisher.stats() });
    }, 20);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The first moment after `from` at which `test` holds, polled every 20 ms; `undefined` after `timeoutMs`. */
  async waitFor(from: number, test: (s: PublisherStats) => boolean, timeoutMs: number): Promise<number | undefined> {
    const deadline = from + timeoutMs;
    for (;;) {
      const now = Date.now();
      if (test(this.publisher.stats())) return now - from;
      if (now > deadline) return undefined;
      await sleep(20);
    }
  }
}

const balanced = (s: PublisherStats) => s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;

/** Reads the topic back: every published id exactly once. */
async function readBack(stream: Stream, topic: string, sent: number) {
  const messages = await readTopic({ brokers: inject('kafka').brokers }, topic, sent, { timeoutMs: 30_000 });
  const seen = new Map<string, number>();
  for (const m of messages) {
    const id = (JSON.parse(m.value) as { request: { id: string } }).request.id;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const missing = Array.from({ length: stream.published }, (_, i) => stream.id(i)).filter((id) => !seen.has(id));
  const duplicates = [...seen.values()].filter((n) => n > 1).length;
  return { inTopic: messages.length, missing: missing.length, duplicates };
}

let proxy: KafkaProxy;
let stream: Stream | undefined;
beforeEach(async () => {
  proxy = await startKafkaProxy(inject('kafka').brokers[0] as string);
});
afterEach(async () => {
  stream?.stop();
  await stream?.publisher.close({ timeoutMs: 0 });
  stream = undefined;
  await proxy.close();
});

describe.each(TRANSPORTS)('%s', (transport: TransportName) => {
  it('silent partition mid-stream: the timed-out connection is replaced, delivery resumes by itself, every entry delivered once', async () => {
    const topic = uniqueTopic(`partition-${transport}`);
    await createTopics(inject('kafka').brokers, [topic]);
    stream = new Stream(transport, proxy, topic);
    const { publisher } = stream;
    await publisher.connect();
    stream.start();
    // Delivering before the cut (an idempotent producer's first InitProducerId can take a moment on a busy machine).
    expect(await stream.waitFor(Date.now(), (s) => s.sent > 0, 15_000)).toBeDefined();

    proxy.cut('silent');
    const cutAt = Date.now();
    await sleep(CUT_MS);
    const atRestore = publisher.stats();
    const connectionsAtRestore = proxy.accepted;
    proxy.restore();
    const restoredAt = Date.now();
    const resumedAfterMs = await stream.waitFor(restoredAt, (s) => s.sent > atRestore.sent, RESUME_BOUND_MS);
    // Traffic goes on a moment after the recovery, then everything buffered drains before close() is called.
    await sleep(1000);
    stream.stop();
    const drainedAfterMs = await stream.waitFor(restoredAt, (s) => s.buffered === 0 && s.inFlight === 0, RESUME_BOUND_MS + 10_000);
    await publisher.close({ timeoutMs: 10_000 });
    const closed = publisher.stats();
    const readBackResult = await readBack(stream, topic, closed.sent);

    // (an acknowledgement already on its way at the cut may still arrive just after it)
    const duringCut = stream.samples.filter((s) => s.at >= cutAt + 1000 && s.at <= restoredAt);
    const figures = {
      transport,
      published: stream.published,
      cutMs: restoredAt - cutAt,
      sentDuringCut: (duringCut.at(-1)?.stats.sent ?? 0) - (duringCut[0]?.stats.sent ?? 0),
      resumedAfterMs,
      drainedAfterMs,
      boundMs: RESUME_BOUND_MS,
      connectionsBeforeRestore: connectionsAtRestore,
      connectionsAfterRestore: proxy.accepted - connectionsAtRestore,
      retried: closed.retried,
      dropped: closed.dropped.byReason,
      accepted: closed.accepted,
      sent: closed.sent,
      ...readBackResult,
    };
    console.log(`reliability-partition ${JSON.stringify(figures)}`);

    // the partition was real: nothing was acknowledged through it
    expect(duringCut.length).toBeGreaterThan(50);
    expect(figures.sentDuringCut).toBe(0);
    // delivery resumed by itself, over a new connection, and the backlog drained before close()
    expect(resumedAfterMs).toBeDefined();
    expect(figures.connectionsAfterRestore).toBeGreaterThan(0);
    expect(drainedAfterMs).toBeDefined();
    // every accepted entry accounted for at every sample, and delivered: none dropped, none twice
    for (const s of stream.samples) expect(balanced(s.stats)).toBe(true);
    expect(closed).toMatchObject({ accepted: stream.published, sent: stream.published, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(readBackResult).toEqual({ inTopic: stream.published, missing: 0, duplicates: 0 });
  }, 45_000);

  it('started during a silent partition: connect attempts are bounded and retried, delivery starts once the link returns', async () => {
    const topic = uniqueTopic(`partition-start-${transport}`);
    await createTopics(inject('kafka').brokers, [topic]);
    proxy.cut('silent');
    stream = new Stream(transport, proxy, topic);
    const { publisher } = stream;
    const connectStartedAt = Date.now();
    const connecting = publisher.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    stream.start();
    await sleep(CUT_MS);
    const atRestore = publisher.stats();
    proxy.restore();
    const restoredAt = Date.now();
    const connectError = await connecting;
    const connectSettledAfterMs = Date.now() - connectStartedAt;
    const resumedAfterMs = await stream.waitFor(restoredAt, (s) => s.sent > 0, RESUME_BOUND_MS);
    stream.stop();
    const drainedAfterMs = await stream.waitFor(restoredAt, (s) => s.buffered === 0 && s.inFlight === 0, RESUME_BOUND_MS + 10_000);
    await publisher.close({ timeoutMs: 10_000 });
    const closed = publisher.stats();
    const readBackResult = await readBack(stream, topic, closed.sent);
    const figures = {
      transport,
      published: stream.published,
      connect: connectError === undefined ? 'resolved' : String(connectError),
      connectSettledAfterMs,
      resumedAfterMs,
      drainedAfterMs,
      boundMs: RESUME_BOUND_MS,
      acceptedWhileCut: proxy.acceptedWhileCut,
      connections: proxy.accepted,
      retried: closed.retried,
      dropped: closed.dropped.byReason,
      sent: closed.sent,
      ...readBackResult,
    };
    console.log(`reliability-partition-start ${JSON.stringify(figures)}`);

    expect(atRestore.sent).toBe(0);
    expect(proxy.acceptedWhileCut).toBeGreaterThan(0);
    // connect() settled within its documented bound (the `timeout` option plus 5 s), whatever it said
    expect(connectSettledAfterMs).toBeLessThanOrEqual(REQUEST_TIMEOUT + 5000 + 1000);
    expect(resumedAfterMs).toBeDefined();
    expect(drainedAfterMs).toBeDefined();
    for (const s of stream.samples) expect(balanced(s.stats)).toBe(true);
    expect(closed).toMatchObject({ accepted: stream.published, sent: stream.published, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(readBackResult).toEqual({ inTopic: stream.published, missing: 0, duplicates: 0 });
  }, 45_000);
});
