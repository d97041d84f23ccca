#!/usr/bin/env node
// The package as a user gets it: `npm pack`, installed into an empty project outside the repository together with
// Express, then the README's Express quick start run as written against the local Apache Kafka broker (only its
// broker address and port replaced by the local ones). One request is sent and its entry read back from the topic
// with a Kafka consumer; SIGTERM must then end the app with exit code 0. Also checked: the install prints no
// install-script warning and leaves out the optional registry codecs (avsc, protobufjs), and a publisher with an
// Avro or Protobuf registry schema then fails `connect()` with the typed error naming the `npm install` to run,
// and expression strings of custom fields evaluate in the installed package (ES module and CommonJS).
//
//   npm run smoke:tarball   (builds dist/ first when it is missing or stale; starts the local broker when none
//                            runs, and stops it again unless KAFKA_LOG_KEEP_BROKER=1; SMOKE_KEEP_DIR=1 keeps
//                            the temp project for a look)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import ts from 'typescript';
import { ensureKafka, stopKafka } from './local-kafka.mjs';
import { startTestRegistry } from './local-registry.mjs';
import { devSpec, ensureBuilt, installProject, pack, root, tempDir } from './tarball.mjs';

const { Kafka, logLevel } = kafkajs;
const TOPIC = 'app-logs'; // the quick start's topic
const log = (line) => console.log(`[smoke-tarball] ${line} (${(performance.now() / 1000).toFixed(1)} s)`);

/** The first ```ts block under the README heading `heading`. */
function readmeBlock(heading) {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README.md has no "${heading}" section`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (block === null) throw new Error(`README.md's "${heading}" section has no TypeScript block`);
  return block[1];
}

/** Replaces `from` (which must occur) by `to` everywhere in `code`. */
function replaceAll(code, from, to) {
  if (!code.includes(from)) throw new Error(`the README's Express quick start no longer contains ${from}: update this smoke test`);
  return code.split(from).join(to);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, app, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`the app exited with code ${app.exitCode} before listening`);
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the app did not listen on ${port} within ${timeoutMs} ms`);
}

/** Reads `topic` from the beginning until `match` accepts an entry; resolves with that entry. */
async function readEntry(kafka, topic, match, timeoutMs) {
  const consumer = kafka.consumer({ groupId: `smoke-tarball-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching entry on ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const value = JSON.parse(message.value?.toString('utf8') ?? 'null');
            for (const entry of Array.isArray(value) ? value : [value]) {
              if (entry !== null && match(entry)) {
                clearTimeout(timer);
                resolve(entry);
              }
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

function waitForExit(child, timeoutMs) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error(`the app did not exit within ${timeoutMs} ms of SIGTERM`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

/** Runs node with `args` in `cwd`; resolves with its exit status and output (killed after `timeoutMs`). */
function runNode(cwd, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? signal, stdout, stderr });
    });
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Installs the tarball with Express into `project` and checks what npm printed and what it installed. */
function install(project, tarball) {
  const output = installProject(project, [tarball, devSpec('express')]);
  const warning = output.split('\n').filter((line) => /install.?scripts?/i.test(line));
  check(warning.length === 0, `npm install printed an install-script warning:\n${warning.join('\n')}`);
  for (const codec of ['avsc', 'protobufjs']) {
    check(!existsSync(join(project, 'node_modules', codec)), `a default install brought in ${codec} (an optional peer dependency)`);
  }
}

