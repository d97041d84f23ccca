// The worker transport's request-thread side against its delivery-thread side, connected by a real
// MessageChannel (what a Worker's port is) in this process, the Kafka client replaced by a recording transport.
// Delivery through real worker threads to the real broker: test/integration/publisher-worker.test.ts.
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProduceRecord, ProduceRequest, Transport, TransportConfig, TransportHooks } from '../../src/transport/transport.js';
import { TransportError } from '../../src/transport/transport.js';
import { type DeliveryThread, createWorkerTransport } from '../../src/transport/worker.js';
import { packRecords, unpackRecords, type WorkerData } from '../../src/transport/worker-protocol.js';
import { serveTransport } from '../../src/transport/worker-server.js';

const CONFIG: TransportConfig = {
  brokers: ['127.0.0.1:9092'],
  clientId: 'test',
  connectionTimeout: 1000,
  keepAliveMs: undefined,
  tls: undefined,
  sasl: undefined,
  acks: 1,
  requestTimeout: 2000,
  compression: 'none',
  idempotent: false,
  maxRequestRetries: 0,
  retryBackoff: 10,
  logLevel: 'warn',
};

/** What the Kafka client behind the delivery thread saw, and how it answers. */
class RecordingClient implements Transport {
  readonly produced: ProduceRequest[] = [];
  /** The records of each produce call, as they were when it was made. */
  readonly seen: ProduceRecord[][] = [];
  readonly config: TransportConfig;
  readonly hooks: TransportHooks;
  failures: TransportError[] = [];
  connectFailures: TransportError[] = [];
  connects = 0;
  closed = false;
  /** Resolves produce calls only when released (to hold a request in flight). */
  hold = false;
  readonly held: Array<() => void> = [];

  constructor(config: TransportConfig, hooks: TransportHooks) {
    this.config = config;
    this.hooks = hooks;
  }

  async connect(): Promise<void> {
    this.connects += 1;
    const failure = this.connectFailures.shift();
    if (failure) throw failure;
  }

  async produce(request: ProduceRequest): Promise<void> {
    this.produced.push(request);
    // Copied now: once acknowledged, the bytes go back to the caller's thread (the views here are emptied).
    this.seen.push(request.records.map((r) => ({ ...r, key: r.key && Buffer.from(r.key), value: Buffer.from(r.value) })));
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Delivery threads served in this process: each spawn is a fresh server (a restarted thread knows nothing). */
class InProcessThreads {
  readonly clients: RecordingClient[] = [];
  readonly threads: Array<DeliveryThread & EventEmitter> = [];
  readonly data: WorkerData[] = [];
  /** Connect failures every new client starts with. */
  connectFailures: TransportError[] = [];

  spawn = (data: WorkerData): DeliveryThread => {
    this.data.push(data);
    const { port1, port2 } = new MessageChannel();
    const thread = Object.assign(new EventEmitter(), {
      postMessage: (message: unknown, transfer?: ArrayBuffer[]) => port1.postMessage(message, transfer ?? []),
      terminate: async () => {
        port1.close();
        port2.close();
        thread.emit('exit', 1);
        return 1;
      },
    });
    port1.on('message', (message) => thread.emit('message', message));
    serveTransport(port2, data, async () => (config, hooks) => {
      const client = new RecordingClient(config, hooks);
      client.connectFailures = [...this.connectFailures];
      this.clients.push(client);
      return client;
    });
    this.threads.push(thread as DeliveryThread & EventEmitter);
    return thread as DeliveryThread;
  };

  /** The thread dies: its port goes quiet, then `exit` (what node reports for an uncaught error in a worker). */
  crash(index: number, message = 'boom'): void {
    const thread = this.threads[index] as DeliveryThread & EventEmitter;
    thread.emit('error', new Error(message));
    thread.emit('exit', 1);
  }

  get last(): RecordingClient {
    return this.clients.at(-1) as RecordingClient;
  }
}

const logs: Array<{ level: string; namespace: string; message: string; extra?: Record<string, unknown> }> = [];
const hooks: TransportHooks = { log: (level, namespace, message, extra) => logs.push({ level, namespace, message, ...(extra ? { extra } : {}) }) };
const open: Transport[] = [];

function transportOver(threads: InProcessThreads, config: TransportConfig = CONFIG): Transport {
  const transport = createWorkerTransport(config, hooks, { client: 'kafkajs', spawn: threads.spawn });
  open.push(transport);
  return transport;
}

function record(value: string, extra: Partial<ProduceRecord> = {}): ProduceRecord {
  return { topic: 'logs', key: null, value: Buffer.from(value), ...extra };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
};

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  logs.length = 0;
});

