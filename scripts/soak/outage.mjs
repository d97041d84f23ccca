// Sustained-outage soak: an Express app logging every request with kafka-log (scripts/soak/app.mjs, a child
// process) takes steady load from autocannon on 127.0.0.1 while its private single-node Kafka broker is stopped
// for a while and started again.
//
//   npm run soak:outage                      # 2,000 req/s; 20 s before, 60 s outage, 30 s after; maxBytes 16 MiB
//   npm run soak:outage -- --outage 30 --rate 1000 --max-bytes 8388608
//
// What it shows (a table, then the figures as one JSON line, the last line of the output):
// - memory: the app's peak heap and RSS during the outage against the before-phase baseline; the queue's own
//   bytes never exceed maxBytes, and what the process grows beyond maxBytes is the measured overhead;
// - drops are exact: at every sample accepted = sent + dropped + buffered + inFlight, at exit accepted = sent +
//   dropped; every request autocannon completed is one accepted entry;
// - latency: the app's p99 during the outage against before it;
// - recovery: delivery resumes by itself once the broker is back (time from broker ready to the next ack), and the
//   topic holds exactly `sent` messages (idempotent producer, so no duplicates).
//
// It exits 1, naming each problem on stderr, when any of that does not hold (scripts/soak/reconcile.mjs).
//
// Module use (the bounded integration test): `import { runOutage } from './outage.mjs'`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import kafkajs from 'kafkajs';
import { startCluster } from '../local-kafka.mjs';
import { unreconciled } from './reconcile.mjs';

const { Kafka, logLevel } = kafkajs;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

export const OUTAGE_DEFAULTS = {
  beforeSeconds: 20,
  outageSeconds: 60,
  afterSeconds: 30,
  rate: 2000,
  connections: 20,
  maxBytes: 16 * MiB,
  dir: path.join(ROOT, '.local', 'soak-outage'),
  log: (line) => process.stderr.write(`${line}\n`),
};

/** Starts the app as a child process; resolves once it listens. */
function startApp(env) {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'express.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const child = spawn(process.execPath, ['--expose-gc', path.join(HERE, 'app.mjs')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const samples = [];
  const retained = [];
  const stderr = [];
  let exitLine;
  let onListening;
  const listening = new Promise((resolve, reject) => {
    onListening = resolve;
    child.once('exit', (code) => reject(new Error(`app exited (${code}) before listening: ${stderr.join('')}`)));
  });
  child.stderr.on('data', (d) => {
    stderr.push(String(d));
    if (stderr.length > 200) stderr.shift();
  });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.event === 'listening') onListening(msg.port);
    else if (msg.event === 'sample') samples.push(msg);
    else if (msg.event === 'retained') retained.push(msg);
    else if (msg.event === 'exit') exitLine = msg;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    samples,
    retained,
    stderr,
    listening,
    exited,
    get exitLine() {
      return exitLine;
    },
  };
}

/** Steady load at `rate` req/s for `seconds`; resolves with autocannon's result. */
function load(url, { rate, connections, seconds }) {
  return autocannon({ url, connections, overallRate: rate, duration: seconds, timeout: 10 });
}

function phaseFigures(name, result, samples, from, to) {
  const inside = samples.filter((s) => s.t >= from && s.t <= to);
  const max = (key) => Math.max(0, ...inside.map((s) => s[key]));
  return {
    phase: name,
    seconds: Math.round((to - from) / 100) / 10,
    requests: result.requests.total,
    reqPerSec: Math.round(result.requests.total / ((to - from) / 1000)),
    errors: result.errors + result.timeouts + result.non2xx,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    peakRss: max('rss'),
    peakHeap: max('heapUsed'),
    peakBufferedBytes: Math.max(0, ...inside.map((s) => s.stats.bufferedBytes)),
  };
}

