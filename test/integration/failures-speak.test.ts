// A misconfigured publisher says so at once, with the real cause, on stderr by default: child processes (the
// built package, as an app runs it) with a wrong broker address, a port that does not speak Kafka, and a
// compression codec or transport package that is not installed (hidden from module resolution in that process
// only), against the real local broker.
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { CHILDREN, type ChildRun, runChild } from './children.js';
import { createTopics, readTopic, uniqueTopic } from './publisher-support.js';

const kafka = inject('kafka');
const ROOT = path.resolve(__dirname, '..', '..');
const HIDE = ['--import', path.join(CHILDREN, 'hide-packages.mjs')];
const nativeZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'testing.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

const stderrOf = (run: ChildRun) => run.stderr.map((l) => l.text).join('\n').split('\n').filter(Boolean);

async function waitFor(run: ChildRun, test: RegExp, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const line = run.stderr.find((l) => test.test(l.text));
    if (line) return line.at;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no stderr line matching ${test} within ${timeoutMs} ms: ${run.stderr.map((l) => l.text).join('\n')}`);
}

describe('a wrong broker address', () => {
  it('is heard on stderr within seconds, in two short lines; SIGTERM exits after the close deadline with the drop logged', async () => {
    const run = runChild('wrong-broker-app.mjs', { KAFKA_BROKERS: '127.0.0.1:1', ENTRIES: '5' });
    const ready = await run.next((line) => line.event === 'ready');
    expect(ready).toEqual({ event: 'ready' });
    // The first request goes out after flushTimeout (1 s by default); the first failed attempt is logged at once.
    const heardAt = await waitFor(run, /cannot reach Kafka/, 5000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sigterm = Date.now();
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    const exitMs = Date.now() - sigterm;
    const lines = stderrOf(run);
    console.log(`wrong broker: first line after ${heardAt} ms, exit ${exitMs} ms after SIGTERM:\n${lines.join('\n')}`);

    expect(code).toBe(0);
    expect(heardAt).toBeLessThan(5000);
    expect(exitMs).toBeGreaterThanOrEqual(9_900);
    expect(exitMs).toBeLessThan(14_000);
    expect(lines).toEqual([
      'kafka-log warn: cannot reach Kafka at 127.0.0.1:1: Connection error: connect ECONNREFUSED 127.0.0.1:1; 5 log entries kept and retried',
      'kafka-log error: 5 log entries dropped (close_timeout): the publisher closed before delivery',
    ]);
    const exit = run.stdout.find((l) => (l as { event?: string }).event === 'exit') as { stats: PublisherStats };
    expect(exit.stats).toMatchObject({ accepted: 5, sent: 0, dropped: { total: 5, byReason: { close_timeout: 5 } } });
  }, 40_000);

  it('with `await publisher.connect()` at boot, the app fails at once with the cause and its code', async () => {
    const run = runChild('wrong-broker-app.mjs', { KAFKA_BROKERS: '127.0.0.1:1', CONNECT: '1' });
    const { code, at } = await run.exit;
    const text = stderrOf(run).join('\n');
    expect(code).toBe(1);
    expect(at).toBeLessThan(5000);
    expect(text).toContain('kafka-log warn: cannot reach Kafka at 127.0.0.1:1: Connection error: connect ECONNREFUSED 127.0.0.1:1; will retry');
    expect(text).toMatch(/TransportError: Connection error: connect ECONNREFUSED 127\.0\.0\.1:1/);
    expect(text).toContain("code: 'KAFKA_LOG_ERR_BROKER'");
    expect(run.stdout).toEqual([]);
  }, 30_000);

  it('a port that accepts connections but never speaks Kafka fails connect() within timeout + 5 s', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const run = runChild('connect-and-publish.mjs', { KAFKA_BROKERS: `127.0.0.1:${port}`, KAFKA_TOPIC: 'never', CONNECT: '1' });
      const { code } = await run.exit;
      const out = run.stdout[0] as { connect: { ok: boolean; code: string; retriable: boolean; message: string; ms: number }; publish: { reason: string } };
      console.log(`silent port: connect() rejected after ${out.connect.ms} ms: ${out.connect.code} ${out.connect.message}`);
      expect(code).toBe(0);
      expect(out.connect).toMatchObject({ ok: false, retriable: true });
      expect(['KAFKA_LOG_ERR_TIMEOUT', 'KAFKA_LOG_ERR_BROKER']).toContain(out.connect.code);
      expect(out.connect.ms).toBeLessThanOrEqual(15_500);
      expect(stderrOf(run)[0]).toMatch(new RegExp(`^kafka-log warn: cannot reach Kafka at 127\\.0\\.0\\.1:${port}: `));
      // The entry published afterwards waited for the broker, then was dropped by close()'s deadline.
      expect(out.publish.reason).toBe('close_timeout');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 60_000);
});

interface Outcome {
  connect: { ok: boolean; code?: string; message?: string };
  publish: { ok: boolean; code?: string; reason?: string; causeCode?: string; message?: string };
  stats: PublisherStats;
}

async function connectAndPublish(env: Record<string, string>, hide: string | undefined): Promise<{ out: Outcome; lines: string[]; code: number | null }> {
  const run = runChild('connect-and-publish.mjs', { ...env, CONNECT: '1', ...(hide ? { HIDE_PACKAGES: hide } : {}) }, hide ? { nodeArgs: HIDE } : {});
  const { code } = await run.exit;
  return { out: run.stdout[0] as Outcome, lines: stderrOf(run), code };
}

describe('a package that is not installed', () => {
  const cases: Array<{ transport: 'kafkajs' | 'platformatic'; compression: string; hide: string; message: string; missing: boolean }> = [
    { transport: 'kafkajs', compression: 'snappy', hide: 'snappyjs', message: 'compression "snappy" needs the package "snappyjs": npm install snappyjs', missing: true },
    { transport: 'kafkajs', compression: 'lz4', hide: 'lz4js', message: 'compression "lz4" needs the package "lz4js": npm install lz4js', missing: true },
    {
      transport: 'kafkajs',
      compression: 'zstd',
      hide: '@bokuweb/zstd-wasm',
      message: 'compression "zstd" needs the package "@bokuweb/zstd-wasm": npm install @bokuweb/zstd-wasm',
      missing: !nativeZstd,
    },
    {
      transport: 'platformatic',
      compression: 'zstd',
      hide: '@bokuweb/zstd-wasm',
      message: 'compression "zstd" needs the package "@bokuweb/zstd-wasm": npm install @bokuweb/zstd-wasm',
      missing: !nativeZstd,
    },
    {
      transport: 'platformatic',
      compression: 'none',
      hide: '@platformatic/kafka',
      message: 'transport "platformatic" needs the package "@platformatic/kafka": npm install @platformatic/kafka',
      missing: true,
    },
  ];

  it.each(cases)('$transport, compression $compression, without $hide: connect() rejects with it and the entry is dropped with it', async (c) => {
    const topic = uniqueTopic(`missing-${c.transport}-${c.compression}`);
    await createTopics(kafka.brokers, [topic]);
    const brokers = kafka.brokers.join(',');
    const env = { KAFKA_BROKERS: brokers, KAFKA_TOPIC: topic, TRANSPORT: c.transport, COMPRESSION: c.compression };

    const hidden = await connectAndPublish({ ...env, REQUEST_ID: 'hidden' }, c.hide);
    console.log(`${c.transport}/${c.compression} without ${c.hide}:\n${hidden.lines.join('\n')}`);
    expect(hidden.code).toBe(0);
    if (c.missing) {
      expect(hidden.out.connect).toEqual({ ok: false, code: 'KAFKA_LOG_ERR_MISSING_DEPENDENCY', retriable: false, message: c.message, ms: expect.any(Number) });
      expect(hidden.out.publish).toMatchObject({ ok: false, reason: 'non_retriable', causeCode: 'KAFKA_LOG_ERR_MISSING_DEPENDENCY' });
      expect(hidden.out.publish.message).toContain(c.message);
      expect(hidden.lines).toEqual([`kafka-log error: cannot connect to Kafka at ${brokers}: ${c.message}`, `kafka-log error: 1 log entry dropped (non_retriable): ${c.message}`]);
    } else {
      // Node has zstd itself: the package is not needed, and the entry goes out.
      expect(hidden.out).toMatchObject({ connect: { ok: true }, publish: { ok: true } });
      expect(hidden.lines).toEqual([]);
    }

    // The same configuration with the package resolvable: connected, delivered, read back.
    const control = await connectAndPublish({ ...env, REQUEST_ID: 'installed' }, undefined);
    expect(control.out).toMatchObject({ connect: { ok: true }, publish: { ok: true } });
    expect(control.lines).toEqual([]);
    const expected = c.missing ? ['installed'] : ['hidden', 'installed'];
    const messages = await readTopic({ brokers: kafka.brokers }, topic, expected.length, { timeoutMs: 20_000 });
    expect(messages.map((m) => (JSON.parse(m.value) as { request: { id: string } }).request.id).sort()).toEqual(expected);
  }, 60_000);
});
