// The spool writer on a real directory: rotation at maxFileBytes, the hard cap on the directory, the bound on what
// waits to be written, failures reported with their records, the lock, and files left open by a crash.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSpool } from '../../src/spool/directory.js';
import { FILE_HEADER_BYTES, type SpoolRecord, encodedRecordBytes, fileHeader, encodeRecords } from '../../src/spool/format.js';
import { SpoolFileReader } from '../../src/spool/reader.js';
import { type SpoolItem, SpoolLockedError, SpoolWriter, type SpoolWriterOptions } from '../../src/spool/writer.js';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'kafka-log-spool-writer-')), 'spool');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

interface Item extends SpoolItem {
  id: number;
}

function item(id: number, valueBytes = 200): Item {
  const value = Buffer.alloc(valueBytes, 'x');
  value.write(`{"id":${id}}`);
  return { id, record: { topic: 'logs', key: null, headers: undefined, value, entries: 1, spooledAt: 1_700_000_000_000 } };
}

/** A writer whose reports are recorded by item id. */
function writer(options: Partial<SpoolWriterOptions> = {}) {
  const seen = { written: [] as number[], full: [] as number[], failed: [] as Array<{ id: number; error: string }>, unusable: [] as string[] };
  const w = new SpoolWriter<Item>(
    { directory: dir, maxBytes: 1024 * 1024, maxFileBytes: 64 * 1024, maxPendingBytes: 1024 * 1024, ...options },
    {
      written: (items) => seen.written.push(...items.map((i) => i.id)),
      full: (items) => seen.full.push(...items.map((i) => i.id)),
      failed: (items, error) => seen.failed.push(...items.map((i) => ({ id: i.id, error: error.message }))),
      unusable: (error) => seen.unusable.push(error.message),
    },
  );
  return { w, seen };
}

async function idsIn(directory: string): Promise<number[]> {
  const ids: number[] = [];
  for (const file of (await listSpool(directory)).sealed) {
    const reader = await SpoolFileReader.open(file.path);
    for (let next = await reader.next(); next.kind === 'record'; next = await reader.next()) {
      ids.push((JSON.parse(next.record.value.toString().replace(/x+$/, '')) as { id: number }).id);
    }
    await reader.close();
  }
  return ids;
}

