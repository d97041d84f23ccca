#!/usr/bin/env node
// Quick end-to-end check of scripts/local-kafka.mjs (not a test file: run it by hand after changing the broker setup).
//
//   node scripts/check-local-kafka.mjs            # isolated broker in .local/kafka-check: auth round trips + lifecycle
//   node scripts/check-local-kafka.mjs --shared   # auth round trips against the shared broker (.local/kafka), no lifecycle
//   node scripts/check-local-kafka.mjs --cluster  # also the 3-node failover check (.local/kafka-check-cluster)
//   node scripts/check-local-kafka.mjs --cluster-only
//
// The default mode never touches the shared broker other test runs may be using.

import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { ensureKafka, readKafkaInfo, REPO_ROOT, startCluster } from './local-kafka.mjs';

const { Kafka, logLevel } = kafkajs;
const CLI = fileURLToPath(new URL('./local-kafka.mjs', import.meta.url));
const args = new Set(process.argv.slice(2));
const shared = args.has('--shared');
const clusterOnly = args.has('--cluster-only');
const withCluster = clusterOnly || args.has('--cluster');
const CHECK_DIR = path.join(REPO_ROOT, '.local', 'kafka-check');
const stateDir = shared ? undefined : CHECK_DIR;

const results = [];
function record(name, ok, detail = '') {
  results.push({ name, ok, detail });
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}\n`);
}
const seconds = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

function cli(command) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    execFile(
      process.execPath,
      [CLI, command],
      { env: { ...process.env, ...(stateDir ? { KAFKA_LOG_KAFKA_DIR: stateDir } : {}) } },
      (err, stdout, stderr) => {
        const ms = Date.now() - t0;
        if (err) reject(Object.assign(err, { stdout, stderr }));
        else resolve({ stdout, stderr, ms });
      },
    );
  });
}

function unsecuredJwt(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none' })}.${b64({ sub, iat: now, exp: now + 3600 })}.`;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * createTopics, then poll metadata until every partition has a leader. kafkajs' own `waitForLeaders` gives up with
 * "This server does not host this topic-partition" when the broker's metadata cache lags the controller (KRaft,
 * busy machine), so it is not used.
 */
async function createTopic(admin, spec) {
  await admin.createTopics({ topics: [spec], waitForLeaders: false });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [spec.topic] });
      const parts = meta.topics[0]?.partitions ?? [];
      if (parts.length > 0 && parts.every((p) => p.leader >= 0)) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topic ${spec.topic} has no leader after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Create a topic, produce with acks=-1, consume it back with a consumer group, all with the given client config. */
async function roundTrip(name, config) {
  const kafka = new Kafka({
    clientId: `check-${name}`,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    retry: { retries: 5, initialRetryTime: 200 },
    ...config,
  });
  const topic = `check-${name}-${Date.now()}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  try {
    await admin.connect();
    await createTopic(admin, { topic, numPartitions: 1 });
    await producer.connect();
    const values = ['one', 'two', 'three'].map((v) => `${name}:${v}`);
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = [];
    await withTimeout(
      new Promise((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              got.push(message.value.toString());
              if (got.length === values.length) resolve();
            },
          })
          .catch(reject);
      }),
      30_000,
      `${name} consume`,
    );
    if (got.join() !== values.join()) throw new Error(`consumed ${JSON.stringify(got)}`);
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

/** Expect the client config to be refused (a metadata request must fail). */
async function mustFail(config) {
  const kafka = new Kafka({
    clientId: 'check-negative',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 0 },
    ...config,
  });
  const admin = kafka.admin();
  try {
    await withTimeout(
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      10_000,
      'negative check',
    );
  } catch (err) {
    return `${err.name}: ${err.message}`.slice(0, 110);
  } finally {
    await admin.disconnect().catch(() => {});
  }
  throw new Error('connection was accepted');
}

async function check(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    record(name, true, [detail, seconds(t0)].filter(Boolean).join(', '));
  } catch (err) {
    record(name, false, err?.stack ?? String(err));
  }
}

/** A client certificate signed by the untrusted CA (the broker must refuse it). */
function untrustedClientCert(info) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-check-'));
  const caKey = path.join(path.dirname(info.tls.untrustedCa), 'untrusted-ca-key.pem');
  const key = path.join(dir, 'key.pem');
  const csr = path.join(dir, 'req.csr');
  const cert = path.join(dir, 'cert.pem');
  const ossl = (...a) => {
    const r = spawnSync('openssl', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${a[0]}: ${r.stderr}`);
  };
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=intruder');
  ossl('x509', '-req', '-in', csr, '-CA', info.tls.untrustedCa, '-CAkey', caKey, '-set_serial', '7', '-days', '2', '-out', cert);
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Raw TLS handshake with the client certificate: proves the broker asks for one (mTLS possible). */
function tlsHandshake(info) {
  const [host, port] = info.listeners.ssl.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port: Number(port),
      ca: fs.readFileSync(info.tls.ca),
      cert: fs.readFileSync(info.tls.clientCert),
      key: fs.readFileSync(info.tls.clientKey),
    });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      const out = { authorized: socket.authorized, protocol: socket.getProtocol(), subject: peer.subject?.CN, san: peer.subjectaltname };
      socket.end();
      resolve(out);
    });
    socket.once('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('TLS handshake timeout')));
  });
}

