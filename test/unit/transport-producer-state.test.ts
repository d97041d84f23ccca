// An idempotent producer whose state the broker no longer accepts (OUT_OF_ORDER_SEQUENCE_NUMBER,
// UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH) gets a new producer id, and the request fails retriable so the
// publisher sends it again; a batch whose outcome is unknown makes the next batch of other records to its partition
// wait for a new producer id. Both transports, over fake clients (the logic only); the real broker forgetting the
// producer is test/integration/publisher-producer-state.test.ts.
import { MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError } from '@platformatic/kafka';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { kafkaErrorKind } from '../../src/transport/kafka-errors.js';
// kafkajs is the fake below (vi.mock is hoisted above the imports).
import { KafkajsTransport, classifyKafkajsError, kafkajsLostProducerState } from '../../src/transport/kafkajs.js';
import { classifyPlatformaticError, platformaticLostProducerState } from '../../src/transport/platformatic-errors.js';
import { PlatformaticTransport } from '../../src/transport/platformatic.js';
import { UncertainBatches, lostProducerState } from '../../src/transport/producer-sequences.js';
import type { ProduceRecord, TransportConfig } from '../../src/transport/transport.js';
import { TransportError } from '../../src/transport/transport.js';

// ---- a scripted kafkajs: each producer() is a fake whose sendBatch answers from a shared script ----

type SendOutcome = 'ok' | Error;
interface FakeKafkajsProducer {
  id: number;
  sent: Array<{ partition: number; values: string[] }>;
  disconnected: boolean;
}
const kafkajsFake = vi.hoisted(() => ({
  producers: [] as FakeKafkajsProducer[],
  /** What the next sendBatch calls answer, in order ('ok' once empty). */
  outcomes: [] as SendOutcome[],
  /** What the next connect() calls answer, in order ('ok' once empty). */
  connects: [] as SendOutcome[],
}));

vi.mock('kafkajs', async (importOriginal) => {
  const original = await importOriginal<typeof import('kafkajs')>();
  type Config = { createPartitioner: () => (args: { topic: string; partitionMetadata: unknown[]; message: { partition?: number } }) => number };
  class Kafka {
    producer(config: Config) {
      const state: FakeKafkajsProducer = { id: kafkajsFake.producers.length + 1, sent: [], disconnected: false };
      kafkajsFake.producers.push(state);
      const partitioner = config.createPartitioner();
      return {
        events: { REQUEST_TIMEOUT: 'producer.network.request_timeout' },
        on: () => () => undefined,
        connect: async () => {
          const outcome = kafkajsFake.connects.shift() ?? 'ok';
          if (outcome !== 'ok') throw outcome;
        },
        disconnect: async () => {
          state.disconnected = true;
        },
        sendBatch: async ({ topicMessages }: { topicMessages: Array<{ topic: string; messages: Array<{ partition?: number; value: Buffer }> }> }) => {
          if (topicMessages.length === 0) return [];
          const [{ topic, messages }] = topicMessages as [{ topic: string; messages: Array<{ partition?: number; value: Buffer }> }];
          for (const message of messages) {
            if (message.partition === undefined) partitioner({ topic, partitionMetadata: [{ partitionId: 0, leader: 0 }], message });
          }
          state.sent.push({ partition: messages[0]?.partition as number, values: messages.map((m) => m.value.toString()) });
          const outcome = kafkajsFake.outcomes.shift() ?? 'ok';
          if (outcome !== 'ok') throw outcome;
          return [];
        },
      };
    }
  }
  const { default: kafkajs } = original as unknown as { default: object };
  return { ...original, Kafka, default: { ...kafkajs, Kafka } };
});


function config(overrides: Partial<TransportConfig> = {}): TransportConfig {
  return {
    brokers: ['127.0.0.1:9092'],
    clientId: 'producer-state',
    connectionTimeout: 500,
    keepAliveMs: undefined,
    tls: undefined,
    sasl: undefined,
    acks: -1,
    requestTimeout: 500,
    compression: 'none',
    idempotent: true,
    maxRequestRetries: 1,
    retryBackoff: 10,
    logLevel: 'silent',
    ...overrides,
  };
}

