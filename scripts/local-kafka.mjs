#!/usr/bin/env node
// Local Apache Kafka broker for kafka-log's tests, benchmarks and demo.
//
// The broker is resolved with Maven from Maven Central (scripts/kafka/pom.xml) and run straight from
// ~/.m2 with Java: no Docker, no jars in the repo. Everything the broker writes at run time lives
// under .local/kafka/ (git-ignored).
//
// CLI:    node scripts/local-kafka.mjs start|stop|status|info
// Module: import { ensureKafka, startKafka, stopKafka, readKafkaInfo, startCluster } from './local-kafka.mjs'
//
// Only Node built-ins and kafkajs are used.

import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/** Apache Kafka release used (newest on Maven Central when written; verified with kafkajs 2.2.4). */
export const KAFKA_VERSION = '4.4.0';

const SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (the folder holding package.json). */
export const REPO_ROOT = path.resolve(SCRIPTS_DIR, '..');
const POM = path.join(SCRIPTS_DIR, 'kafka', 'pom.xml');
const LOG4J2 = path.join(SCRIPTS_DIR, 'kafka', 'log4j2.xml');

/** Default state folder; `KAFKA_LOG_KAFKA_DIR` overrides it (the check script uses a separate one). */
export const DEFAULT_STATE_DIR = process.env.KAFKA_LOG_KAFKA_DIR
  ? path.resolve(process.env.KAFKA_LOG_KAFKA_DIR)
  : path.join(REPO_ROOT, '.local', 'kafka');

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const LOCK_TIMEOUT_MS = 240_000;

/** Fixed test users (local only, never secret). */
const USERS = Object.freeze({
  plain: Object.freeze({ username: 'kafka-log-plain', password: 'plain-secret' }),
  scram256: Object.freeze({ username: 'kafka-log-scram256', password: 'scram256-secret' }),
  scram512: Object.freeze({ username: 'kafka-log-scram512', password: 'scram512-secret' }),
});
/** Broker-side super user (PLAIN); no authorizer is configured, so every principal may do everything. */
const ADMIN = Object.freeze({ username: 'admin', password: 'admin-secret' });

/**
 * @typedef {{ username: string, password: string }} KafkaUser
 *
 * @typedef {object} KafkaInfo  Contents of `.local/kafka/broker.json`.
 * @property {string} version        Apache Kafka version, e.g. "4.4.0".
 * @property {number} pid            Broker JVM process id.
 * @property {string} dataDir        Absolute path of the data folder (KRaft log dirs + logs).
 * @property {string} logFile        Absolute path of the broker's Log4j 2 log file.
 * @property {string[]} brokers      Bootstrap list for the PLAINTEXT listener ("127.0.0.1:port").
 * @property {{ plaintext: string, sasl: string, ssl: string }} listeners  "host:port" of each listener.
 * @property {{ plain: KafkaUser, scram256: KafkaUser, scram512: KafkaUser }} users  SASL users.
 * @property {{ ca: string, cert: string, key: string, clientCert: string, clientKey: string, untrustedCa: string }} tls
 *           Absolute paths of PEM files: CA, server cert/key, client cert/key (signed by the CA), unrelated CA.
 * @property {string} startedAt      ISO timestamp of the broker start.
 * @property {number} [controllerPort] KRaft controller port (internal).
 * @property {string} [clusterId]    KRaft cluster id.
 * @property {string} [pomHash]      Hash of scripts/kafka/pom.xml the broker was started from.
 *
 * @typedef {KafkaInfo & { started: boolean }} EnsureResult  `started` is true when this call started the broker.
 *
 * @typedef {object} LocalKafkaOptions
 * @property {((message: string) => void) | false} [log]  Progress output; defaults to stderr, `false` silences.
 * @property {string} [stateDir]  State folder; defaults to .local/kafka (or $KAFKA_LOG_KAFKA_DIR).
 * @property {number} [readyTimeoutMs]  Bounded wait for the broker to answer metadata (default 60 s).
 */

// ---------------------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function makeLogger(log) {
  if (log === false) return () => {};
  if (typeof log === 'function') return log;
  return (msg) => process.stderr.write(`[local-kafka] ${msg}\n`);
}