async function authChecks(info) {
  const ssl = (extra) => ({ brokers: [info.listeners.ssl], ssl: { ca: [fs.readFileSync(info.tls.ca)], ...extra } });
  const sasl = (s) => ({ brokers: [info.listeners.sasl], sasl: s });
  const { plain, scram256, scram512 } = info.users;
  await Promise.all([
    check('PLAINTEXT round trip', () => roundTrip('plaintext', { brokers: info.brokers })),
    check('SASL PLAIN round trip', () => roundTrip('plain', sasl({ mechanism: 'plain', ...plain }))),
    check('SASL SCRAM-SHA-256 round trip', () => roundTrip('scram256', sasl({ mechanism: 'scram-sha-256', ...scram256 }))),
    check('SASL SCRAM-SHA-512 round trip', () => roundTrip('scram512', sasl({ mechanism: 'scram-sha-512', ...scram512 }))),
    check('SASL OAUTHBEARER (unsecured JWT) round trip', () =>
      roundTrip('oauth', sasl({ mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: unsecuredJwt('kafka-log-oauth') }) })),
    ),
    check('SSL round trip, server verified against ca.pem', () => roundTrip('ssl', ssl({ rejectUnauthorized: true }))),
    check('mTLS round trip with client cert', () =>
      roundTrip('mtls', ssl({ cert: fs.readFileSync(info.tls.clientCert), key: fs.readFileSync(info.tls.clientKey) })),
    ),
  ]);
  await check('mTLS handshake: server cert SAN, client cert accepted', async () => {
    const h = await tlsHandshake(info);
    if (!h.authorized || !/IP Address:127\.0\.0\.1/.test(h.san ?? '') || !/DNS:localhost/.test(h.san ?? '')) {
      throw new Error(JSON.stringify(h));
    }
    return `${h.protocol}, ${h.san}`;
  });
  await check('SSL with untrusted-ca.pem is refused', () =>
    mustFail({ brokers: [info.listeners.ssl], ssl: { ca: [fs.readFileSync(info.tls.untrustedCa)] } }),
  );
  await check('mTLS with a client cert from the untrusted CA is refused', async () => {
    const bad = untrustedClientCert(info);
    try {
      return await mustFail({ brokers: [info.listeners.ssl], ssl: { ca: [fs.readFileSync(info.tls.ca)], cert: bad.cert, key: bad.key } });
    } finally {
      bad.cleanup();
    }
  });
  await check('SASL PLAIN with a wrong password is refused', () =>
    mustFail(sasl({ mechanism: 'plain', username: plain.username, password: 'wrong' })),
  );
  await check('SASL SCRAM-SHA-512 with a wrong password is refused', () =>
    mustFail(sasl({ mechanism: 'scram-sha-512', username: scram512.username, password: 'wrong' })),
  );
}

