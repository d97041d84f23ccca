// kafka-log's Produce request encoder writes, for every request it covers, exactly the bytes kafkajs' own encoder
// writes (the same clock reading given to both); it declines what it does not cover, and once installed under
// kafkajs it serves only requests whose every message the transport made.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OWN_MESSAGE, batchMessage, installProduceEncoder, produceEncoderProblem } from '../../src/transport/kafkajs-produce-encoder.js';
import { type ProduceMessage, type ProduceRequestArgs, encodeProduceBody } from '../../src/transport/produce-request-encoder.js';

const require = createRequire(__filename);
type Built = { request: { encode: () => Promise<{ buffer: Buffer }> } };
const kafkajsRequestV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (args: ProduceRequestArgs) => Built['request'];
const produceModule = require('kafkajs/src/protocol/requests/produce/index.js') as {
  protocol: (options: { version: number }) => (args: ProduceRequestArgs) => Built;
};
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (bytes: Uint8Array) => number;
const { crc32c: nativeCrc32c } = require('@node-rs/crc32') as { crc32c: (bytes: Uint8Array) => number };
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: unknown): unknown; fromInt(value: number): unknown };

const NOW = 1_764_320_000_123;

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Sizes around the varint boundaries (63/64 and 8191/8192 bytes zig-zag encoded) and a JSON entry's size.
const SIZES = [0, 1, 63, 64, 65, 127, 128, 1403, 8191, 8192, 8193, 70_000];
const TEXT = ['', 'a', 'é', '日本', '😀', '{"request":{"uri":"/users/42"}}'];

function randomValue(next: () => number): Buffer | string {
  const size = SIZES[Math.floor(next() * SIZES.length)] as number;
  if (next() < 0.5) return Buffer.alloc(size, Math.floor(next() * 256));
  return (TEXT[Math.floor(next() * TEXT.length)] as string).repeat(Math.max(1, Math.floor(size / 4))).slice(0, size + 1);
}

function messageOf(next: () => number): ProduceMessage {
  const roll = next();
  const key = roll < 0.4 ? null : roll < 0.5 ? undefined : roll < 0.75 ? Buffer.from(`key-${Math.floor(next() * 1000)}`) : `kéy-${roll}`;
  const message: ProduceMessage = { key, value: randomValue(next) };
  const headerRoll = next();
  if (headerRoll < 0.2) message.headers = {};
  else if (headerRoll < 0.7) {
    const headers: Record<string, Buffer | string> = {};
    const count = 1 + Math.floor(next() * 4);
    for (let i = 0; i < count; i++) headers[`x-héader-${i}`] = next() < 0.5 ? `välue-${i}`.repeat(Math.floor(next() * 40)) : Buffer.alloc(i * 30, i);
    message.headers = headers;
  }
  return message;
}

function requestOf(seed: number): ProduceRequestArgs {
  const next = random(seed);
  const topics = 1 + Math.floor(next() * 2);
  const transactional = next() < 0.2;
  const idempotent = next() < 0.3;
  return {
    acks: [-1, 0, 1][Math.floor(next() * 3)] as number,
    timeout: Math.floor(next() * 60_000),
    transactionalId: transactional ? `tx-${seed}` : null,
    ...(idempotent ? { producerId: Long.fromValue(Math.floor(next() * 1e9)), producerEpoch: Math.floor(next() * 30) } : {}),
    topicData: Array.from({ length: topics }, (_, t) => ({
      topic: `topic-${seed}-${t}-tøpic`,
      partitions: Array.from({ length: 1 + Math.floor(next() * 3) }, (_, p) => ({
        partition: p * 3,
        ...(idempotent ? { firstSequence: Math.floor(next() * 1e6) } : {}),
        messages: Array.from({ length: 1 + Math.floor(next() * 140) }, () => messageOf(next)),
      })),
    })),
  };
}