async function createTopic(brokers, topic) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const parts = meta?.topics[0]?.partitions ?? [];
      if (parts.length > 0 && parts.every((p) => p.leader >= 0)) return;
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader after 30 s`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

async function messagesIn(brokers, topic) {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Runs the soak; resolves with the figures. Options: beforeSeconds, outageSeconds, afterSeconds, rate,
 * connections, maxBytes, dir (the private broker's folder), log.
 */
export async function runOutage(options = {}) {
  const o = { ...OUTAGE_DEFAULTS, ...options };
  const log = o.log || (() => undefined);
  const t0 = Date.now();
  log(`starting a private single-node broker in ${path.relative(ROOT, o.dir)}`);
  const cluster = await startCluster({ nodes: 1, dir: o.dir, log: false });
  const node = cluster.nodes[0];
  let app;
  try {
    const topic = `soak-outage-${Date.now()}`;
    await createTopic(cluster.brokers, topic);
    app = startApp({
      KAFKA_BROKERS: cluster.brokers.join(','),
      KAFKA_TOPIC: topic,
      MAX_BYTES: String(o.maxBytes),
      MAX_ENTRIES: '10000000', // maxBytes is the bound under test
      FLUSH_TIMEOUT_MS: '50',
      CLOSE_TIMEOUT_MS: '30000',
      SAMPLE_MS: '250',
    });
    const port = await app.listening;
    const url = `http://127.0.0.1:${port}/orders/42?expand=items`;
    const shape = { rate: o.rate, connections: o.connections };

    // Warm-up (JIT, connections), not measured.
    await load(url, { ...shape, seconds: 2 });
    // Retained memory (after a full GC in the app) every 5 s in every phase, so each phase pays the same pauses.
    const gcTimer = setInterval(() => app.child.connected && app.child.send('gc'), 5000);
    // JS heap plus memory outside it (Buffers): what the app holds after a full collection.
    const retainedIn = (from, to) =>
      Math.max(0, ...app.retained.filter((r) => r.t >= from && r.t <= to).map((r) => r.heapUsed + r.external));
    try {
      log(`before: ${o.beforeSeconds} s at ${o.rate} req/s, broker up`);
      let from = Date.now();
      const before = phaseFigures('before', await load(url, { ...shape, seconds: o.beforeSeconds }), app.samples, from, Date.now());
      before.retainedHeap = retainedIn(from, Date.now());

      log(`outage: broker killed, ${o.outageSeconds} s of load`);
      await node.kill('SIGKILL');
      const killedAt = Date.now();
      from = killedAt;
      const outage = phaseFigures('outage', await load(url, { ...shape, seconds: o.outageSeconds }), app.samples, from, Date.now());
      outage.retainedHeap = retainedIn(from, Date.now());

      // The broker boots while the load goes on (still down until it answers).
      log('restart: broker starting, load goes on');
      from = Date.now();
      const restartLoad = load(url, { ...shape, seconds: 600 });
      const sentWhileDown = app.samples.at(-1)?.stats.sent ?? 0;
      await node.restart();
      const brokerBackAt = Date.now();
      restartLoad.stop?.();
      const restartResult = await restartLoad;
      const restartEnd = Date.now();
      const restart = phaseFigures('restart', restartResult, app.samples, from, restartEnd);
      restart.retainedHeap = retainedIn(from, restartEnd);

      log(`after: broker back, ${o.afterSeconds} s of load`);
      from = Date.now();
      const droppedAtAfter = app.samples.at(-1)?.stats.dropped.total ?? 0;
      const after = phaseFigures('after', await load(url, { ...shape, seconds: o.afterSeconds }), app.samples, from, Date.now());
      after.retainedHeap = retainedIn(from, Date.now());
      // First acknowledgement after the outage (kafkajs may reconnect before restart() has seen the node ready).
      const resumed = app.samples.find((sample) => sample.t > killedAt && sample.stats.sent > sentWhileDown);

      // Let the backlog drain, then stop the app as an orchestrator would.
      const drainDeadline = Date.now() + 60_000;
      while (Date.now() < drainDeadline) {
        const last = app.samples.at(-1)?.stats;
        if (last && last.buffered === 0 && last.inFlight === 0) break;
        await sleep(250);
      }
      const droppedAfter = (app.samples.at(-1)?.stats.dropped.total ?? 0) - droppedAtAfter;
      clearInterval(gcTimer);
      app.child.kill('SIGTERM');
      const exit = await app.exited;
      const final = app.exitLine?.stats;
      if (!final) throw new Error(`the app printed no final stats (exit ${JSON.stringify(exit)}): ${app.stderr.join('')}`);
      const inTopic = await messagesIn(cluster.brokers, topic);

      const phases = [before, outage, restart, after];
      const requests = phases.reduce((n, p) => n + p.requests, 0);
      const inconsistent = app.samples.filter(
        (x) => x.stats.accepted !== x.stats.sent + x.stats.dropped.total + x.stats.buffered + x.stats.inFlight,
      ).length;
      const dropsByReason = Object.fromEntries(Object.entries(final.dropped.byReason).filter(([, n]) => n > 0));
      const down = [outage, restart];
      const figures = {
        rate: o.rate,
        maxBytes: o.maxBytes,
        brokerDownMs: brokerBackAt - killedAt,
        baselineRetainedHeap: before.retainedHeap,
        // outage, restart and the drain after it: the queue is full in all three
        peakRetainedHeap: Math.max(...[...down, after].map((p) => p.retainedHeap)),
        retainedGrowth: Math.max(...[...down, after].map((p) => p.retainedHeap)) - before.retainedHeap,
        baselineRss: before.peakRss,
        peakRss: Math.max(...down.map((p) => p.peakRss), after.peakRss),
        rssGrowth: Math.max(...down.map((p) => p.peakRss), after.peakRss) - before.peakRss,
        peakHeapWithGarbage: Math.max(...down.map((p) => p.peakHeap)),
        peakBufferedBytes: Math.max(...down.map((p) => p.peakBufferedBytes)),
        p99BeforeMs: before.p99Ms,
        p99OutageMs: outage.p99Ms,
        p99RestartMs: restart.p99Ms,
        p99AfterMs: after.p99Ms,
        requests,
        httpErrors: phases.reduce((n, p) => n + p.errors, 0),
        warmupAccepted: final.accepted - requests,
        accepted: final.accepted,
        sent: final.sent,
        dropped: final.dropped.total,
        dropsByReason,
        droppedOnceBack: droppedAfter,
        reconciled: final.accepted === final.sent + final.dropped.total,
        inconsistentSamples: inconsistent,
        samples: app.samples.length,
        resumedAfterBrokerReadyMs: resumed ? resumed.t - brokerBackAt : undefined,
        messagesInTopic: inTopic,
        appExitCode: exit.code,
        closeMs: app.exitLine.closeMs,
        totalSeconds: Math.round((Date.now() - t0) / 1000),
      };
      return { figures, phases };
    } finally {
      clearInterval(gcTimer);
    }
  } finally {
    if (app && app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
    await cluster.stop();
  }
}

