#!/usr/bin/env node
// Checks the package as `npm pack` makes it: what it contains (LICENSE, every `exports` target, no source maps),
// and that its declarations type-check in a fresh consumer project with every TypeScript major from 5 on, with
// the settings a new project has (strict, `module: nodenext`, no `types` list) and `skipLibCheck: false` so that
// errors inside kafka-log's own declarations are reported. Each subpath is imported by a consumer of its own,
// compiled alone, as ES module and as CommonJS. Errors inside other packages' declarations (a framework's types
// against one of its dependencies) are printed but do not fail the check: they are not kafka-log's to fix.
//
//   npm run check:package            (builds dist/ first when it is missing or stale)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { devSpec, ensureBuilt, installProject, manifest, pack, root, tempDir } from './tarball.mjs';

/**
 * TypeScript 6 and later load `@types/node` only when a file asks for it: there each consumer is compiled alone.
 * TypeScript 5 loads every `@types` package anyway: one program of all consumers says the same, in a quarter of
 * the time.
 */
const TYPESCRIPT = [
  { major: 5, programs: ['all'] },
  { major: 7, programs: 'each' },
];
const log = (line) => console.log(`[check-package] ${line}`);
const problems = [];

/** What must and must not be in the tarball. */
function checkContents(files) {
  const packed = new Set(files);
  for (const required of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) {
    if (!packed.has(required)) problems.push(`${required} is not in the package`);
  }
  const targets = [];
  const collect = (value) => {
    if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
    else if (value !== null && typeof value === 'object') for (const nested of Object.values(value)) collect(nested);
  };
  collect(manifest.exports);
  collect(manifest.bin);
  for (const target of targets) if (!packed.has(target)) problems.push(`"${target}" (package.json exports/bin) is not in the package`);
  for (const file of files) {
    if (file.endsWith('.map')) problems.push(`source map in the package: ${file}`);
    if (/\.(c|m)?js$/.test(file) && readFileSync(join(root, file), 'utf8').includes('//# sourceMappingURL=')) {
      problems.push(`${file} points to a source map`);
    }
  }
  // kafka-log/metrics types the optional peers' objects by shape: its declarations must not import them, or a user
  // without prom-client or @opentelemetry/api (and `skipLibCheck: false`) could not compile. Nothing documented as
  // internal is published (gateways see the capture through `GatewayCapture`, not the capture engine's class).
  for (const file of files.filter((f) => /\.d\.(c|m)?ts$/.test(f))) {
    const text = readFileSync(join(root, file), 'utf8');
    const imported = text.match(/from ['"](prom-client|@opentelemetry\/[^'"]+)['"]/);
    if (imported !== null) problems.push(`${file} imports the optional peer "${imported[1]}"`);
    if (text.includes('@internal')) problems.push(`${file} declares something documented as @internal`);
  }
  for (const field of ['license', 'repository', 'homepage', 'bugs']) {
    if (manifest[field] === undefined) problems.push(`package.json has no "${field}"`);
  }
}

/**
 * Small consumers, each compiled alone (as ES module and as CommonJS). The root, `http`, `testing` and `metrics`
 * subpaths get a program each: they must not rely on Node's types being loaded by another package's declarations.
 * The framework subpaths share one (each framework's own types load Node's anyway). `metrics` is compiled once
 * without its optional peers and once with them.
 */
const CONSUMERS = {
  root: `import { KafkaLogPublisher, buildLogEntry, serializeLogEntry, type LogEntry } from 'kafka-log';
import type { HttpExchange } from 'kafka-log';
declare const exchange: HttpExchange;
const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'app-logs', tls: { ca: 'PEM' } });
const entry: LogEntry = buildLogEntry(exchange);
export const used = [publisher.stats().sent, serializeLogEntry(entry)];
`,
  http: `import { getExchangeCapture, withKafkaLog, type GatewayCapture } from 'kafka-log/http';
export const listener = withKafkaLog((req, res) => {
  const capture: GatewayCapture | undefined = getExchangeCapture(req);
  if (capture !== undefined) capture.upstream = { uri: '/upstream', status: 200 };
  res.end(req.url);
}, { sink: { publish: () => undefined } });
`,
  frameworks: `import { kafkaLog as expressLog, type KafkaLogExpressOptions } from 'kafka-log/express';
import { kafkaLog as fastifyLog, type KafkaLogFastifyOptions } from 'kafka-log/fastify';
import { kafkaLog as koaLog } from 'kafka-log/koa';
import { KafkaLogModule } from 'kafka-log/nest';
const sink = { publish: () => undefined };
const expressOptions: KafkaLogExpressOptions = { sink, skip: (req) => req.path === '/health' };
const fastifyOptions: KafkaLogFastifyOptions = { sink, skip: (request) => request.url === '/health' };
const koa = koaLog({ sink, consumer: (ctx) => ({ username: ctx.get('x-user') }) });
export const used = [expressLog(expressOptions).errorHandler, fastifyLog, fastifyOptions, koa.errorBoundary, koa.upstreamBoundary, KafkaLogModule.forRoot({ sink })];
`,
  testing: `import { createTestPublisher, exchangeFixture, validateLogEntry } from 'kafka-log/testing';
import { buildLogEntry } from 'kafka-log';
const publisher = createTestPublisher();
const valid: boolean = validateLogEntry(buildLogEntry(exchangeFixture({ request: { method: 'POST' } }))).valid;
export const used = [publisher, valid];
`,
  // Without prom-client or @opentelemetry/api: the registry and meter typed by kafka-log's own shapes.
  metrics: `import { KafkaLogPublisher } from 'kafka-log';
import { STATS_METRICS, registerOpenTelemetryMetrics, registerPrometheusMetrics, type OpenTelemetryMeter, type PrometheusRegistry } from 'kafka-log/metrics';
declare const registry: PrometheusRegistry;
declare const meter: OpenTelemetryMeter;
const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'app-logs' });
export const used = [registerPrometheusMetrics(publisher, { registry, name: 'app' }), registerOpenTelemetryMetrics(publisher, { meter, buckets: [0.01, 0.1, 1] }), STATS_METRICS.map((m) => m.prometheus)];
`,
  // With them: their real Registry and Meter fit.
  metricsPeers: `import { metrics } from '@opentelemetry/api';
import { KafkaLogPublisher } from 'kafka-log';
import { registerOpenTelemetryMetrics, registerPrometheusMetrics } from 'kafka-log/metrics';
import { Registry, register } from 'prom-client';
const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'app-logs' });
export const used = [registerPrometheusMetrics(publisher, { registry: new Registry() }), registerPrometheusMetrics(publisher, { registry: register, name: 'global' }), registerOpenTelemetryMetrics(publisher, { meter: metrics.getMeter('app') })];
`,
};

