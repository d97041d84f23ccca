/**
 * The spool's file format, version 1: what a spool file holds, byte for byte. Pure: no I/O.
 *
 * A file starts with an 8-byte header, `KLSPOOL` (ASCII) and the format version (one byte, `1`), followed by
 * records. Each record is framed so that a write cut short (the process or machine stopped mid-write) is found
 * and skipped:
 *
 * | bytes | field |
 * |---|---|
 * | 4 | body length `L`, unsigned big-endian (1 to {@link MAX_RECORD_BODY_BYTES}) |
 * | 4 | CRC-32 (the IEEE polynomial, as zlib's `crc32`) of the `L` body bytes, unsigned big-endian |
 * | `L` | the body |
 *
 * The body, all integers big-endian:
 *
 * | bytes | field |
 * |---|---|
 * | 1 | flags, `0` in version 1 (a reader refuses a record with other flags as unreadable) |
 * | 4 | log entries in the value: 1, or the length of the JSON array a batched message holds |
 * | 8 | when it was spooled, ms since the epoch (IEEE 754 double) |
 * | 2 + n | topic: length, UTF-8 bytes |
 * | 4 + n | key: length (`-1`: no key, signed), bytes |
 * | 2 | header count; each header: 2 + n name (UTF-8), 4 + n value bytes |
 * | 4 + n | value: length, the message value exactly as it would have been published |
 *
 * The body ends exactly where the value ends; anything else is an unreadable record.
 *
 * @module
 */
import * as zlib from 'node:zlib';

/** The first 7 bytes of every spool file. */
export const SPOOL_MAGIC = Buffer.from('KLSPOOL', 'ascii');
/** The format version this module writes and reads. */
export const SPOOL_FORMAT_VERSION = 1;
/** Bytes of the file header: the magic and the version. */
export const FILE_HEADER_BYTES = SPOOL_MAGIC.length + 1;
/** Bytes framing each record: its body length and checksum. */
export const RECORD_FRAME_BYTES = 8;
/** Largest body a reader accepts (a length above it is taken for damage, not allocated). */
export const MAX_RECORD_BODY_BYTES = 256 * 1024 * 1024;

/** One Kafka message kept in the spool. */
export interface SpoolRecord {
  /** Topic. */
  readonly topic: string;
  /** Key, or `null`. */
  readonly key: Buffer | null;
  /** Headers, as bytes (string headers are kept as their UTF-8 bytes, which is what Kafka receives). */
  readonly headers: Readonly<Record<string, Buffer | string>> | undefined;
  /** The message value exactly as it would have been published. */
  readonly value: Buffer;
  /** Log entries the value holds. */
  readonly entries: number;
  /** When it was spooled, ms since the epoch. */
  readonly spooledAt: number;
}

/** The file header of version 1. */
export function fileHeader(): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  SPOOL_MAGIC.copy(header, 0);
  header[SPOOL_MAGIC.length] = SPOOL_FORMAT_VERSION;
  return header;
}

/** What a file's first bytes say. */
export type HeaderCheck = { ok: true } | { ok: false; problem: string };

/** Checks a file's first {@link FILE_HEADER_BYTES} bytes (fewer when the file is shorter). */
export function checkFileHeader(bytes: Buffer): HeaderCheck {
  if (bytes.length < FILE_HEADER_BYTES) return { ok: false, problem: `shorter than the ${FILE_HEADER_BYTES}-byte spool file header` };
  if (!bytes.subarray(0, SPOOL_MAGIC.length).equals(SPOOL_MAGIC)) return { ok: false, problem: 'not a kafka-log spool file (no KLSPOOL header)' };
  const version = bytes[SPOOL_MAGIC.length];
  if (version !== SPOOL_FORMAT_VERSION) {
    return { ok: false, problem: `spool format version ${version} (this kafka-log reads version ${SPOOL_FORMAT_VERSION}; use the kafka-log that wrote it)` };
  }
  return { ok: true };
}

