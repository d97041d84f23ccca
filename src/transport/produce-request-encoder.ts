/**
 * The body of a Kafka Produce request (versions 3 to 7, which share it) for uncompressed record batches, written
 * in one pass into one buffer: the bytes kafkajs' own encoder writes for the same request, at a fraction of its
 * cost per record (kafkajs allocates and grows several zero-filled buffers per record, copies each record three
 * times and computes CRC32C in JavaScript a byte at a time).
 *
 * Pure: no I/O and no kafkajs import; the CRC32C function is given. {@link encodeProduceBody} returns `undefined`
 * for any request it does not cover exactly (a compressed batch, a message with its own timestamp, a header
 * value that is neither a string nor a buffer), and the caller then uses the client's own encoder.
 *
 * Layout (Kafka protocol, Produce v3 and RecordBatch v2):
 * ```
 * transactional_id STRING|null, acks INT16, timeout INT32, [topic STRING, [partition INT32, record_set BYTES]]
 * record_set: base_offset INT64, batch_length INT32, leader_epoch INT32, magic INT8 (2), crc UINT32,
 *   attributes INT16, last_offset_delta INT32, first_timestamp INT64, max_timestamp INT64, producer_id INT64,
 *   producer_epoch INT16, base_sequence INT32, [record]
 * record: length VARINT, attributes INT8, timestamp_delta VARLONG, offset_delta VARINT, key VARBYTES|null,
 *   value VARBYTES|null, [header key VARSTRING, value VARBYTES]
 * ```
 *
 * @module
 */

/** One message as kafkajs hands it to its request encoder. */
export interface ProduceMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, unknown>;
  timestamp?: unknown;
}

/** What kafkajs gives its Produce request builders (`requests/produce/vN`). */
export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  compression?: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  topicData: readonly {
    topic: string;
    partitions: readonly { partition: number; firstSequence?: number; messages: readonly ProduceMessage[] }[];
  }[];
}

/** CRC32C (Castagnoli) of a byte range, unsigned or signed 32 bits. */
export type Crc32c = (bytes: Uint8Array) => number;

// base_offset .. crc: the bytes of a record batch before its CRC-covered part.
const BATCH_PREFIX = 8 + 4 + 4 + 1 + 4;
// attributes .. base_sequence, then the record count: the CRC-covered header of a record batch.
const BATCH_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
const MAGIC = 2;
const TRANSACTIONAL = 0x10;

/**
 * The request body, or `undefined` when the request is outside what this encoder covers exactly (see the module
 * comment). `now`: the timestamp of records that carry none (kafkajs reads its clock the same way).
 */
export function encodeProduceBody(args: ProduceRequestArgs, now: number, crc32c: Crc32c): Buffer | undefined {
  if (args.compression !== undefined && args.compression !== 0) return undefined;
  const producerId = int64Of(args.producerId);
  if (producerId === undefined) return undefined;
  const transactionalId = args.transactionalId ?? null;
  let size = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) + 2 + 4 + 4;
  // Each record's body size, in request order: measured once, written as its length prefix below.
  const bodySizes: number[] = [];
  for (const topic of args.topicData) {
    size += 2 + Buffer.byteLength(topic.topic) + 4;
    for (const partition of topic.partitions) {
      const records = recordsSize(partition.messages, bodySizes);
      if (records < 0) return undefined;
      size += 4 + 4 + BATCH_PREFIX + BATCH_HEADER + records;
    }
  }
  let record = 0;

  const out = Buffer.allocUnsafe(size);
  let at = writeString(out, 0, transactionalId);
  at = out.writeInt16BE(args.acks, at);
  at = out.writeInt32BE(args.timeout, at);
  at = out.writeInt32BE(args.topicData.length, at);
  for (const topic of args.topicData) {
    at = writeString(out, at, topic.topic);
    at = out.writeInt32BE(topic.partitions.length, at);
    for (const partition of topic.partitions) {
      const messages = partition.messages;
      at = out.writeInt32BE(partition.partition, at);
      const sizeAt = at;
      at += 4;
      const batchStart = at;
      at = out.writeBigInt64BE(0n, at);
      const lengthAt = at;
      at += 4;
      const lengthStart = at;
      at = out.writeInt32BE(0, at); // partition leader epoch: the broker fills it in
      at = out.writeInt8(MAGIC, at);
      const crcAt = at;
      at += 4;
      const crcStart = at;
      at = out.writeInt16BE(transactionalId === null ? 0 : TRANSACTIONAL, at);
      at = out.writeInt32BE(messages.length - 1, at);
      at = out.writeBigInt64BE(BigInt(now), at);
      at = out.writeBigInt64BE(BigInt(now), at);
      at = out.writeBigInt64BE(producerId, at);
      at = out.writeInt16BE(args.producerEpoch ?? 0, at);
      at = out.writeInt32BE(partition.firstSequence ?? 0, at);
      at = out.writeInt32BE(messages.length, at);
      for (let i = 0; i < messages.length; i++) at = writeRecord(out, at, messages[i] as ProduceMessage, i, bodySizes[record++] as number);
      out.writeUInt32BE(crc32c(out.subarray(crcStart, at)) >>> 0, crcAt);
      out.writeInt32BE(at - lengthStart, lengthAt);
      out.writeInt32BE(at - batchStart, sizeAt);
    }
  }
  return at === size ? out : undefined;
}