function writeConsumers(project) {
  const compilerOptions = { strict: true, module: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false };
  mkdirSync(join(project, 'src'));
  const write = (name, files) => writeFileSync(join(project, `tsconfig.${name}.json`), `${JSON.stringify({ compilerOptions, files }, null, 2)}\n`);
  for (const [name, code] of Object.entries(CONSUMERS)) {
    writeFileSync(join(project, 'src', `${name}.mts`), code);
    writeFileSync(join(project, 'src', `${name}.cts`), code);
    write(name, [`src/${name}.mts`, `src/${name}.cts`]);
  }
  write('all', Object.keys(CONSUMERS).flatMap((name) => [`src/${name}.mts`, `src/${name}.cts`]));
}

/** Runs one TypeScript's `tsc` on the consumer programs; kafka-log's and the consumers' own errors are problems. */
function typeCheck(project, alias, programs) {
  const tsc = join(project, 'node_modules', alias, 'bin', 'tsc');
  const version = execFileSync(process.execPath, [tsc, '--version'], { cwd: project, encoding: 'utf8' }).trim();
  const failed = [];
  const started = Date.now();
  for (const name of programs) {
    const result = spawnSync(process.execPath, [tsc, '-p', `tsconfig.${name}.json`, '--pretty', 'false'], { cwd: project, encoding: 'utf8', timeout: 300_000 });
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    const diagnostics = output.split('\n').filter((line) => /^\S.*\(\d+,\d+\): error TS\d+/.test(line));
    const ours = diagnostics.filter((line) => line.startsWith('src/') || line.startsWith('node_modules/kafka-log/'));
    for (const line of diagnostics) if (!ours.includes(line)) log(`${version}, ${name}: not kafka-log's, ignored: ${line}`);
    if (ours.length > 0) failed.push(`${name}:\n    ${ours.join('\n    ')}`);
    else if (result.status !== 0 && diagnostics.length === 0) failed.push(`${name}: tsc failed without diagnostics:\n${output}`);
  }
  if (failed.length > 0) problems.push(`${version}\n  ${failed.join('\n  ')}`);
  else log(`${version}: every subpath type-checks as ES module and as CommonJS, ${programs.length} program(s) (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function main() {
  ensureBuilt(log);
  const work = tempDir('kafka-log-package');
  try {
    const { tarball, files, unpackedSize } = pack(work.dir);
    log(`packed ${files.length} files, ${(unpackedSize / 1024).toFixed(0)} KiB unpacked`);
    checkContents(files);

    const project = join(work.dir, 'consumer');
    mkdirSync(project);
    const specs = [
      tarball,
      devSpec('@types/node'),
      ...['express', '@types/express', 'koa', '@types/koa', 'fastify', '@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'rxjs', 'prom-client', '@opentelemetry/api'].map(devSpec),
      ...TYPESCRIPT.map(({ major }) => `typescript${major}@npm:typescript@^${major}`),
    ];
    log(`installing the tarball, @types/node, the frameworks, the metrics peers and TypeScript ${TYPESCRIPT.map(({ major }) => major).join(' and ')}`);
    installProject(project, specs);
    writeConsumers(project);
    for (const { major, programs } of TYPESCRIPT) {
      typeCheck(project, `typescript${major}`, programs === 'each' ? Object.keys(CONSUMERS) : programs);
    }
  } finally {
    work.remove();
  }

  if (problems.length > 0) {
    for (const problem of problems) console.error(`[check-package] FAIL ${problem}`);
    process.exit(1);
  }
  log('ok');
}

main();
