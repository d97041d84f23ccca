// kafka-log/http against real node:http and node:https servers on 127.0.0.1, entries recorded by a sink.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getExchangeCapture, withKafkaLog, type KafkaLogHttpOptions } from '../../src/adapters/http.js';
import { ErrorCodes } from '../../src/errors.js';
import {
  abandonedExchange,
  close,
  headerBlockOf,
  listen,
  makeTlsMaterial,
  rawExchange,
  type RecordingSink,
  recordingSink,
  sleep,
  type TlsMaterial,
} from './adapters-support.js';

const servers: Array<http.Server | https.Server> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

async function serve(listener: Listener, options: Partial<KafkaLogHttpOptions> = {}) {
  const sink = recordingSink();
  const server = http.createServer(withKafkaLog(listener, { sink, ...options }));
  servers.push(server);
  const port = await listen(server);
  return { sink, port };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('withKafkaLog over node:http', () => {
  it('logs the request line, headers, query, status and exact wire sizes', async () => {
    const { sink, port } = await serve((_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('hello');
    });
    const request =
      'GET /items/7?a=1&a=2&flag&name=x%20y HTTP/1.1\r\nHost: localhost:' +
      port +
      '\r\nX-Thing: one\r\nx-thing: two\r\nAuthorization: Bearer secret\r\nX-Request-Id: req-42\r\n' +
      'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nConnection: close\r\n\r\n';
    const raw = await rawExchange(port, request);
    const entry = await sink.next();

    expect(raw.toString('latin1')).toMatch(/hello$/);
    expect(entry.request.method).toBe('GET');
    expect(entry.request.uri).toBe('/items/7?a=1&a=2&flag&name=x%20y');
    expect(entry.request.url).toBe(`http://localhost:${port}/items/7?a=1&a=2&flag&name=x%20y`);
    expect(entry.request.querystring).toEqual({ a: ['1', '2'], flag: true, name: 'x y' });
    expect(entry.request.headers['x-thing']).toEqual(['one', 'two']);
    expect(entry.request.headers.authorization).toBe('REDACTED');
    expect(entry.request.id).toBe('req-42');
    expect(entry.trace_id).toEqual({ w3c: '4bf92f3577b34da6a3ce929d0e0e4736' });
    expect(entry.request.size).toBe(Buffer.byteLength(request));
    expect(entry.request.tls).toBeUndefined();
    expect(entry.response.status).toBe(200);
    expect(entry.response.headers['content-type']).toBe('text/plain');
    expect(entry.response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(entry.response.headers['content-length']).toBe('5');
    expect(entry.response.headers.date).toBeTypeOf('string');
    expect(entry.response.size).toBe(raw.length);
    expect(entry.client_ip).toBe('127.0.0.1');
    expect(entry.source).toBe('upstream');
    expect(entry.upstream_uri).toBe('');
    expect(entry.upstream_status).toBe('');
    expect(entry.latencies.request).toBeGreaterThanOrEqual(0);
    expect(entry.latencies.proxy).toBeGreaterThanOrEqual(0);
    expect(entry.latencies.kong).toBeGreaterThanOrEqual(0);
    expect(entry.latencies.receive).toBeGreaterThanOrEqual(0);
    expect(Math.abs(entry.started_at - Date.now())).toBeLessThan(5000);
    expect(sink.errors).toEqual([]);
  });

  it('generates a request id when the header is absent, and reads a configured header', async () => {
    const { sink, port } = await serve((_req, res) => res.end(), { requestIdHeader: 'X-Correlation', correlationIdHeader: 'kong-request-id' });
    await fetch(`http://127.0.0.1:${port}/`);
    expect((await sink.next()).request.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-correlation': 'abc', 'kong-request-id': 'k-1', traceparent: 'garbage' } });
    const entry = await sink.next();
    expect(entry.request.id).toBe('abc');
    expect(entry.correlation_id).toBe('k-1');
    expect(entry).not.toHaveProperty('trace_id');
  });

  it.each([
    ['write, write and end in one turn', (res: ServerResponse) => {
      res.write('a');
      res.write(Buffer.alloc(300, 1));
      res.end('bc');
    }],
    ['a write per turn, then end', async (res: ServerResponse) => {
      res.write('a');
      await sleep(5);
      res.write('bb');
      await sleep(5);
      res.end('ccc');
    }],
    ['end alone with a chunk after writeHead', (res: ServerResponse) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.end('only');
    }],
  ])('counts the wire size of a chunked response whatever node pools: %s', async (_name, handler) => {
    const { sink, port } = await serve((_req, res) => handler(res));
    const raw = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const entry = await sink.next();
    expect(headerBlockOf(raw)).toMatch(/transfer-encoding: chunked/i);
    expect(entry.response.size).toBe(raw.length);
  });

  it('counts a chunked streaming response exactly, keeps write callbacks and res.end() without arguments', async () => {
    const callbacks: string[] = [];
    const { sink, port } = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 4; i++) {
        res.write(Buffer.alloc(1000 + i * 300, i), () => callbacks.push(`buffer ${i}`));
        await sleep(15);
      }
      res.write('caf\u00e9', 'utf8', () => callbacks.push('string'));
      res.write('', () => callbacks.push('empty'));
      res.end();
    });
    const raw = await rawExchange(port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const entry = await sink.next();
    expect(headerBlockOf(raw)).toContain('Transfer-Encoding: chunked');
    expect(entry.response.headers['transfer-encoding']).toBe('chunked');
    expect(entry.response.size).toBe(raw.length);
    expect(callbacks).toEqual(['buffer 0', 'buffer 1', 'buffer 2', 'buffer 3', 'string', 'empty']);
    // The handler wrote its first byte at once; the whole exchange took the four pauses.
    expect(entry.latencies.request).toBeGreaterThanOrEqual(50);
    expect(entry.latencies.proxy).toBeLessThan(entry.latencies.request);
  });

  it('observes the request body without taking it from an app that reads it late', async () => {
    let received: Buffer | undefined;
    const { sink, port } = await serve(
      async (req, res) => {
        await sleep(60); // the body has long arrived; nobody has read it yet
        received = await readBody(req);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ got: received.length }));
      },
      { logRequestBody: true, logResponseBody: true },
    );
    const body = JSON.stringify({ user: 'ada', tags: ['x', 'y'], n: 1 });
    const response = await fetch(`http://127.0.0.1:${port}/users?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
    });
    expect(await response.json()).toEqual({ got: Buffer.byteLength(body) });
    const entry = await sink.next();
    expect(received?.toString()).toBe(body);
    expect(entry.request.body).toBe(body);
    expect(entry.request.body_args).toEqual({ user: 'ada', tags: ['x', 'y'], n: 1 });
    expect(entry.response.body).toBe(JSON.stringify({ got: Buffer.byteLength(body) }));
    expect(entry.response.body_args).toEqual({ got: Buffer.byteLength(body) });
    expect(entry.request.size).toBeGreaterThan(Buffer.byteLength(body));
  });

  it('sees the body with a paused reader, a readable-event reader and a stream piped later', async () => {
    const readers: Array<(req: IncomingMessage) => Promise<Buffer>> = [
      (req) =>
        new Promise((resolve) => {
          const chunks: Buffer[] = [];
          req.on('readable', () => {
            let chunk: Buffer | null = req.read() as Buffer | null;
            while (chunk !== null) {
              chunks.push(chunk);
              chunk = req.read() as Buffer | null;
            }
          });
          req.on('end', () => resolve(Buffer.concat(chunks)));
        }),
      (req) => {
        req.pause();
        return sleep(30).then(() => readBody(req));
      },
      (req) =>
        new Promise((resolve) => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => resolve(Buffer.concat(chunks)));
        }),
    ];
    const payload = Buffer.alloc(300_000, 7);
    for (const read of readers) {
      let got = 0;
      const { sink, port } = await serve(
        async (req, res) => {
          got = (await read(req)).length;
          res.end('ok');
        },
        { logRequestBody: true, maxBodySize: 1000 },
      );
      await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' } });
      const entry = await sink.next();
      expect(got).toBe(payload.length);
      expect(entry.request.body_truncated).toBe(true);
      expect(Buffer.from(entry.request.body as string, 'base64')).toEqual(payload.subarray(0, 1000));
      expect(entry.request.size).toBeGreaterThan(payload.length);
    }
  });

  it('logs an app that answers without reading the body', async () => {
    const { sink, port } = await serve((_req, res) => {
      res.statusCode = 413;
      res.end();
    });
    const response = await fetch(`http://127.0.0.1:${port}/big`, { method: 'PUT', body: 'x'.repeat(10) });
    expect(response.status).toBe(413);
    const entry = await sink.next();
    expect(entry.response.status).toBe(413);
    expect(entry.request.method).toBe('PUT');
  });

  it('counts no body for HEAD', async () => {
    const { sink, port } = await serve((_req, res) => {
      res.setHeader('content-length', '11');
      res.end('hello world');
    });
    const raw = await rawExchange(port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const entry = await sink.next();
    expect(entry.response.size).toBe(raw.length);
    expect(entry.response.size).toBe(headerBlockOf(raw).length);
  });

  it('logs 499 when the client goes away before the response finished', async () => {
    const { sink, port } = await serve(async (_req, res) => {
      res.write('partial');
      await sleep(300);
      res.end('rest');
    });
    await abandonedExchange(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n', 50);
    const entry = await sink.next();
    expect(entry.response.status).toBe(499);
    expect(entry.request.uri).toBe('/slow');
    expect(entry.latencies.request).toBeGreaterThanOrEqual(40);
  });

  it('marks source kong when the listener throws, and rethrows the error unchanged', async () => {
    const sink = recordingSink();
    const wrapped = withKafkaLog(() => {
      throw new Error('boom');
    }, { sink });
    const caught: unknown[] = [];
    const server = http.createServer((req, res) => {
      try {
        wrapped(req, res);
      } catch (error) {
        caught.push(error);
        res.statusCode = 500;
        res.end('failed');
      }
    });
    servers.push(server);
    const port = await listen(server);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(500);
    const entry = await sink.next();
    expect((caught[0] as Error).message).toBe('boom');
    expect(entry.source).toBe('kong');
    expect(entry.response.status).toBe(500);
  });

  it('lets a gateway annotate upstream facts', async () => {
    const { sink, port } = await serve((req, res) => {
      const capture = getExchangeCapture(req);
      if (capture !== undefined) {
        capture.upstream = { uri: '/internal/items?a=1', status: 201 };
        capture.upstreamLatency = 12.4;
        capture.route = { path: '/items' };
      }
      res.statusCode = 201;
      res.end();
    });
    await fetch(`http://127.0.0.1:${port}/items?a=1`);
    const entry = await sink.next();
    expect(entry.upstream_uri).toBe('/internal/items?a=1');
    expect(entry.upstream_status).toBe('201');
    expect(entry.latencies.proxy).toBe(12);
    expect(entry.route).toEqual({ path: '/items' });
  });

  it('runs hooks, custom fields and publishMeta after the response; a failing hook is reported, not thrown', async () => {
    const metas: unknown[] = [];
    const sink = recordingSink();
    const publish = sink.publish.bind(sink);
    sink.publish = (entry, meta) => {
      metas.push(meta);
      return publish(entry);
    };
    const server = http.createServer(
      withKafkaLog(
        (req, res) => {
          (req as IncomingMessage & { user?: string }).user = 'u-1';
          res.end();
        },
        {
          sink,
          consumer: (req) => ({ id: (req as IncomingMessage & { user?: string }).user ?? 'none' }),
          service: () => ({ name: 'catalog' }),
          authenticatedEntity: () => ({ id: 'cred-1', consumer_id: 'u-1' }),
          route: () => {
            throw new Error('no route today');
          },
          workspace: 'ws-1',
          workspaceName: 'default',
          customFields: {
            'request.tenant': (_entry, context) => (context.request as IncomingMessage).headers['x-tenant'] ?? null,
            'extra.status_class': "String(entry.response.status)[0] + 'xx'",
          },
          publishMeta: (entry) => ({ key: entry.request.headers['x-tenant'] as string }),
        },
      ),
    );
    servers.push(server);
    const port = await listen(server);
    await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-tenant': 'acme' } });
    const entry = await sink.next();
    expect(entry.consumer).toEqual({ id: 'u-1' });
    expect(entry.service).toEqual({ name: 'catalog' });
    expect(entry.authenticated_entity).toEqual({ id: 'cred-1', consumer_id: 'u-1' });
    expect(entry).not.toHaveProperty('route');
    expect(entry.workspace).toBe('ws-1');
    expect(entry.workspace_name).toBe('default');
    expect((entry.request as unknown as Record<string, unknown>).tenant).toBe('acme');
    expect(entry.extra).toEqual({ status_class: '2xx' });
    expect(metas).toEqual([{ key: 'acme' }]);
    expect(sink.errors.map((e) => e.code)).toEqual([ErrorCodes.CUSTOM_FIELD]);
    expect(sink.errors[0]?.message).toContain('no route today');
  });

  it('does not send an entry whose JSON body does not parse (Kong), and reports why', async () => {
    const { sink, port } = await serve(
      async (req, res) => {
        await readBody(req);
        res.end('fine');
      },
      { logRequestBody: true },
    );
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"broken' });
    expect(await response.text()).toBe('fine');
    await sleep(100);
    expect(sink.entries).toEqual([]);
    expect(sink.errors.map((e) => e.code)).toEqual([ErrorCodes.BODY_PARSE]);
  });

  it('keeps serving when the sink throws, and skips what skip() says', async () => {
    const reported: unknown[] = [];
    let published = 0;
    const sink = {
      publish() {
        published++;
        throw new Error('sink down');
      },
      reportError(error: unknown) {
        reported.push(error);
      },
    };
    const server = http.createServer(withKafkaLog((_req, res) => res.end('up'), { sink, skip: (req) => req.url === '/health' }));
    servers.push(server);
    const port = await listen(server);
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe('up');
    expect(await (await fetch(`http://127.0.0.1:${port}/work`)).text()).toBe('up');
    await sleep(50);
    expect(published).toBe(1);
    expect(reported).toHaveLength(1);
  });
});

