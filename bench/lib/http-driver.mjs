// The driver's side of bench:http and bench:http:profile: starts the server processes of
// bench/lib/http-server.mjs, talks to them, and prepares the topic they publish to.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuPlan, pin } from './cpu-pinning.mjs';
import { VARIANTS } from './http-server.mjs';

const SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url));

/**
 * Places this process (the load generator) and the broker on the CPUs a server does not use (see
 * cpu-pinning.mjs); the broker gets every CPU back when this process exits. Returns the plan for
 * {@link startServer}, or undefined when nothing is pinned.
 */
export function placeLoad(brokerPid) {
  const plan = cpuPlan();
  if (plan === undefined) return undefined;
  if (!pin(process.pid, plan.load)) return undefined;
  if (Number.isInteger(brokerPid) && pin(brokerPid, plan.load)) process.once('exit', () => pin(brokerPid, plan.all));
  return plan;
}

/**
 * V8's memory reducer shrinks the heap of a process that looks idle. Between its windows a bench:http server waits
 * while the others are measured, half a minute with every variant, and the reducer shrinks its heap; its next
 * window then pays the heap's regrowth (more scavenges), which a server under steady load never does. The
 * no-logging baseline, measured every other window, never waits that long, so every overhead carried that cost:
 * a second no-logging process (`nolog-control`) measured +13 µs per request over the first with the reducer, 0
 * without it. Every server runs without it, so each window measures the steady state of a loaded service.
 */
const SERVER_FLAGS = ['--no-memory-reducer'];

/**
 * Longest wait for a server's answer (a profiled or fed window included): a server that stopped answering fails the
 * run rather than hanging it.
 */
const ANSWER_TIMEOUT_MS = 600_000;

/** Server processes started and not yet exited: killed if this process exits first (a failed run included). */
const liveChildren = new Set();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Starts one variant's server process (on the plan's server CPU); resolves with `{ child, port }` once it listens. */
export function startServer(config, plan) {
  return new Promise((resolve, reject) => {
    const child = fork(SERVER, [JSON.stringify(config)], { execArgv: SERVER_FLAGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    liveChildren.add(child);
    // Before the server starts its own threads (a worker transport's): those inherit the placement.
    if (plan !== undefined) pin(child.pid, plan.server);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      reject(new Error(`${config.variant} server exited (${signal ?? `code ${code}`})`));
    });
    child.once('message', (message) => resolve({ child, port: message.port }));
  });
}

/** Sends `message` to a server; resolves with its first reply of type `answer`, rejects if it exits or stays silent. */
export function ask({ child }, message, answer) {
  return new Promise((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const fail = (error) => {
      finish();
      reject(error);
    };
    const onMessage = (reply) => {
      if (reply?.type !== answer) return;
      finish();
      resolve(reply);
    };
    // A server that dies mid-run fails whatever was waiting for it.
    const onExit = (code, signal) => fail(new Error(`the server exited (${signal ?? `code ${code}`}) before its ${answer}`));
    const timer = setTimeout(() => fail(new Error(`no ${answer} from the server within ${ANSWER_TIMEOUT_MS / 1000} s`)), ANSWER_TIMEOUT_MS);
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(message, (error) => {
      if (error) fail(error);
    });
  });
}

/** Closes a server (its publisher delivering what it holds); resolves with its final counts. */
export function stopServer(server) {
  return ask(server, { type: 'stop' }, 'stopped');
}

/** A fresh one-partition topic. */
export async function createTopic(brokers, name) {
  const { default: kafkajs } = await import('kafkajs');
  const admin = new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

/**
 * The variants a bench runs: BENCH_VARIANTS (comma-separated) or `defaults`, with `nolog` (the baseline) first.
 * Throws on an unknown name.
 */
export function chooseVariants(defaults) {
  const chosen = process.env.BENCH_VARIANTS ? process.env.BENCH_VARIANTS.split(',').map((v) => v.trim()) : defaults;
  for (const variant of chosen) if (!(variant in VARIANTS)) throw new Error(`BENCH_VARIANTS: unknown variant ${variant}`);
  return ['nolog', ...chosen.filter((v) => v !== 'nolog')];
}

/**
 * What every HTTP bench needs before its servers start: the local broker (started if needed), this process and
 * the broker placed away from the servers' CPU, a fresh topic named `<prefix>-<random>`, a file for pino-http.
 */
export async function prepareHttpBench(prefix) {
  const { ensureKafka } = await import('../../scripts/local-kafka.mjs');
  const kafka = await ensureKafka({ log: false });
  const plan = placeLoad(kafka.pid);
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await createTopic(kafka.brokers, topic);
  const logFile = path.join(os.tmpdir(), `kafka-log-${prefix}-pino-${process.pid}.log`);
  return { kafka, plan, topic, logFile };
}

/** Why a server's publisher does not account for every request (accepted = sent = requests, nothing dropped), or undefined. */
export function deliveryProblem(variant, requests, stats) {
  if (stats.accepted === stats.sent && stats.dropped.total === 0 && stats.accepted === requests) return undefined;
  return `${variant}: ${requests} requests but accepted ${stats.accepted}, sent ${stats.sent}, dropped ${JSON.stringify(stats.dropped)}`;
}
