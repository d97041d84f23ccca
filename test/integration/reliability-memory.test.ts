// Memory is bounded by default: an app logging request and response bodies with DEFAULT publisher options (only
// brokers and topic set) rides out a Kafka outage within the documented bound. The app runs as a child process
// (node --expose-gc, the node:http adapter with `logRequestBody` and `logResponseBody`), its broker address a
// blackhole on loopback: a port that accepts connections and never answers, as an unreachable cluster behind a
// load balancer does. Requests with ~60 KB JSON bodies (entries of ~120 KB: the body and its parsed arguments) offer
// several times the default maxBytes; after a full collection the app retains at most maxBytes plus the stated
// overhead, and the accounting identity holds at every sample and after close.
import { type ChildProcess, fork } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PUBLISHER_DEFAULTS } from '../../src/publisher/publisher-options.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { type Blackhole, startBlackhole } from '../support/blackhole.js';
import { appControlSource, bundleChild, DRAIN_AND_ANSWER_SOURCE, sourcePath } from './child-support.js';

const MAX_BYTES = PUBLISHER_DEFAULTS.maxBytes;
const MiB = 1024 * 1024;
// What the README's "Buffer sizing" states on top of maxBytes: the request in flight (maxBytesPerRequest, and the
// client's encoded copy of it), 1 KiB of bookkeeping per entry held, and 4 MiB of collector and harness slack.
const overhead = (entries: number) => 2 * PUBLISHER_DEFAULTS.maxBytesPerRequest + entries * 1024 + 4 * MiB;
const REQUESTS = 1200;
const CONCURRENCY = 8;
const BODY = JSON.stringify({ items: Array.from({ length: 600 }, (_, i) => ({ sku: `SKU-${i}`, note: 'n'.repeat(80) })) });

let blackhole: Blackhole;
beforeAll(async () => {
  blackhole = await startBlackhole();
});
afterAll(() => blackhole.close());

interface Memory {
  heapUsed: number;
  external: number;
  stats: PublisherStats;
}
type ChildMessage = { event: 'listening'; port: number } | { event: 'sample'; stats: PublisherStats } | ({ event: 'retained' } & Memory) | { event: 'closed'; stats: PublisherStats };

function startApp(brokers: string[]): { child: ChildProcess; next: (event: ChildMessage['event']) => Promise<ChildMessage>; samples: PublisherStats[] } {
  const script = bundleChild(
    'reliability-memory',
    `import * as http from 'node:http';
     import { KafkaLogPublisher } from ${sourcePath('src/publisher/publisher.ts')};
     import { withKafkaLog } from ${sourcePath('src/adapters/http.ts')};
     const send = (message: object) => process.send?.(message);
     // DEFAULT options: only where to send
     const publisher = new KafkaLogPublisher({ brokers: ${JSON.stringify(brokers)}, topic: 'memory-bound' });
     const server = http.createServer(
       withKafkaLog(
         ${DRAIN_AND_ANSWER_SOURCE},
         { sink: publisher, logRequestBody: true, logResponseBody: true },
       ),
     );
     const sampler = setInterval(() => send({ event: 'sample', stats: publisher.stats() }), 100);
     server.listen(0, '127.0.0.1', () => send({ event: 'listening', port: (server.address() as { port: number }).port }));
     ${appControlSource(1000)}`,
  );
  const child = fork(script, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const samples: PublisherStats[] = [];
  const waiting = new Map<string, (message: ChildMessage) => void>();
  child.on('message', (message: ChildMessage) => {
    if (message.event === 'sample') samples.push(message.stats);
    waiting.get(message.event)?.(message);
    waiting.delete(message.event);
  });
  const next = (event: ChildMessage['event']) =>
    new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${event}" from the app`)), 30_000);
      waiting.set(event, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  return { child, next, samples };
}

/** `count` POSTs of `body`, `CONCURRENCY` at a time. */
async function load(port: number, count: number, body: string): Promise<void> {
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      const i = sent++;
      const res = await fetch(`http://127.0.0.1:${port}/orders/${i}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const balanced = (s: PublisherStats) => s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;

it('bodies logged, default options, Kafka unreachable: retained memory stays within maxBytes plus the stated overhead', async () => {
  const app = startApp([`127.0.0.1:${blackhole.port}`]);
  try {
    const listening = await app.next('listening');
    const appPort = (listening as { port: number }).port;
    // warm-up (code paths compiled, buffers pooled), then the baseline
    await load(appPort, 20, '{"warm":true}');
    app.child.send('gc');
    const baseline = (await app.next('retained')) as Memory;

    const started = Date.now();
    await load(appPort, REQUESTS, BODY);
    const loadMs = Date.now() - started;
    app.child.send('gc');
    const after = (await app.next('retained')) as Memory;
    const growth = after.heapUsed + after.external - (baseline.heapUsed + baseline.external);
    const entryBytes = after.stats.bufferedBytes / Math.max(1, after.stats.buffered);
    const bound = MAX_BYTES + overhead(after.stats.buffered + after.stats.inFlight);

    app.child.send('close');
    const closed = (await app.next('closed')) as { stats: PublisherStats };
    console.log(
      `reliability-memory ${JSON.stringify({
        requests: REQUESTS,
        loadMs,
        offeredMiB: +((REQUESTS * entryBytes) / MiB).toFixed(1),
        maxBytesMiB: MAX_BYTES / MiB,
        bufferedMiB: +(after.stats.bufferedBytes / MiB).toFixed(1),
        buffered: after.stats.buffered,
        inFlight: after.stats.inFlight,
        growthMiB: +(growth / MiB).toFixed(1),
        boundMiB: +(bound / MiB).toFixed(1),
        dropped: closed.stats.dropped.byReason,
      })}`,
    );

    // entries with bodies: the byte bound is what binds, and the load offered several times it
    expect(entryBytes).toBeGreaterThan(100_000);
    expect(REQUESTS * entryBytes).toBeGreaterThan(3 * MAX_BYTES);
    expect(after.stats.dropped.byReason.queue_full_bytes).toBeGreaterThan(0);
    expect(after.stats.dropped.byReason.queue_full_entries).toBe(0);
    // the queue never held more than maxBytes, and was full
    for (const s of app.samples) expect(s.bufferedBytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(after.stats.bufferedBytes).toBeGreaterThan(0.9 * MAX_BYTES);
    // what the process retains
    expect(growth).toBeLessThanOrEqual(bound);
    // the counts, at every sample and after close
    expect(app.samples.length).toBeGreaterThan(5);
    for (const s of app.samples) expect(balanced(s)).toBe(true);
    expect(closed.stats).toMatchObject({ accepted: REQUESTS + 20, buffered: 0, inFlight: 0, sent: 0 });
    expect(closed.stats.dropped.total).toBe(REQUESTS + 20);
  } finally {
    app.child.kill('SIGKILL');
  }
}, 60_000);