async function kafkajsBytes(encode: () => Promise<{ buffer: Buffer }>): Promise<Buffer> {
  const now = vi.spyOn(Date, 'now').mockReturnValue(NOW);
  try {
    return (await encode()).buffer;
  } finally {
    now.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('the Produce request encoder', () => {
  it('writes the bytes kafkajs writes, for 120 generated requests (keys, values, headers, sizes, transactions)', async () => {
    let records = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const args = requestOf(seed);
      const expected = await kafkajsBytes(() => kafkajsRequestV3(args).encode());
      const own = encodeProduceBody(args, NOW, kafkajsCrc32c);
      expect(own, `seed ${seed}`).toBeDefined();
      expect((own as Buffer).equals(expected), `seed ${seed}`).toBe(true);
      // The native CRC32C gives the same checksum.
      expect(encodeProduceBody(args, NOW, nativeCrc32c)?.equals(expected), `seed ${seed} (native CRC32C)`).toBe(true);
      records += args.topicData.reduce((sum, topic) => sum + topic.partitions.reduce((n, p) => n + p.messages.length, 0), 0);
    }
    expect(records).toBeGreaterThan(10_000);
  });

  it('writes the bytes of every request version from 3 to 7', async () => {
    const args = requestOf(7);
    for (let version = 3; version <= 7; version++) {
      const built = produceModule.protocol({ version })(args);
      const expected = await kafkajsBytes(() => built.request.encode());
      expect(encodeProduceBody(args, NOW, kafkajsCrc32c)?.equals(expected), `v${version}`).toBe(true);
    }
  });

  it.each([
    ['a compressed batch', { compression: 1 }, {}],
    ['a message with its own timestamp', {}, { timestamp: String(NOW) }],
    ['a null header value', {}, { headers: { a: null } }],
    ['a list of header values', {}, { headers: { a: ['1', '2'] } }],
    ['a numeric value', {}, { value: 42 }],
    ['a producer id it cannot read', { producerId: 'seven' }, {}],
  ])('declines %s (kafkajs encodes it)', (_, requestPatch, messagePatch) => {
    const args = {
      acks: 1,
      timeout: 1000,
      ...requestPatch,
      topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: Buffer.from('x') }, { value: 'y', ...messagePatch }] }] }],
    } as ProduceRequestArgs;
    expect(encodeProduceBody(args, NOW, kafkajsCrc32c)).toBeUndefined();
  });

  it("under kafkajs, encodes only requests of the transport's own messages", async () => {
    expect(await installProduceEncoder()).toBe(true);
    expect(await installProduceEncoder()).toBe(true);
    expect(produceEncoderProblem()).toBeUndefined();
    const own = requestOf(11);
    for (const topic of own.topicData) for (const p of topic.partitions) for (const m of p.messages) Object.assign(m, { [OWN_MESSAGE]: {} });
    const foreign = requestOf(11);
    const expected = await kafkajsBytes(() => kafkajsRequestV3(foreign).encode());

    const encodeSpy = vi.spyOn(Buffer, 'allocUnsafe');
    const ownBuilt = produceModule.protocol({ version: 7 })(own);
    const ownBytes = await kafkajsBytes(() => ownBuilt.request.encode());
    expect(ownBytes.equals(expected)).toBe(true);
    expect(encodeSpy).toHaveBeenCalledTimes(1); // one buffer for the whole body
    encodeSpy.mockRestore();

    // One foreign message is enough for kafkajs' own encoder to serve the request.
    const firstPartition = own.topicData[0]?.partitions[0] as unknown as { messages: ProduceMessage[] };
    firstPartition.messages.push({ value: Buffer.from('foreign') });
    const allocations = vi.spyOn(Buffer, 'allocUnsafe');
    const mixed = produceModule.protocol({ version: 7 })(own);
    await kafkajsBytes(() => mixed.request.encode());
    expect(allocations).not.toHaveBeenCalled();
  });

  it('expands a batch message into its records: the bytes of the records sent one message each', async () => {
    expect(await installProduceEncoder()).toBe(true);
    const records = requestOf(23);
    const expected = await kafkajsBytes(() => kafkajsRequestV3(records).encode());
    const batched = {
      ...records,
      topicData: records.topicData.map((topic) => ({
        topic: topic.topic,
        partitions: topic.partitions.map((p) => ({ ...p, messages: [batchMessage(p.partition, p.messages) as unknown as ProduceMessage] })),
      })),
    };
    const built = produceModule.protocol({ version: 7 })(batched);
    expect((await kafkajsBytes(() => built.request.encode())).equals(expected)).toBe(true);
  });

  it('refuses a batch message it cannot encode instead of letting kafkajs send it as one empty record', async () => {
    expect(await installProduceEncoder()).toBe(true);
    const messages = [batchMessage(0, [{ value: Buffer.from('x'), timestamp: '1' }]) as unknown as ProduceMessage];
    const built = produceModule.protocol({ version: 7 })({ acks: 1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] });
    await expect(built.request.encode()).rejects.toThrow('could not encode a record batch');
  });

  it("leaves a request it cannot even read to kafkajs, without throwing into another producer's call", async () => {
    expect(await installProduceEncoder()).toBe(true);
    const messages = [null as unknown as ProduceMessage];
    const args = { acks: 1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] };
    const built = produceModule.protocol({ version: 7 })(args);
    // kafkajs' own encoder gets the request, and fails on it as it would without kafka-log.
    await expect(built.request.encode()).rejects.toThrow(TypeError);
  });
});
