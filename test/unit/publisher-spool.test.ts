// The publisher with a spool, over a fake transport and a real directory: entries that would be dropped for a full
// buffer, an exhausted retry time or the close deadline are written to the spool as the bytes they would have been
// published as (topic, key, headers), counted `spooled` with `accepted = sent + dropped + spooled + buffered +
// inFlight` at every step; past the cap they are dropped with their own reason; a spool that cannot be written is
// a counted, logged `spool_failed` drop; the background replay sends the spool once the transport answers; and the
// `publisher.dropped_records` event hands over the bytes of dropped entries, after the drop.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DroppedError, SpooledError } from '../../src/errors.js';
import type { DroppedRecordsEvent, PublisherLogger } from '../../src/publisher/events.js';
import type { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { listSpool } from '../../src/spool/directory.js';
import type { SpoolRecord } from '../../src/spool/format.js';
import { SpoolFileReader } from '../../src/spool/reader.js';
import { TransportError } from '../../src/transport/transport.js';
import { createTestPublisher } from '../../src/testing/test-publisher.js';
import { balanced, entry, setup } from './publisher-support.js';

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'kafka-log-publisher-spool-'));
  dir = path.join(root, 'spool');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const unreachable = () => Promise.reject(new TransportError('broker', 'connect ECONNREFUSED 127.0.0.1:9', true));

/** Every record in the spool directory, sealed or open, oldest first. */
async function spooledRecords(directory = dir): Promise<SpoolRecord[]> {
  const records: SpoolRecord[] = [];
  const listing = await listSpool(directory);
  for (const file of [...listing.sealed, ...listing.open]) {
    const reader = await SpoolFileReader.open(file.path);
    for (let next = await reader.next(); next.kind === 'record'; next = await reader.next()) records.push(next.record);
    await reader.close();
  }
  return records;
}

