// The publisher's emitter cannot be turned against its host: `once` runs once, a throwing or rejecting listener of
// any event (the log event included) is reported once per failure and never reaches the emitting code, nothing
// recurses, and listeners that fail on every event do not flood the logger.
import { afterEach, describe, expect, it } from 'vitest';
import { type ListenerFailure, MAX_NESTED_EMITS, PublisherEvents, TypedEmitter } from '../../src/publisher/events.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { Transport, TransportFactory } from '../../src/transport/transport.js';
import { buildTestEntry, exchangeFixture } from '../../src/testing/index.js';

const connection = { brokers: ['127.0.0.1:9092'] };

describe('TypedEmitter', () => {
  it('once: runs on the first event only and is removed', () => {
    const emitter = new TypedEmitter(() => undefined);
    let calls = 0;
    emitter.once(PublisherEvents.CONNECT, () => {
      calls += 1;
    });
    expect(emitter.has(PublisherEvents.CONNECT)).toBe(true);
    emitter.emit(PublisherEvents.CONNECT, connection);
    emitter.emit(PublisherEvents.CONNECT, connection);
    emitter.emit(PublisherEvents.CONNECT, connection);
    expect(calls).toBe(1);
    expect(emitter.has(PublisherEvents.CONNECT)).toBe(false);
  });

  it('once: runs once even when its own call emits the event again', () => {
    const emitter = new TypedEmitter(() => undefined);
    let calls = 0;
    emitter.once(PublisherEvents.CONNECT, () => {
      calls += 1;
      emitter.emit(PublisherEvents.CONNECT, connection);
    });
    emitter.emit(PublisherEvents.CONNECT, connection);
    expect(calls).toBe(1);
  });

  it('off removes a listener added with on or once; listeners added during an emission wait for the next', () => {
    const emitter = new TypedEmitter(() => undefined);
    const seen: string[] = [];
    const a = () => seen.push('a');
    const b = () => seen.push('b');
    emitter.on(PublisherEvents.CONNECT, a);
    emitter.once(PublisherEvents.CONNECT, b);
    emitter.off(PublisherEvents.CONNECT, b);
    emitter.on(PublisherEvents.CONNECT, () => {
      seen.push('adder');
      emitter.on(PublisherEvents.CONNECT, () => seen.push('late'));
    });
    emitter.emit(PublisherEvents.CONNECT, connection);
    expect(seen).toEqual(['a', 'adder']);
    emitter.off(PublisherEvents.CONNECT, a);
    seen.length = 0;
    emitter.emit(PublisherEvents.CONNECT, connection);
    expect(seen).toEqual(['adder', 'late']);
  });

  it('a throwing listener is reported once per throw; the others still run; emit never throws', () => {
    const failures: ListenerFailure[] = [];
    const emitter = new TypedEmitter((failure) => failures.push(failure));
    const seen: number[] = [];
    emitter.on(PublisherEvents.DISCONNECT, () => {
      throw new Error('first');
    });
    emitter.on(PublisherEvents.DISCONNECT, () => seen.push(1));
    emitter.once(PublisherEvents.DISCONNECT, () => {
      throw new Error('once');
    });
    expect(() => emitter.emit(PublisherEvents.DISCONNECT, connection)).not.toThrow();
    expect(() => emitter.emit(PublisherEvents.DISCONNECT, connection)).not.toThrow();
    expect(seen).toEqual([1, 1]);
    expect(failures.map((f) => [f.event, f.kind, (f.error as Error).message])).toEqual([
      ['publisher.disconnect', 'threw', 'first'],
      ['publisher.disconnect', 'threw', 'once'],
      ['publisher.disconnect', 'threw', 'first'],
    ]);
  });

  it('an async listener that rejects is reported, never an unhandled rejection; so is a hostile thenable', async () => {
    const failures: ListenerFailure[] = [];
    const emitter = new TypedEmitter((failure) => failures.push(failure));
    emitter.on(PublisherEvents.CONNECT, async () => {
      throw new Error('async');
    });
    emitter.on(PublisherEvents.CONNECT, (() => ({
      // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the case under test
      get then() {
        throw new Error('then getter');
      },
    })) as unknown as () => void);
    emitter.emit(PublisherEvents.CONNECT, connection);
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures.map((f) => [f.kind, (f.error as Error).message]).sort()).toEqual([
      ['rejected', 'async'],
      ['threw', 'then getter'],
    ]);
  });

  it('a reporter that throws is contained too', () => {
    const emitter = new TypedEmitter(() => {
      throw new Error('reporter');
    });
    emitter.on(PublisherEvents.CONNECT, () => {
      throw new Error('listener');
    });
    expect(() => emitter.emit(PublisherEvents.CONNECT, connection)).not.toThrow();
  });

  it(`events nest at most ${MAX_NESTED_EMITS} deep: a listener that re-emits cannot recurse until the stack overflows`, () => {
    const failures: ListenerFailure[] = [];
    const emitter = new TypedEmitter((failure) => failures.push(failure));
    let calls = 0;
    emitter.on(PublisherEvents.DROP, (event) => {
      calls += 1;
      emitter.emit(PublisherEvents.DROP, event);
    });
    emitter.emit(PublisherEvents.DROP, { reason: 'closed', count: 1 });
    expect(calls).toBe(MAX_NESTED_EMITS);
    expect(failures).toEqual([{ event: 'publisher.drop', kind: 'nested', error: undefined }]);
  });
});