describe('packing a request for the crossing', () => {
  it('round-trips topics, partitions, keys, values and headers, and transfers only their bytes', () => {
    // Values cut from node's shared pool: a Buffer cloned whole would take its 8 KiB slab along.
    const records: ProduceRecord[] = [
      record('{"a":1}'),
      record('{"b":2}', { topic: 'other', key: Buffer.from('k1'), partition: 3 }),
      record('', { key: Buffer.alloc(0), headers: { trace: 'abc', raw: Buffer.from([0, 1, 2]) } }),
      record('{"é":"ü"}', { topic: 'logs', partition: 0 }),
    ];
    expect((records[0] as ProduceRecord).value.buffer.byteLength).toBeGreaterThan(1000);
    const { records: wire, transfer } = packRecords({ records });
    // Keys and values only (header buffers travel on their own), in a buffer of their own.
    expect(wire.bytes.byteLength).toBe(7 + (2 + 7) + 0 + Buffer.byteLength('{"é":"ü"}'));
    expect(wire.bytes.buffer).toBe(transfer);
    expect(transfer.byteLength).toBeLessThanOrEqual(64 * 1024);
    expect(wire.topics).toEqual(['logs', 'other']);
    const back = unpackRecords(structuredClone(wire, { transfer: [transfer] }));
    expect(back).toEqual(records);
    expect(back.map((r) => Buffer.isBuffer(r.value))).toEqual([true, true, true, true]);
  });

  it('writes into a spare buffer given back by the thread when it is large enough, else into a new one', () => {
    const request = { records: [record('x'.repeat(1000))] };
    const spare = new ArrayBuffer(2048);
    expect(packRecords(request, spare).transfer).toBe(spare);
    expect(Buffer.from(spare, 0, 1000).toString()).toBe('x'.repeat(1000));
    const small = new ArrayBuffer(10);
    const { transfer } = packRecords(request, small);
    expect(transfer).not.toBe(small);
    expect(transfer.byteLength).toBeGreaterThanOrEqual(1000);
  });
});

