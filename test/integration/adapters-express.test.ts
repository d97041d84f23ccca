// kafka-log/express end to end: a real Express 5 app on 127.0.0.1, real requests, entries published by a real
// KafkaLogPublisher to the local broker and read back with a kafkajs consumer.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';
import busboy from 'busboy';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kafkaLog } from '../../src/adapters/express.js';
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

const TOPICS = ['json', 'urlencoded', 'multipart', 'binary', 'stream', 'thrown', 'early', 'aborted', 'compression', 'tls'] as const;
type Topic = (typeof TOPICS)[number];

let harness: BrokerHarness;
const servers: Array<http.Server | https.Server> = [];

// The servers of every transport's suite, closed once at the end of the file.
afterAll(async () => {
  await Promise.all(servers.map(close));
});

/** An Express app logging to `topic`'s publisher; `build` adds middleware and routes after kafka-log. */
async function serveApp(
  topic: Topic,
  build: (app: express.Express, log: ReturnType<typeof kafkaLog>) => void,
  options: Partial<Parameters<typeof kafkaLog>[0]> = {},
): Promise<{ port: number; sink: BrokerSink }> {
  const sink = harness.sink(topic);
  const app = express();
  const log = kafkaLog({ sink, ...options });
  app.use(log);
  build(app, log);
  const server = http.createServer(app);
  servers.push(server);
  return { port: await listen(server), sink };
}

/** {@link expectPlausible}, plus the UUID the adapter generates for a request that sent no id. */
function expectPlausibleWithGeneratedId(entry: LogEntry, port: number): void {
  expectPlausible(entry, port);
  expect(entry.request.id).toMatch(/^[0-9a-f-]{36}$/);
}

