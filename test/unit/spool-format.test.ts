// The spool's file format: records round-trip byte for byte, a torn tail is found and skipped, damage in the
// middle of a file is told apart from it, and files of another format or version are refused with the reason.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FILE_HEADER_BYTES,
  RECORD_FRAME_BYTES,
  type SpoolRecord,
  crc32,
  crc32Portable,
  encodeRecords,
  encodedRecordBytes,
  fileHeader,
  scanRecord,
} from '../../src/spool/format.js';
import { type FileEnd, type RecordAt, SpoolFileError, SpoolFileReader } from '../../src/spool/reader.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kafka-log-spool-format-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function record(i: number, extra: Partial<SpoolRecord> = {}): SpoolRecord {
  return {
    topic: 'access-logs',
    key: i % 2 === 0 ? null : Buffer.from(`key-${i}`),
    headers: i % 3 === 0 ? undefined : { 'x-source': 'kafka-log', bin: Buffer.from([0, 1, 2, 255]) },
    value: Buffer.from(JSON.stringify({ request: { id: `req-${i}` }, body: 'é€😀'.repeat(i) })),
    entries: 1,
    spooledAt: 1_700_000_000_000 + i,
    ...extra,
  };
}

/** The record as read back: header values come back as bytes. */
function asRead(r: SpoolRecord): SpoolRecord {
  const headers = r.headers === undefined ? undefined : Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)]));
  return { ...r, headers };
}

function writeSpoolFile(name: string, records: SpoolRecord[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([fileHeader(), encodeRecords(records)]));
  return file;
}

async function readAll(file: string): Promise<{ records: RecordAt[]; end: FileEnd }> {
  const reader = await SpoolFileReader.open(file);
  const records: RecordAt[] = [];
  try {
    for (;;) {
      const next = await reader.next();
      if (next.kind !== 'record') return { records, end: next };
      records.push(next);
    }
  } finally {
    await reader.close();
  }
}

describe('CRC-32', () => {
  it('is the IEEE CRC-32 (check value of "123456789"), the portable one agreeing with zlib', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Portable(Buffer.from('123456789'))).toBe(0xcbf43926);
    const nativeCrc = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(i * 37);
      expect(crc32Portable(bytes)).toBe(nativeCrc ? nativeCrc(bytes) >>> 0 : crc32(bytes));
    }
  });
});