const record = (value: string): ProduceRecord => ({ topic: 'logs', partition: 0, key: null, value: Buffer.from(value) });

/** kafkajs' error for a partition the broker refused with `type`, wrapped as its retrier does once it bails. */
function kafkajsRefusal(type: string, retriable = false): Error {
  const protocol = Object.assign(new Error(`kafkajs: ${type}`), { name: 'KafkaJSProtocolError', type, retriable });
  return Object.assign(new Error(protocol.message), { name: 'KafkaJSNonRetriableError', retriable: false, originalError: protocol });
}

const LOST = ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'] as const;

describe('the errors that say the broker no longer accepts the producer id', () => {
  it('are one Kafka table entry each, by name and by code, for both clients', () => {
    for (const [name, code] of [
      ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
      ['INVALID_PRODUCER_EPOCH', 47],
      ['UNKNOWN_PRODUCER_ID', 59],
    ] as const) {
      expect(kafkaErrorKind(name)).toBe('producer_state');
      expect(lostProducerState(code)).toBe(true);
      expect(kafkajsLostProducerState(kafkajsRefusal(name))).toBe(name);
      const refused = new ResponseError(0, 11, { '/responses/0/partitionResponses/0': [code, null] }, {});
      expect(platformaticLostProducerState(new MultipleErrors('Producing messages failed.', [refused]))).toBe(name);
    }
  });

  it('are told from the other errors, whose classification is unchanged', () => {
    for (const other of ['NOT_LEADER_OR_FOLLOWER', 'DUPLICATE_SEQUENCE_NUMBER', 'MESSAGE_TOO_LARGE', 'TOPIC_AUTHORIZATION_FAILED']) {
      expect(lostProducerState(other)).toBe(false);
      expect(kafkajsLostProducerState(kafkajsRefusal(other))).toBeUndefined();
      expect(platformaticLostProducerState(new ProtocolError(other))).toBeUndefined();
    }
    expect(classifyKafkajsError(kafkajsRefusal('TOPIC_AUTHORIZATION_FAILED'))).toMatchObject({ kind: 'authentication', retriable: false });
    expect(classifyKafkajsError(kafkajsRefusal('MESSAGE_TOO_LARGE'))).toMatchObject({ kind: 'message_too_large', retriable: false });
    expect(classifyKafkajsError(kafkajsRefusal('NOT_LEADER_OR_FOLLOWER', true))).toMatchObject({ kind: 'broker', retriable: true });
    // Alone (outside a transport that can obtain a new producer id), the refusal classifies as before: not retriable.
    expect(classifyKafkajsError(kafkajsRefusal('OUT_OF_ORDER_SEQUENCE_NUMBER'))).toMatchObject({ kind: 'broker', retriable: false });
    expect(classifyPlatformaticError(new ProtocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))).toMatchObject({ kind: 'broker', retriable: false });
  });
});

describe('UncertainBatches', () => {
  it('lets the same records go again to a partition whose batch failed, and nothing else until cleared', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(record) as [ProduceRecord, ProduceRecord, ProduceRecord];
    const uncertain = new UncertainBatches<ProduceRecord>();
    expect(uncertain.conflicts('logs:0', [c])).toBe(false);
    uncertain.failed('logs:0', [a, b]);
    expect(uncertain.conflicts('logs:0', [a, b])).toBe(false);
    expect(uncertain.conflicts('logs:0', [a])).toBe(true); // fewer records: other sequence numbers
    expect(uncertain.conflicts('logs:0', [b, a])).toBe(true);
    expect(uncertain.conflicts('logs:0', [a, b, c])).toBe(true);
    expect(uncertain.conflicts('logs:1', [c])).toBe(false);
    uncertain.acknowledged('logs:0');
    expect(uncertain.conflicts('logs:0', [c])).toBe(false);
    uncertain.failed('logs:1', [c]);
    expect(uncertain.size).toBe(1);
    uncertain.clear();
    expect(uncertain.conflicts('logs:1', [a])).toBe(false);
  });
});