function paths(stateDir = DEFAULT_STATE_DIR) {
  const dataDir = path.join(stateDir, 'data');
  return {
    stateDir,
    dataDir,
    kraftDir: path.join(dataDir, 'kraft'),
    logsDir: path.join(dataDir, 'logs'),
    logFile: path.join(dataDir, 'logs', 'server.log'),
    stdoutFile: path.join(dataDir, 'logs', 'stdout.log'),
    propsFile: path.join(stateDir, 'server.properties'),
    infoFile: path.join(stateDir, 'broker.json'),
    pidFile: path.join(stateDir, 'broker.pid'),
    lockDir: path.join(stateDir, 'start.lock'),
    tlsDir: path.join(stateDir, 'tls'),
    previousLog: path.join(stateDir, 'previous-server.log'),
  };
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeFileAtomic(file, content) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still answers kill(0).
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    /* no /proc (macOS): trust kill(0) */
  }
  return true;
}

/** Command line of a process, or undefined. Used to make sure a pid is really one of our brokers. */
function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    const r = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  }
}

/** True when `pid` is alive and is a Kafka JVM started with a properties file inside `marker`. */
function isOurBroker(pid, marker) {
  if (!isAlive(pid)) return false;
  const cmd = commandLine(pid);
  return cmd === undefined ? true : cmd.includes('kafka.Kafka') && cmd.includes(marker);
}

async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** SIGTERM, bounded wait, then SIGKILL. Resolves once the process is gone. */
async function terminate(pid, timeoutMs = STOP_TIMEOUT_MS) {
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'not-running';
  }
  if (await waitForExit(pid, timeoutMs)) return 'terminated';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await waitForExit(pid, 10_000);
  return 'killed';
}

/** Reserve `count` distinct free TCP ports on 127.0.0.1 by binding port 0. */
async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, HOST, resolve);
      });
      servers.push(srv);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r()))));
  }
}