const mb = (n) => `${(n / MiB).toFixed(1)} MiB`;

/** The phases and the memory figures as a text table. */
export function formatTable({ figures, phases }) {
  const rows = [
    ['phase', 'seconds', 'requests', 'req/s', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'retained heap', 'heap+garbage', 'peak rss', 'peak queue'],
    ...phases.map((p) => [p.phase, p.seconds, p.requests, p.reqPerSec, p.errors, p.p50Ms, p.p99Ms, p.maxMs, mb(p.retainedHeap), mb(p.peakHeap), mb(p.peakRss), mb(p.peakBufferedBytes)]),
  ].map((r) => r.map(String));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => c.padStart(widths[i])).join('  '));
  const f = figures;
  lines.push(
    '',
    `broker down ${(f.brokerDownMs / 1000).toFixed(1)} s; maxBytes ${mb(f.maxBytes)}; queue peak ${mb(f.peakBufferedBytes)}; retained heap +${mb(f.retainedGrowth)} (beyond maxBytes: ${mb(f.retainedGrowth - f.maxBytes)}); rss +${mb(f.rssGrowth)}`,
    `p99 before ${f.p99BeforeMs} ms, during the outage ${f.p99OutageMs} ms, while the broker restarts ${f.p99RestartMs} ms, after ${f.p99AfterMs} ms`,
    `requests ${f.requests} (+${f.warmupAccepted} warm-up) -> accepted ${f.accepted} = sent ${f.sent} + dropped ${f.dropped} ${JSON.stringify(f.dropsByReason)}: ${f.reconciled ? 'reconciled' : 'NOT reconciled'}; ${f.inconsistentSamples} of ${f.samples} samples off`,
    `topic holds ${f.messagesInTopic} messages (sent ${f.sent}); first ack ${f.resumedAfterBrokerReadyMs} ms after the broker answered; ${f.droppedOnceBack} dropped once it was back; app exit ${f.appExitCode}`,
  );
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      outage: { type: 'string' },
      after: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      'max-bytes': { type: 'string' },
    },
  });
  const n = (v) => (v === undefined ? undefined : Number(v));
  const given = {
    beforeSeconds: n(values.before),
    outageSeconds: n(values.outage),
    afterSeconds: n(values.after),
    rate: n(values.rate),
    connections: n(values.connections),
    maxBytes: n(values['max-bytes']),
  };
  const result = await runOutage(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)));
  console.log(formatTable(result));
  console.log(JSON.stringify(result.figures));
  const problems = unreconciled(result.figures);
  for (const problem of problems) console.error(`NOT reconciled: ${problem}`);
  if (problems.length > 0) process.exitCode = 1;
}
