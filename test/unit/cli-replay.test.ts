// `kafka-log replay`, run in-process: usage errors, --dry-run, the locks, damaged files and what is printed (control
// characters escaped, the password absent). Sending to a real broker is covered by the spool-outage integration test.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { type SpoolRecord, encodeRecords, fileHeader } from '../../src/spool/format.js';
import { captureIo } from '../support/cli-io.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the test.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'kafka-log-cli-replay-')), 'spool');
  mkdirSync(dir);
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

function record(i: number, topic = 'logs'): SpoolRecord {
  return { topic, key: null, headers: undefined, value: Buffer.from(`{"i":${i}}`), entries: 1, spooledAt: Date.UTC(2026, 0, 1) + i };
}

function spoolFile(name: string, records: SpoolRecord[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat([fileHeader(), encodeRecords(records)]));
  return file;
}

describe('kafka-log replay', () => {
  it('is listed in the main help', async () => {
    const io = captureIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toMatch(/replay\s+publish a publisher's spool directory/);
  });

  it('refuses bad usage with exit code 2: no directory, two, no brokers', async () => {
    for (const argv of [['replay'], ['replay', 'a', 'b'], ['replay', dir], ['replay', dir, '--brokers', 'h:1', '--max-request-records', '0']]) {
      const io = captureIo();
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.err()).toContain('Usage: kafka-log replay DIR');
    }
  });

  it('--dry-run reads every file and prints what it holds, sending and changing nothing; control characters escaped', async () => {
    spoolFile('spool-20260101T000000000Z-000001-aaaaaa.kls', [record(1), record(2, 'evil\u001b[2J\rtopic')]);
    spoolFile('spool-20260101T000000001Z-000002-bbbbbb.kls', [record(3)]);
    const before = readdirSync(dir).sort();
    const io = captureIo();
    expect(await main(['replay', dir, '--dry-run'], io)).toBe(0);
    const out = io.out();
    expect(out).toContain('spool-20260101T000000000Z-000001-aaaaaa.kls: 2 records (2 entries) for logs (1), evil\\x1b[2J\\x0dtopic (1), spooled 2026-01-01T00:00:00.001Z to 2026-01-01T00:00:00.002Z');
    expect(out).toContain('2 files: 3 records (3 entries) to replay; nothing sent (--dry-run)');
    expect(CONTROL.test(out)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('--dry-run reports a damaged file and exits 1', async () => {
    writeFileSync(path.join(dir, 'spool-20260101T000000000Z-000001-cccccc.kls'), 'garbage\u001b]0;title\u0007');
    const io = captureIo();
    expect(await main(['replay', dir, '--dry-run'], io)).toBe(1);
    expect(io.err()).toContain('not a kafka-log spool file');
    expect(CONTROL.test(io.err())).toBe(false);
  });

  it('says so when there is nothing to replay, and names files still open', async () => {
    spoolFile('spool-20260101T000000000Z-000001-dddddd.kls.open', [record(1)]);
    const io = captureIo();
    expect(await main(['replay', dir, '--brokers', '127.0.0.1:9'], io)).toBe(0);
    expect(io.out()).toContain('nothing to replay');
    expect(io.out()).toContain('1 file still open (.kls.open) left as they are');
  });

  it('refuses while another live replay holds the directory', async () => {
    spoolFile('spool-20260101T000000000Z-000001-eeeeee.kls', [record(1)]);
    writeFileSync(path.join(dir, 'replay.lock'), JSON.stringify({ pid: process.ppid, hostname: hostname() }));
    const io = captureIo();
    expect(await main(['replay', dir, '--brokers', '127.0.0.1:9'], io)).toBe(1);
    expect(io.err()).toContain(`another replay (process ${process.ppid}`);
  });

  it('--include-open is refused while a live process writes the directory', async () => {
    spoolFile('spool-20260101T000000000Z-000001-ffffff.kls.open', [record(1)]);
    writeFileSync(path.join(dir, 'writer.lock'), JSON.stringify({ pid: process.ppid, hostname: hostname() }));
    const io = captureIo();
    expect(await main(['replay', dir, '--brokers', '127.0.0.1:9', '--include-open'], io)).toBe(1);
    expect(io.err()).toContain(`process ${process.ppid}`);
    expect(io.err()).toContain('is writing');
  });

  it('sets a file damaged at its first record aside (nothing to send before it) and exits 1', async () => {
    const file = spoolFile('spool-20260101T000000000Z-000001-111111.kls', [record(1), record(2)]);
    const bytes = readFileSync(file);
    bytes[8 + 8 + 3] = (bytes[8 + 8 + 3] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const io = captureIo();
    expect(await main(['replay', dir, '--brokers', '127.0.0.1:9', '--connect-timeout', '500'], io)).toBe(1);
    expect(io.err()).toContain('unreadable record at offset 8 (checksum mismatch)');
    expect(readdirSync(dir)).toContain('spool-20260101T000000000Z-000001-111111.kls.corrupt');
  });

  it('a broker that cannot be reached: exit 1, the files kept, the password nowhere in the output', async () => {
    spoolFile('spool-20260101T000000000Z-000001-222222.kls', [record(1)]);
    const password = 'pa55-w0rd-for-replay';
    const io = captureIo({ KAFKA_LOG_PASSWORD: password });
    const code = await main(['replay', dir, '--brokers', '127.0.0.1:9', '--connect-timeout', '500', '--sasl-mechanism', 'PLAIN', '--username', 'replayer'], io);
    expect(code).toBe(1);
    expect(io.err()).toMatch(/nothing is lost: the files are kept, with their progress; run the same command again to resume/);
    expect(io.out() + io.err()).not.toContain(password);
    expect(readdirSync(dir)).toContain('spool-20260101T000000000Z-000001-222222.kls');
  });
});
