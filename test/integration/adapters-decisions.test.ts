// Deciding after the response, bodies on condition and request ids handed back, on every adapter: real apps of
// each framework on 127.0.0.1, real requests, entries published by real KafkaLogPublishers to the local broker and
// read back with a kafkajs consumer. One scenario per feature, the same for every framework (adapters-apps.ts).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { type AnyAdapterOptions, FRAMEWORK_APPS, type FrameworkName, type IdAnswer, type RunningApp } from './adapters-apps.js';
import { type BrokerHarness, type BrokerSink, brokerHarness } from './adapters-support.js';

const FRAMEWORKS = Object.keys(FRAMEWORK_APPS) as FrameworkName[];
const SCENARIOS = ['filter', 'sample-a', 'sample-b', 'bodies', 'ids'] as const;
type Scenario = (typeof SCENARIOS)[number];

let harness: BrokerHarness;
const running: RunningApp[] = [];

beforeAll(async () => {
  harness = await brokerHarness(
    inject('kafka'),
    FRAMEWORKS.flatMap((framework) => SCENARIOS.map((scenario) => `${framework}-${scenario}`)),
  );
});
afterAll(async () => {
  await Promise.all(running.map((app) => app.close()));
  await harness?.close();
});

async function serve(framework: FrameworkName, scenario: Scenario, options: Omit<AnyAdapterOptions, 'sink'>): Promise<{ port: number; sink: BrokerSink }> {
  const sink = harness.sink(`${framework}-${scenario}`);
  const app = await FRAMEWORK_APPS[framework]({ sink, ...options });
  running.push(app);
  return { port: app.port, sink };
}

/** accepted = sent + dropped + skipped + buffered + in flight. */
function expectBalanced(stats: PublisherStats): void {
  expect(stats.accepted).toBe(stats.sent + stats.dropped.total + stats.skipped.total + stats.buffered + stats.inFlight);
}