describe('kafkajs transport', () => {
  const start = async () => {
    kafkajsFake.producers.length = 0;
    kafkajsFake.outcomes.length = 0;
    kafkajsFake.connects.length = 0;
    const log = vi.fn();
    const transport = new KafkajsTransport(config(), { log });
    await transport.connect();
    return { transport, log };
  };

  it.each(LOST)('%s: a new producer (new id) is connected, the old one released, and the request fails retriable', async (type) => {
    const { transport, log } = await start();
    const request = { records: [record('a'), record('b')] };
    kafkajsFake.outcomes.push(kafkajsRefusal(type));
    const error = await transport.produce(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'broker', code: ErrorCodes.BROKER, retriable: true });
    expect((error as Error).message).toContain(type);
    expect(kafkajsFake.producers.map((p) => p.disconnected)).toEqual([true, false]);
    expect(log).toHaveBeenCalledWith('warn', 'kafka-log.transport', expect.stringContaining('obtaining a new producer id'));
    // the publisher's retry: the same records, on the new producer
    await transport.produce(request);
    expect(kafkajsFake.producers[1]?.sent).toEqual([{ partition: 0, values: ['a', 'b'] }]);
    await transport.close();
  });

  it('a batch whose outcome is unknown: the same records go again on the same producer id, other records on a new one', async () => {
    const { transport } = await start();
    const first = { records: [record('a'), record('b')] };
    kafkajsFake.outcomes.push(Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError', retriable: true }));
    await expect(transport.produce(first)).rejects.toMatchObject({ retriable: true });
    await transport.produce(first);
    expect(kafkajsFake.producers).toHaveLength(1);
    // again, but this time the publisher gives up on it (spools it) and sends other records to the partition
    const second = { records: [record('c')] };
    kafkajsFake.outcomes.push(Object.assign(new Error('Request timed out'), { name: 'KafkaJSRequestTimeoutError', retriable: true }));
    await expect(transport.produce(second)).rejects.toMatchObject({ kind: 'timeout', retriable: true });
    await transport.produce({ records: [record('d')] });
    expect(kafkajsFake.producers).toHaveLength(2);
    expect(kafkajsFake.producers[0]?.sent.map((s) => s.values)).toEqual([['a', 'b'], ['a', 'b'], ['c']]);
    expect(kafkajsFake.producers[1]?.sent.map((s) => s.values)).toEqual([['d']]);
    expect(kafkajsFake.producers[0]?.disconnected).toBe(true);
    await transport.close();
  });

  it('a new producer that cannot connect: that failure, classified as usual (a broker away is retriable, a refused login is not)', async () => {
    const { transport } = await start();
    kafkajsFake.outcomes.push(kafkajsRefusal('UNKNOWN_PRODUCER_ID'));
    kafkajsFake.connects.push(Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true }));
    await expect(transport.produce({ records: [record('a')] })).rejects.toMatchObject({ kind: 'broker', retriable: true, message: expect.stringContaining('ECONNREFUSED') });
    kafkajsFake.connects.push(Object.assign(new Error('SASL PLAIN authentication failed'), { name: 'KafkaJSSASLAuthenticationError' }));
    await expect(transport.produce({ records: [record('a')] })).rejects.toMatchObject({ kind: 'authentication', retriable: false });
    await transport.produce({ records: [record('a')] });
    expect(kafkajsFake.producers.at(-1)?.sent.map((s) => s.values)).toEqual([['a']]);
    await transport.close();
  });

  it('a producer that is not idempotent keeps the refusal as it was (no producer id to renew)', async () => {
    kafkajsFake.producers.length = 0;
    const transport = new KafkajsTransport(config({ idempotent: false, acks: 1 }), { log: () => undefined });
    kafkajsFake.outcomes.push(kafkajsRefusal('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    await expect(transport.produce({ records: [record('a')] })).rejects.toMatchObject({ retriable: false });
    expect(kafkajsFake.producers).toHaveLength(1);
    await transport.close();
  });
});

// ---- a scripted @platformatic/kafka ----

