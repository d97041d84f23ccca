// kafka-log/fastify end to end: a real Fastify 5 app on 127.0.0.1, real requests, entries published by a real
// KafkaLogPublisher to the local broker and read back with a kafkajs consumer.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type KafkaLogFastifyOptions, kafkaLog } from '../../src/adapters/fastify.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { abandonedExchange, headerBlockOf, rawExchange, sleep } from '../unit/adapters-support.js';
import {
  type BrokerHarness,
  type BrokerSink,
  brokerHarness,
  expectJsonExchangeEntry,
  expectPlausible,
  sendJsonExchange,
} from './adapters-support.js';
import { TRANSPORTS } from './transports.js';

const TOPICS = ['json', 'urlencoded', 'multipart', 'binary', 'stream', 'thrown', 'early', 'aborted', 'tls', 'inject'] as const;
type Topic = (typeof TOPICS)[number];

let harness: BrokerHarness;
const apps: FastifyInstance[] = [];

// The apps of every transport's suite, closed once at the end of the file.
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

/** A Fastify app logging to `topic`'s publisher; `build` adds plugins and routes after kafka-log. */
async function serveApp(
  topic: Topic,
  build: (app: FastifyInstance) => void | Promise<void>,
  options: Partial<KafkaLogFastifyOptions> = {},
): Promise<{ port: number; sink: BrokerSink }> {
  const sink = harness.sink(topic);
  const app = Fastify({ forceCloseConnections: true });
  apps.push(app);
  await app.register(kafkaLog, { sink, ...options });
  await build(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, sink };
}

