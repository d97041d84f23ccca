import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import { DroppedError, ErrorCodes, InvalidOptionError } from '../../src/errors.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { mayRetry, retryDelay } from '../../src/publisher/retry.js';
import { TransportError } from '../../src/transport/transport.js';
import { FakeTransport, balanced, entry, setup } from './publisher-support.js';

const open: KafkaLogPublisher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close({ timeoutMs: 100 })));
});

describe('KafkaLogPublisher queue (fake transport)', () => {
  it('rejects bad options with a field-named error', () => {
    expect(() => new KafkaLogPublisher({ brokers: [], topic: 't' })).toThrow(InvalidOptionError);
    expect(() => new KafkaLogPublisher({ brokers: ['h:1'], topic: 't', acks: 2 as 1 })).toThrow(/"acks"/);
    expect(() => new KafkaLogPublisher({ brokers: ['h:1'], topic: 't', idempotent: true, acks: 1 })).toThrow(/"acks"/);
    expect(() => new KafkaLogPublisher({ brokers: ['h:1'], topic: 't', idempotent: true, concurrencyLimit: 2 })).toThrow(
      /"concurrencyLimit"/,
    );
    expect(() => new KafkaLogPublisher({ brokers: ['h:1'], topic: 't', topicQueryArg: 'topic' })).toThrow(/"allowedTopics"/);
    expect(
      () => new KafkaLogPublisher({ brokers: ['h:1'], topic: 't', tls: { cert: 'x' } }),
    ).toThrow(/"tls.key"/);
    expect(() => new KafkaLogPublisher({ brokers: ['nohost'], topic: 't' })).toThrow(/"brokers\[0\]"/);
  });

  it('sends one entry per message by default, serialized once, in order', async () => {
    const { fake, publisher } = setup();
    open.push(publisher);
    for (let i = 0; i < 5; i++) expect(publisher.publish(entry(i))).toBeUndefined();
    await publisher.flush();
    expect(fake.values()).toEqual([0, 1, 2, 3, 4].map((i) => JSON.stringify(entry(i))));
    expect(publisher.stats()).toMatchObject({ accepted: 5, sent: 5, buffered: 0, inFlight: 0, dropped: { total: 0 } });
  });

  it('packs maxBatchSize entries into one JSON array message', async () => {
    const { fake, publisher } = setup({ maxBatchSize: 3 });
    open.push(publisher);
    for (let i = 0; i < 7; i++) publisher.publish(entry(i));
    await publisher.flush();
    const values = fake.values().map((v) => JSON.parse(v));
    expect(values.map((v) => (Array.isArray(v) ? v.length : 1))).toEqual([3, 3, 1]);
    expect(fake.values()[0]).toBe(`[${[0, 1, 2].map((i) => JSON.stringify(entry(i))).join(',')}]`);
  });

  it('writes values byte for byte whatever the characters, alone and in arrays', async () => {
    const wide = (i: number) => entry(i, { name: `Zoë 😀 ${i}`, quote: '"\\\u0001', lone: '\ud800' });
    for (const maxBatchSize of [1, 3]) {
      const { fake, publisher } = setup({ maxBatchSize });
      open.push(publisher);
      for (let i = 0; i < 4; i++) publisher.publish(wide(i));
      await publisher.flush();
      const expected =
        maxBatchSize === 1
          ? [0, 1, 2, 3].map((i) => serializeLogEntry(wide(i)))
          : // a message of one entry is that entry, not an array
            [serializeLogEntry([0, 1, 2].map(wide)), serializeLogEntry(wide(3))];
      const values = fake.requests.flatMap((r) => r.records.map((m) => m.value));
      expect(values.map((v) => v.toString('hex'))).toEqual(expected.map((text) => Buffer.from(text).toString('hex')));
    }
  });

  it('writes the ASCII entries of a request into one buffer, counted as their bytes while they wait', async () => {
    const wide = entry(9, { name: 'Zoë' });
    const { fake, publisher } = setup({ flushTimeout: 60_000 });
    open.push(publisher);
    for (let i = 0; i < 3; i++) publisher.publish(entry(i));
    publisher.publish(wide);
    const texts = [0, 1, 2].map((i) => serializeLogEntry(entry(i)));
    expect(publisher.stats().bufferedBytes).toBe([...texts, serializeLogEntry(wide)].reduce((n, t) => n + Buffer.byteLength(t), 0));
    await publisher.flush();
    expect(fake.requests).toHaveLength(1);
    const records = fake.requests[0]?.records ?? [];
    expect(records.map((r) => r.value.toString())).toEqual([...texts, serializeLogEntry(wide)]);
    // One allocation for the three ASCII values, exactly their bytes; the other entry's value is a buffer of its own.
    const shared = new Set(records.slice(0, 3).map((r) => r.value.buffer));
    expect(shared.size).toBe(1);
    expect([...shared][0]?.byteLength).toBe(texts.reduce((n, t) => n + t.length, 0));
    const own = records[3]?.value as Buffer;
    expect(shared.has(own.buffer)).toBe(false);
    expect(own.buffer.byteLength).toBe(own.length);
    expect(balanced(publisher.stats())).toBe(true);
  });

  it('closes an incomplete message after maxCoalescingDelay and a request after flushTimeout', async () => {
    const { fake, publisher } = setup({ maxBatchSize: 10, maxCoalescingDelay: 30, flushTimeout: 30 });
    open.push(publisher);
    publisher.publish(entry(1));
    publisher.publish(entry(2));
    expect(fake.calls).toHaveLength(0);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 1000, interval: 5 });
    expect(JSON.parse(fake.values()[0] as string)).toHaveLength(2);
  });

  it('bounds requests by maxMessagesPerRequest and maxBytesPerRequest', async () => {
    const { fake, publisher } = setup({ maxMessagesPerRequest: 4 });
    open.push(publisher);
    for (let i = 0; i < 10; i++) publisher.publish(entry(i));
    await publisher.flush();
    expect(fake.requests.map((r) => r.records.length)).toEqual([4, 4, 2]);

    const size = Buffer.byteLength(JSON.stringify(entry(0)));
    const second = setup({ maxBytesPerRequest: Math.max(1024, (size + 40) * 3) });
    open.push(second.publisher);
    for (let i = 0; i < 10; i++) second.publisher.publish(entry(i));
    await second.publisher.flush();
    for (const request of second.fake.requests) {
      const bytes = request.records.reduce((n, r) => n + r.value.length + 24, 0);
      expect(bytes).toBeLessThanOrEqual(Math.max(1024, (size + 40) * 3));
    }
    expect(second.fake.values()).toHaveLength(10);
  });

  it('sends a full request at once, without waiting for flushTimeout', async () => {
    const { fake, publisher } = setup({ maxMessagesPerRequest: 3, flushTimeout: 60_000 });
    open.push(publisher);
    for (let i = 0; i < 3; i++) publisher.publish(entry(i));
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1), { timeout: 1000, interval: 5 });
  });

  it('drops over maxEntries and maxBytes, counted exactly, accounting balanced at every step', async () => {
    const { fake, publisher } = setup({ maxEntries: 5, flushTimeout: 60_000, maxMessagesPerRequest: 1000 });
    open.push(publisher);
    for (let i = 0; i < 12; i++) {
      publisher.publish(entry(i));
      expect(balanced(publisher.stats())).toBe(true);
    }
    expect(publisher.stats()).toMatchObject({ accepted: 12, buffered: 5, dropped: { total: 7 } });
    expect(publisher.stats().dropped.byReason.queue_full_entries).toBe(7);
    await publisher.flush();
    expect(fake.values()).toHaveLength(5);

    const size = Buffer.byteLength(JSON.stringify(entry(0)));
    const bytes = setup({ maxBytes: size * 3 + 1, flushTimeout: 60_000 });
    open.push(bytes.publisher);
    for (let i = 0; i < 5; i++) bytes.publisher.publish(entry(i));
    const s = bytes.publisher.stats();
    expect(s.buffered).toBe(3);
    expect(s.bufferedBytes).toBe(size * 3);
    expect(s.dropped.byReason.queue_full_bytes).toBe(2);
    expect(balanced(s)).toBe(true);
  });

  it('bounds buffered messages by maxBufferedMessages', () => {
    const { publisher } = setup({ maxBufferedMessages: 2, flushTimeout: 60_000 });
    open.push(publisher);
    for (let i = 0; i < 4; i++) publisher.publish(entry(i));
    expect(publisher.stats().dropped.byReason.queue_full_messages).toBe(2);
  });

  it('keeps accepted = sent + dropped + buffered + inFlight while requests are in flight', async () => {
    const { fake, publisher } = setup({ maxMessagesPerRequest: 2, flushTimeout: 0 });
    open.push(publisher);
    const seen: boolean[] = [];
    fake.answer = async () => {
      seen.push(balanced(publisher.stats()));
      await new Promise((r) => setTimeout(r, 2));
    };
    for (let i = 0; i < 9; i++) publisher.publish(entry(i));
    await publisher.flush();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every(Boolean)).toBe(true);
    expect(publisher.stats()).toMatchObject({ sent: 9, inFlight: 0, buffered: 0 });
  });

  it('never has more than concurrencyLimit requests in flight', async () => {
    const { fake, publisher } = setup({ maxMessagesPerRequest: 1, concurrencyLimit: 3, flushTimeout: 0 });
    open.push(publisher);
    fake.answer = () => new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 12; i++) publisher.publish(entry(i));
    await publisher.flush();
    expect(fake.maxInFlight).toBe(3);
    expect(fake.values()).toHaveLength(12);
  });

  it('retries the very same request with backoff, then delivers each entry once', async () => {
    const { fake, publisher } = setup({ initialRetryDelay: 5, flushTimeout: 60_000 });
    open.push(publisher);
    const retries: number[] = [];
    publisher.on('publisher.retry', (e) => retries.push(e.delayMs));
    fake.answer = async (_request, call) => {
      if (call <= 3) throw new TransportError('broker', 'broker down', true);
    };
    for (let i = 0; i < 3; i++) publisher.publish(entry(i));
    await publisher.flush();
    expect(fake.calls.slice(0, 4).every((r) => r === fake.calls[0])).toBe(true);
    expect(retries).toHaveLength(3);
    expect(fake.values()).toEqual([0, 1, 2].map((i) => JSON.stringify(entry(i))));
    expect(publisher.stats()).toMatchObject({ sent: 3, retried: 9, dropped: { total: 0 } });
  });

  it('drops non-retriable failures and those past maxRetryTime, with reasons and events', async () => {
    const { fake, publisher } = setup({ flushTimeout: 0 });
    open.push(publisher);
    const drops: string[] = [];
    const failures: number[] = [];
    publisher.on('publisher.drop', (e) => drops.push(`${e.reason}:${e.count}`));
    publisher.on('publisher.delivery_failure', (e) => failures.push(e.attempts));
    fake.answer = async () => {
      throw new TransportError('authentication', 'bad credentials', false);
    };
    publisher.publish(entry(1));
    await publisher.flush();
    expect(drops).toEqual(['non_retriable:1']);

    const slow = setup({ flushTimeout: 0, initialRetryDelay: 10, maxRetryTime: 50 });
    open.push(slow.publisher);
    slow.fake.answer = async () => {
      throw new TransportError('broker', 'down', true);
    };
    slow.publisher.publish(entry(1));
    slow.publisher.publish(entry(2));
    await slow.publisher.flush();
    expect(slow.publisher.stats().dropped.byReason.retry_time_exceeded).toBe(2);
    expect(slow.fake.calls.length).toBeGreaterThan(1);
    expect(failures).toEqual([1]);
  });

  it('in sync mode resolves on ack and rejects with a typed error, never unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { fake, publisher } = setup({ async: false });
      open.push(publisher);
      await expect(publisher.publish(entry(1))).resolves.toBeUndefined();
      expect(fake.values()).toHaveLength(1);

      fake.answer = async () => {
        throw new TransportError('broker', 'refused', false);
      };
      const failing = publisher.publish(entry(2));
      await expect(failing).rejects.toBeInstanceOf(DroppedError);
      await expect(failing).rejects.toMatchObject({ code: ErrorCodes.DROPPED, reason: 'non_retriable' });
      publisher.publish(entry(3)); // ignored on purpose
      await publisher.flush();
      await publisher.close();
      await expect(publisher.publish(entry(4))).rejects.toMatchObject({ code: ErrorCodes.CLOSED, reason: 'closed' });
      publisher.publish(entry(5)); // ignored on purpose
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('never throws from publish: bad entries and throwing selectors are counted drops', () => {
    const { publisher } = setup({
      key: (e) => {
        if (e.request.id === 'req-2') throw new Error('boom');
        return 'k';
      },
    });
    open.push(publisher);
    const circular = entry(1) as LogEntry & { self?: unknown };
    circular.request.headers = { a: { b: 1n } as unknown as string };
    expect(() => publisher.publish(circular)).not.toThrow();
    expect(() => publisher.publish(entry(2))).not.toThrow();
    expect(() => publisher.publish(undefined as unknown as LogEntry)).not.toThrow();
    const s = publisher.stats();
    expect(s.dropped.byReason.serialize_failed).toBe(2);
    expect(s.dropped.byReason.routing_failed).toBe(1);
    expect(balanced(s)).toBe(true);
  });

  it('routes keys and topics: key_query_arg, key function, allowed topics, headers', async () => {
    const { fake, publisher } = setup({
      keyQueryArg: 'tenant',
      key: (e) => e.request.method,
      topicQueryArg: 'topic',
      allowedTopics: ['audit'],
      messageHeaders: { source: 'kong' },
    });
    open.push(publisher);
    publisher.publish(entry(1, { tenant: 'acme', topic: 'audit' }));
    publisher.publish(entry(2));
    publisher.publish(entry(3, { topic: 'secret' }));
    publisher.publish(entry(4), { key: 'given', topic: 'audit', headers: { extra: 'x' } });
    await publisher.flush();
    const records = fake.requests.flatMap((r) => r.records);
    expect(records.map((r) => [r.topic, r.key?.toString()])).toEqual([
      ['audit', 'acme'],
      ['logs', 'GET'],
      ['audit', 'given'],
    ]);
    expect(records[2]?.headers).toEqual({ source: 'kong', extra: 'x' });
    expect(publisher.stats().dropped.byReason.topic_not_allowed).toBe(1);
  });

  it('close() delivers what is buffered, then drops later publishes as closed', async () => {
    const { fake, publisher } = setup({ flushTimeout: 60_000, maxCoalescingDelay: 60_000, maxBatchSize: 4 });
    for (let i = 0; i < 6; i++) publisher.publish(entry(i));
    await publisher.close();
    expect(fake.values().flatMap((v) => JSON.parse(v))).toHaveLength(6);
    expect(fake.closed).toBe(true);
    publisher.publish(entry(7));
    expect(publisher.stats()).toMatchObject({ accepted: 7, sent: 6, dropped: { total: 1, byReason: { closed: 1 } } });
  });

  it('close() gives up after timeoutMs and counts close_timeout', async () => {
    const { fake, publisher } = setup({ flushTimeout: 0 });
    fake.answer = async () => {
      throw new TransportError('broker', 'down', true);
    };
    for (let i = 0; i < 4; i++) publisher.publish(entry(i));
    await publisher.close({ timeoutMs: 50 });
    const s = publisher.stats();
    expect(s.dropped.byReason.close_timeout).toBe(4);
    expect(balanced(s)).toBe(true);
    expect(s.inFlight + s.buffered).toBe(0);
  });

  it('isolates throwing listeners and keeps secrets out of log events', async () => {
    const fake = new FakeTransport();
    const lines: string[] = [];
    const publisher = new KafkaLogPublisher({
      brokers: ['127.0.0.1:9'],
      topic: 'logs',
      flushTimeout: 0,
      authentication: { mechanism: 'PLAIN', username: 'u', password: 'hunter2-secret' },
      transport: (_config, hooks) => {
        hooks.log('error', 'kafkajs.test', 'login with hunter2-secret failed', { password: 'hunter2-secret' });
        return fake;
      },
      logLevel: 'debug',
      logger: {
        error: (...args: unknown[]) => lines.push(JSON.stringify(args)),
        warn: (...args: unknown[]) => lines.push(JSON.stringify(args)),
        info: (...args: unknown[]) => lines.push(JSON.stringify(args)),
        debug: (...args: unknown[]) => lines.push(JSON.stringify(args)),
      },
    });
    open.push(publisher);
    publisher.on('publisher.delivered', () => {
      throw new Error('listener bug');
    });
    publisher.publish(entry(1));
    await publisher.flush();
    expect(publisher.stats().sent).toBe(1);
    expect(lines.join('\n')).toContain('[REDACTED]');
    expect(lines.join('\n')).not.toContain('hunter2-secret');
    expect(lines.join('\n')).toContain('listener bug');
  });
});

