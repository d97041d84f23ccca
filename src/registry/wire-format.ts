/**
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian integer, then the payload. For
 * Protobuf the payload starts with the message-index array (which message of the .proto file was written):
 * zigzag varints, its length first; the common case `[0]` is written as the single byte 0, as Confluent does.
 *
 * @module
 */

/** The magic byte every Confluent-framed message starts with. */
export const CONFLUENT_MAGIC_BYTE = 0;

/** The parts of a Confluent-framed message. */
export interface WireMessage {
  /** The registry's schema id. */
  schemaId: number;
  /** Protobuf message indexes (only when asked to read them). */
  messageIndexes?: number[];
  /** The serialized value after the header. */
  payload: Buffer;
}

function zigzagVarint(value: number): number[] {
  let rest = (value << 1) ^ (value >> 31);
  const bytes: number[] = [];
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

/** Encodes a Protobuf message-index array as Confluent does (`[0]` becomes the single byte 0). */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  return Buffer.from([...zigzagVarint(indexes.length), ...indexes.flatMap((index) => zigzagVarint(index))]);
}

/** Frames a payload: magic byte, schema id, optional Protobuf message indexes, payload. */
export function encodeWireMessage(schemaId: number, payload: Uint8Array, messageIndexes?: readonly number[]): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  const parts: Uint8Array[] = [header];
  if (messageIndexes !== undefined) parts.push(encodeMessageIndexes(messageIndexes));
  parts.push(payload);
  return Buffer.concat(parts);
}

function readZigzagVarint(buffer: Buffer, offset: number): { value: number; offset: number } {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    if (offset >= buffer.length) throw new RangeError('truncated varint in message indexes');
    byte = buffer[offset++] as number;
    result |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return { value: (result >>> 1) ^ -(result & 1), offset };
}

/**
 * Reads a Confluent-framed message. With `protobuf` true, the message-index array is read too. Throws a
 * `RangeError` when the buffer is not Confluent-framed.
 */
export function decodeWireMessage(buffer: Buffer, protobuf = false): WireMessage {
  if (buffer.length < 5 || buffer[0] !== CONFLUENT_MAGIC_BYTE) throw new RangeError('not a Confluent wire-format message (magic byte 0 expected)');
  const schemaId = buffer.readInt32BE(1);
  if (!protobuf) return { schemaId, payload: buffer.subarray(5) };
  let { value: count, offset } = readZigzagVarint(buffer, 5);
  const messageIndexes: number[] = [];
  if (count === 0) messageIndexes.push(0);
  for (; count > 0; count--) {
    const next = readZigzagVarint(buffer, offset);
    messageIndexes.push(next.value);
    offset = next.offset;
  }
  return { schemaId, messageIndexes, payload: buffer.subarray(offset) };
}