/** Runs the quick start as a child process, sends one request, reads its entry back, then stops the app. */
async function runQuickStart(project, brokers) {
  const port = await freePort();
  let code = readmeBlock('### Express');
  code = replaceAll(code, "'127.0.0.1:9092'", JSON.stringify(brokers[0]));
  code = replaceAll(code, 'listen(3000)', `listen(${port}, '127.0.0.1')`);
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(join(project, 'quick-start.mjs'), js);

  const app = spawn(process.execPath, ['quick-start.mjs'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  app.stdout.on('data', (chunk) => {
    output += chunk;
  });
  app.stderr.on('data', (chunk) => {
    output += chunk;
  });
  try {
    await waitForPort(port, app, 20_000);
    const marker = randomUUID();
    const response = await fetch(`http://127.0.0.1:${port}/users/42?smoke=${marker}`);
    const body = await response.json();
    check(response.status === 200 && body.id === '42', `the quick start answered ${response.status} ${JSON.stringify(body)}`);
    log('the quick start answered GET /users/42');

    const kafka = new Kafka({ clientId: 'smoke-tarball', brokers, logLevel: logLevel.NOTHING });
    const entry = await readEntry(kafka, TOPIC, (candidate) => candidate.request?.uri?.includes(marker) === true, 30_000);
    check(entry.request.method === 'GET' && entry.response.status === 200, `unexpected entry: ${JSON.stringify(entry)}`);
    check(entry.route?.path === '/users/:id' && entry.source === 'upstream', `unexpected route or source: ${JSON.stringify(entry)}`);
    log(`read the entry back from "${TOPIC}": ${entry.request.method} ${entry.request.uri} -> ${entry.response.status}, route ${entry.route.path}`);

    app.kill('SIGTERM');
    const exit = await waitForExit(app, 20_000);
    check(exit === 0, `the app exited with ${exit} after SIGTERM`);
    log('SIGTERM: the app closed the publisher and exited 0');
  } catch (error) {
    if (output !== '') console.error(`[smoke-tarball] the app's output:\n${output}`);
    throw error;
  } finally {
    if (app.exitCode === null) app.kill('SIGKILL');
  }
}

/** With avsc and protobufjs not installed, a registry schema of their kind must fail with the install line. */
async function checkMissingCodecs(project, brokers) {
  const registry = await startTestRegistry();
  try {
    const script = `import { KafkaLogPublisher, registerKongSchemas } from 'kafka-log';
import { buildTestEntry, exchangeFixture } from 'kafka-log/testing';
const [url, brokers, type] = process.argv.slice(2);
const subject = 'smoke-' + type.toLowerCase() + '-value';
await registerKongSchemas({ url }, { subject, type });
const options = { brokers: [brokers], topic: 'smoke-registry', schemaRegistry: { url, valueSchema: { subject } }, logLevel: 'silent' };
const connecting = new KafkaLogPublisher(options);
const error = await connecting.connect().then(() => undefined, (e) => e);
await connecting.close();
// Without connect(): the first request's entries are dropped, with the same error.
const publishing = new KafkaLogPublisher(options);
const drops = [];
publishing.on('publisher.drop', (drop) => drops.push({ reason: drop.reason, cause: drop.error?.cause?.code }));
publishing.publish(buildTestEntry(exchangeFixture()));
await publishing.close({ timeoutMs: 5000 });
console.log(JSON.stringify({ code: error?.code, retriable: error?.retriable, message: error?.message, drops }));
`;
    writeFileSync(join(project, 'registry-codec.mjs'), script);
    for (const [type, codec] of [
      ['AVRO', 'avsc'],
      ['PROTOBUF', 'protobufjs'],
    ]) {
      // Not spawnSync: the test registry answers from this process's event loop.
      const run = await runNode(project, ['registry-codec.mjs', registry.url, brokers[0], type], 30_000);
      check(run.status === 0, `the ${type} registry check failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
      const result = JSON.parse(run.stdout.trim().split('\n').pop());
      check(
        result.code === 'KAFKA_LOG_ERR_MISSING_DEPENDENCY' && result.retriable === false && result.message.includes(`npm install ${codec}`),
        `${type} without ${codec}: connect() gave ${JSON.stringify(result)}`,
      );
      check(
        result.drops.length === 1 && result.drops[0].reason === 'non_retriable' && result.drops[0].cause === 'KAFKA_LOG_ERR_MISSING_DEPENDENCY',
        `${type} without ${codec}: publish() without connect() gave ${JSON.stringify(result.drops)}`,
      );
      log(`${type} schema without ${codec}: connect() rejects with "${result.message}"; without connect() the entry is dropped as non_retriable`);
    }
  } finally {
    await registry.close();
  }
}

/** Expression strings, from the installed package: QuickJS loads (synchronously) from ES modules and CommonJS. */
async function checkExpressionEngine(project) {
  const body = `const fields = compileCustomFields(
  { region: "entry.request.headers['x-region'] ?? 'none'", stuck: '(() => { for (;;) {} })()' },
  { expressionTimeoutMs: 20 },
);
const entry = { request: { headers: { 'x-region': 'eu' } } };
const errors = applyCustomFields(entry, fields);
console.log(JSON.stringify({ region: entry.region, errors: errors.map((error) => error.message) }));
`;
  writeFileSync(join(project, 'expression.mjs'), `import { applyCustomFields, compileCustomFields } from 'kafka-log';\n${body}`);
  writeFileSync(join(project, 'expression.cjs'), `const { applyCustomFields, compileCustomFields } = require('kafka-log');\n${body}`);
  for (const file of ['expression.mjs', 'expression.cjs']) {
    const run = await runNode(project, [file], 30_000);
    check(run.status === 0, `${file} failed (exit ${run.status}):\n${run.stdout}${run.stderr}`);
    const result = JSON.parse(run.stdout.trim().split('\n').pop());
    check(
      result.region === 'eu' && result.errors.length === 1 && result.errors[0] === 'custom field "stuck": timed out (limit 20 ms)',
      `${file}: ${JSON.stringify(result)}`,
    );
  }
  log('expression strings evaluate in the installed package (ES module and CommonJS), a stuck one times out');
}

async function main() {
  ensureBuilt(log);
  const work = tempDir('kafka-log-smoke');
  let broker;
  try {
    const { tarball } = pack(work.dir);
    const project = join(work.dir, 'app');
    mkdirSync(project);
    install(project, tarball);
    log('installed the tarball and express into an empty project: no install-script warning, no registry codecs');

    broker = await ensureKafka({ log: () => undefined });
    const kafka = new Kafka({ clientId: 'smoke-tarball-admin', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    log(`local broker on ${broker.brokers[0]}${broker.started ? ' (started)' : ''}`);

    await runQuickStart(project, broker.brokers);
    await checkMissingCodecs(project, broker.brokers);
    await checkExpressionEngine(project);
  } finally {
    if (process.env.SMOKE_KEEP_DIR !== '1') work.remove();
    else log(`kept ${work.dir}`);
    if (broker?.started && process.env.KAFKA_LOG_KEEP_BROKER !== '1') await stopKafka({ log: () => undefined });
  }
  log('ok');
}

main().catch((error) => {
  console.error(`[smoke-tarball] FAIL ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
