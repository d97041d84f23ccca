// `close({ timeoutMs })` is a deadline for everything it does: delivery, then the registry, token and broker
// connections. A transport whose requests and disconnect never finish, a transport still being created, a registry
// and a token endpoint that accept a connection and never answer: close() settles by the deadline (plus a few
// milliseconds) and releases them. An entry counted as `close_timeout` stays that: an acknowledgement (or failure)
// arriving after the deadline changes no count, and `accepted = sent + dropped + buffered + inFlight` holds throughout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DroppedError } from '../../src/errors.js';
import type { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { Transport, TransportConfig } from '../../src/transport/transport.js';
import { type Blackhole, startBlackhole } from '../support/blackhole.js';
import { balanced, entry, setup } from './publisher-support.js';

/** A promise settled from outside. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A transport whose every request and whose disconnect wait until the test says so. */
class StuckTransport implements Transport {
  readonly answers: Array<ReturnType<typeof deferred>> = [];
  closeCalled = false;
  destroyed = false;
  async connect(): Promise<void> {}
  produce(): Promise<void> {
    const answer = deferred();
    this.answers.push(answer);
    return answer.promise;
  }
  close(): Promise<void> {
    this.closeCalled = true;
    return new Promise(() => undefined); // never
  }
  destroy(): void {
    this.destroyed = true;
  }
}

let blackhole: Blackhole;
beforeAll(async () => {
  blackhole = await startBlackhole();
});
afterAll(() => blackhole.close());

async function timed(publisher: KafkaLogPublisher, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await publisher.close({ timeoutMs });
  return Date.now() - started;
}

// Wide enough for a loaded machine (CI runs two Node lines at once); a close that waited for the hung work would
// take seconds.
const MARGIN_MS = 400;

/** Publishes one entry, waits for its connection to the blackhole, closes: on time, and the connection released. */
async function closesInTimeReleasingTheConnection(publisher: KafkaLogPublisher): Promise<void> {
  publisher.publish(entry(1));
  await new Promise((r) => setTimeout(r, 50));
  expect(blackhole.connections.size).toBeGreaterThan(0);
  const elapsed = await timed(publisher, 100);
  expect(elapsed).toBeLessThan(100 + MARGIN_MS);
  await new Promise((r) => setTimeout(r, 50));
  expect(blackhole.connections.size).toBe(0);
}

describe('close({ timeoutMs }) is a hard deadline', () => {
  it('settles by the deadline when requests and disconnect hang, destroying the transport; what was left is close_timeout', async () => {
    const stuck = new StuckTransport();
    const { publisher } = setup({ transport: () => stuck, flushTimeout: 0 });
    for (let i = 0; i < 5; i++) publisher.publish(entry(i));
    await new Promise((r) => setTimeout(r, 20));
    expect(stuck.answers.length).toBeGreaterThan(0);
    const elapsed = await timed(publisher, 200);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    expect(elapsed).toBeLessThan(200 + MARGIN_MS);
    expect(stuck.closeCalled).toBe(true);
    expect(stuck.destroyed).toBe(true);
    const s = publisher.stats();
    expect(s).toMatchObject({ accepted: 5, sent: 0, buffered: 0, inFlight: 0, dropped: { total: 5, byReason: { close_timeout: 5 } } });
  });

  it('a late acknowledgement of entries counted as close_timeout changes no count, fires no event, settles no promise again', async () => {
    const stuck = new StuckTransport();
    const { publisher } = setup({ transport: () => stuck, async: false });
    const events: string[] = [];
    publisher.on('publisher.delivered', () => events.push('delivered'));
    publisher.on('publisher.drop', (e) => events.push(...Array(e.count).fill(`drop:${e.reason}`)));
    const pending = [0, 1, 2].map((i) => publisher.publish(entry(i)) as Promise<void>);
    await new Promise((r) => setTimeout(r, 20));
    await publisher.close({ timeoutMs: 50 });
    const atClose = publisher.stats();
    expect(atClose).toMatchObject({ accepted: 3, sent: 0, inFlight: 0, dropped: { byReason: { close_timeout: 3 } } });
    for (const result of await Promise.allSettled(pending)) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason as DroppedError).toMatchObject({ reason: 'close_timeout' });
    }
    // the broker answers after all
    for (const answer of stuck.answers) answer.resolve();
    await new Promise((r) => setTimeout(r, 20));
    expect(publisher.stats()).toEqual(atClose);
    expect(balanced(publisher.stats())).toBe(true);
    expect(events).toEqual(Array(3).fill('drop:close_timeout'));
  });

  it('a late failure changes nothing either, and schedules no retry', async () => {
    const stuck = new StuckTransport();
    const { publisher } = setup({ transport: () => stuck, flushTimeout: 0, initialRetryDelay: 1 });
    for (let i = 0; i < 3; i++) publisher.publish(entry(i));
    await new Promise((r) => setTimeout(r, 20));
    await publisher.close({ timeoutMs: 30 });
    const atClose = publisher.stats();
    const calls = stuck.answers.length;
    for (const answer of stuck.answers) answer.reject(new Error('connection reset'));
    await new Promise((r) => setTimeout(r, 30));
    expect(publisher.stats()).toEqual(atClose);
    expect(stuck.answers.length).toBe(calls);
  });

  it('balance holds at every step while requests settle around the deadline', async () => {
    const stuck = new StuckTransport();
    const { publisher } = setup({ transport: () => stuck, flushTimeout: 0, maxMessagesPerRequest: 1, concurrencyLimit: 4 });
    const samples: boolean[] = [];
    const sampler = setInterval(() => samples.push(balanced(publisher.stats())), 2);
    for (let i = 0; i < 8; i++) publisher.publish(entry(i));
    await new Promise((r) => setTimeout(r, 10));
    // two are acknowledged before the deadline, one fails for good, the rest hang
    stuck.answers[0]?.resolve();
    stuck.answers[1]?.resolve();
    stuck.answers[2]?.reject(Object.assign(new Error('refused'), { name: 'x' }));
    const closing = publisher.close({ timeoutMs: 60 });
    setTimeout(() => {
      for (const answer of stuck.answers) answer.resolve();
    }, 80);
    await closing;
    await new Promise((r) => setTimeout(r, 40));
    clearInterval(sampler);
    expect(samples.length).toBeGreaterThan(10);
    expect(samples.every(Boolean)).toBe(true);
    const s = publisher.stats();
    expect(s.sent + s.dropped.total).toBe(8);
    expect(s.sent).toBeGreaterThanOrEqual(2);
    expect(s.dropped.byReason.close_timeout).toBeGreaterThan(0);
  });

  it('a transport still being created at the deadline: close settles, and the transport is destroyed once it exists', async () => {
    const created = deferred();
    const stuck = new StuckTransport();
    const { publisher } = setup({
      flushTimeout: 0,
      transport: async () => {
        await created.promise;
        return stuck;
      },
    });
    publisher.publish(entry(1));
    const elapsed = await timed(publisher, 50);
    expect(elapsed).toBeLessThan(50 + MARGIN_MS);
    expect(publisher.stats().dropped.byReason.close_timeout).toBe(1);
    created.resolve();
    await new Promise((r) => setTimeout(r, 10));
    expect(stuck.destroyed).toBe(true);
    expect(stuck.answers).toHaveLength(0); // nothing was sent through it
  });

  it('a schema registry that never answers: close settles by the deadline and its connection is released', async () => {
    const { publisher } = setup({
      flushTimeout: 0,
      schemaRegistry: { url: `http://127.0.0.1:${blackhole.port}`, valueSchema: { subject: 'logs-value', version: 'latest' }, requestTimeoutMs: 60_000 },
    });
    await closesInTimeReleasingTheConnection(publisher);
    expect(publisher.stats()).toMatchObject({ accepted: 1, inFlight: 0, buffered: 0, dropped: { byReason: { close_timeout: 1 } } });
  });

  it('an OAuth token endpoint that never answers: the token request is aborted at the deadline', async () => {
    let config: TransportConfig | undefined;
    const { publisher } = setup({
      flushTimeout: 0,
      authentication: {
        mechanism: 'OAUTHBEARER',
        oauthBearer: { tokenEndpointUrl: `http://127.0.0.1:${blackhole.port}/token`, clientId: 'c', clientSecret: 's3cret-value' },
      },
      transport: (c) => {
        config = c;
        return {
          // the Kafka client asks for a token when it connects
          connect: async () => void (await c.sasl?.oauthBearerToken?.()),
          produce: async () => void (await c.sasl?.oauthBearerToken?.()),
          close: async () => {},
        };
      },
    });
    await closesInTimeReleasingTheConnection(publisher);
    // and no new token request after close
    await expect(config?.sasl?.oauthBearerToken?.()).rejects.toMatchObject({ code: 'KAFKA_LOG_ERR_CLOSED' });
  });

  it('when everything is delivered in time, the transport closes gracefully and is not destroyed', async () => {
    const { fake, publisher } = setup({ flushTimeout: 60_000 });
    const destroy = { called: false };
    Object.assign(fake, { destroy: () => (destroy.called = true) });
    for (let i = 0; i < 3; i++) publisher.publish(entry(i));
    await publisher.close({ timeoutMs: 1000 });
    expect(fake.closed).toBe(true);
    expect(destroy.called).toBe(false);
    expect(publisher.stats()).toMatchObject({ sent: 3, dropped: { total: 0 } });
  });
});
