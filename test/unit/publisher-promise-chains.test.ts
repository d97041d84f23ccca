// No promise chain of the publisher can reject unhandled, whatever a transport of one's own does: reject with a
// value that cannot even be printed, throw synchronously from close(), return nothing. Vitest fails a run on any
// unhandled rejection or uncaught exception, so these tests fail if one escapes.
import { describe, expect, it } from 'vitest';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { Transport, TransportFactory } from '../../src/transport/transport.js';
import { buildTestEntry, exchangeFixture } from '../../src/testing/index.js';

const entry = () => buildTestEntry(exchangeFixture());

function recorder() {
  const lines: string[] = [];
  const record = (...args: unknown[]) => lines.push(String(args.at(-1)));
  return { lines, logger: { error: record, warn: record, info: record, debug: record } };
}

describe('a transport of one’s own that misbehaves', () => {
  it('rejecting with an unprintable value: retried, then dropped and logged; nothing escapes', async () => {
    const { lines, logger } = recorder();
    const unprintable = Object.create(null) as object;
    const factory: TransportFactory = () => ({
      connect: () => Promise.reject(unprintable),
      produce: () => Promise.reject(unprintable),
      close: async () => undefined,
    });
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9'], topic: 't', transport: factory, flushTimeout: 0, maxRetryTime: 50, initialRetryDelay: 5, logger });
    await expect(publisher.connect()).rejects.toMatchObject({ code: 'KAFKA_LOG_ERR_BROKER', message: '[object Object]' });
    const settled = new Promise<void>((resolve) => publisher.on('publisher.drop', () => resolve()));
    publisher.publish(entry());
    await settled;
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: 1, dropped: { total: 1, byReason: { retry_time_exceeded: 1 } } });
    expect(lines).toContain('kafka-log: cannot reach Kafka at 127.0.0.1:9: [object Object]; will retry');
    expect(lines).toContain('kafka-log: 1 log entry dropped (retry_time_exceeded): [object Object]');
  });

  it('close() throwing synchronously: close() still resolves, a pending flush() too, and it is logged', async () => {
    const { lines, logger } = recorder();
    let produced = 0;
    const transport = {
      connect: async () => undefined,
      produce: () => {
        produced += 1;
        return new Promise<void>(() => undefined); // never answers
      },
      close: () => {
        throw new Error('close broke');
      },
    } as unknown as Transport;
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9'], topic: 't', transport: () => transport, flushTimeout: 0, logger });
    publisher.publish(entry());
    const flushed = publisher.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(produced).toBe(1);
    await publisher.close({ timeoutMs: 20 });
    await flushed;
    expect(publisher.closed).toBe(true);
    expect(lines).toContain('kafka-log: internal error in close: Error: close broke');
    expect(publisher.stats()).toMatchObject({ accepted: 1, dropped: { byReason: { close_timeout: 1 } } });
  });

  it('flush() and close() called and ignored (`void`) never leave a rejection behind', async () => {
    const factory: TransportFactory = () => ({
      connect: () => Promise.reject(new Error('down')),
      produce: () => Promise.reject(new Error('down')),
      close: () => Promise.reject(new Error('close failed too')),
    });
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9'], topic: 't', transport: factory, flushTimeout: 0, logger: false });
    publisher.publish(entry());
    void publisher.flush();
    void publisher.close({ timeoutMs: 10 });
    await publisher.close();
    expect(publisher.stats().dropped.total).toBe(1);
  });
});