/** A transport that acknowledges everything at once; its client writes a log line per request. */
function instantFactory(): TransportFactory {
  return (_config, hooks) => {
    const transport: Transport = {
      connect: async () => undefined,
      produce: async () => hooks.log('info', 'fake.client', 'produced'),
      close: async () => undefined,
    };
    return transport;
  };
}

interface LoggerCall {
  level: string;
  args: unknown[];
}

function recorder(): { calls: LoggerCall[]; logger: Record<'error' | 'warn' | 'info' | 'debug', (...args: unknown[]) => void> } {
  const calls: LoggerCall[] = [];
  const at = (level: string) => (...args: unknown[]) => calls.push({ level, args });
  return { calls, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } };
}

describe('KafkaLogPublisher listeners', () => {
  const open: KafkaLogPublisher[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.close();
  });
  const entry = () => buildTestEntry(exchangeFixture());

  it('a throwing publisher.log listener and another throwing listener: no recursion, one line each, never to the failed listener', async () => {
    const { calls, logger } = recorder();
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', transport: instantFactory(), flushTimeout: 0, logger, logLevel: 'debug' });
    open.push(publisher);
    const logEvents: string[] = [];
    publisher.on('publisher.log', (event) => {
      logEvents.push(event.message);
      throw new Error('log listener broke');
    });
    publisher.on('publisher.delivered', () => {
      throw new Error('delivered listener broke');
    });
    for (let i = 0; i < 50; i++) {
      publisher.publish(entry());
      await publisher.flush();
    }
    expect(publisher.stats()).toMatchObject({ accepted: 50, sent: 50 });
    const failureLines = calls.filter((c) => String(c.args.at(-1)).includes('listener'));
    // Rate-limited: one line per event name in the first minute, whatever the number of throws.
    expect(failureLines.map((c) => [c.level, c.args])).toEqual([
      ['error', ['kafka-log: a "publisher.log" listener threw: Error: log listener broke']],
      ['error', ['kafka-log: a "publisher.delivered" listener threw: Error: delivered listener broke']],
    ]);
    // The log listener threw on every line it got, yet no line about a listener failure was delivered to it.
    expect(logEvents.some((m) => m.includes('listener'))).toBe(false);
    expect(logEvents.filter((m) => m === 'produced')).toHaveLength(50);
  });

  it('listeners that throw anything (null-prototype objects, unprintable values, symbols) are reported without throwing', async () => {
    const { calls, logger } = recorder();
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', transport: instantFactory(), flushTimeout: 0, logger });
    open.push(publisher);
    const hostile: unknown[] = [
      Object.create(null),
      {
        toString() {
          throw new Error('no');
        },
      },
      Symbol('s'),
      Object.defineProperty(new Error('x'), 'message', {
        get() {
          throw new Error('getter');
        },
      }),
    ];
    const events = ['publisher.delivered', 'publisher.connect', 'publisher.drop', 'publisher.disconnect'] as const;
    for (const [i, name] of events.entries()) {
      publisher.on(name, () => {
        throw hostile[i];
      });
    }
    publisher.publish(entry());
    await publisher.flush();
    await publisher.close();
    publisher.publish(entry()); // dropped as `closed`: the drop listener throws
    expect(publisher.stats()).toMatchObject({ sent: 1, dropped: { total: 1 } });
    const lines = calls.map((c) => String(c.args.at(-1)));
    expect(lines.filter((l) => l.includes('listener threw'))).toHaveLength(4);
    expect(lines.join('\n')).toContain('[object Object]');
    expect(lines.join('\n')).toContain('Symbol(s)');
  });

  it('once listeners of the publisher run exactly once', async () => {
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', transport: instantFactory(), flushTimeout: 0, logger: false });
    open.push(publisher);
    let delivered = 0;
    publisher.once('publisher.delivered', () => {
      delivered += 1;
      throw new Error('once and throwing');
    });
    for (let i = 0; i < 5; i++) {
      publisher.publish(entry());
      await publisher.flush();
    }
    expect(publisher.stats().sent).toBe(5);
    expect(delivered).toBe(1);
  });

  it('a publisher.drop listener that publishes after close() cannot recurse without bound', async () => {
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', transport: instantFactory(), logger: false });
    await publisher.close();
    publisher.on('publisher.drop', () => {
      publisher.publish(entry());
    });
    publisher.publish(entry());
    // The first drop and the nested ones up to the bound: each entry is still counted.
    expect(publisher.stats().dropped.byReason.closed).toBe(MAX_NESTED_EMITS + 1);
    expect(publisher.stats().accepted).toBe(MAX_NESTED_EMITS + 1);
  });
});
