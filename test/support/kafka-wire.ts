// Encoders of the Kafka protocol's primitive types (kafka.apache.org/protocol, "Protocol Primitive Types"), for the
// test servers that speak or rewrite it.

/** INT16, big-endian. */
export function int16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(value);
  return b;
}

/** INT32, big-endian. */
export function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

/** UNSIGNED_VARINT (lengths and counts of flexible versions). */
export function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** Reads the UNSIGNED_VARINT at `offset`: [value, offset after it]. */
export function readUvarint(buffer: Buffer, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  let at = offset;
  for (;;) {
    const byte = buffer[at++] as number;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value >>> 0, at];
    shift += 7;
  }
}