/** Waits until the publisher took `count` entries (an entry is handed on when its response closes). */
async function accepted(publisher: KafkaLogPublisher, count: number): Promise<PublisherStats> {
  const deadline = Date.now() + 10_000;
  while (publisher.stats().accepted < count) {
    if (Date.now() > deadline) throw new Error(`the publisher took ${publisher.stats().accepted} of ${count} entries`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return publisher.stats();
}

const get = (port: number, path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}${path}`, { headers });

/** The documented sampling rule, stated independently: the last 56 bits R, kept when R + floor(rate × 2^56) ≥ 2^56. */
function keptByTheRule(traceId: string, rate: number): boolean {
  return BigInt(`0x${traceId.slice(-14)}`) + BigInt(Math.floor(rate * 2 ** 56)) >= 2n ** 56n;
}

describe.each(FRAMEWORKS)('kafka-log/%s through the local broker', (framework) => {
  it('filter: only errors are published, the rest counted as filtered; stats() adds up after every request', async () => {
    const { port, sink } = await serve(framework, 'filter', { filter: (entry) => entry.response.status >= 500 });
    const paths = ['/status/200', '/status/503', '/status/404', '/boom', '/status/201'];
    for (const [index, path] of paths.entries()) {
      await (await get(port, path)).arrayBuffer();
      expectBalanced(await accepted(sink.publisher, index + 1));
    }
    const entries = await harness.entries(`${framework}-filter`, 2);
    expect(entries.map((entry) => [entry.request.uri, entry.response.status])).toEqual([
      ['/status/503', 503],
      ['/boom', 500],
    ]);
    await sink.publisher.flush();
    const stats = sink.publisher.stats();
    expectBalanced(stats);
    expect(stats).toMatchObject({ accepted: 5, sent: 2, skipped: { total: 3, byReason: { filtered: 3, sampled_out: 0 } } });
    expect(stats.dropped.total).toBe(0);
    expect(sink.errors).toEqual([]);
  });

  it('sampleRate: two services with their own publishers keep the same traces, as the documented rule says', async () => {
    const rate = 0.5;
    const first = await serve(framework, 'sample-a', { sampleRate: rate });
    const second = await serve(framework, 'sample-b', { sampleRate: rate });
    const traceIds = Array.from({ length: 24 }, () => randomBytes(16).toString('hex'));
    // At least one kept and one left out, whatever the random ids (an all-zero id is invalid: no trace id at all).
    traceIds.push(`1${'0'.repeat(17)}${'f'.repeat(14)}`, `1${'0'.repeat(31)}`);
    for (const traceId of traceIds) {
      const traceparent = `00-${traceId}-b7ad6b7169203331-01`;
      await (await get(first.port, '/status/200', { traceparent })).arrayBuffer();
      await (await get(second.port, '/status/200', { traceparent })).arrayBuffer();
    }
    const expected = traceIds.filter((id) => keptByTheRule(id, rate));
    for (const [name, { sink }] of [
      ['sample-a', first],
      ['sample-b', second],
    ] as const) {
      const stats = await accepted(sink.publisher, traceIds.length);
      expectBalanced(stats);
      const entries = await harness.entries(`${framework}-${name}`, expected.length);
      expect(entries.map((entry) => entry.trace_id?.w3c)).toEqual(expected);
      await sink.publisher.flush();
      expect(sink.publisher.stats()).toMatchObject({
        sent: expected.length,
        skipped: { total: traceIds.length - expected.length, byReason: { filtered: 0, sampled_out: traceIds.length - expected.length } },
      });
    }
  });

  it('bodies on condition: request and response bodies only for 4xx and 5xx responses', async () => {
    const onErrors = (entry: Readonly<LogEntry>) => entry.response.status >= 400;
    const { port, sink } = await serve(framework, 'bodies', { logRequestBody: onErrors, logResponseBody: onErrors });
    for (const [path, body] of [
      ['/echo/201', { order: 1 }],
      ['/echo/422', { order: 'missing items' }],
    ] as const) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(await response.json()).toEqual(body);
    }
    const [fine, failed] = (await harness.entries(`${framework}-bodies`, 2)) as [LogEntry, LogEntry];
    expect(fine.response.status).toBe(201);
    for (const field of ['body', 'body_args', 'body_base64', 'body_truncated']) {
      expect(fine.request).not.toHaveProperty(field);
      expect(fine.response).not.toHaveProperty(field);
    }
    expect(fine.request.size).toBeGreaterThan(JSON.stringify({ order: 1 }).length);
    expect(failed.response.status).toBe(422);
    expect(failed.request.body).toBe(JSON.stringify({ order: 'missing items' }));
    expect(failed.request.body_args).toEqual({ order: 'missing items' });
    expect(JSON.parse(failed.response.body as string)).toEqual({ order: 'missing items' });
    expect(sink.errors).toEqual([]);
  });

  it('request ids: the client gets the logged id in a header, the app reads it during the request, errors included', async () => {
    let generated = 0;
    const { port, sink } = await serve(framework, 'ids', {
      echoRequestIdHeader: 'X-Request-Id',
      generateRequestId: () => `${framework}-gen-${++generated}`,
    });
    const given = await get(port, '/id', { 'x-request-id': 'client-7' });
    expect(given.headers.get('x-request-id')).toBe('client-7');
    expect((await given.json()) as IdAnswer).toEqual({ property: 'client-7', typed: 'client-7' });

    const fresh = await get(port, '/id');
    expect(fresh.headers.get('x-request-id')).toBe(`${framework}-gen-1`);
    expect((await fresh.json()) as IdAnswer).toEqual({ property: `${framework}-gen-1`, typed: `${framework}-gen-1` });

    const failed = await get(port, '/boom', { 'x-request-id': 'boom-1' });
    expect(failed.status).toBe(500);
    expect(failed.headers.get('x-request-id')).toBe('boom-1');
    await failed.arrayBuffer();

    const entries = await harness.entries(`${framework}-ids`, 3);
    expect(entries.map((entry) => [entry.request.id, entry.response.headers['x-request-id']])).toEqual([
      ['client-7', 'client-7'],
      [`${framework}-gen-1`, `${framework}-gen-1`],
      ['boom-1', 'boom-1'],
    ]);
    expect(generated).toBe(1);
    expect(sink.errors).toEqual([]);
  });
});