describe('records', () => {
  it('round-trip: topic, key (or none), headers, value bytes, entries and time, in order', async () => {
    const records = Array.from({ length: 20 }, (_, i) => record(i, { entries: 1 + (i % 4) }));
    const file = writeSpoolFile('spool-a.kls', records);
    const { records: read, end } = await readAll(file);
    expect(read.map((r) => r.record)).toEqual(records.map(asRead));
    expect(end).toEqual({ kind: 'end', offset: readFileSync(file).length });
    // offsets chain: each record starts where the previous ended
    expect(read[0]?.offset).toBe(FILE_HEADER_BYTES);
    for (let i = 1; i < read.length; i++) expect(read[i]?.offset).toBe(read[i - 1]?.end);
    expect(read.map((r) => r.end - r.offset)).toEqual(records.map(encodedRecordBytes));
  });

  it('round-trip any bytes (property)', () => {
    const arbitraryRecord = fc.record({
      topic: fc.string({ minLength: 1, maxLength: 40 }),
      key: fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), { nil: null }),
      headers: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a))), { nil: undefined }),
      value: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
      entries: fc.integer({ min: 1, max: 1000 }),
      spooledAt: fc.integer({ min: 0, max: 2 ** 45 }),
    });
    fc.assert(
      fc.property(arbitraryRecord, (r) => {
        const bytes = encodeRecords([r]);
        const scanned = scanRecord(bytes, 0);
        if (scanned.kind !== 'record') throw new Error(`not a record: ${JSON.stringify(scanned)}`);
        const headers = r.headers === undefined || Object.keys(r.headers).length === 0 ? undefined : r.headers;
        expect(scanned.record).toEqual({ ...r, headers });
        expect(scanned.end).toBe(bytes.length);
      }),
    );
  });

  it('a torn tail (the last write cut short) is found, with its offset and length, and the records before it kept', async () => {
    const records = [record(1), record(2), record(3)];
    const file = writeSpoolFile('spool-b.kls', records);
    const size = readFileSync(file).length;
    const lastStart = size - encodedRecordBytes(records[2] as SpoolRecord);
    for (const cut of [lastStart + 3, lastStart + RECORD_FRAME_BYTES, size - 1]) {
      truncateSync(file, cut);
      const { records: read, end } = await readAll(file);
      expect(read.map((r) => r.record)).toEqual(records.slice(0, 2).map(asRead));
      expect(end).toEqual({ kind: 'torn', offset: lastStart, bytes: cut - lastStart });
    }
  });

  it('a last record whose checksum does not match is a torn tail too (its bytes never fully landed)', async () => {
    const records = [record(1), record(2)];
    const file = writeSpoolFile('spool-c.kls', records);
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const { records: read, end } = await readAll(file);
    expect(read).toHaveLength(1);
    expect(end.kind).toBe('torn');
  });

  it('zeros after the last whole record (a grown file whose write never landed) are a torn tail', async () => {
    const file = writeSpoolFile('spool-d.kls', [record(1)]);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(5000)]));
    const { records: read, end } = await readAll(file);
    expect(read).toHaveLength(1);
    expect(end).toMatchObject({ kind: 'torn', bytes: 5000 });
  });

  it('a checksum mismatch in the middle is damage: reading stops there, it is not taken for a torn tail', async () => {
    const records = [record(1), record(2), record(3)];
    const file = writeSpoolFile('spool-e.kls', records);
    const bytes = readFileSync(file);
    const second = FILE_HEADER_BYTES + encodedRecordBytes(records[0] as SpoolRecord);
    bytes[second + RECORD_FRAME_BYTES + 20] = (bytes[second + RECORD_FRAME_BYTES + 20] as number) ^ 0x01;
    writeFileSync(file, bytes);
    const { records: read, end } = await readAll(file);
    expect(read.map((r) => r.record)).toEqual([asRead(records[0] as SpoolRecord)]);
    expect(end).toEqual({ kind: 'unreadable', offset: second, problem: 'checksum mismatch' });
  });

  it('a length that cannot be true is damage, never an allocation of that size', () => {
    const bytes = encodeRecords([record(1)]);
    bytes.writeUInt32BE(0xffffffff, 0);
    expect(scanRecord(bytes, 0)).toEqual({ kind: 'unreadable', problem: `record length ${0xffffffff}` });
  });

  it('a record of unknown flags is unreadable (a later format version), not misread', () => {
    const bytes = encodeRecords([record(1)]);
    bytes[RECORD_FRAME_BYTES] = 1;
    bytes.writeUInt32BE(crc32(bytes.subarray(RECORD_FRAME_BYTES)), 4);
    expect(scanRecord(bytes, 0)).toMatchObject({ kind: 'unreadable', problem: expect.stringContaining('flags 1') });
  });

  it('records larger than the read window are read whole', async () => {
    const big = record(1, { value: randomBytes(3 * 1024 * 1024) });
    const file = writeSpoolFile('spool-f.kls', [record(0), big, record(2)]);
    const { records: read, end } = await readAll(file);
    expect(read.map((r) => r.record.value.length)).toEqual([record(0).value.length, big.value.length, record(2).value.length]);
    expect(read[1]?.record.value.equals(big.value)).toBe(true);
    expect(end.kind).toBe('end');
  });
});

describe('file header', () => {
  it('refuses a file that is not a spool file, and one of another format version, saying which', async () => {
    const notSpool = path.join(dir, 'spool-x.kls');
    writeFileSync(notSpool, 'hello world, not a spool');
    await expect(SpoolFileReader.open(notSpool)).rejects.toThrow(SpoolFileError);
    await expect(SpoolFileReader.open(notSpool)).rejects.toThrow(/not a kafka-log spool file/);
    const newer = path.join(dir, 'spool-y.kls');
    const header = fileHeader();
    header[7] = 2;
    writeFileSync(newer, header);
    await expect(SpoolFileReader.open(newer)).rejects.toThrow(/format version 2/);
    const empty = path.join(dir, 'spool-z.kls');
    writeFileSync(empty, '');
    await expect(SpoolFileReader.open(empty)).rejects.toThrow(/shorter than/);
  });

  it('a file holding only its header has no records', async () => {
    const file = writeSpoolFile('spool-g.kls', []);
    expect(await readAll(file)).toEqual({ records: [], end: { kind: 'end', offset: FILE_HEADER_BYTES } });
  });
});
