// kafka-log is audible by default without being noisy: the first drop of each reason, Kafka unreachable and its
// recovery are logged once (rate-limited); the logger is called as pino takes it (fields first, no field
// argument when there are none); the Kafka client's own lines are folded in at debug; `logger: false` and
// `logLevel: 'silent'` turn it off. Checked with a real pino instance, a console-like recorder, a real
// `console.Console` and the default stderr logger.
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCodes, KafkaLogError } from '../../src/errors.js';
import type { PublisherLogger } from '../../src/publisher/events.js';
import { NOTICE_INTERVAL_MS, PublisherNotices, RateLimiter, UNREACHABLE_NOTICE_MS } from '../../src/publisher/notices.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { buildTestEntry, exchangeFixture } from '../../src/testing/index.js';
import { type ProduceRequest, type Transport, TransportError } from '../../src/transport/transport.js';

const entry = () => buildTestEntry(exchangeFixture());

/** A transport whose answers the test decides; its client writes one log line per request. */
class ScriptedTransport implements Transport {
  constructor(
    private readonly log: (level: 'info', ns: string, message: string, extra?: Record<string, unknown>) => void,
    public answer: () => Promise<void>,
  ) {}
  async connect(): Promise<void> {}
  async produce(_request: ProduceRequest): Promise<void> {
    this.log('info', 'scripted.client', 'sending a request', { retryCount: 0 });
    await this.answer();
  }
  async close(): Promise<void> {}
}

function scripted(
  options: Partial<KafkaLogPublisherOptions>,
  answer: () => Promise<void> = () => Promise.resolve(),
): { publisher: KafkaLogPublisher; transport: () => ScriptedTransport } {
  let transport: ScriptedTransport | undefined;
  const publisher = new KafkaLogPublisher({
    brokers: ['127.0.0.1:9092'],
    topic: 'logs',
    flushTimeout: 0,
    initialRetryDelay: 1,
    maxRetryDelay: 5,
    transport: (_config, hooks) => {
      transport = new ScriptedTransport(hooks.log, answer);
      return transport;
    },
    ...options,
  });
  return {
    publisher,
    transport: () => {
      if (!transport) throw new Error('no transport yet');
      return transport;
    },
  };
}

const down = new TransportError('broker', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', true);

function bufferStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * One outage story: Kafka unreachable from the start, the buffer full, Kafka back, then close with an entry it
 * cannot deliver in time.
 */
async function outageStory(logger: PublisherLogger | undefined, extra: Partial<KafkaLogPublisherOptions> = {}): Promise<KafkaLogPublisher> {
  const { publisher, transport } = scripted({ ...(logger ? { logger } : {}), maxEntries: 2, ...extra }, () => Promise.reject(down));
  publisher.publish(entry());
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 0; i < 5; i++) publisher.publish(entry()); // the buffer takes 2 (maxEntries), the rest is dropped
  transport().answer = () => Promise.resolve();
  await publisher.flush();
  transport().answer = () => new Promise<void>(() => undefined);
  publisher.publish(entry());
  await publisher.close({ timeoutMs: 20 });
  return publisher;
}