describe('retry backoff', () => {
  const policy = { initialRetryDelay: 10, maxRetryDelay: 1000, maxRetryTime: 5000 };
  it('doubles from initialRetryDelay with ±20% jitter, capped by maxRetryDelay', () => {
    expect(retryDelay(policy, 1, () => 0.5)).toBe(10);
    expect(retryDelay(policy, 4, () => 0.5)).toBe(80);
    expect(retryDelay(policy, 4, () => 0)).toBe(64);
    expect(retryDelay(policy, 4, () => 1)).toBe(96);
    expect(retryDelay(policy, 30, () => 0.5)).toBe(1000);
  });
  it('stops when the next retry would start after maxRetryTime', () => {
    expect(mayRetry(policy, 0, 4000, 1000)).toBe(true);
    expect(mayRetry(policy, 0, 4500, 1000)).toBe(false);
  });
});

describe('bytes the queue holds', () => {
  const owns = (buffer: Buffer) => buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.length;

  it('bounds memory by default: maxBytes is 32 MiB, also through fromKongConfig (Kong leaves max_bytes unset)', async () => {
    const { PUBLISHER_DEFAULTS, resolvePublisherOptions } = await import('../../src/publisher/publisher-options.js');
    const { fromKongConfig } = await import('../../src/publisher/kong-plugin-config.js');
    expect(PUBLISHER_DEFAULTS.maxBytes).toBe(32 * 1024 * 1024);
    expect(resolvePublisherOptions({ brokers: ['h:1'], topic: 't' }).maxBytes).toBe(32 * 1024 * 1024);
    const kong = { bootstrap_servers: [{ host: 'h', port: 1 }], topic: 't' };
    const resolvedFromKong = (config: object) => resolvePublisherOptions(fromKongConfig(config)).maxBytes;
    expect(resolvedFromKong(kong)).toBe(32 * 1024 * 1024);
    expect(resolvedFromKong({ ...kong, queue: { max_bytes: null } })).toBe(32 * 1024 * 1024);
    expect(resolvedFromKong({ ...kong, queue: { max_bytes: 1_000_000 } })).toBe(1_000_000);
  });

  it("counts what each buffered message holds (value, key, headers), each value in memory of its own or its request's", async () => {
    const { fake, publisher } = setup({ flushTimeout: 60_000, messageHeaders: { source: 'kong' } });
    open.push(publisher);
    let expected = 0;
    for (let i = 0; i < 6; i++) {
      publisher.publish(entry(i), { key: `k-${i}` });
      expected += Buffer.byteLength(JSON.stringify(entry(i))) + `k-${i}`.length + 'source'.length + 'kong'.length;
      expect(publisher.stats().bufferedBytes).toBe(expected);
    }
    await publisher.flush();
    const records = fake.requests.flatMap((r) => r.records);
    expect(records).toHaveLength(6);
    // Not slices of Node's shared 8 KiB pool, which a queued slice would keep alive whole: keys own their memory,
    // the (ASCII) values of one request share one buffer of exactly their bytes.
    for (const record of records) expect(owns(record.key as Buffer)).toBe(true);
    for (const request of fake.requests) {
      const buffers = new Set(request.records.map((r) => r.value.buffer));
      expect(buffers.size).toBe(1);
      expect([...buffers][0]?.byteLength).toBe(request.records.reduce((n, r) => n + r.value.length, 0));
    }
    expect(publisher.stats().bufferedBytes).toBe(0);
  });

  it('with maxBatchSize, counts each message exactly once it is closed, and never over maxBytes while open', async () => {
    const size = Buffer.byteLength(JSON.stringify(entry(0)));
    const { fake, publisher } = setup({ maxBatchSize: 3, flushTimeout: 60_000, maxCoalescingDelay: 60_000, maxBytes: 4 * size + 8 });
    open.push(publisher);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      publisher.publish(entry(i), { key: 'k' });
      seen.push(publisher.stats().bufferedBytes);
    }
    expect(Math.max(...seen)).toBeLessThanOrEqual(4 * size + 8);
    const s = publisher.stats();
    // the first message closed at 3 entries: "[a,b,c]" plus the key, exactly; the fourth entry is open, the rest dropped
    expect(s.buffered).toBe(4);
    expect(s.dropped.byReason.queue_full_bytes).toBe(2);
    await publisher.flush();
    const values = fake.values();
    expect(values[0]).toBe(`[${[0, 1, 2].map((i) => JSON.stringify(entry(i))).join(',')}]`);
    expect(fake.requests[0]?.records[0]?.value.length).toBe(3 * size + 4);
    expect(publisher.stats()).toMatchObject({ buffered: 0, bufferedBytes: 0, sent: 4 });
  });

  it('refuses at publish time an entry larger than maxBytesPerRequest on its own', () => {
    const { publisher } = setup({ maxBytesPerRequest: 1024 });
    open.push(publisher);
    const big = entry(1);
    big.request.headers = { pad: 'x'.repeat(2000) };
    publisher.publish(big);
    publisher.publish(entry(2));
    expect(publisher.stats()).toMatchObject({ accepted: 2, buffered: 1, dropped: { byReason: { message_too_large: 1 } } });
  });
});