/** Polls `stats()` until `done` holds (every sample checked for the balance), bounded. */
async function until(publisher: KafkaLogPublisher, done: (s: PublisherStats) => boolean, samples: PublisherStats[] = []): Promise<PublisherStats> {
  const end = Date.now() + 10_000;
  for (;;) {
    const s = publisher.stats();
    samples.push(s);
    if (!balanced(s)) throw new Error(`stats off balance: ${JSON.stringify(s)}`);
    if (done(s)) return s;
    if (Date.now() > end) throw new Error(`timed out; last stats ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function capturingLogger() {
  const lines: Array<{ level: string; text: string }> = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      lines.push({ level, text: String(args.at(-1)) });
  const logger: PublisherLogger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  return { logger, lines };
}

const idOf = (value: Buffer) => (JSON.parse(value.toString()) as { request: { id: string } }).request.id;

describe('publisher with a spool', () => {
  it('a full buffer spools what does not fit: the bytes as they would be published, with topic, key and headers', async () => {
    const { fake, publisher } = setup({
      spool: { directory: dir },
      maxEntries: 3,
      flushTimeout: 0,
      maxCoalescingDelay: 0,
      key: (e) => e.request.id,
      messageHeaders: { origin: 'unit' },
      logger: false,
    });
    fake.answer = () => new Promise(() => undefined); // Kafka never answers: one request holds the slot
    const samples: PublisherStats[] = [];
    for (let i = 0; i < 20; i++) {
      publisher.publish(entry(i));
      samples.push(publisher.stats());
    }
    const s = await until(publisher, (x) => x.spooled + x.inFlight + x.buffered === 20 && x.spooled > 0, samples);
    expect(samples.every(balanced)).toBe(true);
    expect(s.dropped.total).toBe(0);
    // Kafka never answers, so close() waits out its deadline and spools the request in flight; the deadline leaves
    // room for the spool writes on a loaded machine.
    await publisher.close({ timeoutMs: 2000 });
    const after = publisher.stats();
    expect(after).toMatchObject({ accepted: 20, sent: 0, dropped: { total: 0 }, spooled: 20, buffered: 0, inFlight: 0 });
    const records = await spooledRecords();
    expect(records.map((r) => idOf(r.value)).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `req-${i}`).sort());
    for (const r of records) {
      const i = Number(idOf(r.value).slice(4));
      expect(r.value.toString()).toBe(serializeLogEntry(entry(i)));
      expect(r).toMatchObject({ topic: 'logs', key: Buffer.from(`req-${i}`), headers: { origin: Buffer.from('unit') }, entries: 1 });
    }
    // closed: the files are sealed (synced and renamed), nothing left open
    expect((await listSpool(dir)).open).toEqual([]);
    expect(after.spoolBytes).toBe((await listSpool(dir)).bytes);
  });

  it('an exhausted retry time spools the request (a batched message stays one record with its entries)', async () => {
    const { fake, publisher } = setup({ spool: { directory: dir }, maxBatchSize: 5, maxCoalescingDelay: 10, flushTimeout: 0, initialRetryDelay: 5, maxRetryTime: 40, logger: false });
    fake.answer = unreachable;
    for (let i = 0; i < 10; i++) publisher.publish(entry(i));
    await publisher.flush();
    expect(publisher.stats()).toMatchObject({ accepted: 10, sent: 0, spooled: 10, dropped: { total: 0 }, inFlight: 0, buffered: 0 });
    const records = await spooledRecords();
    expect(records.map((r) => r.entries)).toEqual([5, 5]);
    expect(JSON.parse(records[0]?.value.toString() ?? '')).toHaveLength(5);
    await publisher.close();
  });

  it('close() spools what the deadline leaves undelivered, and waits for the writes within its deadline', async () => {
    const { fake, publisher } = setup({ spool: { directory: dir }, flushTimeout: 60_000, logger: false });
    fake.answer = () => new Promise(() => undefined);
    for (let i = 0; i < 30; i++) publisher.publish(entry(i));
    const started = Date.now();
    await publisher.close({ timeoutMs: 800 });
    expect(Date.now() - started).toBeLessThan(800 + 100);
    expect(publisher.stats()).toMatchObject({ accepted: 30, sent: 0, spooled: 30, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(await spooledRecords()).toHaveLength(30);
    expect((await listSpool(dir)).open).toEqual([]);
  });

  it('the cap is hard: past spool.maxBytes entries are dropped with their own reason, the directory stays under it', async () => {
    const { lines, logger } = capturingLogger();
    const { fake, publisher } = setup({ spool: { directory: dir, maxBytes: 8192, maxFileBytes: 4096 }, maxEntries: 1, flushTimeout: 0, maxCoalescingDelay: 0, logger });
    fake.answer = () => new Promise(() => undefined);
    for (let i = 0; i < 100; i++) {
      publisher.publish(entry(i));
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    const s = await until(publisher, (x) => x.spooled + x.dropped.total + x.buffered + x.inFlight === 100 && x.inFlight <= 1);
    expect(s.spooled).toBeGreaterThan(10);
    expect(s.dropped.byReason.queue_full_entries).toBeGreaterThan(0);
    expect(s.dropped.byReason.spool_failed).toBe(0);
    expect((await listSpool(dir)).bytes).toBeLessThanOrEqual(8192);
    expect(s.spoolBytes).toBeLessThanOrEqual(8192);
    expect(lines.some((l) => l.level === 'error' && /dropped \(queue_full_entries\): the spool at .* is full \(spool.maxBytes 8192\)/.test(l.text))).toBe(true);
    await publisher.close({ timeoutMs: 200 });
    expect((await listSpool(dir)).bytes).toBeLessThanOrEqual(8192);
    expect(balanced(publisher.stats())).toBe(true);
  });

  it('a spool that cannot be written is heard at once, and its entries are counted spool_failed drops, logged once', async () => {
    writeFileSync(dir, 'a file where the spool directory should be');
    const { lines, logger } = capturingLogger();
    const { fake, publisher } = setup({ spool: { directory: dir }, maxEntries: 1, flushTimeout: 0, maxCoalescingDelay: 0, logger });
    fake.answer = () => new Promise(() => undefined);
    // heard at start, before any entry needs the spool
    await until(publisher, () => lines.some((l) => l.level === 'error'));
    expect(lines[0]?.text).toMatch(/the spool directory .*spool cannot be used: .*(EEXIST|ENOTDIR).*dropped \(spool_failed\)/);
    for (let i = 0; i < 10; i++) publisher.publish(entry(i));
    const s = await until(publisher, (x) => x.dropped.byReason.spool_failed === 8);
    expect(s).toMatchObject({ spooled: 0, inFlight: 1, buffered: 1 });
    expect(lines.filter((l) => /\(spool_failed\)/.test(l.text) && /dropped/.test(l.text) && !/cannot be used/.test(l.text))).toHaveLength(1);
    await publisher.close({ timeoutMs: 100 });
  });

  it('sync mode: a spooled entry rejects with SpooledError (not DroppedError) once written', async () => {
    const { fake, publisher } = setup({ spool: { directory: dir }, async: false, initialRetryDelay: 5, maxRetryTime: 30, logger: false });
    fake.answer = unreachable;
    const outcome = publisher.publish(entry(1));
    await expect(outcome).rejects.toBeInstanceOf(SpooledError);
    await expect(outcome).rejects.toMatchObject({ code: 'KAFKA_LOG_ERR_SPOOLED', reason: 'retry_time_exceeded', directory: dir, retriable: true });
    expect(publisher.stats().spooled).toBe(1);
    await publisher.close();
  });

  it('replays its spool in the background once the transport answers, live traffic first; stops at close', async () => {
    const { fake, publisher } = setup({ spool: { directory: dir, replay: true }, maxEntries: 5, flushTimeout: 0, maxCoalescingDelay: 0, initialRetryDelay: 5, maxRetryDelay: 20, maxRetryTime: 50, logger: false });
    let up = false;
    fake.answer = () => (up ? Promise.resolve() : unreachable());
    for (let i = 0; i < 40; i++) publisher.publish(entry(i));
    const down = await until(publisher, (x) => x.spooled === 40);
    expect(down.sent).toBe(0);
    up = true;
    publisher.publish(entry(40)); // live traffic succeeds: the replay follows
    const done = await until(publisher, (x) => x.replayed === 40 && x.sent === 1);
    expect(done).toMatchObject({ accepted: 41, sent: 1, spooled: 40, dropped: { total: 0 }, replayed: 40 });
    const delivered = fake.values().map((v) => idOf(Buffer.from(v)));
    expect(delivered.sort()).toEqual(Array.from({ length: 41 }, (_, i) => `req-${i}`).sort());
    await until(publisher, () => readdirSync(dir).filter((n) => n.startsWith('spool-')).length === 0);
    expect(publisher.stats().spoolBytes).toBe(0);
    await publisher.close();
    expect(fake.maxInFlight).toBe(1);
  });
});

describe('the testing kit with a spool', () => {
  it('createTestPublisher takes the spool option: failNext past maxRetryTime spools, the background replay delivers', async () => {
    const p = createTestPublisher({ spool: { directory: dir, replay: true }, initialRetryDelay: 5, maxRetryDelay: 10, maxRetryTime: 30, logger: false });
    p.failNext(20);
    for (let i = 0; i < 5; i++) p.publish(entry(i));
    await p.flush();
    expect(p.stats()).toMatchObject({ accepted: 5, sent: 0, spooled: 5, dropped: { total: 0 } });
    expect(p.entries()).toEqual([]);
    // live traffic goes on until the simulated failures are used up; then the background replay follows
    let published = 5;
    while (p.stats().sent === 0 && published < 100) {
      p.publish(entry(published++));
      await p.flush();
    }
    const done = await until(p, (s) => s.replayed === s.spooled && s.buffered + s.inFlight === 0);
    expect(done.sent + done.spooled).toBe(published);
    expect(p.entries().map((e) => e.request.id).sort()).toEqual(Array.from({ length: published }, (_, i) => `req-${i}`).sort());
    await p.close();
  });
});

describe('publisher.dropped_records', () => {
  it('hands over the bytes of dropped entries after the drop, never inside publish()', async () => {
    const { fake, publisher } = setup({ maxEntries: 2, flushTimeout: 0, maxCoalescingDelay: 0, key: (e) => e.request.id, logger: false });
    fake.answer = () => new Promise(() => undefined);
    const events: DroppedRecordsEvent[] = [];
    publisher.on('publisher.dropped_records', (e) => events.push(e));
    for (let i = 0; i < 10; i++) publisher.publish(entry(i));
    expect(events).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(events).toHaveLength(1);
    const event = events[0] as DroppedRecordsEvent;
    expect(event.reason).toBe('queue_full_entries');
    expect(event.entries).toBe(event.records.length);
    expect(publisher.stats().dropped.byReason.queue_full_entries).toBe(event.entries);
    for (const r of event.records) {
      const i = Number(idOf(r.value).slice(4));
      expect(r).toMatchObject({ topic: 'logs', key: Buffer.from(`req-${i}`), entries: 1, schemaPending: false });
      expect(r.value.toString()).toBe(serializeLogEntry(entry(i)));
    }
    await publisher.close({ timeoutMs: 50 });
  });

  it('carries spool failures too, so a fallback of one\'s own catches what the spool could not take', async () => {
    writeFileSync(dir, 'not a directory');
    const { fake, publisher } = setup({ spool: { directory: dir }, maxEntries: 1, flushTimeout: 0, maxCoalescingDelay: 0, logger: false });
    fake.answer = () => new Promise(() => undefined);
    const events: DroppedRecordsEvent[] = [];
    const drops: DroppedError[] = [];
    publisher.on('publisher.dropped_records', (e) => events.push(e));
    publisher.on('publisher.drop', (e) => e.error && drops.push(e.error as DroppedError));
    await new Promise((r) => setTimeout(r, 50)); // the directory found unusable
    for (let i = 0; i < 5; i++) publisher.publish(entry(i));
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => [e.reason, e.entries])).toEqual([['spool_failed', 3]]);
    expect(drops[0]?.reason).toBe('spool_failed');
    await publisher.close({ timeoutMs: 50 });
  });
});