// One suite per transport: the same exchanges, published by each Kafka client.
describe.each(TRANSPORTS)('kafka-log/fastify through the local broker (%s)', (transport) => {
  beforeAll(async () => {
    harness = await brokerHarness(inject('kafka'), TOPICS, transport);
  });
  afterAll(() => harness?.close());

  it('logs a JSON request parsed by Fastify under a prefixed plugin, field by field', async () => {
    const { port, sink } = await serveApp(
      'json',
      async (app) => {
        await app.register(
          async (api) => {
            api.post<{ Params: { id: string } }>('/users/:id', async (request, reply) => {
              reply.code(201);
              return { id: request.params.id, received: request.body };
            });
          },
          { prefix: '/api' },
        );
      },
      { logRequestBody: true, logResponseBody: true, consumer: (request) => ({ id: String((request.params as { id?: string }).id) }) },
    );
    await sendJsonExchange(port, 'req-fastify-1');

    const [entry] = (await harness.entries('json', 1)) as [LogEntry];
    expectJsonExchangeEntry(entry, port, { requestId: 'req-fastify-1', responseBodyLogged: true });
    expect(sink.errors).toEqual([]);
  });

  it('logs a urlencoded form parsed by @fastify/formbody', async () => {
    const { port } = await serveApp(
      'urlencoded',
      async (app) => {
        await app.register(formbody);
        app.post('/login', async (request) => `hello ${(request.body as Record<string, string>).user}`);
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
    expectPlausible(entry, port);
    expect(entry.request.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(entry.request.body_args).toEqual({ user: 'ada', password: 'REDACTED', remember: true });
    expect(entry.request.body).not.toContain('s3cret');
    expect(entry.route).toEqual({ path: '/login' });
    expect(entry.response.status).toBe(200);
    expect(entry.source).toBe('upstream');
  });

  it('logs a multipart upload read by @fastify/multipart, with files described', async () => {
    const { port } = await serveApp(
      'multipart',
      async (app) => {
        await app.register(multipart);
        app.post('/upload', async (request) => {
          const parts: Record<string, number | string> = {};
          for await (const part of request.parts()) {
            if (part.type === 'file') parts[part.fieldname] = (await part.toBuffer()).length;
            else parts[part.fieldname] = String(part.value);
          }
          return parts;
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
    expectPlausible(entry, port);
    expect(entry.request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(entry.request.body_args).toEqual({ title: 'holiday', photo: { filename: 'beach.png', content_type: 'image/png', size: file.length } });
    expect(entry.request.size).toBeGreaterThan(file.length);
    expect(entry.route).toEqual({ path: '/upload' });
  });

  it('logs a binary download with its body and the exact bytes on the wire', async () => {
    const payload = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
    const { port } = await serveApp(
      'binary',
      (app) => {
        app.get('/files/:name', async (_request, reply) => {
          reply.type('application/octet-stream');
          return payload;
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

  it('logs a streaming response (a Readable sent by the reply) written in chunks over time', async () => {
    const { port } = await serveApp(
      'stream',
      (app) => {
        app.get('/events', (_request, reply) => {
          reply.type('text/plain');
          return reply.send(
            Readable.from(
              (async function* () {
                for (let i = 0; i < 5; i++) {
                  yield `data: ${i}\n\n`;
                  await sleep(20);
                }
              })(),
            ),
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
    expect(entry.response.body).toBe([0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(''));
    expect(entry.latencies.request).toBeGreaterThanOrEqual(80);
    expect(entry.latencies.proxy).toBeLessThan(entry.latencies.request);
    expect(entry.source).toBe('upstream');
  });

  it('marks thrown errors, rejected promises and failed validation as source kong', async () => {
    const { port } = await serveApp('thrown', (app) => {
      app.get('/throws', () => {
        throw new Error('sync failure');
      });
      app.get('/rejects', async () => {
        await sleep(5);
        throw new Error('async failure');
      });
      app.get('/validated', { schema: { querystring: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async () => 'valid');
      app.get('/ok', async () => 'fine');
    });
    const statuses: number[] = [];
    for (const path of ['/throws', '/rejects', '/validated', '/ok']) {
      statuses.push((await fetch(`http://127.0.0.1:${port}${path}`)).status);
    }
    expect(statuses).toEqual([500, 500, 400, 200]);
    const entries = await harness.entries('thrown', 4);
    const byPath = new Map(entries.map((entry) => [entry.request.uri, entry]));
    for (const [path, status] of [['/throws', 500], ['/rejects', 500], ['/validated', 400]] as const) {
      const entry = byPath.get(path) as LogEntry;
      expect(entry.response.status).toBe(status);
      expect(entry.source).toBe('kong');
      expect(entry.route).toEqual({ path });
    }
    expect(byPath.get('/validated')?.latencies.proxy).toBe(-1);
    expect(byPath.get('/ok')?.source).toBe('upstream');
    expect(byPath.get('/ok')?.response.status).toBe(200);
  });

  it('marks an early exit from a hook (onRequest, preHandler) and a 404 as source kong', async () => {
    const { port } = await serveApp('early', async (app) => {
      app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (request.headers.authorization !== 'Bearer good') return reply.code(401).send({ message: 'Unauthorized' });
      });
      app.get('/private', async () => 'secret');
      app.get(
        '/admin',
        {
          preHandler: async (request, reply) => {
            if (request.headers['x-admin'] !== 'yes') return reply.code(403).send('admins only');
          },
        },
        async () => ({ users: 1 }),
      );
    });
    const good = { authorization: 'Bearer good' };
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: { authorization: 'Bearer bad' } })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: good })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/missing`, { headers: good })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/admin`, { headers: good })).status).toBe(403);
    const [denied, allowed, missing, refused] = (await harness.entries('early', 4)) as [LogEntry, LogEntry, LogEntry, LogEntry];
    expect(denied.response.status).toBe(401);
    expect(denied.source).toBe('kong');
    expect(denied.latencies.proxy).toBe(-1);
    expect(denied.route).toEqual({ path: '/private' }); // Fastify routes before its hooks run, as Kong does
    expect(denied.request.headers.authorization).toBe('REDACTED');
    expect(allowed.source).toBe('upstream');
    expect(allowed.route).toEqual({ path: '/private' });
    expect(missing.response.status).toBe(404);
    expect(missing.source).toBe('kong');
    expect(missing).not.toHaveProperty('route');
    expect(refused.response.status).toBe(403);
    expect(refused.source).toBe('kong');
    expect(refused.latencies.proxy).toBe(-1);
  });

  it('logs an aborted request as 499', async () => {
    const { port } = await serveApp('aborted', (app) => {
      app.get('/slow', async (_request, reply) => {
        // Answer only once the client is gone: deterministic, whatever the machine's load.
        await new Promise((resolve) => reply.raw.once('close', resolve));
        return 'too late';
      });
    });
    await abandonedExchange(port, 'GET /slow?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 50);
    const [entry] = (await harness.entries('aborted', 1)) as [LogEntry];
    expect(entry.response.status).toBe(499);
    expect(entry.request.uri).toBe('/slow?x=1');
    expect(entry.route).toEqual({ path: '/slow' });
  });

  it("logs an inject() exchange once: string request chunks captured, end()'s inner write not counted twice", async () => {
    // light-my-request pushes the request body as a string and its response's end(chunk) calls this.write(chunk).
    const app = Fastify();
    apps.push(app);
    await app.register(kafkaLog, { sink: harness.sink('inject'), logRequestBody: true, logResponseBody: true });
    app.post('/echo', async (request) => ({ echoed: request.body }));
    await app.ready();
    const body = { name: 'Zoë', city: 'Malmö' };
    const response = await app.inject({ method: 'POST', url: '/echo?via=inject', payload: body });
    expect(response.statusCode).toBe(200);
    const sent = JSON.stringify(body);
    const answered = JSON.stringify({ echoed: body });
    expect(response.body).toBe(answered);

    const [entry] = (await harness.entries('inject', 1)) as [LogEntry];
    expect(entry.request.uri).toBe('/echo?via=inject');
    expect(entry.request.body).toBe(sent);
    expect(entry.request.body_args).toEqual(body);
    // Request line + header block + the body's UTF-8 bytes (not its UTF-16 length).
    const raw = response.raw.req.rawHeaders;
    let headerBlock = '\r\n';
    for (let i = 0; i + 1 < raw.length; i += 2) headerBlock += `${raw[i]}: ${raw[i + 1]}\r\n`;
    expect(entry.request.size).toBe(`POST /echo?via=inject HTTP/1.1\r\n${headerBlock}`.length + Buffer.byteLength(sent));
    expect(entry.response.body).toBe(answered);
    const headerText = (response.raw.res as unknown as { _header: string })._header;
    expect(entry.response.size).toBe(headerText.length + Buffer.byteLength(answered));
    expect(entry.response.status).toBe(200);
    expect(entry.route).toEqual({ path: '/echo' });
    expect(entry.source).toBe('upstream');
  });

  it('records TLS facts over HTTPS with a client certificate', async () => {
    const { tls } = inject('kafka');
    const app = Fastify({ forceCloseConnections: true, https: { key: readFileSync(tls.key), cert: readFileSync(tls.cert), ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true } });
    apps.push(app);
    await app.register(kafkaLog, { sink: harness.sink('tls') });
    app.get('/secure', async () => 'hi');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
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