function tail(file, lines = 60) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`.trim();
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}

function javaBin() {
  if (process.env.JAVA_HOME) {
    const j = path.join(process.env.JAVA_HOME, 'bin', process.platform === 'win32' ? 'java.exe' : 'java');
    if (fs.existsSync(j)) return j;
  }
  return 'java';
}

/** Kafka Uuid (16 random bytes, base64url without padding, never starting with "-"). */
function kafkaUuid() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// ---------------------------------------------------------------------------------------------------------
// locking (several test runs / benchmarks may share one work tree)

async function withLock(p, log, fn) {
  fs.mkdirSync(p.stateDir, { recursive: true });
  const owner = path.join(p.lockDir, 'owner');
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(p.lockDir);
      fs.writeFileSync(owner, String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number.parseInt(fs.existsSync(owner) ? fs.readFileSync(owner, 'utf8') : '', 10);
      let stale = Number.isInteger(holder) ? !isAlive(holder) : false;
      if (!Number.isInteger(holder)) {
        // Lock dir without an owner file: stale if older than a few seconds.
        try {
          stale = Date.now() - fs.statSync(p.lockDir).mtimeMs > 5_000;
        } catch {
          stale = false;
        }
      }
      if (stale) {
        fs.rmSync(p.lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${p.lockDir} (held by pid ${holder})`);
      if (!announced) {
        log(`waiting for another process (pid ${holder}) that is starting/stopping the broker`);
        announced = true;
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(p.lockDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Maven classpath

function pomHash() {
  return createHash('sha256').update(fs.readFileSync(POM)).digest('hex').slice(0, 16);
}

/**
 * Classpath of the Kafka broker jars (resolved into ~/.m2 by Maven on first use, then cached in the
 * state folder, keyed by the pom's hash).
 * @param {LocalKafkaOptions} [options]
 * @returns {Promise<string>}
 */
export async function kafkaClasspath(options = {}) {
  const log = makeLogger(options.log);
  const p = paths(options.stateDir);
  fs.mkdirSync(p.stateDir, { recursive: true });
  const cacheFile = path.join(p.stateDir, `classpath-${pomHash()}.txt`);
  const cached = fs.existsSync(cacheFile) ? fs.readFileSync(cacheFile, 'utf8').trim() : '';
  if (cached?.split(path.delimiter).every((jar) => jar && fs.existsSync(jar))) return cached;

  log(`resolving Apache Kafka ${KAFKA_VERSION} with Maven (first run downloads ~54 MB)...`);
  const t0 = Date.now();
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  const mvn = process.platform === 'win32' ? 'mvn.cmd' : 'mvn';
  try {
    await run(mvn, ['-q', '-B', '-f', POM, 'dependency:build-classpath', `-Dmdep.outputFile=${tmp}`], {
      cwd: REPO_ROOT,
    });
  } catch (err) {
    if (err.code === 'ENOENT') throw new Error('Maven (mvn) is not on PATH: install Maven 3.8+ and Java 17+');
    throw err;
  }
  const cp = fs.readFileSync(tmp, 'utf8').trim();
  fs.renameSync(tmp, cacheFile);
  // Drop caches of older poms.
  for (const f of fs.readdirSync(p.stateDir)) {
    if (/^classpath-[0-9a-f]+\.txt$/.test(f) && path.join(p.stateDir, f) !== cacheFile) {
      fs.rmSync(path.join(p.stateDir, f), { force: true });
    }
  }
  log(`classpath ready (${cp.split(path.delimiter).length} jars) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return cp;
}

// ---------------------------------------------------------------------------------------------------------
// TLS material

async function ensureTls(tlsDir) {
  const files = {
    ca: path.join(tlsDir, 'ca.pem'),
    caKey: path.join(tlsDir, 'ca-key.pem'),
    cert: path.join(tlsDir, 'server.pem'),
    key: path.join(tlsDir, 'server-key.pem'),
    keystore: path.join(tlsDir, 'server-keystore.pem'),
    clientCert: path.join(tlsDir, 'client.pem'),
    clientKey: path.join(tlsDir, 'client-key.pem'),
    untrustedCa: path.join(tlsDir, 'untrusted-ca.pem'),
    untrustedCaKey: path.join(tlsDir, 'untrusted-ca-key.pem'),
  };
  const valid = Object.values(files).every((f) => fs.existsSync(f)) && certValidForADay(files.cert);
  if (!valid) {
    fs.rmSync(tlsDir, { recursive: true, force: true });
    fs.mkdirSync(tlsDir, { recursive: true });
    const openssl = async (...args) => {
      try {
        return await run('openssl', args, { cwd: tlsDir });
      } catch (err) {
        if (err.code === 'ENOENT') throw new Error('openssl is not on PATH (needed to generate test certificates)');
        throw err;
      }
    };
    const caExt = path.join(tlsDir, 'ca.ext');
    const serverExt = path.join(tlsDir, 'server.ext');
    const clientExt = path.join(tlsDir, 'client.ext');
    fs.writeFileSync(
      caExt,
      [
        '[req]',
        'distinguished_name=dn',
        'x509_extensions=v3_ca',
        '[dn]',
        '[v3_ca]',
        'basicConstraints=critical,CA:TRUE',
        'keyUsage=critical,keyCertSign,cRLSign',
        'subjectKeyIdentifier=hash',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      serverExt,
      [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      clientExt,
      ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth', ''].join(
        '\n',
      ),
    );
    const newCa = (key, cert, cn) =>
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-keyout', key, '-out', cert,
        '-subj', `/CN=${cn}`, '-config', caExt, '-extensions', 'v3_ca');
    const newLeaf = async (key, cert, cn, ext) => {
      const csr = `${cert}.csr`;
      await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`,
        '-config', caExt);
      await openssl('x509', '-req', '-in', csr, '-CA', files.ca, '-CAkey', files.caKey, '-set_serial',
        `0x${randomBytes(8).toString('hex')}`, '-days', '825', '-sha256', '-extfile', ext, '-out', cert);
      fs.rmSync(csr, { force: true });
    };
    await Promise.all([
      newCa(files.caKey, files.ca, 'kafka-log local test CA'),
      newCa(files.untrustedCaKey, files.untrustedCa, 'kafka-log UNTRUSTED test CA'),
    ]);
    await Promise.all([
      newLeaf(files.key, files.cert, 'localhost', serverExt),
      newLeaf(files.clientKey, files.clientCert, 'kafka-log-client', clientExt),
    ]);
    // Kafka's PEM key store: unencrypted PKCS#8 key followed by the certificate chain.
    fs.writeFileSync(
      files.keystore,
      fs.readFileSync(files.key, 'utf8') + fs.readFileSync(files.cert, 'utf8') + fs.readFileSync(files.ca, 'utf8'),
    );
    for (const f of [caExt, serverExt, clientExt]) fs.rmSync(f, { force: true });
  }
  return files;
}