async function lifecycleChecks() {
  let info;
  await check('stop, then start (fresh broker)', async () => {
    await cli('stop');
    if (fs.existsSync(path.join(CHECK_DIR, 'broker.json'))) throw new Error('broker.json left after stop');
    const r = await cli('start');
    info = readKafkaInfo({ stateDir });
    await roundTrip('after-restart', { brokers: info.brokers });
    return `start took ${(r.ms / 1000).toFixed(1)} s`;
  });
  await check('start again reuses the running broker', async () => {
    const before = readKafkaInfo({ stateDir });
    const r = await cli('start');
    const after = readKafkaInfo({ stateDir });
    if (before.pid !== after.pid || !/already running/.test(r.stdout)) throw new Error(r.stdout + r.stderr);
    return `${(r.ms / 1000).toFixed(1)} s`;
  });
  await check('kill -9, then start recovers', async () => {
    const before = readKafkaInfo({ stateDir });
    process.kill(before.pid, 'SIGKILL');
    // Also leave a lock behind as a crashed starter would.
    fs.mkdirSync(path.join(CHECK_DIR, 'start.lock'), { recursive: true });
    fs.writeFileSync(path.join(CHECK_DIR, 'start.lock', 'owner'), '2147483646');
    const r = await cli('start');
    const after = readKafkaInfo({ stateDir });
    if (after.pid === before.pid) throw new Error('same pid');
    await roundTrip('after-kill', { brokers: after.brokers });
    return `start took ${(r.ms / 1000).toFixed(1)} s`;
  });
  await check('hung broker (SIGSTOP) is replaced by start', async () => {
    const before = readKafkaInfo({ stateDir });
    process.kill(before.pid, 'SIGSTOP');
    const r = await cli('start');
    const after = readKafkaInfo({ stateDir });
    if (after.pid === before.pid) throw new Error('same pid');
    let gone = false;
    try {
      process.kill(before.pid, 0);
    } catch {
      gone = true;
    }
    if (!gone) throw new Error(`old pid ${before.pid} still alive`);
    await roundTrip('after-hang', { brokers: after.brokers });
    return `start took ${(r.ms / 1000).toFixed(1)} s`;
  });
  await check('status/stop', async () => {
    const s = await cli('status');
    if (!/^running/.test(s.stdout)) throw new Error(s.stdout);
    await cli('stop');
    const s2 = await cli('status').catch((e) => e);
    if (!/not running/.test(s2.stdout)) throw new Error(s2.stdout);
    return 'stopped';
  });
}

async function clusterCheck() {
  const t0 = Date.now();
  const cluster = await startCluster({ nodes: 3, dir: path.join(REPO_ROOT, '.local', 'kafka-check-cluster') });
  record('3-node cluster started', true, seconds(t0));
  const kafka = new Kafka({
    clientId: 'check-cluster',
    brokers: cluster.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const topic = `failover-${Date.now()}`;
  try {
    await admin.connect();
    await createTopic(admin, {
      topic,
      numPartitions: 1,
      replicationFactor: 3,
      configEntries: [{ name: 'min.insync.replicas', value: '2' }],
    });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const leader = meta.topics[0].partitions[0].leader;
    const node = cluster.nodes.find((n) => n.id === leader);
    await check(`kill -9 the partition leader (node ${leader}), produce acks=-1 still works`, async () => {
      await node.kill('SIGKILL');
      const t = Date.now();
      await producer.send({ topic, acks: -1, messages: [{ value: 'during' }] });
      const m = await admin.fetchTopicMetadata({ topics: [topic] });
      return `new leader ${m.topics[0].partitions[0].leader}, produce ${seconds(t)}`;
    });
    await check(`restart node ${leader}, it rejoins the ISR`, async () => {
      await node.restart();
      const deadline = Date.now() + 60_000;
      for (;;) {
        const m = await admin.fetchTopicMetadata({ topics: [topic] });
        const isr = m.topics[0].partitions[0].isr;
        if (isr.length === 3) return `isr ${isr.join(',')}`;
        if (Date.now() > deadline) throw new Error(`isr ${isr.join(',')}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    await check('produce after restart and read all back', async () => {
      await producer.send({ topic, acks: -1, messages: [{ value: 'after' }] });
      const consumer = kafka.consumer({ groupId: `${topic}-g` });
      const got = [];
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await withTimeout(
          new Promise((resolve, reject) => {
            consumer
              .run({
                eachMessage: async ({ message }) => {
                  got.push(message.value.toString());
                  if (got.length === 3) resolve();
                },
              })
              .catch(reject);
          }),
          30_000,
          'cluster consume',
        );
      } finally {
        await consumer.disconnect().catch(() => {});
      }
      if (got.join() !== 'before,during,after') throw new Error(got.join());
      return got.join(',');
    });
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await cluster.stop();
  }
}

async function main() {
  const t0 = Date.now();
  let info;
  if (clusterOnly) {
    // skip the single-node checks
  } else if (shared) {
    info = await ensureKafka();
  } else {
    const r = await cli('start');
    process.stderr.write(r.stderr);
    info = readKafkaInfo({ stateDir });
    record('isolated broker up', true, `${(r.ms / 1000).toFixed(1)} s, ${info.brokers[0]}`);
  }
  if (!clusterOnly) {
    await authChecks(info);
    if (!shared) await lifecycleChecks();
  }
  if (withCluster) {
    await check('3-node cluster failover', clusterCheck);
  }
  const failed = results.filter((r) => !r.ok);
  process.stdout.write(`\n${results.length - failed.length}/${results.length} checks passed in ${seconds(t0)}\n`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    if (!shared && !clusterOnly) await cli('stop').catch(() => {});
    process.exit(1);
  },
);