describe('the logger interface', () => {
  it('pino: structured fields first, message second, every line one JSON object', async () => {
    const out = bufferStream();
    const logger = pino({ level: 'debug', base: undefined, timestamp: false }, out.stream);
    const publisher = await outageStory(logger, { logLevel: 'info' });
    const stats = publisher.stats();
    // How many of the five fit beside the one in flight is the queue's business; each refused one is a drop.
    const full = stats.dropped.byReason.queue_full_entries;
    expect(full).toBeGreaterThanOrEqual(2);
    expect(stats).toMatchObject({ accepted: 7, sent: 7 - full - 1, dropped: { total: full + 1, byReason: { close_timeout: 1 } } });
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        level: 40,
        msg: 'kafka-log: cannot reach Kafka at 127.0.0.1:9092: Connection error: connect ECONNREFUSED 127.0.0.1:9092; 1 log entry kept and retried',
        code: ErrorCodes.BROKER,
        waiting: 1,
      },
      {
        level: 50,
        msg: 'kafka-log: 1 log entry dropped (queue_full_entries): the buffer holds maxEntries (2) entries: Kafka is slower than the traffic, or unreachable',
        reason: 'queue_full_entries',
        count: 1,
      },
      { level: 30, msg: expect.stringMatching(/^kafka-log: Kafka at 127\.0\.0\.1:9092 is reachable again after \d+\.\d s$/), unreachableMs: expect.any(Number) },
      { level: 50, msg: 'kafka-log: 1 log entry dropped (close_timeout): the publisher closed before delivery', reason: 'close_timeout', count: 1, code: ErrorCodes.TIMEOUT },
      { level: 50, msg: `kafka-log: ${full - 1} more log entries dropped (queue_full_entries) since the last report`, reason: 'queue_full_entries', count: full - 1 },
    ]);
  });

  it('console-like: one string argument when a line has no fields, (fields, message) when it has; never undefined', async () => {
    const calls: unknown[][] = [];
    const record = (...args: unknown[]) => calls.push(args);
    await outageStory({ error: record, warn: record, info: record, debug: record }, { logLevel: 'debug' });
    expect(calls.length).toBeGreaterThan(5);
    for (const args of calls) {
      expect(args.includes(undefined)).toBe(false);
      if (args.length === 1) expect(typeof args[0]).toBe('string');
      else {
        expect(args).toHaveLength(2);
        expect(typeof args[0]).toBe('object');
        expect(args[1]).toMatch(/^kafka-log: /);
      }
    }
    // The client's own lines come folded in at debug, marked with its namespace, its level kept as a field.
    expect(calls).toContainEqual([{ retryCount: 0, clientLevel: 'info' }, 'kafka-log: [scripted.client] sending a request']);
  });

  it('a real console prints short lines and never the word undefined', async () => {
    const out = bufferStream();
    await outageStory(new Console({ stdout: out.stream, stderr: out.stream }) as unknown as PublisherLogger);
    const lines = out.text().trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(out.text()).not.toContain('undefined');
    expect(out.text()).toContain('kafka-log: cannot reach Kafka at 127.0.0.1:9092');
  });

  it('logger: console with the real kafkajs client and a wrong broker: two lines, not the client\'s dumps', async () => {
    const out = bufferStream();
    const publisher = new KafkaLogPublisher({
      brokers: ['127.0.0.1:1'],
      topic: 'logs',
      flushTimeout: 0,
      logger: new Console({ stdout: out.stream, stderr: out.stream }) as unknown as PublisherLogger,
    });
    publisher.publish(entry());
    await new Promise((resolve) => setTimeout(resolve, 300));
    await publisher.close({ timeoutMs: 300 });
    expect(out.text().trim().split('\n')).toEqual([
      "{ code: 'KAFKA_LOG_ERR_BROKER', waiting: 1 } kafka-log: cannot reach Kafka at 127.0.0.1:1: Connection error: connect ECONNREFUSED 127.0.0.1:1; 1 log entry kept and retried",
      "{ reason: 'close_timeout', count: 1, code: 'KAFKA_LOG_ERR_TIMEOUT' } kafka-log: 1 log entry dropped (close_timeout): the publisher closed before delivery",
    ]);
  });

  it('the client lines stay out below debug', async () => {
    const calls: unknown[][] = [];
    const record = (...args: unknown[]) => calls.push(args);
    await outageStory({ error: record, warn: record, info: record, debug: record });
    expect(calls.flat().join('\n')).not.toContain('scripted.client');
  });
});

describe('the default logger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function captureStderr(): () => string {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write);
    return () => written.join('');
  }

  it('writes short single lines on stderr, prefixed kafka-log and the level', async () => {
    const stderr = captureStderr();
    await outageStory(undefined);
    const lines = stderr().trim().split('\n');
    expect(lines[0]).toBe('kafka-log warn: cannot reach Kafka at 127.0.0.1:9092: Connection error: connect ECONNREFUSED 127.0.0.1:9092; 1 log entry kept and retried');
    expect(lines).toHaveLength(5);
    expect(lines).toContain('kafka-log error: 1 log entry dropped (close_timeout): the publisher closed before delivery');
    expect(lines.every((l) => /^kafka-log (error|warn|info): /.test(l))).toBe(true);
  });

  it('logger: false and logLevel: silent turn it off', async () => {
    const stderr = captureStderr();
    await outageStory(undefined, { logger: false });
    await outageStory(undefined, { logLevel: 'silent' });
    expect(stderr()).toBe('');
  });

  it('says nothing while all is well', async () => {
    const stderr = captureStderr();
    const { publisher } = scripted({});
    await publisher.connect();
    for (let i = 0; i < 10; i++) publisher.publish(entry());
    await publisher.flush();
    await publisher.close();
    expect(publisher.stats().sent).toBe(10);
    expect(stderr()).toBe('');
  });
});

