import { afterEach, describe, expect, it } from 'vitest';
import { buildLogEntry } from '../../src/entry/build.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import { CustomFieldError, DroppedError } from '../../src/errors.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import {
  buildTestEntry,
  createTestPublisher,
  exchangeFixture,
  FIXTURE_STARTED_AT,
  type TestPublisher,
  validateLogEntry,
} from '../../src/testing/index.js';

const open: TestPublisher[] = [];
function publisher(options: Parameters<typeof createTestPublisher>[0] = {}): TestPublisher {
  const p = createTestPublisher(options);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close({ timeoutMs: 100 })));
});

function entry(status = 200): LogEntry {
  return buildLogEntry(exchangeFixture({ response: { status } }));
}

describe('createTestPublisher', () => {
  it('is the real KafkaLogPublisher and records each message exactly as produced', async () => {
    const p = publisher({
      topic: 'access',
      compression: 'gzip',
      acks: -1,
      key: (e) => e.request.method,
      messageHeaders: { service: 'orders', raw: Buffer.from([1, 2]) },
    });
    expect(p).toBeInstanceOf(KafkaLogPublisher);
    const e = entry();
    p.publish(e);
    await p.flush();
    const [message, ...rest] = p.messages();
    expect(rest).toEqual([]);
    expect(message).toEqual({
      topic: 'access',
      key: Buffer.from('GET'),
      headers: { service: Buffer.from('orders'), raw: Buffer.from([1, 2]) },
      value: Buffer.from(serializeLogEntry(e)),
      compression: 'gzip',
      acks: -1,
      request: 0,
    });
    expect(p.entries()).toEqual([JSON.parse(serializeLogEntry(e))]);
    expect(p.transportConfig?.brokers).toEqual(['localhost:9092']);
  });

  it('batches entries into JSON arrays with maxBatchSize and unrolls them in entries()', async () => {
    const p = publisher({ maxBatchSize: 2 });
    const entries = [entry(200), entry(404), entry(500)];
    for (const e of entries) p.publish(e);
    await p.flush();
    const values = p.messages().map((m) => JSON.parse(m.value.toString()) as unknown);
    expect(values).toHaveLength(2);
    expect(Array.isArray(values[0])).toBe(true);
    expect((values[0] as unknown[]).length).toBe(2);
    expect(p.entries().map((e) => e.response.status)).toEqual([200, 404, 500]);
    expect(p.stats()).toMatchObject({ accepted: 3, sent: 3 });
  });

  it('routes by keyQueryArg and topic allow-lists as in production', async () => {
    const p = publisher({ keyQueryArg: 'expand', topicQueryArg: 'topic', allowedTopics: ['audit'] });
    p.publish(buildLogEntry(exchangeFixture({ request: { uri: '/orders/1?expand=items&topic=audit' } })));
    p.publish(buildLogEntry(exchangeFixture({ request: { uri: '/orders/1?topic=elsewhere' } })));
    await p.flush();
    expect(p.messages().map((m) => [m.topic, m.key?.toString()])).toEqual([['audit', 'items']]);
    expect(p.stats().dropped.byReason.topic_not_allowed).toBe(1);
  });

  it('clear() forgets messages but not the counters', async () => {
    const p = publisher();
    p.publish(entry());
    await p.flush();
    p.clear();
    expect(p.messages()).toEqual([]);
    expect(p.entries()).toEqual([]);
    expect(p.stats().sent).toBe(1);
  });

  it('failNext with retriable failures: retried, then delivered once', async () => {
    const p = publisher({ initialRetryDelay: 1 });
    const retries: number[] = [];
    p.on('publisher.retry', (event) => retries.push(event.attempt));
    p.failNext(2, { retriable: true });
    p.publish(entry());
    await p.flush();
    expect(p.failedAttempts).toBe(2);
    expect(retries).toEqual([1, 2]);
    expect(p.messages()).toHaveLength(1);
    expect(p.stats()).toMatchObject({ sent: 1, retried: 2, dropped: { total: 0 } });
  });

  it('failNext with a non-retriable failure drops the batch with its reason', async () => {
    const p = publisher({ async: false });
    p.failNext(1, { retriable: false });
    const delivery = p.publish(entry());
    await expect(delivery).rejects.toBeInstanceOf(DroppedError);
    await expect(delivery).rejects.toMatchObject({ reason: 'non_retriable' });
    p.failNext(1, { retriable: false, kind: 'message_too_large' });
    await expect(p.publish(entry())).rejects.toMatchObject({ reason: 'message_too_large' });
    expect(p.messages()).toEqual([]);
    expect(p.stats().dropped).toMatchObject({ total: 2, byReason: { non_retriable: 1, message_too_large: 1 } });
  });

  it('retriable failures past maxRetryTime are dropped as retry_time_exceeded', async () => {
    const p = publisher({ initialRetryDelay: 5, maxRetryTime: 30 });
    p.failNext(1000);
    p.publish(entry());
    await p.flush();
    expect(p.stats().dropped.byReason.retry_time_exceeded).toBe(1);
  });

  it('pause() holds requests so the queue bound drops what does not fit', async () => {
    const p = publisher({ maxEntries: 2, flushTimeout: 0, maxCoalescingDelay: 0 });
    p.pause();
    for (let i = 0; i < 5; i++) p.publish(entry());
    // One entry is in flight (held), two are buffered, two did not fit.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.stats().dropped.byReason.queue_full_entries).toBeGreaterThan(0);
    p.resume();
    await p.flush();
    const stats = p.stats();
    expect(stats.sent + stats.dropped.total).toBe(5);
    expect(p.messages()).toHaveLength(stats.sent);
  });

  it('failNext rejects a bad count', () => {
    expect(() => publisher().failNext(-1)).toThrow(RangeError);
  });

  it('hands out recorded messages that cannot be changed behind its back', async () => {
    const p = publisher({ async: false });
    await p.publish(entry());
    const [message] = p.messages();
    expect(Object.isFrozen(message)).toBe(true);
    expect(() => {
      (message as { topic: string }).topic = 'other';
    }).toThrow(TypeError);
  });
});