function certValidForADay(file) {
  try {
    const cert = new X509Certificate(fs.readFileSync(file));
    return new Date(cert.validTo).getTime() > Date.now() + 86_400_000;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// broker configuration

function jaasValue(s) {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function singleNodeProperties({ ports, p, tls }) {
  const { plaintext, sasl, ssl, controller } = ports;
  const plainUsers = [ADMIN, USERS.plain]
    .map((u) => `user_${u.username}="${jaasValue(u.password)}"`)
    .join(' ');
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${HOST}:${controller}`,
    listeners: `PLAINTEXT://${HOST}:${plaintext},SASL_PLAINTEXT://${HOST}:${sasl},SSL://${HOST}:${ssl},CONTROLLER://${HOST}:${controller}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${plaintext},SASL_PLAINTEXT://${HOST}:${sasl},SSL://${HOST}:${ssl}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': p.kraftDir,

    // SASL
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${ADMIN.username}" password="${jaasValue(ADMIN.password)}" ${plainUsers};`,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    // No callback handler configured => the broker's default unsecured JWS validator
    // (OAuthBearerUnsecuredValidatorCallbackHandler): accepts unsigned JWTs (alg "none") with "sub" and "exp".
    'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config':
      'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="admin";',
    'delegation.token.secret.key': 'kafka-log-local-delegation-token-secret',
    'super.users': `User:${ADMIN.username};User:ANONYMOUS`,

    // SSL (PEM key store / trust store); client certificates requested, not required.
    'listener.name.ssl.ssl.keystore.type': 'PEM',
    'listener.name.ssl.ssl.keystore.location': tls.keystore,
    'listener.name.ssl.ssl.truststore.type': 'PEM',
    'listener.name.ssl.ssl.truststore.location': tls.ca,
    'listener.name.ssl.ssl.client.auth': 'requested',

    // single node
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'true',
    'delete.topic.enable': 'true',
    'log.retention.hours': '24',
    'log.segment.bytes': String(64 * 1024 * 1024),
    'num.network.threads': '3',
    'num.io.threads': '4',
    // The default 128 MiB cleaner buffer is a quarter of the 512 MiB heap; compacted topics here are tiny.
    'log.cleaner.dedupe.buffer.size': String(16 * 1024 * 1024),
  };
  return props;
}

function propsText(props) {
  const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return `# generated by scripts/local-kafka.mjs, ${new Date().toISOString()}\n${Object.entries(props)
    .map(([k, v]) => `${k}=${esc(v)}`)
    .join('\n')}\n`;
}

function jvmArgs(logsDir, { tool = false } = {}) {
  const gc = tool
    ? // Short-lived tool: C1 only and the serial GC start faster.
      ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']
    : ['-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent'];
  return [
    '-Xms128m',
    '-Xmx512m',
    ...gc,
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${pathToFileURL(LOG4J2).href}`,
    `-Dkafka.logs.dir=${logsDir}`,
  ];
}

async function formatStorage({ cp, propsFile, logsDir, clusterId, scram = true, standalone = false }) {
  const args = [...jvmArgs(logsDir, { tool: true }), '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile];
  if (standalone) args.push('--standalone');
  if (scram) {
    args.push('--add-scram', `SCRAM-SHA-256=[name=${USERS.scram256.username},password=${USERS.scram256.password}]`);
    args.push('--add-scram', `SCRAM-SHA-512=[name=${USERS.scram512.username},password=${USERS.scram512.password}]`);
    // The PLAIN/OAuth admin also gets SCRAM credentials: handy for delegation-token tests.
    args.push('--add-scram', `SCRAM-SHA-256=[name=${ADMIN.username},password=${ADMIN.password}]`);
    args.push('--add-scram', `SCRAM-SHA-512=[name=${ADMIN.username},password=${ADMIN.password}]`);
  }
  await run(javaBin(), args, { cwd: REPO_ROOT }).catch((err) => {
    if (err.code === 'ENOENT') throw new Error('java is not on PATH (Java 17+ needed) and JAVA_HOME is not set');
    throw err;
  });
}

function spawnBroker({ cp, propsFile, logsDir, stdoutFile, detached }) {
  fs.mkdirSync(logsDir, { recursive: true });
  const out = fs.openSync(stdoutFile, 'a');
  try {
    const child = spawn(javaBin(), [...jvmArgs(logsDir), '-cp', cp, 'kafka.Kafka', propsFile], {
      cwd: REPO_ROOT,
      detached,
      stdio: ['ignore', out, out],
    });
    return child;
  } finally {
    fs.closeSync(out);
  }
}

// ---------------------------------------------------------------------------------------------------------
// readiness

function probeClient(brokers, extra = {}) {
  return new Kafka({
    clientId: 'local-kafka-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
    ...extra,
  });
}

/** One metadata round trip with a hard time limit. Resolves to the cluster description or throws. */
async function describeCluster(brokers, timeoutMs = 4_000) {
  const admin = probeClient(brokers).admin();
  let timer;
  try {
    return await Promise.race([
      (async () => {
        await admin.connect();
        return await admin.describeCluster();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from ${brokers.join(',')} in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Poll with kafkajs admin metadata until the broker(s) answer (bounded), failing early if the process dies.
 * @param {{ brokers: string[], isRunning: () => boolean, timeoutMs?: number, minBrokers?: number, logFile: string }} o
 */
async function waitReady({ brokers, isRunning, timeoutMs = READY_TIMEOUT_MS, minBrokers = 1, logFile }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (!isRunning()) {
      throw new Error(`Kafka broker exited during startup. Last lines of ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const cluster = await describeCluster(brokers, 3_000);
      if (cluster.brokers.length >= minBrokers && cluster.controller != null && cluster.controller >= 0) return cluster;
      lastError = new Error(`only ${cluster.brokers.length}/${minBrokers} brokers registered`);
    } catch (err) {
      lastError = err;
    }
    await sleep(250);
  }
  throw new Error(
    `Kafka broker not ready after ${timeoutMs / 1000} s (${lastError?.message}). Last lines of ${logFile}:\n${tail(logFile)}`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// single node: public API

/**
 * Read `.local/kafka/broker.json` (undefined when there is none). Does not check that the broker is alive.
 * @param {Pick<LocalKafkaOptions, 'stateDir'>} [options]
 * @returns {KafkaInfo | undefined}
 */
export function readKafkaInfo(options = {}) {
  return readJson(paths(options.stateDir).infoFile);
}

/**
 * Whether the broker described by broker.json is running and answers a metadata request.
 * @param {Pick<LocalKafkaOptions, 'stateDir'> & { timeoutMs?: number }} [options]
 * @returns {Promise<boolean>}
 */
export async function isKafkaRunning(options = {}) {
  const p = paths(options.stateDir);
  const info = readJson(p.infoFile);
  if (!info || !isOurBroker(info.pid, p.stateDir)) return false;
  try {
    await describeCluster(info.brokers, options.timeoutMs ?? 4_000);
    return true;
  } catch {
    return false;
  }
}

/** Kill a leftover broker of this state dir (if any) and wipe run-time state. Caller holds the lock. */
async function cleanStale(p, log) {
  const info = readJson(p.infoFile);
  const pids = new Set();
  if (info?.pid) pids.add(info.pid);
  const pidText = fs.existsSync(p.pidFile) ? fs.readFileSync(p.pidFile, 'utf8').trim() : '';
  if (/^\d+$/.test(pidText)) pids.add(Number(pidText));
  for (const pid of pids) {
    if (isOurBroker(pid, p.stateDir)) {
      // Its data is wiped below, so no graceful shutdown: SIGKILL (also ends a stopped/hung JVM).
      log(`killing leftover broker (pid ${pid})`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await waitForExit(pid, 10_000);
    }
  }
  for (const f of [p.infoFile, p.pidFile, p.propsFile]) fs.rmSync(f, { force: true });
  if (fs.existsSync(p.logFile)) {
    try {
      fs.copyFileSync(p.logFile, p.previousLog);
    } catch {
      /* best effort */
    }
  }
  fs.rmSync(p.dataDir, { recursive: true, force: true });
}

async function startLocked(p, log, options) {
  const t0 = Date.now();
  await cleanStale(p, log);
  const cp = await kafkaClasspath({ ...options, log });
  const tlsFiles = await ensureTls(p.tlsDir);
  let lastErr;
  for (let attempt = 1; attempt <= 2; attempt++) {
    fs.rmSync(p.dataDir, { recursive: true, force: true });
    fs.mkdirSync(p.logsDir, { recursive: true });
    const [plaintext, sasl, ssl, controller] = await freePorts(4);
    const ports = { plaintext, sasl, ssl, controller };
    fs.writeFileSync(p.propsFile, propsText(singleNodeProperties({ ports, p, tls: tlsFiles })));
    const clusterId = kafkaUuid();
    log('formatting storage');
    await formatStorage({ cp, propsFile: p.propsFile, logsDir: p.logsDir, clusterId });

    log('starting broker');
    const child = spawnBroker({ cp, propsFile: p.propsFile, logsDir: p.logsDir, stdoutFile: p.stdoutFile, detached: true });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    child.unref();
    fs.writeFileSync(p.pidFile, String(child.pid));
    const brokers = [`${HOST}:${plaintext}`];
    try {
      await waitReady({
        brokers,
        isRunning: () => !exited && isAlive(child.pid),
        timeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
        logFile: p.logFile,
      });
    } catch (err) {
      lastErr = err;
      await terminate(child.pid, 5_000);
      fs.rmSync(p.pidFile, { force: true });
      // A port taken between picking and binding: retry once with new ports.
      if (attempt === 1 && /Address already in use|BindException/.test(tail(p.logFile, 200))) {
        log('a port was taken meanwhile, retrying with new ports');
        continue;
      }
      throw err;
    }
    /** @type {KafkaInfo} */
    const info = {
      version: KAFKA_VERSION,
      pid: child.pid,
      dataDir: p.dataDir,
      logFile: p.logFile,
      brokers,
      listeners: { plaintext: `${HOST}:${plaintext}`, sasl: `${HOST}:${sasl}`, ssl: `${HOST}:${ssl}` },
      users: {
        plain: { ...USERS.plain },
        scram256: { ...USERS.scram256 },
        scram512: { ...USERS.scram512 },
      },
      tls: {
        ca: tlsFiles.ca,
        cert: tlsFiles.cert,
        key: tlsFiles.key,
        clientCert: tlsFiles.clientCert,
        clientKey: tlsFiles.clientKey,
        untrustedCa: tlsFiles.untrustedCa,
      },
      startedAt: new Date().toISOString(),
      controllerPort: controller,
      clusterId,
      pomHash: pomHash(),
    };
    writeFileAtomic(p.infoFile, `${JSON.stringify(info, null, 2)}\n`);
    log(`broker ready on ${brokers[0]} (SASL ${info.listeners.sasl}, SSL ${info.listeners.ssl}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return info;
  }
  throw lastErr;
}

/**
 * Start a fresh broker (stopping and wiping any previous one of the same state dir). Resolves when it
 * answers metadata requests. The JVM is detached: it outlives the calling process until `stopKafka()`.
 * @param {LocalKafkaOptions} [options]
 * @returns {Promise<KafkaInfo>}
 */
export async function startKafka(options = {}) {
  const log = makeLogger(options.log);
  const p = paths(options.stateDir);
  return withLock(p, log, () => startLocked(p, log, options));
}

/**
 * Reuse the running broker when broker.json's pid is alive and answers `describeCluster` within a few
 * seconds; otherwise clean up stale state and start a fresh one.
 * @param {LocalKafkaOptions} [options]
 * @returns {Promise<EnsureResult>}
 */
export async function ensureKafka(options = {}) {
  const log = makeLogger(options.log);
  const p = paths(options.stateDir);
  let probed; // broker.json text already found unusable
  const reusable = async () => {
    const text = fs.existsSync(p.infoFile) ? fs.readFileSync(p.infoFile, 'utf8') : '';
    if (text && text === probed) return undefined; // unchanged since the last probe: do not wait again
    probed = text;
    const info = readJson(p.infoFile);
    // Same Kafka version is enough to reuse (a cosmetic pom change must not restart a broker in use).
    if (!info || info.version !== KAFKA_VERSION) return undefined;
    if (!isOurBroker(info.pid, p.stateDir)) return undefined;
    try {
      await describeCluster(info.brokers, 5_000);
      return info;
    } catch {
      return undefined;
    }
  };
  const quick = await reusable();
  if (quick) {
    log(`reusing broker on ${quick.brokers[0]} (pid ${quick.pid})`);
    return { ...quick, started: false };
  }
  return withLock(p, log, async () => {
    // Someone else may have started it while we waited for the lock.
    const again = await reusable();
    if (again) {
      log(`reusing broker on ${again.brokers[0]} (pid ${again.pid})`);
      return { ...again, started: false };
    }
    return { ...(await startLocked(p, log, options)), started: true };
  });
}

/**
 * Stop the broker: SIGTERM, bounded wait (20 s), then SIGKILL. Keeps the data folder (the next start wipes it).
 * @param {Pick<LocalKafkaOptions, 'log' | 'stateDir'>} [options]
 * @returns {Promise<boolean>} true when a running broker was stopped.
 */
export async function stopKafka(options = {}) {
  const log = makeLogger(options.log);
  const p = paths(options.stateDir);
  if (!fs.existsSync(p.stateDir)) return false;
  return withLock(p, log, async () => {
    const info = readJson(p.infoFile);
    const pidText = fs.existsSync(p.pidFile) ? fs.readFileSync(p.pidFile, 'utf8').trim() : '';
    const pids = new Set([info?.pid, /^\d+$/.test(pidText) ? Number(pidText) : undefined].filter(Boolean));
    let stopped = false;
    for (const pid of pids) {
      if (!isOurBroker(pid, p.stateDir)) continue;
      const t0 = Date.now();
      const how = await terminate(pid, STOP_TIMEOUT_MS);
      log(`broker (pid ${pid}) ${how === 'killed' ? 'did not stop in time, killed' : 'stopped'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      stopped = true;
    }
    if (!stopped) log('no broker running');
    fs.rmSync(p.infoFile, { force: true });
    fs.rmSync(p.pidFile, { force: true });
    return stopped;
  });
}

// ---------------------------------------------------------------------------------------------------------
// multi-node cluster (failover tests)

/**
 * @typedef {object} ClusterNode
 * @property {number} id            node.id (1-based)
 * @property {string} broker        "127.0.0.1:port" of this node's PLAINTEXT listener
 * @property {() => number | undefined} pid
 * @property {() => boolean} running
 * @property {(signal?: NodeJS.Signals) => Promise<void>} kill   Send a signal (default SIGTERM) and wait for exit.
 * @property {(options?: { timeoutMs?: number }) => Promise<void>} restart  Start again (same data, same ports); waits until it answers.
 *
 * @typedef {object} LocalCluster
 * @property {string[]} brokers     Bootstrap list (every node's PLAINTEXT listener).
 * @property {ClusterNode[]} nodes
 * @property {string} dir
 * @property {string} clusterId
 * @property {() => Promise<void>} stop  Stop every node (SIGTERM, bounded wait, SIGKILL).
 */

/**
 * Start a KRaft cluster of `nodes` processes on 127.0.0.1, each `broker,controller`, with a static quorum of
 * all nodes. PLAINTEXT only. Default replication factor = min(3, nodes); internal topics replicated likewise.
 * Readiness: every node registered (bounded, default 120 s).
 * @param {{ nodes?: number, dir?: string, log?: ((m: string) => void) | false, readyTimeoutMs?: number,
 *           brokerProperties?: Record<string, string | number | boolean> }} [options]
 * @returns {Promise<LocalCluster>}
 */
export async function startCluster(options = {}) {
  const count = options.nodes ?? 3;
  const dir = path.resolve(options.dir ?? path.join(REPO_ROOT, '.local', 'kafka-cluster'));
  const log = makeLogger(options.log);
  const t0 = Date.now();
  const pidsFile = path.join(dir, 'pids.json');
  // Leftovers of a crashed run in the same folder.
  for (const pid of readJson(pidsFile) ?? []) {
    if (isOurBroker(pid, dir)) {
      log(`stopping leftover cluster node (pid ${pid})`);
      await terminate(pid, 5_000);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  const cp = await kafkaClasspath({ log });
  const ports = await freePorts(count * 2);
  const clusterId = kafkaUuid();
  const rf = Math.min(3, count);
  const voters = Array.from({ length: count }, (_, i) => `${i + 1}@${HOST}:${ports[count + i]}`).join(',');
  const specs = Array.from({ length: count }, (_, i) => {
    const nodeDir = path.join(dir, `node-${i + 1}`);
    const port = ports[i];
    const controller = ports[count + i];
    const props = {
      'process.roles': 'broker,controller',
      'node.id': String(i + 1),
      'controller.quorum.voters': voters,
      listeners: `PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controller}`,
      'advertised.listeners': `PLAINTEXT://${HOST}:${port}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': path.join(nodeDir, 'kraft'),
      'num.partitions': '1',
      'default.replication.factor': String(rf),
      'offsets.topic.replication.factor': String(rf),
      'transaction.state.log.replication.factor': String(rf),
      'transaction.state.log.min.isr': String(Math.min(2, rf)),
      'share.coordinator.state.topic.replication.factor': String(rf),
      'share.coordinator.state.topic.min.isr': String(Math.min(2, rf)),
      'group.initial.rebalance.delay.ms': '0',
      'auto.create.topics.enable': 'true',
      'controlled.shutdown.enable': 'true',
      // Notice a killed node within ~5 s (defaults: 9 s session, 2 s heartbeat) so failover tests stay short.
      'broker.heartbeat.interval.ms': '1000',
      'broker.session.timeout.ms': '5000',
      'num.network.threads': '2',
      'num.io.threads': '2',
      'log.cleaner.dedupe.buffer.size': String(16 * 1024 * 1024),
      ...Object.fromEntries(Object.entries(options.brokerProperties ?? {}).map(([k, v]) => [k, String(v)])),
    };
    const propsFile = path.join(nodeDir, 'server.properties');
    const logsDir = path.join(nodeDir, 'logs');
    fs.mkdirSync(logsDir, { recursive: true });
    fs.writeFileSync(propsFile, propsText(props));
    return {
      id: i + 1,
      broker: `${HOST}:${port}`,
      propsFile,
      logsDir,
      logFile: path.join(logsDir, 'server.log'),
      stdoutFile: path.join(logsDir, 'stdout.log'),
    };
  });
  log(`formatting storage of ${count} nodes`);
  await Promise.all(
    specs.map((s) => formatStorage({ cp, propsFile: s.propsFile, logsDir: s.logsDir, clusterId, scram: false })),
  );

  const procs = new Map(); // id -> { child, exited }
  const savePids = () =>
    fs.writeFileSync(pidsFile, JSON.stringify([...procs.values()].filter((x) => !x.exited).map((x) => x.child.pid)));
  const launch = (s) => {
    const child = spawnBroker({ cp, propsFile: s.propsFile, logsDir: s.logsDir, stdoutFile: s.stdoutFile, detached: false });
    const entry = { child, exited: false, exitPromise: undefined };
    entry.exitPromise = new Promise((resolve) =>
      child.once('exit', () => {
        entry.exited = true;
        resolve();
      }),
    );
    procs.set(s.id, entry);
    savePids();
    return entry;
  };
  // If the test process exits without calling stop(), do not leave JVMs behind.
  const onExit = () => {
    for (const e of procs.values()) {
      if (!e.exited) {
        try {
          e.child.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  };
  process.on('exit', onExit);

  log(`starting ${count} brokers`);
  for (const s of specs) launch(s);
  const brokers = specs.map((s) => s.broker);
  // Three JVMs on a small machine: allow twice the single-node bound.
  const readyTimeoutMs = options.readyTimeoutMs ?? 2 * READY_TIMEOUT_MS;
  try {
    await waitReady({
      brokers,
      isRunning: () => [...procs.values()].every((e) => !e.exited),
      timeoutMs: readyTimeoutMs,
      minBrokers: count,
      logFile: specs[0].logFile,
    });
  } catch (err) {
    onExit();
    process.off('exit', onExit);
    const crashed = specs.find((s) => procs.get(s.id)?.exited);
    if (crashed) err.message += `\n--- ${crashed.logFile}:\n${tail(crashed.logFile)}`;
    throw err;
  }
  log(`cluster of ${count} ready on ${brokers.join(',')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const killNode = async (s, signal = 'SIGTERM') => {
    const e = procs.get(s.id);
    if (!e || e.exited) return;
    e.child.kill(signal);
    const limit = signal === 'SIGKILL' ? 10_000 : STOP_TIMEOUT_MS;
    const done = await Promise.race([e.exitPromise.then(() => true), sleep(limit).then(() => false)]);
    if (!done) {
      e.child.kill('SIGKILL');
      await e.exitPromise;
    }
    savePids();
  };

  /** @type {ClusterNode[]} */
  const nodes = specs.map((s) => ({
    id: s.id,
    broker: s.broker,
    logFile: s.logFile,
    pid: () => procs.get(s.id)?.child.pid,
    running: () => {
      const e = procs.get(s.id);
      return !!e && !e.exited;
    },
    kill: (signal) => killNode(s, signal),
    restart: async (o = {}) => {
      await killNode(s, 'SIGTERM');
      const e = launch(s);
      const t = Date.now();
      await waitReady({
        brokers: [s.broker],
        isRunning: () => !e.exited,
        timeoutMs: o.timeoutMs ?? readyTimeoutMs,
        minBrokers: count,
        logFile: s.logFile,
      });
      log(`node ${s.id} back on ${s.broker} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    },
  }));

  return {
    brokers,
    nodes,
    dir,
    clusterId,
    stop: async () => {
      await Promise.all(specs.map((s) => killNode(s, 'SIGTERM')));
      process.off('exit', onExit);
      fs.rmSync(pidsFile, { force: true });
      log('cluster stopped');
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  const cmd = argv[0] ?? 'status';
  switch (cmd) {
    case 'start': {
      const info = await ensureKafka();
      process.stdout.write(
        `${info.started ? 'started' : 'already running'}: Kafka ${info.version}, pid ${info.pid}, brokers ${info.brokers.join(',')}\nbroker.json: ${paths().infoFile}\n`,
      );
      return 0;
    }
    case 'restart': {
      await stopKafka();
      await startKafka();
      return 0;
    }
    case 'stop':
      await stopKafka();
      return 0;
    case 'status': {
      const info = readKafkaInfo();
      const up = await isKafkaRunning();
      if (up) {
        process.stdout.write(
          `running: Kafka ${info.version}, pid ${info.pid}, plaintext ${info.listeners.plaintext}, sasl ${info.listeners.sasl}, ssl ${info.listeners.ssl}, since ${info.startedAt}\n`,
        );
        return 0;
      }
      process.stdout.write(info ? `not running (stale broker.json, pid ${info.pid})\n` : 'not running\n');
      return 1;
    }
    case 'info': {
      const info = readKafkaInfo();
      if (!info) {
        process.stderr.write('no broker.json: run `npm run kafka:start`\n');
        return 1;
      }
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    case 'classpath':
      process.stdout.write(`${await kafkaClasspath()}\n`);
      return 0;
    default:
      process.stderr.write('usage: node scripts/local-kafka.mjs start|stop|status|info|restart|classpath\n');
      return 2;
  }
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`[local-kafka] ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