class FakePlatformaticProducer {
  static last: FakePlatformaticProducer | undefined;
  readonly connections = new Map();
  producerId: bigint | undefined;
  inits = 0;
  readonly sent: Array<{ producerId: bigint | undefined; values: string[] }> = [];
  readonly outcomes: SendOutcome[] = [];
  readonly initOutcomes: SendOutcome[] = [];
  constructor() {
    FakePlatformaticProducer.last = this;
  }
  on() {
    return this;
  }
  async connectToBrokers() {}
  async metadata() {
    return { topics: new Map([['logs', { partitionsCount: 1, partitions: [{ leader: 1 }] }]]) };
  }
  async initIdempotentProducer() {
    this.inits += 1;
    const outcome = this.initOutcomes.shift() ?? 'ok';
    if (outcome !== 'ok') throw outcome;
    this.producerId = BigInt(this.inits);
  }
  async send({ messages }: { messages: Array<{ value: Buffer }> }) {
    if (this.producerId === undefined) await this.initIdempotentProducer();
    this.sent.push({ producerId: this.producerId, values: messages.map((m) => m.value.toString()) });
    const outcome = this.outcomes.shift() ?? 'ok';
    if (outcome !== 'ok') throw outcome;
  }
  clearMetadata() {}
  async close() {}
}

class FakeConnection {
  on() {
    return this;
  }
  async connect() {}
  async close() {}
}

async function platformatic() {
  const kafka = { Producer: FakePlatformaticProducer, Connection: FakeConnection, murmur2: () => 0, compressionsAlgorithms: {} };
  const log = vi.fn();
  const transport = new PlatformaticTransport(kafka as never, config(), { log });
  await transport.connect();
  return { transport, producer: FakePlatformaticProducer.last as FakePlatformaticProducer, log };
}

const platformaticRefusal = (code: number) => new MultipleErrors('Producing messages failed.', [new ResponseError(0, 11, { '/responses/0/partitionResponses/0': [code, null] }, {})]);

describe('@platformatic/kafka transport', () => {
  it.each([
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
    ['INVALID_PRODUCER_EPOCH', 47],
    ['UNKNOWN_PRODUCER_ID', 59],
  ] as const)('%s: a new producer id is obtained and the request fails retriable', async (type, code) => {
    const { transport, producer, log } = await platformatic();
    const request = { records: [record('a'), record('b')] };
    producer.outcomes.push(platformaticRefusal(code));
    const error = await transport.produce(request).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'broker', retriable: true });
    expect((error as Error).message).toContain(type);
    expect(producer.inits).toBe(2);
    expect(log).toHaveBeenCalledWith('warn', 'kafka-log.transport', expect.stringContaining('obtaining a new producer id'));
    await transport.produce(request);
    expect(producer.sent).toEqual([
      { producerId: 1n, values: ['a', 'b'] },
      { producerId: 2n, values: ['a', 'b'] },
    ]);
  });

  it('a batch whose outcome is unknown: the same records go again on the same producer id, other records on a new one', async () => {
    const { transport, producer } = await platformatic();
    const first = { records: [record('a'), record('b')] };
    producer.outcomes.push(new MultipleErrors('Producing messages failed.', [new TimeoutError('Request timed out')]));
    await expect(transport.produce(first)).rejects.toMatchObject({ kind: 'timeout', retriable: true });
    await transport.produce(first);
    producer.outcomes.push(new MultipleErrors('Producing messages failed.', [new TimeoutError('Request timed out')]));
    await expect(transport.produce({ records: [record('c')] })).rejects.toMatchObject({ retriable: true });
    await transport.produce({ records: [record('d')] });
    expect(producer.sent).toEqual([
      { producerId: 1n, values: ['a', 'b'] },
      { producerId: 1n, values: ['a', 'b'] },
      { producerId: 1n, values: ['c'] },
      { producerId: 2n, values: ['d'] },
    ]);
  });

  it('a new producer id that cannot be obtained: that failure, classified as usual', async () => {
    const { transport, producer } = await platformatic();
    producer.outcomes.push(platformaticRefusal(45));
    const down = new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    producer.initOutcomes.push('ok', down);
    await expect(transport.produce({ records: [record('a')] })).rejects.toMatchObject({ kind: 'broker', retriable: true, message: expect.stringContaining('failed') });
    expect(producer.inits).toBe(2);
  });
});