describe('rate limits', () => {
  it('RateLimiter: one report per key per interval, counting what it held back', () => {
    const limiter = new RateLimiter(1000);
    expect(limiter.admit('a', 0, 2)).toBe(0);
    expect(limiter.admit('a', 10, 3)).toBeUndefined();
    expect(limiter.admit('b', 10)).toBe(0);
    expect(limiter.admit('a', 999, 4)).toBeUndefined();
    expect(limiter.admit('a', 1000, 1)).toBe(7);
    expect(limiter.admit('a', 1001, 5)).toBeUndefined();
    expect(limiter.drain()).toEqual([['a', 5]]);
    expect(limiter.drain()).toEqual([]);
  });

  function notices() {
    const lines: Array<[string, string, Record<string, unknown> | undefined, boolean]> = [];
    let now = 0;
    const subject = new PublisherNotices({
      line: (level, text, fields, toListeners) => lines.push([level, text, fields, toListeners]),
      brokers: ['b:9092'],
      bounds: { maxEntries: 10, maxBytes: 100, maxBufferedMessages: 5 },
      waiting: () => 7,
      now: () => now,
    });
    return { lines, subject, advance: (ms: number) => (now += ms) };
  }

  it('drops: the first of each reason at once, then one line a minute with the count held back, the rest at close', () => {
    const { lines, subject, advance } = notices();
    const cause = new KafkaLogError(ErrorCodes.TIMEOUT, 'the publisher closed before delivery');
    for (let i = 0; i < 1000; i++) subject.dropped('queue_full_bytes', 1, () => undefined);
    subject.dropped('close_timeout', 3, () => cause);
    advance(NOTICE_INTERVAL_MS);
    subject.dropped('queue_full_bytes', 2, () => undefined);
    subject.dropped('queue_full_bytes', 5, () => undefined);
    subject.close();
    expect(lines.map(([level, text]) => `${level} ${text}`)).toEqual([
      'error 1 log entry dropped (queue_full_bytes): the buffer holds maxBytes (100) bytes: Kafka is slower than the traffic, or unreachable',
      'error 3 log entries dropped (close_timeout): the publisher closed before delivery',
      'error 2 log entries dropped (queue_full_bytes): the buffer holds maxBytes (100) bytes: Kafka is slower than the traffic, or unreachable (and 999 more since the last report)',
      'error 5 more log entries dropped (queue_full_bytes) since the last report',
    ]);
  });

  it('unreachable: at the first failure before anything was delivered; after that only past the threshold; recovery once', () => {
    const { lines, subject, advance } = notices();
    subject.failed(down);
    subject.failed(down);
    subject.succeeded();
    subject.succeeded();
    advance(1000);
    subject.failed(down); // a blip: quiet
    advance(UNREACHABLE_NOTICE_MS - 1001);
    subject.failed(down);
    subject.succeeded(); // quiet: the blip was never logged
    subject.failed(down);
    advance(UNREACHABLE_NOTICE_MS);
    subject.failed(down);
    subject.failed(down);
    advance(2000);
    subject.succeeded();
    expect(lines.map(([level, text]) => `${level} ${text}`)).toEqual([
      `warn cannot reach Kafka at b:9092: ${down.message}; 7 log entries kept and retried`,
      'info Kafka at b:9092 is reachable again after 0.0 s',
      `warn cannot reach Kafka at b:9092 for 5.0 s: ${down.message}; 7 log entries kept and retried`,
      'info Kafka at b:9092 is reachable again after 7.0 s',
    ]);
  });

  it('listener failures: once a minute per event, to the logger only', () => {
    const { lines, subject, advance } = notices();
    for (let i = 0; i < 100; i++) subject.listenerFailed({ event: 'publisher.drop', kind: 'threw', error: new Error('boom') });
    subject.listenerFailed({ event: 'publisher.log', kind: 'rejected', error: new Error('async boom') });
    advance(NOTICE_INTERVAL_MS);
    subject.listenerFailed({ event: 'publisher.drop', kind: 'threw', error: new Error('boom') });
    expect(lines).toEqual([
      ['error', 'a "publisher.drop" listener threw: Error: boom', undefined, false],
      ['error', 'a "publisher.log" listener returned a promise that rejected: Error: async boom', undefined, false],
      ['error', 'a "publisher.drop" listener threw: Error: boom (99 more listener failures since the last report)', undefined, false],
    ]);
  });

  it('a connect() failure no retry can mend is logged at once, once a minute per cause', () => {
    const { lines, subject } = notices();
    const missing = new TransportError('missing_dependency', 'compression "snappy" needs the package "snappyjs": npm install snappyjs', false);
    subject.connectFailed(missing);
    subject.connectFailed(missing);
    expect(lines).toEqual([['error', `cannot connect to Kafka at b:9092: ${missing.message}`, { code: ErrorCodes.MISSING_DEPENDENCY }, true]]);
  });
});

describe('options', () => {
  it('logger must be false or have the four methods', () => {
    const base = { brokers: ['127.0.0.1:9092'], topic: 't' };
    expect(() => new KafkaLogPublisher({ ...base, logger: { error() {}, warn() {} } as unknown as PublisherLogger })).toThrowError(/"logger"/);
    expect(() => new KafkaLogPublisher({ ...base, logger: false })).not.toThrow();
    expect(() => new KafkaLogPublisher({ ...base, logger: console })).not.toThrow();
    expect(() => new KafkaLogPublisher({ ...base, logger: pino({ enabled: false }) })).not.toThrow();
  });
});