// One suite per transport: the same exchanges, published by each Kafka client.
describe.each(TRANSPORTS)('kafka-log/express through the local broker (%s)', (transport) => {
  beforeAll(async () => {
    harness = await brokerHarness(inject('kafka'), TOPICS, transport);
  });
  afterAll(() => harness?.close());

  it('logs a JSON request read by express.json() on a mounted router, field by field', async () => {
    const { port, sink } = await serveApp(
      'json',
      (app) => {
        const api = express.Router();
        api.post('/users/:id', express.json(), (req: Request, res: Response) => {
          res.status(201).json({ id: req.params.id, received: req.body });
        });
        app.use('/api', api);
      },
      { logRequestBody: true, consumer: (req) => ({ id: String(req.params.id ?? 'none') }) },
    );
    await sendJsonExchange(port);

    const [entry] = (await harness.entries('json', 1)) as [LogEntry];
    expectJsonExchangeEntry(entry, port, { responseBodyLogged: false });
    expect(entry.request.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sink.errors).toEqual([]);
  });

  it('logs a urlencoded form read by express.urlencoded()', async () => {
    const { port } = await serveApp(
      'urlencoded',
      (app) => {
        app.post('/login', express.urlencoded({ extended: false }), (req: Request, res: Response) => {
          res.send(`hello ${(req.body as Record<string, string>).user}`);
        });
      },
      { logRequestBody: true, redactBodyFields: ['password'] },
    );
    const form = 'user=ada&password=s3cret&remember';
    const response = await fetch(`http://127.0.0.1:${port}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(await response.text()).toBe('hello ada');
    const [entry] = (await harness.entries('urlencoded', 1)) as [LogEntry];
    expectPlausibleWithGeneratedId(entry, port);
    expect(entry.request.body_args).toEqual({ user: 'ada', password: 'REDACTED', remember: true });
    expect(entry.request.body).not.toContain('s3cret');
    expect(entry.route).toEqual({ path: '/login' });
    expect(entry.response.status).toBe(200);
  });

  it('logs a multipart upload the app streams through busboy, with files described', async () => {
    const { port } = await serveApp(
      'multipart',
      (app) => {
        app.post('/upload', (req: Request, res: Response) => {
          const parts: Record<string, number | string> = {};
          const parser = busboy({ headers: req.headers });
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
          parser.on('close', () => res.json(parts));
          req.pipe(parser);
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
  });

  it('logs a binary download with its body and the exact bytes on the wire', async () => {
    const payload = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
    const { port } = await serveApp(
      'binary',
      (app) => {
        app.get('/files/:name', (_req: Request, res: Response) => {
          res.type('application/octet-stream').send(payload);
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
  });

  it('logs a streaming response written in chunks over time', async () => {
    const { port } = await serveApp('stream', (app) => {
      app.get('/events', async (_req: Request, res: Response) => {
        res.setHeader('content-type', 'text/event-stream');
        for (let i = 0; i < 5; i++) {
          res.write(`data: ${i}\n\n`);
          await sleep(20);
        }
        res.end();
      });
    });
    const raw = await rawExchange(port, 'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const [entry] = (await harness.entries('stream', 1)) as [LogEntry];
    expect(headerBlockOf(raw)).toContain('Transfer-Encoding: chunked');
    expect(entry.response.size).toBe(raw.length);
    expect(entry.response.status).toBe(200);
    expect(entry.latencies.request).toBeGreaterThanOrEqual(90);
    // proxy is the time to the first byte, well before the stream ended.
    expect(entry.latencies.proxy).toBeLessThan(entry.latencies.request);
    expect(entry.source).toBe('upstream');
  });

  it('marks thrown errors, rejected promises and next(err) as source kong with status 500', async () => {
    const { port } = await serveApp('thrown', (app, log) => {
      app.get('/throws', () => {
        throw new Error('sync failure');
      });
      app.get('/rejects', async () => {
        await sleep(5);
        throw new Error('async failure');
      });
      app.get('/next-error', (_req: Request, _res: Response, next: NextFunction) => next(new Error('passed on')));
      app.get('/ok', (_req: Request, res: Response) => res.send('fine'));
      app.use(log.errorHandler);
      app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).json({ error: error.message });
      });
    });
    for (const path of ['/throws', '/rejects', '/next-error', '/ok']) {
      await fetch(`http://127.0.0.1:${port}${path}`);
    }
    const entries = await harness.entries('thrown', 4);
    const byPath = new Map(entries.map((entry) => [entry.request.uri, entry]));
    for (const path of ['/throws', '/rejects', '/next-error']) {
      const entry = byPath.get(path) as LogEntry;
      expect(entry.response.status).toBe(500);
      expect(entry.source).toBe('kong');
      expect(entry.route).toEqual({ path });
    }
    expect(byPath.get('/ok')?.source).toBe('upstream');
    expect(byPath.get('/ok')?.response.status).toBe(200);
  });

  it('marks an early exit from a middleware (and a 404) as source kong, with no upstream time', async () => {
    const { port } = await serveApp('early', (app) => {
      app.use((req: Request, res: Response, next: NextFunction) => {
        if (req.headers.authorization !== 'Bearer good') {
          res.status(401).json({ message: 'Unauthorized' });
          return;
        }
        next();
      });
      app.get('/private', (_req: Request, res: Response) => res.send('secret'));
    });
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: { authorization: 'Bearer bad' } })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: { authorization: 'Bearer good' } })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/missing`, { headers: { authorization: 'Bearer good' } })).status).toBe(404);
    const [denied, allowed, missing] = (await harness.entries('early', 3)) as [LogEntry, LogEntry, LogEntry];
    expect(denied.response.status).toBe(401);
    expect(denied.source).toBe('kong');
    expect(denied.latencies.proxy).toBe(-1);
    expect(denied).not.toHaveProperty('route');
    expect(denied.request.headers.authorization).toBe('REDACTED');
    expect(allowed.source).toBe('upstream');
    expect(allowed.route).toEqual({ path: '/private' });
    expect(missing.response.status).toBe(404);
    expect(missing.source).toBe('kong');
  });

  it('logs an aborted request as 499', async () => {
    const { port } = await serveApp('aborted', (app) => {
      app.get('/slow', async (_req: Request, res: Response) => {
        // Answer only once the client is gone: deterministic, whatever the machine's load.
        await new Promise((resolve) => res.once('close', resolve));
        res.send('too late');
      });
    });
    await abandonedExchange(port, 'GET /slow?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 50);
    const [entry] = (await harness.entries('aborted', 1)) as [LogEntry];
    expect(entry.response.status).toBe(499);
    expect(entry.request.uri).toBe('/slow?x=1');
    expect(entry.route).toEqual({ path: '/slow' });
  });

  it('leaves compression untouched: same response as without logging, entry counts the compressed bytes', async () => {
    const text = 'kafka-log '.repeat(2000);
    const build = (app: express.Express) => {
      app.use(compression({ threshold: 0 }));
      app.get('/big', (_req: Request, res: Response) => res.type('text/plain').send(text));
    };
    const plain = express();
    build(plain);
    const plainServer = http.createServer(plain);
    servers.push(plainServer);
    const plainPort = await listen(plainServer);
    const { port } = await serveApp('compression', build, { logResponseBody: true, maxBodySize: 100_000 });

    const request = 'GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n';
    const [logged, unlogged] = await Promise.all([rawExchange(port, request), rawExchange(plainPort, request)]);
    const withoutDate = (raw: Buffer) => headerBlockOf(raw).replace(/^Date: .*\r\n/m, '');
    expect(withoutDate(logged)).toBe(withoutDate(unlogged));
    expect(logged.subarray(headerBlockOf(logged).length)).toEqual(unlogged.subarray(headerBlockOf(unlogged).length));

    const [entry] = (await harness.entries('compression', 1)) as [LogEntry];
    expect(entry.response.headers['content-encoding']).toBe('gzip');
    expect(entry.response.size).toBe(logged.length);
    expect(entry.response.body_base64).toBe(true);
    expect(gunzipSync(Buffer.from(entry.response.body as string, 'base64')).toString()).toBe(text);
  });

  it('records TLS facts over HTTPS with a client certificate', async () => {
    const { tls } = inject('kafka');
    const sink = harness.sink('tls');
    const app = express();
    app.use(kafkaLog({ sink }));
    app.get('/secure', (_req: Request, res: Response) => res.send('hi'));
    const server = https.createServer(
      { key: readFileSync(tls.key), cert: readFileSync(tls.cert), ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true },
      app,
    );
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
  });
});
