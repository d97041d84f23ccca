// Every failure before or during a connection reaches the caller with its real cause and a typed code, on both
// transports: a codec package that cannot load, an OAUTHBEARER setup without a token provider (both before the
// client's producer exists, where kafkajs' transport used to resolve and later say "the transport is closed"),
// a refused port, and a port that accepts connections but never speaks Kafka.
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { DropEvent } from '../../src/publisher/events.js';
import { createKafkajsTransport } from '../../src/transport/kafkajs.js';
import { createPlatformaticTransport } from '../../src/transport/platformatic.js';
import type { TransportConfig, TransportFactory } from '../../src/transport/transport.js';
import { TransportError } from '../../src/transport/transport.js';
import { buildTestEntry, exchangeFixture } from '../../src/testing/index.js';

const transports: Array<[string, TransportFactory]> = [
  ['kafkajs', createKafkajsTransport],
  ['platformatic', createPlatformaticTransport],
];

function config(overrides: Partial<TransportConfig> = {}): TransportConfig {
  return {
    brokers: ['127.0.0.1:1'],
    clientId: 'connect-failures',
    connectionTimeout: 500,
    keepAliveMs: undefined,
    tls: undefined,
    sasl: undefined,
    acks: 1,
    requestTimeout: 500,
    compression: 'none',
    idempotent: false,
    maxRequestRetries: 0,
    retryBackoff: 10,
    logLevel: 'silent',
    ...overrides,
  };
}

const hooks = { log: () => undefined };

