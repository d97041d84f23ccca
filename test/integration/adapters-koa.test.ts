// kafka-log/koa end to end: a real Koa app with @koa/router on 127.0.0.1, real requests, entries published by a
// real KafkaLogPublisher to the local broker and read back with a kafkajs consumer.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import busboy from 'busboy';
import Koa, { type Context, type Next } from 'koa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kafkaLog } from '../../src/adapters/koa.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { abandonedExchange, close, headerBlockOf, listen, rawExchange, sleep } from '../unit/adapters-support.js';
import {
  type BrokerHarness,
  type BrokerSink,
  brokerHarness,
  expectJsonExchangeEntry,
  expectPlausible,
  sendJsonExchange,
} from './adapters-support.js';
import { TRANSPORTS } from './transports.js';

const TOPICS = ['json', 'urlencoded', 'multipart', 'binary', 'stream', 'thrown', 'early', 'routerless', 'aborted', 'tls'] as const;
type Topic = (typeof TOPICS)[number];

let harness: BrokerHarness;
const servers: Array<http.Server | https.Server> = [];

// The servers of every transport's suite, closed once at the end of the file.
afterAll(async () => {
  await Promise.all(servers.map(close));
});

/** A Koa app logging to `topic`'s publisher; `build` adds middleware and routes after kafka-log. */
async function serveApp(
  topic: Topic,
  build: (app: Koa, router: Router, log: ReturnType<typeof kafkaLog>) => void,
  options: Partial<Parameters<typeof kafkaLog>[0]> = {},
): Promise<{ port: number; sink: BrokerSink }> {
  const sink = harness.sink(topic);
  const app = new Koa();
  app.silent = true; // Koa's default error handler would print the stack
  const log = kafkaLog({ sink, ...options });
  app.use(log);
  const router = new Router();
  build(app, router, log);
  app.use(router.routes());
  const server = http.createServer(app.callback());
  servers.push(server);
  return { port: await listen(server), sink };
}

/** {@link expectPlausible}, plus the UUID the adapter generates for a request that sent no id. */
function expectPlausibleWithGeneratedId(entry: LogEntry, port: number): void {
  expectPlausible(entry, port);
  expect(entry.request.id).toMatch(/^[0-9a-f-]{36}$/);
}

