// Replay of spool files against a recording sender: bounded requests, a durable progress marker after every
// acknowledged request, resumption after an interruption that resends exactly the unacknowledged request, removal
// only once every record is acknowledged, torn tails skipped and damaged files set aside.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROGRESS_SUFFIX, readProgress } from '../../src/spool/directory.js';
import { FILE_HEADER_BYTES, RECORD_FRAME_BYTES, type SpoolRecord, encodeRecords, encodedRecordBytes, fileHeader } from '../../src/spool/format.js';
import { inspectFile, replayFile } from '../../src/spool/replay.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kafka-log-spool-replay-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function record(id: number, entries = 1): SpoolRecord {
  return { topic: 'logs', key: null, headers: { id: String(id) }, value: Buffer.from(`{"id":${id}}`), entries, spooledAt: 1_700_000_000_000 + id };
}

function spoolFile(records: SpoolRecord[], name = 'spool-20260101T000000000Z-000001-aaaaaa.kls'): string {
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([fileHeader(), encodeRecords(records)]));
  return file;
}

const idOf = (r: SpoolRecord) => Number(String(r.headers?.id));

/** A sender that records each request's record ids, failing the requests `failOn` names (1-based). */
function sender(failOn: number[] = []) {
  const requests: number[][] = [];
  const acknowledged: number[] = [];
  let calls = 0;
  const send = async (records: readonly SpoolRecord[]) => {
    calls += 1;
    const ids = records.map(idOf);
    requests.push(ids);
    if (failOn.includes(calls)) throw new Error(`request ${calls} failed`);
    acknowledged.push(...ids);
  };
  return { send, requests, acknowledged };
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('replayFile', () => {
  it('sends every record once, in order, in requests of at most maxRequestRecords; then removes file and marker', async () => {
    const file = spoolFile(ids(25).map((i) => record(i, 1 + (i % 3))));
    const s = sender();
    const result = await replayFile(file, s.send, { maxRequestRecords: 10, maxRequestBytes: 1024 * 1024 });
    expect(s.requests.map((r) => r.length)).toEqual([10, 10, 5]);
    expect(s.acknowledged).toEqual(ids(25));
    expect(result).toMatchObject({ outcome: 'replayed', records: 25, entries: ids(25).reduce((sum, i) => sum + 1 + (i % 3), 0), resumedAfter: 0 });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps requests within maxRequestBytes (a larger record goes alone)', async () => {
    const records = ids(6).map((i) => ({ ...record(i), value: Buffer.alloc(i === 3 ? 5000 : 400, 'v') }));
    const file = spoolFile(records);
    const s = sender();
    await replayFile(file, s.send, { maxRequestRecords: 100, maxRequestBytes: 1000 });
    expect(s.requests).toEqual([[0, 1], [2], [3], [4, 5]]);
  });

  it('a failed request leaves the file with a marker after the last acknowledged request; the next run resends only the failed one', async () => {
    const file = spoolFile(ids(30).map((i) => record(i)));
    const first = sender([3]);
    await expect(replayFile(file, first.send, { maxRequestRecords: 10, maxRequestBytes: 1024 * 1024 })).rejects.toThrow('request 3 failed');
    expect(first.acknowledged).toEqual(ids(20));
    expect(existsSync(file)).toBe(true);
    const marker = await readProgress(file);
    expect(marker).toEqual({ offset: FILE_HEADER_BYTES + ids(20).reduce((sum, i) => sum + encodedRecordBytes(record(i)), 0), records: 20, entries: 20 });

    const second = sender();
    const result = await replayFile(file, second.send, { maxRequestRecords: 10, maxRequestBytes: 1024 * 1024 });
    expect(result).toMatchObject({ outcome: 'replayed', records: 10, resumedAfter: 20 });
    // Across both runs every record was acknowledged exactly once; the only record sent twice is one of the
    // request that failed (unacknowledged) when the first run stopped.
    expect([...first.acknowledged, ...second.acknowledged]).toEqual(ids(30));
    const sentTwice = ids(30).filter((id) => [...first.requests, ...second.requests].flat().filter((x) => x === id).length > 1);
    expect(sentTwice).toEqual(first.requests[2]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(file + PROGRESS_SUFFIX)).toBe(false);
  });

  it('stops between requests when aborted, and resumes there', async () => {
    const file = spoolFile(ids(30).map((i) => record(i)));
    const controller = new AbortController();
    const acknowledged: number[] = [];
    const result = await replayFile(
      file,
      async (records) => {
        acknowledged.push(...records.map(idOf));
        if (acknowledged.length >= 10) controller.abort();
      },
      { maxRequestRecords: 10, maxRequestBytes: 1024 * 1024, signal: controller.signal },
    );
    expect(result).toMatchObject({ outcome: 'interrupted', records: 10 });
    const rest = sender();
    await replayFile(file, rest.send, { maxRequestRecords: 10, maxRequestBytes: 1024 * 1024 });
    expect([...acknowledged, ...rest.acknowledged]).toEqual(ids(30));
  });

  it('skips a torn tail and removes the file once the records before it are acknowledged', async () => {
    const file = spoolFile(ids(5).map((i) => record(i)));
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 3));
    const s = sender();
    const result = await replayFile(file, s.send, { maxRequestRecords: 10, maxRequestBytes: 1024 * 1024 });
    expect(s.acknowledged).toEqual(ids(4));
    expect(result.torn).toEqual({ offset: whole.length - encodedRecordBytes(record(4)), bytes: encodedRecordBytes(record(4)) - 3 });
    expect(existsSync(file)).toBe(false);
  });

  it('sends the records before damage in the middle, then sets the file aside as .kls.corrupt', async () => {
    const file = spoolFile(ids(5).map((i) => record(i)));
    const bytes = readFileSync(file);
    const third = FILE_HEADER_BYTES + 2 * encodedRecordBytes(record(0));
    bytes[third + RECORD_FRAME_BYTES + 3] = (bytes[third + RECORD_FRAME_BYTES + 3] as number) ^ 0x10;
    writeFileSync(file, bytes);
    const s = sender();
    const result = await replayFile(file, s.send, { maxRequestRecords: 10, maxRequestBytes: 1024 * 1024 });
    expect(s.acknowledged).toEqual([0, 1]);
    expect(result).toMatchObject({ outcome: 'damaged', problem: expect.stringContaining(`offset ${third}`) });
    expect(readdirSync(dir).sort()).toEqual(['spool-20260101T000000000Z-000001-aaaaaa.kls.corrupt', 'spool-20260101T000000000Z-000001-aaaaaa.kls.corrupt.progress']);
  });

  it('leaves a file it cannot read as it is, saying why', async () => {
    const file = path.join(dir, 'spool-x.kls');
    writeFileSync(file, 'not a spool file at all');
    const s = sender();
    const result = await replayFile(file, s.send, { maxRequestRecords: 10, maxRequestBytes: 1024 });
    expect(result).toMatchObject({ outcome: 'unreadable', problem: expect.stringContaining('not a kafka-log spool file') });
    expect(s.requests).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });

  it('a marker that does not fit the file is ignored: the file is replayed from the start', async () => {
    const file = spoolFile(ids(3).map((i) => record(i)));
    writeFileSync(file + PROGRESS_SUFFIX, JSON.stringify({ offset: 10_000_000, records: 99, entries: 99 }));
    const s = sender();
    await replayFile(file, s.send, { maxRequestRecords: 10, maxRequestBytes: 1024 });
    expect(s.acknowledged).toEqual([0, 1, 2]);
  });

  it('sends to another topic when told to', async () => {
    const file = spoolFile([record(1)]);
    const topics: string[] = [];
    await replayFile(file, async (records) => void topics.push(...records.map((r) => r.topic)), { maxRequestRecords: 10, maxRequestBytes: 1024, topic: 'elsewhere' });
    expect(topics).toEqual(['elsewhere']);
  });
});

describe('inspectFile', () => {
  it('counts records, entries and topics from the marker on, without sending or changing anything', async () => {
    const file = spoolFile([record(1, 3), { ...record(2), topic: 'other' }, record(3)]);
    const before = readdirSync(dir);
    expect(await inspectFile(file)).toEqual({
      file,
      records: 3,
      entries: 5,
      resumedAfter: 0,
      topics: { logs: 2, other: 1 },
      spooledFrom: 1_700_000_000_001,
      spooledTo: 1_700_000_000_003,
    });
    expect(readdirSync(dir)).toEqual(before);
  });
});