/** A port that accepts TCP connections and never answers (a listener of another protocol, a stuck proxy). */
async function silentPort(): Promise<{ port: number; open(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

afterEach(() => {
  vi.doUnmock('snappyjs');
  vi.doUnmock('@bokuweb/zstd-wasm');
  vi.resetModules();
});

describe('kafkajs transport: failures before the producer exists', () => {
  it('a codec package that cannot load rejects connect() with MISSING_DEPENDENCY, and produce() says the same', async () => {
    vi.doMock('snappyjs', () => {
      throw Object.assign(new Error("Cannot find package 'snappyjs'"), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    const { createKafkajsTransport: create } = await import('../../src/transport/kafkajs.js');
    const transport = create(config({ compression: 'snappy' }), hooks);
    const error = await transport.connect().then(
      () => 'resolved',
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: ErrorCodes.MISSING_DEPENDENCY, retriable: false });
    expect((error as Error).message).toBe('compression "snappy" needs the package "snappyjs": npm install snappyjs');
    // The entries of a request meet the same cause, not "the transport is closed".
    const produced = await transport.produce({ records: [{ topic: 't', key: null, value: Buffer.from('{}') }] }).catch((e: unknown) => e);
    expect(produced).toMatchObject({ code: ErrorCodes.MISSING_DEPENDENCY, message: (error as Error).message });
    await transport.close();
  });

  it('OAUTHBEARER without a token provider rejects connect() with AUTHENTICATION', async () => {
    const transport = createKafkajsTransport(config({ sasl: { mechanism: 'OAUTHBEARER' } }), hooks);
    await expect(transport.connect()).rejects.toMatchObject({ code: ErrorCodes.AUTHENTICATION, message: 'OAUTHBEARER needs a token provider' });
    await transport.close();
  });
});

describe('platformatic transport: failures before the producer exists', () => {
  it('OAUTHBEARER without a token provider rejects connect() with AUTHENTICATION', async () => {
    const transport = await createPlatformaticTransport(config({ sasl: { mechanism: 'OAUTHBEARER' } }), hooks);
    await expect(transport.connect()).rejects.toMatchObject({ code: ErrorCodes.AUTHENTICATION, message: 'OAUTHBEARER needs a token provider' });
    await transport.close();
  });

  it('zstd: Node\'s own where it has one, else @bokuweb/zstd-wasm; without it, connect() rejects with MISSING_DEPENDENCY', async () => {
    vi.doMock('@bokuweb/zstd-wasm', () => {
      throw Object.assign(new Error("Cannot find package '@bokuweb/zstd-wasm'"), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    const { createPlatformaticTransport: create } = await import('../../src/transport/platformatic.js');
    const transport = await create(config({ compression: 'zstd' }), hooks);
    const error = await transport.connect().catch((e: unknown) => e);
    if (typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function') {
      // No package needed: the attempt gets as far as the (refused) broker.
      expect(error).toMatchObject({ code: ErrorCodes.BROKER, message: expect.stringContaining('ECONNREFUSED') });
    } else {
      expect(error).toMatchObject({ code: ErrorCodes.MISSING_DEPENDENCY, message: expect.stringContaining('npm install @bokuweb/zstd-wasm') });
    }
    await transport.close();
  });
});

describe.each(transports)('%s transport: unreachable brokers', (_name, create) => {
  it('a refused port rejects connect() with a retriable BROKER error naming the address', async () => {
    const transport = await create(config(), hooks);
    const error = await transport.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: ErrorCodes.BROKER, retriable: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED 127\.0\.0\.1:1/);
    await transport.close();
  });

  it('a port that never answers rejects connect() with a retriable error, never resolves', async () => {
    const silent = await silentPort();
    try {
      const transport = await create(config({ brokers: [`127.0.0.1:${silent.port}`] }), hooks);
      const started = Date.now();
      const error = await transport.connect().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ retriable: true });
      expect([ErrorCodes.TIMEOUT, ErrorCodes.BROKER]).toContain((error as TransportError).code);
      // Bounded by the client's own timeouts (connectionTimeout and requestTimeout 500 ms here, one retry).
      expect(Date.now() - started).toBeLessThan(15_000);
      await transport.close();
    } finally {
      await silent.close();
    }
  });
});

describe('kafkajs transport: close() during a connection attempt', () => {
  it('ends the attempt at once and leaves no socket open', async () => {
    const silent = await silentPort();
    try {
      const transport = createKafkajsTransport(config({ brokers: [`127.0.0.1:${silent.port}`], connectionTimeout: 10_000 }), hooks);
      const attempt = transport.connect().catch((e: unknown) => e);
      for (let i = 0; i < 100 && silent.open() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(silent.open()).toBe(1);
      const closing = Date.now();
      await transport.close();
      expect(await attempt).toBeInstanceOf(TransportError);
      // Well before the 10 s the attempt would have waited for the handshake.
      expect(Date.now() - closing).toBeLessThan(5000);
      for (let i = 0; i < 100 && silent.open() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(silent.open()).toBe(0);
      await expect(transport.connect()).rejects.toMatchObject({ message: 'the transport is closed' });
    } finally {
      await silent.close();
    }
  });
});

describe('publisher: failures before the connection speak', () => {
  const entry = () => buildTestEntry(exchangeFixture());

  it('connect() rejects with the real cause, and each entry dropped for it carries that cause', async () => {
    const missing = new TransportError('missing_dependency', 'compression "lz4" needs the package "lz4js": npm install lz4js', false);
    const factory: TransportFactory = () => ({
      connect: () => Promise.reject(missing),
      produce: () => Promise.reject(missing),
      close: async () => undefined,
    });
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:1'], topic: 't', transport: factory, flushTimeout: 0, logger: false });
    await expect(publisher.connect()).rejects.toBe(missing);
    const drops: DropEvent[] = [];
    publisher.on('publisher.drop', (event) => drops.push(event));
    const settled = publisher.publish(entry());
    expect(settled).toBeUndefined();
    await publisher.flush();
    expect(drops).toHaveLength(1);
    expect(drops[0]?.reason).toBe('non_retriable');
    expect(drops[0]?.error?.cause).toBe(missing);
    expect(drops[0]?.error?.message).toContain('needs the package "lz4js"');
    await publisher.close();
  });

  it('a factory that throws (a transport package that cannot load) rejects connect() with its error', async () => {
    const factory: TransportFactory = () => {
      throw new TransportError('missing_dependency', 'transport "platformatic" needs the package "@platformatic/kafka": npm install @platformatic/kafka', false);
    };
    const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:1'], topic: 't', transport: factory, logger: false });
    await expect(publisher.connect()).rejects.toMatchObject({ code: ErrorCodes.MISSING_DEPENDENCY, message: expect.stringContaining('@platformatic/kafka') });
    await publisher.close();
  });

  it('connect() settles within timeout + 5 s even when the transport never answers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const factory: TransportFactory = () => ({
        connect: () => new Promise<void>(() => undefined),
        produce: () => new Promise<void>(() => undefined),
        close: async () => undefined,
      });
      const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:1'], topic: 't', transport: factory, timeout: 1000, logger: false });
      const outcome = publisher.connect().catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(5999);
      let settled = false;
      void outcome.then(() => {
        settled = true;
      });
      await Promise.resolve();
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await outcome).toMatchObject({ code: ErrorCodes.TIMEOUT, retriable: true, message: 'no answer from Kafka at 127.0.0.1:1 within 6000 ms' });
      const closing = publisher.close({ timeoutMs: 0 });
      await vi.advanceTimersByTimeAsync(10);
      await closing;
    } finally {
      vi.useRealTimers();
    }
  });
});