const crcTable = /* @__PURE__ */ (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 in JavaScript, for Node versions without `zlib.crc32` (added in 20.15 and 22.2). */
export function crc32Portable(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (crcTable[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE) of `bytes`: zlib's where Node has it. */
export function crc32(bytes: Uint8Array): number {
  return nativeCrc32 === undefined ? crc32Portable(bytes) : nativeCrc32(bytes) >>> 0;
}

function headerBytes(value: Buffer | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** Bytes of a record's body. */
export function recordBodyBytes(record: SpoolRecord): number {
  let bytes = 1 + 4 + 8 + 2 + Buffer.byteLength(record.topic) + 4 + (record.key?.length ?? 0) + 2 + 4 + record.value.length;
  if (record.headers) {
    for (const name of Object.keys(record.headers)) bytes += 2 + Buffer.byteLength(name) + 4 + headerBytes(record.headers[name] as Buffer | string);
  }
  return bytes;
}

/** Bytes the record takes in a file, frame included. */
export function encodedRecordBytes(record: SpoolRecord): number {
  return RECORD_FRAME_BYTES + recordBodyBytes(record);
}

/**
 * Writes `record`, framed, into `target` at `offset` (which must have {@link encodedRecordBytes} bytes of room);
 * returns the offset after it.
 */
export function writeRecord(record: SpoolRecord, target: Buffer, offset: number): number {
  const bodyAt = offset + RECORD_FRAME_BYTES;
  let at = bodyAt;
  at = target.writeUInt8(0, at);
  at = target.writeUInt32BE(record.entries, at);
  at = target.writeDoubleBE(record.spooledAt, at);
  const topicBytes = Buffer.byteLength(record.topic);
  if (topicBytes > 0xffff) throw new RangeError('a topic name longer than 65535 bytes cannot be spooled');
  at = target.writeUInt16BE(topicBytes, at);
  at += target.write(record.topic, at, 'utf8');
  if (record.key === null) at = target.writeInt32BE(-1, at);
  else {
    at = target.writeInt32BE(record.key.length, at);
    at += record.key.copy(target, at);
  }
  const names = record.headers === undefined ? [] : Object.keys(record.headers);
  if (names.length > 0xffff) throw new RangeError('more than 65535 headers cannot be spooled');
  at = target.writeUInt16BE(names.length, at);
  for (const name of names) {
    const value = (record.headers as Record<string, Buffer | string>)[name] as Buffer | string;
    const nameBytes = Buffer.byteLength(name);
    if (nameBytes > 0xffff) throw new RangeError('a header name longer than 65535 bytes cannot be spooled');
    at = target.writeUInt16BE(nameBytes, at);
    at += target.write(name, at, 'utf8');
    at = target.writeUInt32BE(headerBytes(value), at);
    at += typeof value === 'string' ? target.write(value, at, 'utf8') : value.copy(target, at);
  }
  at = target.writeUInt32BE(record.value.length, at);
  at += record.value.copy(target, at);
  const length = at - bodyAt;
  target.writeUInt32BE(length, offset);
  target.writeUInt32BE(crc32(target.subarray(bodyAt, at)), offset + 4);
  return at;
}

/** `records` framed one after the other, in one buffer. */
export function encodeRecords(records: readonly SpoolRecord[]): Buffer {
  let total = 0;
  for (const record of records) total += encodedRecordBytes(record);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const record of records) at = writeRecord(record, out, at);
  return out;
}

/** A body that does not parse as a version 1 record. */
export class UnreadableRecordError extends Error {
  constructor(problem: string) {
    super(`unreadable spool record: ${problem}`);
    this.name = 'UnreadableRecordError';
  }
}

/** Reads a body field by field, refusing to read past its end. */
class BodyCursor {
  readonly #body: Buffer;
  #at = 0;

  constructor(body: Buffer) {
    this.#body = body;
  }

  get done(): boolean {
    return this.#at === this.#body.length;
  }

  #need(bytes: number, what: string): void {
    if (bytes < 0 || this.#at + bytes > this.#body.length) throw new UnreadableRecordError(`${what} runs past the end of the record`);
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.#body.readUInt8(this.#at++);
  }

  u16(what: string): number {
    this.#need(2, what);
    const value = this.#body.readUInt16BE(this.#at);
    this.#at += 2;
    return value;
  }

  u32(what: string): number {
    this.#need(4, what);
    const value = this.#body.readUInt32BE(this.#at);
    this.#at += 4;
    return value;
  }

  i32(what: string): number {
    this.#need(4, what);
    const value = this.#body.readInt32BE(this.#at);
    this.#at += 4;
    return value;
  }

  f64(what: string): number {
    this.#need(8, what);
    const value = this.#body.readDoubleBE(this.#at);
    this.#at += 8;
    return value;
  }

  /** `length` bytes, copied (a record outlives the read buffer it came from). */
  bytes(length: number, what: string): Buffer {
    this.#need(length, what);
    const copy = Buffer.allocUnsafeSlow(length);
    this.#body.copy(copy, 0, this.#at, this.#at + length);
    this.#at += length;
    return copy;
  }

  text(length: number, what: string): string {
    this.#need(length, what);
    const value = this.#body.toString('utf8', this.#at, this.#at + length);
    this.#at += length;
    return value;
  }
}

/** Parses a record's body (its checksum already checked). Throws {@link UnreadableRecordError}. */
export function decodeRecordBody(body: Buffer): SpoolRecord {
  const cursor = new BodyCursor(body);
  const flags = cursor.u8('flags');
  if (flags !== 0) throw new UnreadableRecordError(`flags ${flags} are not known to format version ${SPOOL_FORMAT_VERSION}`);
  const entries = cursor.u32('entries');
  if (entries < 1) throw new UnreadableRecordError('a record holds at least one entry');
  const spooledAt = cursor.f64('spooledAt');
  const topic = cursor.text(cursor.u16('topic length'), 'topic');
  if (topic === '') throw new UnreadableRecordError('empty topic');
  const keyLength = cursor.i32('key length');
  if (keyLength < -1) throw new UnreadableRecordError(`key length ${keyLength}`);
  const key = keyLength === -1 ? null : cursor.bytes(keyLength, 'key');
  const headerCount = cursor.u16('header count');
  let headers: Record<string, Buffer> | undefined;
  for (let i = 0; i < headerCount; i++) {
    const name = cursor.text(cursor.u16('header name length'), 'header name');
    headers ??= {};
    // An own property whatever the name (`__proto__` included): a plain assignment would set the prototype.
    const value = cursor.bytes(cursor.u32('header value length'), 'header value');
    Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
  }
  const value = cursor.bytes(cursor.u32('value length'), 'value');
  if (!cursor.done) throw new UnreadableRecordError('bytes after the value');
  return { topic, key, headers, value, entries, spooledAt };
}

/** What {@link scanRecord} found at an offset. */
export type ScanResult =
  /** A whole record, checksum and body sound; the next one starts at `end`. */
  | { kind: 'record'; record: SpoolRecord; end: number }
  /** The bytes end before the record does: read more (or, at the end of the file, a torn tail). */
  | { kind: 'incomplete'; needed: number }
  /** The record's frame or body is damaged (checksum, length or layout). */
  | { kind: 'unreadable'; problem: string };

/**
 * Reads the record starting at `offset` of `bytes` (a window of a file). `incomplete` says how many bytes from
 * `offset` the record needs, so a reader can fetch them.
 */
export function scanRecord(bytes: Buffer, offset: number): ScanResult {
  const available = bytes.length - offset;
  if (available < RECORD_FRAME_BYTES) return { kind: 'incomplete', needed: RECORD_FRAME_BYTES };
  const length = bytes.readUInt32BE(offset);
  if (length < 1 || length > MAX_RECORD_BODY_BYTES) return { kind: 'unreadable', problem: `record length ${length}` };
  const end = offset + RECORD_FRAME_BYTES + length;
  if (end > bytes.length) return { kind: 'incomplete', needed: RECORD_FRAME_BYTES + length };
  const body = bytes.subarray(offset + RECORD_FRAME_BYTES, end);
  const expected = bytes.readUInt32BE(offset + 4);
  if (crc32(body) !== expected) return { kind: 'unreadable', problem: 'checksum mismatch' };
  try {
    return { kind: 'record', record: decodeRecordBody(body), end };
  } catch (error) {
    if (error instanceof UnreadableRecordError) return { kind: 'unreadable', problem: error.message.replace(/^unreadable spool record: /, '') };
    throw error;
  }
}