describe('withKafkaLog over node:https', () => {
  let material: TlsMaterial;
  beforeAll(async () => {
    material = await makeTlsMaterial();
  });

  async function serveTls(sink: RecordingSink) {
    const server = https.createServer(
      { key: material.serverKey, cert: material.serverCert, ca: material.ca, requestCert: true, rejectUnauthorized: false },
      withKafkaLog((_req, res) => res.end('secure'), { sink }),
    );
    servers.push(server);
    return listen(server);
  }

  it('records TLS version, OpenSSL cipher name and client verification', async () => {
    const sink = recordingSink();
    const port = await serveTls(sink);
    const request = 'GET /tls HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';

    const raw = await rawExchange(port, request, { ca: material.ca, cert: material.clientCert, key: material.clientKey, servername: 'localhost' });
    expect(raw.toString()).toMatch(/secure$/);
    const verified = await sink.next();
    expect(verified.request.url).toBe(`https://127.0.0.1:${port}/tls`);
    expect(verified.request.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(verified.request.tls?.cipher).toMatch(/^[A-Z0-9_-]+$/);
    expect(verified.request.tls?.client_verify).toBe('SUCCESS');
    expect(verified.response.size).toBe(raw.length);

    await rawExchange(port, request, { ca: material.ca, servername: 'localhost' });
    expect((await sink.next()).request.tls?.client_verify).toBe('NONE');

    await rawExchange(port, request, { ca: material.ca, cert: material.strangerCert, key: material.strangerKey, servername: 'localhost' });
    expect((await sink.next()).request.tls?.client_verify).toMatch(/^FAILED:[A-Z_]+/);

    await rawExchange(port, request, { ca: material.ca, servername: 'localhost', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
    const tls12 = await sink.next();
    expect(tls12.request.tls).toEqual({ version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', client_verify: 'NONE' });
  });
});