describe('exchangeFixture', () => {
  it('builds a realistic, schema-valid entry with the authorization header redacted', () => {
    const e = buildLogEntry(exchangeFixture());
    expect(e.request.method).toBe('GET');
    expect(e.request.uri).toBe('/orders/42?expand=items');
    expect(e.request.url).toBe('http://orders.internal:8080/orders/42?expand=items');
    expect(e.request.headers.authorization).toBe('REDACTED');
    expect(e.response.status).toBe(200);
    expect(e.started_at).toBe(FIXTURE_STARTED_AT);
    expect(e.client_ip).toBe('10.1.2.3');
    expect(validateLogEntry(e)).toEqual({ valid: true, errors: [] });
  });

  it('deep-merges objects, replaces arrays, removes undefined', () => {
    const x = exchangeFixture({
      request: { method: 'POST', headers: ['Host', 'a.internal'] },
      timings: { total: 99 },
      route: undefined,
    });
    expect(x.request.method).toBe('POST');
    expect(x.request.uri).toBe('/orders/42?expand=items');
    expect(x.request.headers).toEqual(['Host', 'a.internal']);
    expect(x.timings).toMatchObject({ total: 99, receive: 0, startedAt: FIXTURE_STARTED_AT });
    expect('route' in x).toBe(false);
  });

  it('gives a fresh object every call', () => {
    const a = exchangeFixture();
    a.request.method = 'DELETE';
    expect(exchangeFixture().request.method).toBe('GET');
  });
});

describe('validateLogEntry', () => {
  it('lists every problem with its path', () => {
    const e = JSON.parse(serializeLogEntry(entry())) as Record<string, unknown> & { response: Record<string, unknown> };
    e.response.status = '200';
    e.source = 'proxy';
    delete e.client_ip;
    const result = validateLogEntry(e);
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual(
      expect.arrayContaining([
        '/: missing required field "client_ip"',
        '/response/status: must be integer',
        '/source: must be one of "upstream", "kong"',
      ]),
    );
  });

  it('rejects what is not an object', () => {
    expect(validateLogEntry([1])).toEqual({ valid: false, errors: ['/: must be object'] });
  });
});

describe('buildTestEntry', () => {
  it('builds with the entry options and applies custom fields as an adapter does', () => {
    const e = buildTestEntry(exchangeFixture({ request: { uri: '/orders?tenant=acme' } }), {
      redactHeaders: ['accept'],
      customFields: {
        'service.team': () => 'checkout',
        'request.tenant': (x) => x.request.querystring.tenant,
        'request.headers.user-agent': () => undefined,
        plan: 'context.plan',
      },
      context: { plan: 'gold' },
    });
    expect(e.request.headers.accept).toBe('REDACTED');
    // Giving a list replaces the default: authorization is kept as sent.
    expect(e.request.headers.authorization).toBe('Bearer secret-token');
    expect(e.request.headers['user-agent']).toBeUndefined();
    expect((e.request as unknown as Record<string, unknown>).tenant).toBe('acme');
    expect(e.service).toEqual({ team: 'checkout' });
    expect(e.plan).toBe('gold');
  });

  it('throws the failing custom field instead of hiding it', () => {
    expect(() =>
      buildTestEntry(exchangeFixture(), {
        customFields: {
          'request.method.deeper': () => 'x',
        },
      }),
    ).toThrow(CustomFieldError);
  });
});
