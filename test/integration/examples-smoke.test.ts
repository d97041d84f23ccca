// Smoke tests of every runnable example and of `npm run demo`, against the local broker: each example is started
// as a child process the way its npm script starts it, gets one request, is stopped with SIGTERM, and must exit 0
// with the entry delivered (read back from its own topic).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { createTopics, readTopic, uniqueTopic } from './publisher-support.js';

const ROOT = join(__dirname, '..', '..');
const kafka = inject('kafka');

/** One example: its folder, its npm script, the request it gets and what its entry must say. */
interface ExampleCase {
  /** Folder under examples/. */
  name: string;
  /** The package.json script that runs it. */
  script: string;
  method: 'GET' | 'POST';
  path: string;
  body?: { contentType: string; text: string };
  /** Expected response status (the entry must carry the same). */
  status: number;
  /** Needs an upstream (the gateway): its URL goes in UPSTREAM. */
  upstream?: boolean;
}

const EXAMPLES: readonly ExampleCase[] = [
  { name: 'express', script: 'example:express', method: 'POST', path: '/users?via=smoke', body: { contentType: 'application/json', text: '{"name":"Ada"}' }, status: 201 },
  { name: 'koa', script: 'example:koa', method: 'GET', path: '/users/7?via=smoke', status: 200 },
  { name: 'fastify', script: 'example:fastify', method: 'GET', path: '/users/7?via=smoke', status: 200 },
  { name: 'nest', script: 'example:nest', method: 'GET', path: '/users/7?via=smoke', status: 200 },
  { name: 'node-http', script: 'example:node-http', method: 'GET', path: '/orders/9?via=smoke', status: 200 },
  { name: 'gateway', script: 'example:gateway', method: 'GET', path: '/orders/9?via=smoke', status: 200, upstream: true },
];

/** Folders under examples/ that are not runnable servers (the testing kit's examples run with `npm run test:examples:testing`). */
const NOT_SERVERS = new Set(['testing']);

const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;

/**
 * The npm script as commands: `a && b && node file.mjs` gives the setup commands and the server's argv. The
 * build step is left out: `npm test` builds once before the tests, and rebuilding dist/ here would pull it from
 * under the other test files.
 */
function commandsOf(script: string): { setup: string[][]; server: string[]; env: Record<string, string> } {
  const text = scripts[script];
  if (text === undefined) throw new Error(`package.json has no "${script}" script`);
  const parts = text.split('&&').map((part) => part.trim().split(/\s+/));
  const setup = parts.slice(0, -1).filter((argv) => argv.join(' ') !== 'npm run build');
  const last = parts.at(-1) ?? [];
  const env: Record<string, string> = {};
  while (last[0]?.includes('=')) {
    const [name, ...value] = (last.shift() as string).split('=');
    env[name as string] = value.join('=');
  }
  return { setup, server: last, env };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Output of a child, for failure messages. */
function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return () => out;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Waits until something accepts TCP connections on the port (no HTTP request: it would be logged too). */
async function listening(port: number, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`not listening on ${port} after ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A tiny upstream for the gateway. */
async function startUpstream(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ upstream: true, url: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('examples smoke', () => {
  it('has a smoke case for every example folder', () => {
    const folders = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && !NOT_SERVERS.has(d.name))
      .map((d) => d.name)
      .sort();
    expect(EXAMPLES.map((e) => e.name).sort()).toEqual(expect.arrayContaining(folders));
  });

  for (const example of EXAMPLES) {
    it(`${example.name}: started by \`npm run ${example.script}\`, one request logged, SIGTERM exits 0 with the entry delivered`, async () => {
      expect(existsSync(join(ROOT, 'examples', example.name)), `examples/${example.name} is missing`).toBe(true);
      const { setup, server, env } = commandsOf(example.script);
      for (const [command, ...args] of setup) execFileSync(command as string, args, { cwd: ROOT, stdio: 'pipe' });

      const topic = uniqueTopic(`example-${example.name}`);
      await createTopics(kafka.brokers, [topic]);
      const port = await freePort();
      const upstream = example.upstream ? await startUpstream() : undefined;
      const child = spawn(server[0] as string, server.slice(1), {
        cwd: ROOT,
        env: {
          ...process.env,
          ...env,
          KAFKA_BROKERS: kafka.brokers.join(','),
          KAFKA_TOPIC: topic,
          PORT: String(port),
          ...(upstream ? { UPSTREAM: upstream.url } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output = collect(child);
      try {
        await listening(port, child, output);
        const response = await fetch(`http://127.0.0.1:${port}${example.path}`, {
          method: example.method,
          ...(example.body ? { headers: { 'content-type': example.body.contentType }, body: example.body.text } : {}),
        });
        await response.arrayBuffer();
        expect(response.status).toBe(example.status);

        child.kill('SIGTERM');
        const end = await Promise.race([exited(child), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
        expect(end, `after SIGTERM:\n${output()}`).toEqual({ code: 0, signal: null });

        // The example closed its publisher before exiting, so the entry is already on the topic.
        const messages = await readTopic({ brokers: kafka.brokers }, topic, 1, { timeoutMs: 15_000 });
        expect(messages, `no entry on ${topic}; example output:\n${output()}`).toHaveLength(1);
        const entry = JSON.parse(messages[0]?.value ?? 'null') as LogEntry;
        expect(entry.request.method).toBe(example.method);
        expect(entry.request.uri).toBe(example.path);
        expect(entry.response.status).toBe(example.status);
        if (example.upstream) expect(entry.upstream_status).toBe(String(example.status));
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await upstream?.close();
      }
    });
  }
});

describe('npm run demo', () => {
  it('runs against the test broker, prints every entry read back and the counters, exits 0', async () => {
    const child = spawn(process.execPath, ['scripts/demo.mjs'], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: uniqueTopic('demo'), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collect(child);
    const end = await Promise.race([exited(child), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 80_000))]);
    if (end === 'timeout') child.kill('SIGKILL');
    expect(end, output()).toEqual({ code: 0, signal: null });

    // Table lines read back from Kafka: time, method, status, ...
    const rows = [...output().matchAll(/^ {2}\d\d:\d\d:\d\d\.\d{3} {2}(GET|POST)\s+(\d{3})\s/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows).toEqual(['GET 200', 'POST 201', 'POST 200', 'POST 201', 'GET 200', 'GET 200', 'GET 404', 'GET 500']);
    expect(output()).toContain('"password": "REDACTED"');
    expect(output()).toMatch(/accepted 8 {2}sent 8 {2}retried \d+ {2}dropped 0/);
  });
});
