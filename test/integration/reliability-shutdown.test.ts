// Shutdown, on every transport: an Express app logging with kafka-log (scripts/soak/app.mjs, the built package,
// run as a child process the way a container runs it) gets requests, then SIGTERM. Entries still buffered must be delivered
// within the close deadline, the process must exit 0, and the final stats it prints must reconcile
// (accepted = sent + dropped). When the broker cannot be reached, the deadline still holds and every entry left
// is a counted `close_timeout` drop.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { readTopic, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const kafka = inject('kafka');
const ROOT = path.resolve(__dirname, '..', '..');
const APP = path.join(ROOT, 'scripts', 'soak', 'app.mjs');

interface Sample {
  event: 'sample';
  stats: PublisherStats;
}
interface ExitLine {
  event: 'exit';
  closeMs: number;
  stats: PublisherStats;
  reconciled: boolean;
}

interface RunningApp {
  child: ChildProcess;
  port: number;
  samples: Sample[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; line: ExitLine | undefined; stderr: string }>;
}

async function startApp(env: Record<string, string>): Promise<RunningApp> {
  const child = spawn(process.execPath, [APP], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const samples: Sample[] = [];
  let line: ExitLine | undefined;
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  let onPort: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve, reject) => {
    onPort = resolve;
    child.once('exit', (code) => reject(new Error(`app exited (${code}) before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`app not listening after 15 s: ${stderr}`)), 15_000).unref();
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const msg = JSON.parse(text) as { event: string; port?: number };
    if (msg.event === 'listening') onPort(msg.port as number);
    else if (msg.event === 'sample') samples.push(msg as Sample);
    else if (msg.event === 'exit') line = msg as ExitLine;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; line: ExitLine | undefined; stderr: string }>(
    (resolve) => child.once('exit', (code, signal) => setImmediate(() => resolve({ code, signal, line, stderr }))),
  );
  return { child, port: await port, samples, exit };
}

async function sendRequests(port: number, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(
      ids.slice(i, i + 10).map(async (id) => {
        const res = await fetch(`http://127.0.0.1:${port}/orders/${id}`, { headers: { 'x-request-id': id } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }),
    );
  }
}

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'express.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

describe.each(TRANSPORTS)('SIGTERM to an app logging with kafka-log (%s)', (transport) => {
  it('delivers the buffered entries within the close deadline, exits 0, and its final stats reconcile', async () => {
    const topic = uniqueTopic('reliability-shutdown');
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
    for (let i = 0; i < 100; i++) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      if ((meta?.topics[0]?.partitions ?? []).some((p) => p.leader >= 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await admin.disconnect();

    const closeTimeoutMs = 10_000;
    const app = await startApp({
      TRANSPORT: transport,
      KAFKA_BROKERS: kafka.brokers.join(','),
      KAFKA_TOPIC: topic,
      // Nothing leaves on its own: every entry is still buffered when SIGTERM arrives.
      FLUSH_TIMEOUT_MS: '120000',
      CLOSE_TIMEOUT_MS: String(closeTimeoutMs),
      SAMPLE_MS: '100',
    });
    const ids = Array.from({ length: 150 }, (_, i) => `shutdown-${i}-${Date.now()}`);
    await sendRequests(app.port, ids);
    // An entry is published when its response closes, a moment after the client read it: the app's samples say when.
    await expect.poll(() => app.samples.at(-1)?.stats.accepted, { timeout: 15_000, interval: 50 }).toBe(ids.length);
    expect(app.samples.at(-1)?.stats).toMatchObject({ accepted: ids.length, sent: 0, buffered: ids.length });

    const sigterm = Date.now();
    app.child.kill('SIGTERM');
    const { code, signal, line, stderr } = await app.exit;
    const exitMs = Date.now() - sigterm;
    console.log(`reliability-shutdown ${transport} ${JSON.stringify({ entries: ids.length, exitMs, closeMs: line?.closeMs, stats: line?.stats })}`);

    expect(stderr).toBe('');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(line?.closeMs).toBeLessThan(closeTimeoutMs);
    expect(line?.reconciled).toBe(true);
    expect(line?.stats).toMatchObject({ accepted: ids.length, sent: ids.length, dropped: { total: 0 }, buffered: 0, inFlight: 0 });

    const messages = await readTopic({ brokers: kafka.brokers }, topic, ids.length, { timeoutMs: 30_000 });
    const got = messages.map((m) => (JSON.parse(m.value) as { request: { id: string } }).request.id).sort();
    expect(got).toEqual([...ids].sort());
  }, 90_000);

  it('with the broker unreachable, it still exits 0 by the deadline and counts what it could not send', async () => {
    const closeTimeoutMs = 1500;
    const app = await startApp({
      TRANSPORT: transport,
      KAFKA_BROKERS: '127.0.0.1:1', // nothing listens there
      KAFKA_TOPIC: 'reliability-shutdown-unreachable',
      FLUSH_TIMEOUT_MS: '120000',
      CLOSE_TIMEOUT_MS: String(closeTimeoutMs),
      SAMPLE_MS: '50',
    });
    const ids = Array.from({ length: 40 }, (_, i) => `unreachable-${i}`);
    await sendRequests(app.port, ids);
    await expect.poll(() => app.samples.at(-1)?.stats.accepted, { timeout: 15_000, interval: 50 }).toBe(ids.length);

    const sigterm = Date.now();
    app.child.kill('SIGTERM');
    const { code, line } = await app.exit;
    const exitMs = Date.now() - sigterm;
    console.log(`reliability-shutdown ${transport} unreachable ${JSON.stringify({ entries: ids.length, exitMs, closeMs: line?.closeMs, dropped: line?.stats.dropped })}`);

    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(closeTimeoutMs + 3000);
    expect(line?.reconciled).toBe(true);
    expect(line?.stats).toMatchObject({ accepted: ids.length, sent: 0, buffered: 0, inFlight: 0 });
    expect(line?.stats.dropped.total).toBe(ids.length);
    expect(line?.stats.dropped.byReason.close_timeout).toBe(ids.length);
  }, 60_000);
});