/**
 * The encoded size of a partition's records, or -1 when one is outside what this encoder covers. Each record's
 * body size is appended to `bodySizes`.
 */
function recordsSize(messages: readonly ProduceMessage[], bodySizes: number[]): number {
  if (messages.length === 0) return -1;
  let size = 0;
  for (let i = 0; i < messages.length; i++) {
    const body = recordBodySize(messages[i] as ProduceMessage, i);
    if (body < 0) return -1;
    bodySizes.push(body);
    size += varIntSize(body) + body;
  }
  return size;
}

function recordBodySize(message: ProduceMessage, offsetDelta: number): number {
  if (message.timestamp !== undefined && message.timestamp !== null) return -1;
  const key = bytesSize(message.key);
  const value = bytesSize(message.value);
  if (key < 0 || value < 0) return -1;
  // attributes, timestamp delta 0 (one byte), offset delta, key, value, header count
  let size = 1 + 1 + varIntSize(offsetDelta) + key + value;
  const headers = message.headers;
  if (headers === undefined || headers === null) return size + 1;
  let count = 0;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name];
    // kafkajs fails on a null header value; a list of values is not covered here.
    if (value === null || value === undefined) return -1;
    const valueSize = bytesSize(value);
    if (valueSize < 0) return -1;
    size += varBytesSize(Buffer.byteLength(name)) + valueSize;
    count++;
  }
  return size + varIntSize(count);
}

/** Size of a VARBYTES field holding `value` (null: the one-byte -1), or -1 for a value not covered. */
function bytesSize(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (Buffer.isBuffer(value)) return varBytesSize(value.length);
  if (typeof value === 'string') return varBytesSize(Buffer.byteLength(value));
  return -1;
}

function varBytesSize(length: number): number {
  return varIntSize(length) + length;
}

function writeRecord(out: Buffer, at: number, message: ProduceMessage, offsetDelta: number, bodySize: number): number {
  at = writeVarInt(out, at, bodySize);
  at = out.writeInt8(0, at); // attributes
  at = out.writeInt8(0, at); // timestamp delta 0, as a varlong
  at = writeVarInt(out, at, offsetDelta);
  at = writeVarBytes(out, at, message.key);
  at = writeVarBytes(out, at, message.value);
  const headers = message.headers;
  if (headers === undefined || headers === null) return writeVarInt(out, at, 0);
  let count = 0;
  for (const name in headers) if (Object.hasOwn(headers, name)) count++;
  at = writeVarInt(out, at, count);
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    at = writeVarBytes(out, at, name);
    at = writeVarBytes(out, at, headers[name] as Buffer | string);
  }
  return at;
}

function writeVarBytes(out: Buffer, at: number, value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return writeVarInt(out, at, -1);
  if (typeof value === 'string') {
    const length = Buffer.byteLength(value);
    at = writeVarInt(out, at, length);
    return at + out.write(value, at, length, 'utf8');
  }
  at = writeVarInt(out, at, value.length);
  return at + value.copy(out, at);
}

function writeString(out: Buffer, at: number, value: string | null): number {
  if (value === null) return out.writeInt16BE(-1, at);
  const length = Buffer.byteLength(value);
  at = out.writeInt16BE(length, at);
  return at + out.write(value, at, length, 'utf8');
}

/** Zig-zag varint, as Kafka writes signed 32-bit varints. */
function writeVarInt(out: Buffer, at: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zigzag > 0x7f) {
    out[at++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  out[at++] = zigzag;
  return at;
}

function varIntSize(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (zigzag > 0x7f) {
    zigzag >>>= 7;
    size++;
  }
  return size;
}

/** A producer id as kafkajs passes it (its `Long`, wrapping a bigint; a number; none: -1). */
function int64Of(value: unknown): bigint | undefined {
  if (value === undefined || value === null) return -1n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'object' && typeof (value as { value?: unknown }).value === 'bigint') return (value as { value: bigint }).value;
  return undefined;
}