describe('SpoolWriter', () => {
  it('writes every record taken, in order, rotating files at maxFileBytes; close seals them all', async () => {
    const { w, seen } = writer({ maxFileBytes: 8 * 1024 });
    for (let i = 0; i < 100; i++) expect(w.offer(item(i))).toBe('taken');
    await w.close();
    expect(seen.written).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const listing = await listSpool(dir);
    expect(listing.open).toEqual([]);
    expect(listing.sealed.length).toBeGreaterThan(2);
    for (const file of listing.sealed) expect(file.size).toBeLessThanOrEqual(8 * 1024);
    expect(await idsIn(dir)).toEqual(seen.written);
    // nothing but the sealed files is left: the lock went with close()
    expect(readdirSync(dir).filter((n) => !n.endsWith('.kls'))).toEqual([]);
  });

  it('a record larger than maxFileBytes gets a file of its own', async () => {
    const { w, seen } = writer({ maxFileBytes: 4096 });
    w.offer(item(1, 100));
    w.offer(item(2, 10_000));
    w.offer(item(3, 100));
    await w.close();
    expect(seen.written).toEqual([1, 2, 3]);
    const sizes = (await listSpool(dir)).sealed.map((f) => f.size);
    expect(sizes).toHaveLength(3);
    expect(sizes[1]).toBe(FILE_HEADER_BYTES + encodedRecordBytes(item(2, 10_000).record));
  });

  it('never lets the directory pass maxBytes: what does not fit is reported full', async () => {
    const maxBytes = 16 * 1024;
    const { w, seen } = writer({ maxBytes, maxFileBytes: 4096 });
    const refusedAtOnce: number[] = [];
    for (let i = 0; i < 200; i++) {
      if (w.offer(item(i)) === 'full') refusedAtOnce.push(i);
      if (i % 10 === 0) {
        await w.idle();
        expect((await listSpool(dir)).bytes).toBeLessThanOrEqual(maxBytes);
      }
    }
    await w.close();
    const listing = await listSpool(dir);
    expect(listing.bytes).toBeLessThanOrEqual(maxBytes);
    expect(listing.bytes).toBeGreaterThan(maxBytes - 4096);
    // refused at once by offer while the count is fresh, or by the write that found no room
    expect(seen.full.length + refusedAtOnce.length).toBeGreaterThan(100);
    expect(seen.written.length + seen.full.length + refusedAtOnce.length).toBe(200);
    expect(await idsIn(dir)).toEqual(seen.written);
  });

  it('once full, offer refuses at once; when a replay removes files, room is found again', async () => {
    const maxBytes = 8 * 1024;
    const { w, seen } = writer({ maxBytes, maxFileBytes: 4096 });
    for (let i = 0; i < 100; i++) w.offer(item(i));
    await w.seal();
    expect(seen.full.length).toBeGreaterThan(0);
    expect(w.offer(item(1000))).toBe('full');
    // a replay takes every sealed file away
    for (const file of (await listSpool(dir)).sealed) rmSync(file.path);
    await new Promise((r) => setTimeout(r, 1100)); // the directory is listed again at most once a second
    expect(w.offer(item(1001))).toBe('taken');
    await w.close();
    expect(seen.written).toContain(1001);
  });

  it('bounds the memory of what waits: past maxPendingBytes an offer is refused as behind', () => {
    const { w } = writer({ maxPendingBytes: 10 * 1024 });
    const results = Array.from({ length: 100 }, (_, i) => w.offer(item(i, 1000)));
    expect(results.filter((r) => r === 'taken').length).toBeLessThanOrEqual(10);
    expect(results).toContain('behind');
    expect(w.pendingBytes).toBeLessThanOrEqual(10 * 1024);
    return w.close();
  });

  it('a directory that cannot be made is unusable: reported once, every record then reported failed', async () => {
    writeFileSync(path.join(path.dirname(dir), 'spool'), 'a file where the directory should be');
    const { w, seen } = writer();
    expect(await w.ready()).toBeInstanceOf(Error);
    expect(seen.unusable).toHaveLength(1);
    expect(w.offer(item(1))).toBe('unusable');
    await w.close();
  });

  it('records taken before the directory proved unusable are reported failed', async () => {
    writeFileSync(path.join(path.dirname(dir), 'spool'), 'not a directory');
    const { w, seen } = writer();
    expect(w.offer(item(1))).toBe('taken');
    await w.close();
    expect(seen.failed.map((f) => f.id)).toEqual([1]);
    expect(seen.failed[0]?.error).toMatch(/EEXIST|ENOTDIR/);
  });

  it('a write that fails (the directory gone) reports its records failed; later writes try again', async () => {
    const { w, seen } = writer({ maxFileBytes: 2048 });
    for (let i = 0; i < 5; i++) w.offer(item(i));
    await w.idle();
    // The directory is replaced by a file: the next file cannot be created.
    await w.seal();
    const aside = `${dir}-aside`;
    renameSync(dir, aside);
    writeFileSync(dir, 'not a directory');
    for (let i = 5; i < 10; i++) w.offer(item(i));
    await w.idle();
    expect(seen.failed.map((f) => f.id)).toEqual([5, 6, 7, 8, 9]);
    // the file system recovers: writes go on
    rmSync(dir);
    mkdirSync(dir);
    w.offer(item(10));
    await w.close();
    expect(seen.written).toEqual([0, 1, 2, 3, 4, 10]);
    expect(await idsIn(dir)).toEqual([10]);
    expect(await idsIn(aside)).toEqual([0, 1, 2, 3, 4]);
  });

  it('a second writer on the same directory is refused with who holds it', async () => {
    const first = writer();
    expect(await first.w.ready()).toBeUndefined();
    const second = writer();
    const error = await second.w.ready();
    expect(error).toBeInstanceOf(SpoolLockedError);
    expect(error?.message).toMatch(/in use by process \d+/);
    await second.w.close();
    await first.w.close();
    // released: a new writer may take it
    const third = writer();
    expect(await third.w.ready()).toBeUndefined();
    await third.w.close();
  });

  it('a lock left by a process that is gone is taken over', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'writer.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname() }));
    const { w } = writer();
    expect(await w.ready()).toBeUndefined();
    await w.close();
  });

  it('seals files a stopped process left open (torn tail and all), counting them against the cap', async () => {
    mkdirSync(dir, { recursive: true });
    const records: SpoolRecord[] = [item(1).record, item(2).record];
    const torn = Buffer.concat([fileHeader(), encodeRecords(records)]).subarray(0, -5);
    writeFileSync(path.join(dir, 'spool-20260101T000000000Z-000001-abcdef.kls.open'), torn);
    const { w } = writer();
    await w.ready();
    const listing = await listSpool(dir);
    expect(listing.open).toEqual([]);
    expect(listing.sealed.map((f) => f.name)).toEqual(['spool-20260101T000000000Z-000001-abcdef.kls']);
    expect(w.bytes).toBe(torn.length);
    expect(await idsIn(dir)).toEqual([1]);
    await w.close();
  });

  it('an idle file is sealed on its own (so a replay can take it while the process runs)', async () => {
    const { w } = writer();
    w.offer(item(1));
    await w.idle();
    expect((await listSpool(dir)).open).toHaveLength(1);
    expect(w.hasOpenRecords).toBe(true);
    await w.seal();
    expect((await listSpool(dir)).open).toHaveLength(0);
    expect(existsSync(dir)).toBe(true);
    expect(statSync(dir).isDirectory()).toBe(true);
    await w.close();
  });

  it('abandon() hands back what is not written and reports nothing more', async () => {
    const { w, seen } = writer();
    for (let i = 0; i < 5; i++) w.offer(item(i));
    const abandoned = w.abandon();
    expect(abandoned.map((i) => i.id)).toEqual([0, 1, 2, 3, 4]);
    expect(w.offer(item(9))).toBe('unusable');
    await w.idle();
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.written).toEqual([]);
    expect(seen.failed).toEqual([]);
  });
});