describe('worker transport', () => {
  it('produces the records in the delivery thread and resolves on acknowledgement', async () => {
    const threads = new InProcessThreads();
    const transport = transportOver(threads);
    const records = [record('{"n":1}'), record('{"n":2}', { key: Buffer.from('key') })];
    await transport.produce({ records });
    expect(threads.clients).toHaveLength(1);
    expect(threads.last.produced).toHaveLength(1);
    expect(threads.last.seen[0]).toEqual(records);
  });

  it('keeps the configuration but for what cannot cross, and refuses a secure context with a clear error', () => {
    const threads = new InProcessThreads();
    transportOver(threads, { ...CONFIG, tls: { rejectUnauthorized: true, ca: 'PEM' } }).connect();
    expect(threads.data[0]?.config).toMatchObject({ brokers: CONFIG.brokers, tls: { rejectUnauthorized: true, ca: 'PEM' } });
    expect(() =>
      createWorkerTransport({ ...CONFIG, tls: { rejectUnauthorized: true, secureContext: {} as never } }, hooks, { client: 'kafkajs', spawn: threads.spawn }),
    ).toThrowError(/secureContext/);
  });

  it('carries a failure across as a TransportError of the same kind, and a retry reuses the request the thread holds', async () => {
    const threads = new InProcessThreads();
    const transport = transportOver(threads);
    const request = { records: [record('{"n":1}')] };
    await transport.connect();
    threads.last.failures.push(new TransportError('message_too_large', 'too large', false), new TransportError('broker', 'leader moved', true));
    const tooLarge = await transport.produce(request).catch((e: unknown) => e);
    expect(tooLarge).toBeInstanceOf(TransportError);
    expect(tooLarge).toMatchObject({ kind: 'message_too_large', retriable: false, message: 'too large' });
    const moved = await transport.produce(request).catch((e: unknown) => e);
    expect(moved).toMatchObject({ kind: 'broker', retriable: true });
    await transport.produce(request);
    // The same object each time: the client keeps its partition choices (and sequence numbers) across retries.
    expect(threads.last.produced).toHaveLength(3);
    expect(new Set(threads.last.produced).size).toBe(1);
  });

  it('a connect failure carries its kind, and the next connect tries again', async () => {
    const threads = new InProcessThreads();
    threads.connectFailures = [new TransportError('authentication', 'bad password', false)];
    const transport = transportOver(threads);
    const failed = await transport.connect().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(TransportError);
    expect(failed).toMatchObject({ kind: 'authentication', retriable: false, message: 'bad password' });
    await expect(transport.connect()).resolves.toBeUndefined();
    expect(threads.last.connects).toBe(2);
    // Connected: later calls share the attempt.
    await transport.connect();
    expect(threads.last.connects).toBe(2);
  });

  it('a delivery thread that dies fails its requests in flight as retriable, says so, and the retry goes to a new thread with the records', async () => {
    const threads = new InProcessThreads();
    const transport = transportOver(threads);
    await transport.connect();
    threads.last.hold = true;
    const request = { records: [record('{"n":1}'), record('{"n":2}')] };
    const inFlight = transport.produce(request);
    await until(() => threads.last.produced.length === 1);
    threads.crash(0, 'client threw');
    const error = await inFlight.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ retriable: true });
    expect((error as Error).message).toContain('client threw');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', namespace: 'worker' }));
    expect(logs.find((l) => l.namespace === 'worker')?.message).toMatch(/1 request\(s\) in flight/);

    // The publisher retries the same request: a second thread starts and gets the records again.
    await transport.produce(request);
    expect(threads.clients).toHaveLength(2);
    expect(threads.last.seen[0]).toEqual(request.records);
  });

  it('a delivery thread that cannot start (its script missing from a bundle) is a clear, non-retriable error', async () => {
    const missing = path.join(os.tmpdir(), 'kafka-log-no-such-dir', 'transport-worker.js');
    const transport = createWorkerTransport(CONFIG, hooks, {
      client: 'kafkajs',
      spawn: (data) => new Worker(missing, { workerData: data }) as unknown as DeliveryThread,
    });
    open.push(transport);
    const error = await transport.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'missing_dependency', retriable: false });
    expect((error as Error).message).toContain('dist/transport-worker.js');
    const produced = await transport.produce({ records: [record('{"n":1}')] }).catch((e: unknown) => e);
    expect(produced).toMatchObject({ kind: 'missing_dependency', retriable: false });
    expect(logs.filter((l) => l.namespace === 'worker' && l.level === 'error')).toHaveLength(2);
  });

  it('a request produced again after its acknowledgement (the thread let go of it) is sent again in full', async () => {
    const threads = new InProcessThreads();
    const transport = transportOver(threads);
    const request = { records: [record('{"n":1}')] };
    await transport.produce(request);
    await transport.produce(request);
    expect(threads.clients).toHaveLength(1);
    expect(threads.last.produced).toHaveLength(2);
    expect(threads.last.seen[1]).toEqual(request.records);
  });

  it('passes the client log lines on, extra fields that cannot be cloned left out', async () => {
    const threads = new InProcessThreads();
    const transport = transportOver(threads);
    await transport.connect();
    threads.last.hooks.log('warn', 'kafkajs.Connection', 'slow broker', { broker: 'b:1', retry: () => 1 });
    threads.last.hooks.log('info', 'kafkajs.Connection', 'cyclic', (() => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      return cyclic;
    })());
    await until(() => logs.length === 2);
    expect(logs[0]).toEqual({ level: 'warn', namespace: 'kafkajs.Connection', message: 'slow broker', extra: { broker: 'b:1' } });
    expect(logs[1]).toEqual({ level: 'info', namespace: 'kafkajs.Connection', message: 'cyclic' });
  });

  it('OAUTHBEARER tokens come from the provider in the calling thread', async () => {
    const threads = new InProcessThreads();
    let calls = 0;
    const transport = transportOver(threads, {
      ...CONFIG,
      sasl: {
        mechanism: 'OAUTHBEARER',
        oauthBearerToken: async () => {
          calls += 1;
          if (calls === 2) throw new Error('token endpoint down');
          return { value: `token-${calls}`, extensions: { ext: 'x' } };
        },
      },
    });
    await transport.connect();
    const provider = threads.last.config.sasl?.oauthBearerToken;
    expect(provider).toBeTypeOf('function');
    await expect(provider?.()).resolves.toEqual({ value: 'token-1', extensions: { ext: 'x' } });
    await expect(provider?.()).rejects.toThrow('token endpoint down');
    await expect(provider?.()).resolves.toEqual({ value: 'token-3', extensions: { ext: 'x' } });
  });

  it('close() closes the client in its thread, ends the thread, fails what is left and refuses more', async () => {
    const threads = new InProcessThreads();
    const transport = transportOver(threads);
    await transport.produce({ records: [record('{"n":1}')] });
    const client = threads.last;
    client.hold = true;
    const stuck = transport.produce({ records: [record('{"n":2}')] });
    await until(() => client.produced.length === 2);
    await transport.close();
    expect(client.closed).toBe(true);
    await expect(stuck).rejects.toMatchObject({ retriable: false });
    await expect(transport.produce({ records: [record('{"n":3}')] })).rejects.toMatchObject({ retriable: false });
    await expect(transport.close()).resolves.toBeUndefined();
  });

  it('close() without a thread started resolves at once', async () => {
    const threads = new InProcessThreads();
    const transport = transportOver(threads);
    await transport.close();
    expect(threads.threads).toHaveLength(0);
  });
});