// One suite per transport: the same exchanges, published by each Kafka client.
describe.each(TRANSPORTS)('kafka-log/koa through the local broker (%s)', (transport) => {
  beforeAll(async () => {
    harness = await brokerHarness(inject('kafka'), TOPICS, transport);
  });
  afterAll(() => harness?.close());

  it('logs a JSON request read by @koa/bodyparser on a prefixed router, field by field', async () => {
    const { port, sink } = await serveApp(
      'json',
      (_app, router) => {
        const api = new Router({ prefix: '/api' });
        api.post('/users/:id', bodyParser(), (ctx: Context) => {
          ctx.status = 201;
          ctx.body = { id: ctx.params.id, received: (ctx.request as { body?: unknown }).body };
        });
        router.use(api.routes());
      },
      { logRequestBody: true, logResponseBody: true, consumer: (ctx) => ({ id: String(ctx.params?.id ?? 'none') }) },
    );
    await sendJsonExchange(port, 'req-koa-1');

    const [entry] = (await harness.entries('json', 1)) as [LogEntry];
    expectJsonExchangeEntry(entry, port, { requestId: 'req-koa-1', responseBodyLogged: true });
    expect(sink.errors).toEqual([]);
  });

  it('logs a urlencoded form read by @koa/bodyparser', async () => {
    const { port } = await serveApp(
      'urlencoded',
      (_app, router) => {
        router.post('/login', bodyParser({ enableTypes: ['form'] }), (ctx: Context) => {
          ctx.body = `hello ${(ctx.request as { body?: Record<string, string> }).body?.user}`;
        });
      },
      { logRequestBody: true, redactBodyFields: ['password'] },
    );
    const response = await fetch(`http://127.0.0.1:${port}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=ada&password=s3cret&remember',
    });
    expect(await response.text()).toBe('hello ada');
    const [entry] = (await harness.entries('urlencoded', 1)) as [LogEntry];
    expectPlausibleWithGeneratedId(entry, port);
    expect(entry.request.body_args).toEqual({ user: 'ada', password: 'REDACTED', remember: true });
    expect(entry.request.body).not.toContain('s3cret');
    expect(entry.route).toEqual({ path: '/login' });
    expect(entry.response.status).toBe(200);
    expect(entry.source).toBe('upstream');
  });

  it('logs a multipart upload the app streams through busboy, with files described', async () => {
    const { port } = await serveApp(
      'multipart',
      (_app, router) => {
        router.post('/upload', async (ctx: Context) => {
          ctx.body = await new Promise<Record<string, number | string>>((resolve) => {
            const parts: Record<string, number | string> = {};
            const parser = busboy({ headers: ctx.req.headers });
            parser.on('field', (name, value) => {
              parts[name] = value;
            });
            parser.on('file', (name, stream) => {
              let size = 0;
              stream.on('data', (chunk: Buffer) => {
                size += chunk.length;
              });
              stream.on('end', () => {
                parts[name] = size;
              });
            });
            parser.on('close', () => resolve(parts));
            ctx.req.pipe(parser);
          });
        });
      },
      { logRequestBody: true },
    );
    const file = Buffer.alloc(20_000, 0xab);
    const form = new FormData();
    form.append('title', 'holiday');
    form.append('photo', new Blob([file], { type: 'image/png' }), 'beach.png');
    const response = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: form });
    expect(await response.json()).toEqual({ title: 'holiday', photo: file.length });
    const [entry] = (await harness.entries('multipart', 1)) as [LogEntry];
    expectPlausibleWithGeneratedId(entry, port);
    expect(entry.request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(entry.request.body_args).toEqual({ title: 'holiday', photo: { filename: 'beach.png', content_type: 'image/png', size: file.length } });
    expect(entry.request.size).toBeGreaterThan(file.length);
    expect(entry.route).toEqual({ path: '/upload' });
  });

  it('logs a binary download (a Buffer body Koa writes after the chain) with the exact bytes on the wire', async () => {
    const payload = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
    const { port } = await serveApp(
      'binary',
      (_app, router) => {
        router.get('/files/:name', (ctx: Context) => {
          ctx.type = 'application/octet-stream';
          ctx.body = payload;
        });
      },
      { logResponseBody: true },
    );
    const raw = await rawExchange(port, 'GET /files/data.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(raw.subarray(raw.length - payload.length)).toEqual(payload);
    const [entry] = (await harness.entries('binary', 1)) as [LogEntry];
    expect(entry.response.size).toBe(raw.length);
    expect(entry.response.body_base64).toBe(true);
    expect(Buffer.from(entry.response.body as string, 'base64')).toEqual(payload);
    expect(entry.response.headers['content-length']).toBe(String(payload.length));
    expect(entry.request.url).toBe(`http://127.0.0.1:${port}/files/data.bin`);
    expect(entry.route).toEqual({ path: '/files/:name' });
    expect(entry.source).toBe('upstream');
  });

  it('logs a streaming response (a Readable as ctx.body) written in chunks over time', async () => {
    const { port } = await serveApp(
      'stream',
      (_app, router) => {
        router.get('/events', (ctx: Context) => {
          ctx.type = 'text/event-stream';
          ctx.body = Readable.from(
            (async function* () {
              for (let i = 0; i < 5; i++) {
                yield `data: ${i}\n\n`;
                await sleep(20);
              }
            })(),
          );
        });
      },
      { logResponseBody: true },
    );
    const raw = await rawExchange(port, 'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const [entry] = (await harness.entries('stream', 1)) as [LogEntry];
    expect(headerBlockOf(raw)).toContain('Transfer-Encoding: chunked');
    expect(entry.response.size).toBe(raw.length);
    expect(entry.response.status).toBe(200);
    // text/event-stream is not one of the plain-text types: the body is logged in base64.
    expect(entry.response.body_base64).toBe(true);
    expect(Buffer.from(entry.response.body as string, 'base64').toString()).toBe([0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(''));
    expect(entry.latencies.request).toBeGreaterThanOrEqual(80);
    // proxy is the time to the first byte, well before the stream ended.
    expect(entry.latencies.proxy).toBeLessThan(entry.latencies.request);
    expect(entry.source).toBe('upstream');
  });

  it('marks errors as source kong: Koa default handler, own error middleware behind errorBoundary, ctx.throw', async () => {
    const { port } = await serveApp('thrown', (app, router, log) => {
      app.use(async (ctx: Context, next: Next) => {
        if (!ctx.path.startsWith('/handled')) return next();
        try {
          await next();
        } catch (error) {
          ctx.status = 500;
          ctx.body = { error: (error as Error).message };
        }
      });
      app.use(log.errorBoundary);
      router.get('/throws', () => {
        throw new Error('sync failure');
      });
      router.get('/handled/rejects', async () => {
        await sleep(5);
        throw new Error('async failure');
      });
      router.get('/forbidden', (ctx: Context) => ctx.throw(403, 'no way'));
      router.get('/ok', (ctx: Context) => {
        ctx.body = 'fine';
      });
    });
    const statuses: number[] = [];
    for (const path of ['/throws', '/handled/rejects', '/forbidden', '/ok']) {
      statuses.push((await fetch(`http://127.0.0.1:${port}${path}`)).status);
    }
    expect(statuses).toEqual([500, 500, 403, 200]);
    const entries = await harness.entries('thrown', 4);
    const byPath = new Map(entries.map((entry) => [entry.request.uri, entry]));
    for (const [path, status] of [['/throws', 500], ['/handled/rejects', 500], ['/forbidden', 403]] as const) {
      const entry = byPath.get(path) as LogEntry;
      expect(entry.response.status).toBe(status);
      expect(entry.source).toBe('kong');
      expect(entry.route).toEqual({ path });
    }
    expect(byPath.get('/handled/rejects')?.response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(byPath.get('/ok')?.source).toBe('upstream');
    expect(byPath.get('/ok')?.response.status).toBe(200);
  });

  it('marks an early exit from a middleware (app-level, router-level) and a 404 as source kong', async () => {
    const { port } = await serveApp('early', (app, router) => {
      app.use(async (ctx: Context, next: Next) => {
        if (ctx.get('authorization') !== 'Bearer good') {
          ctx.status = 401;
          ctx.body = { message: 'Unauthorized' };
          return;
        }
        await next();
      });
      const admin = new Router({ prefix: '/admin' });
      admin.use(async (ctx: Context, next: Next) => {
        if (ctx.get('x-admin') !== 'yes') {
          ctx.status = 403;
          ctx.body = 'admins only';
          return;
        }
        await next();
      });
      admin.get('/stats', (ctx: Context) => {
        ctx.body = { users: 1 };
      });
      router.use(admin.routes());
      router.get('/private', (ctx: Context) => {
        ctx.body = 'secret';
      });
    });
    const good = { authorization: 'Bearer good' };
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: { authorization: 'Bearer bad' } })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: good })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/missing`, { headers: good })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/admin/stats`, { headers: good })).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/admin/stats`, { headers: { ...good, 'x-admin': 'yes' } })).status).toBe(200);
    const [denied, allowed, missing, refused, admitted] = (await harness.entries('early', 5)) as [LogEntry, LogEntry, LogEntry, LogEntry, LogEntry];
    expect(denied.response.status).toBe(401);
    expect(denied.source).toBe('kong');
    expect(denied.latencies.proxy).toBe(-1);
    expect(denied).not.toHaveProperty('route');
    expect(denied.request.headers.authorization).toBe('REDACTED');
    expect(allowed.source).toBe('upstream');
    expect(allowed.route).toEqual({ path: '/private' });
    expect(missing.response.status).toBe(404);
    expect(missing.source).toBe('kong');
    expect(missing).not.toHaveProperty('route');
    // The router matched the route before its router-level middleware refused (as Kong routes before plugins run).
    expect(refused.response.status).toBe(403);
    expect(refused.source).toBe('kong');
    expect(refused.latencies.proxy).toBe(-1);
    expect(refused.route).toEqual({ path: '/admin/stats' });
    expect(admitted.source).toBe('upstream');
    expect(admitted.route).toEqual({ path: '/admin/stats' });
  });

  it('logs an app without @koa/router: its middleware answering is upstream; above upstreamBoundary or unanswered is kong', async () => {
    const sink = harness.sink('routerless'); // one publisher: the entries arrive in the order sent
    const plain = async (build: (app: Koa, log: ReturnType<typeof kafkaLog>) => void) => {
      const app = new Koa();
      app.silent = true;
      const log = kafkaLog({ sink });
      app.use(log);
      build(app, log);
      const server = http.createServer(app.callback());
      servers.push(server);
      return listen(server);
    };
    // The README's Koa quick start: one middleware answers every request.
    const quickStart = await plain((app) => {
      app.use(async (ctx) => {
        await sleep(30);
        ctx.body = { hello: 'world' };
      });
    });
    // Gateway-like middleware above the boundary, and a path nobody answers.
    const guarded = await plain((app, log) => {
      app.use(async (ctx: Context, next: Next) => {
        if (ctx.get('authorization') !== 'Bearer good') {
          ctx.status = 401;
          return;
        }
        await next();
      });
      app.use(log.upstreamBoundary);
      app.use(async (ctx: Context, next: Next) => {
        if (ctx.path === '/mine') ctx.body = 'mine';
        else await next();
      });
    });
    const good = { authorization: 'Bearer good' };
    expect(await (await fetch(`http://127.0.0.1:${quickStart}/hello`)).json()).toEqual({ hello: 'world' });
    expect((await fetch(`http://127.0.0.1:${guarded}/mine`)).status).toBe(401);
    expect(await (await fetch(`http://127.0.0.1:${guarded}/mine`, { headers: good })).text()).toBe('mine');
    expect((await fetch(`http://127.0.0.1:${guarded}/other`, { headers: good })).status).toBe(404);
    const [answered, denied, admitted, missing] = (await harness.entries('routerless', 4)) as [LogEntry, LogEntry, LogEntry, LogEntry];
    expectPlausibleWithGeneratedId(answered, quickStart);
    expect(answered.source).toBe('upstream');
    expect(answered.response.status).toBe(200);
    expect(answered.latencies.proxy).toBeGreaterThanOrEqual(25);
    expect(answered).not.toHaveProperty('route');
    expect(denied.response.status).toBe(401);
    expect(denied.source).toBe('kong');
    expect(denied.latencies.proxy).toBe(-1);
    expect(admitted.source).toBe('upstream');
    expect(admitted.latencies.proxy).toBeGreaterThanOrEqual(0);
    expect(missing.response.status).toBe(404);
    expect(missing.source).toBe('kong');
    expect(missing.latencies.proxy).toBe(-1);
    expect(sink.errors).toEqual([]);
  });

  it('logs an aborted request as 499', async () => {
    const { port } = await serveApp('aborted', (_app, router) => {
      router.get('/slow', async (ctx: Context) => {
        // Answer only once the client is gone: deterministic, whatever the machine's load.
        await new Promise((resolve) => ctx.res.once('close', resolve));
        ctx.body = 'too late';
      });
    });
    await abandonedExchange(port, 'GET /slow?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 50);
    const [entry] = (await harness.entries('aborted', 1)) as [LogEntry];
    expect(entry.response.status).toBe(499);
    expect(entry.request.uri).toBe('/slow?x=1');
    expect(entry.route).toEqual({ path: '/slow' });
  });

  it('records TLS facts over HTTPS with a client certificate', async () => {
    const { tls } = inject('kafka');
    const app = new Koa();
    app.use(kafkaLog({ sink: harness.sink('tls') }));
    const router = new Router();
    router.get('/secure', (ctx: Context) => {
      ctx.body = 'hi';
    });
    app.use(router.routes());
    const server = https.createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert), ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true }, app.callback());
    servers.push(server);
    const port = await listen(server);
    const raw = await rawExchange(port, 'GET /secure HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', {
      ca: readFileSync(tls.ca),
      cert: readFileSync(tls.clientCert),
      key: readFileSync(tls.clientKey),
      checkServerIdentity: () => undefined,
    });
    expect(raw.toString()).toMatch(/hi$/);
    const [entry] = (await harness.entries('tls', 1)) as [LogEntry];
    expect(entry.request.url).toBe(`https://127.0.0.1:${port}/secure`);
    expect(entry.request.tls?.version).toBe('TLSv1.3');
    expect(entry.request.tls?.cipher).toMatch(/^TLS_[A-Z0-9_]+$/);
    expect(entry.request.tls?.client_verify).toBe('SUCCESS');
    expect(entry.response.size).toBe(raw.length);
    expect(entry.source).toBe('upstream');
  });
});
