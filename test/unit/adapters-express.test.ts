// kafka-log/express details on a real Express 5 app on 127.0.0.1, entries recorded by a sink.
import http, { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaLog } from '../../src/adapters/express.js';
import { close, listen, rawExchange, recordingSink } from './adapters-support.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

/**
 * A listener that carries an Express app's own request/response prototypes (they inherit node's and own `app`)
 * but answers on node's objects as they came, never re-parenting them.
 */
function withAppPrototypes(handler: (req: IncomingMessage, res: http.ServerResponse) => void): http.RequestListener {
  const request = Object.create(IncomingMessage.prototype, { app: { value: null } }) as object;
  const response = Object.create(http.ServerResponse.prototype, { app: { value: null } }) as object;
  return Object.assign(handler, { request, response });
}

async function serve(app: express.Express): Promise<number> {
  const server = http.createServer(app);
  servers.push(server);
  return listen(server);
}

describe('kafkaLog (Express 5)', () => {
  it('detects thrown errors without the error handler installed (Express answers 500)', async () => {
    const sink = recordingSink();
    const app = express();
    app.set('env', 'test'); // keeps Express's default handler from printing the stack
    app.use(kafkaLog({ sink }));
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const port = await serve(app);
    expect((await fetch(`http://127.0.0.1:${port}/boom`)).status).toBe(500);
    const entry = await sink.next();
    expect(entry.source).toBe('kong');
    expect(entry.response.status).toBe(500);
    expect(entry.route).toEqual({ path: '/boom' });
  });

  it('keeps req.route readable in handlers and joins nested routers and sub-apps into the route path', async () => {
    const sink = recordingSink();
    const app = express();
    app.use(kafkaLog({ sink }));
    const seen: string[] = [];
    const inner = express.Router();
    inner.get('/items/:id', (req: Request, res: Response) => {
      seen.push(req.route.path as string);
      res.send('item');
    });
    const v1 = express.Router();
    v1.use('/shop', inner);
    app.use('/v1', v1);
    const sub = express();
    sub.get('/ping', (_req: Request, res: Response) => res.send('pong'));
    sub.get('/', (_req: Request, res: Response) => res.send('root'));
    app.use('/admin', sub);
    const port = await serve(app);

    expect(await (await fetch(`http://127.0.0.1:${port}/v1/shop/items/9`)).text()).toBe('item');
    expect(await (await fetch(`http://127.0.0.1:${port}/admin/ping`)).text()).toBe('pong');
    expect(await (await fetch(`http://127.0.0.1:${port}/admin`)).text()).toBe('root');
    expect(seen).toEqual(['/items/:id']);
    expect((await sink.next()).route).toEqual({ path: '/v1/shop/items/:id' });
    const ping = await sink.next();
    expect(ping.route).toEqual({ path: '/admin/ping' });
    expect(ping.request.uri).toBe('/admin/ping');
    expect((await sink.next()).route).toEqual({ path: '/admin' });
    // Only the apps' own request prototypes carry the probe, never node's.
    expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'route')).toBeUndefined();
  });

  it('measures the handler as the upstream and the middleware before it as kong time', async () => {
    const sink = recordingSink();
    const app = express();
    app.use(kafkaLog({ sink }));
    app.use((_req: Request, _res: Response, next: NextFunction) => {
      setTimeout(next, 60);
    });
    app.get('/work', (_req: Request, res: Response) => {
      setTimeout(() => res.send('done'), 250);
    });
    const port = await serve(app);
    await fetch(`http://127.0.0.1:${port}/work`);
    const entry = await sink.next();
    // The handler's 250 ms is far from the middleware's 60, so a busy machine's timer lag cannot blur which side
    // a duration was counted on: kong time holding the handler would be 310 ms or more.
    expect(entry.latencies.kong).toBeGreaterThanOrEqual(55);
    expect(entry.latencies.kong).toBeLessThan(250);
    expect(entry.latencies.proxy).toBeGreaterThanOrEqual(245);
    expect(entry.latencies.request).toBeGreaterThanOrEqual(entry.latencies.kong + entry.latencies.proxy - 2);
  });

  it('keeps pipelined requests on one connection apart', async () => {
    const sink = recordingSink();
    const app = express();
    app.use(kafkaLog({ sink }));
    app.get('/slow', (_req: Request, res: Response) => {
      setTimeout(() => res.send('slow one'), 30);
    });
    app.get('/fast/:n', (req: Request, res: Response) => res.send(`fast ${req.params.n}`));
    const port = await serve(app);
    const one = 'GET /slow HTTP/1.1\r\nHost: a\r\n\r\n';
    const two = 'GET /fast/2 HTTP/1.1\r\nHost: a\r\n\r\n';
    const three = 'GET /fast/3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    const raw = (await rawExchange(port, one + two + three)).toString('latin1');
    expect(raw.indexOf('slow one')).toBeLessThan(raw.indexOf('fast 2'));
    const entries = [await sink.next(), await sink.next(), await sink.next()];
    const byUri = new Map(entries.map((entry) => [entry.request.uri, entry]));
    expect([...byUri.keys()].sort()).toEqual(['/fast/2', '/fast/3', '/slow']);
    expect(byUri.get('/slow')?.route).toEqual({ path: '/slow' });
    expect(byUri.get('/fast/3')?.route).toEqual({ path: '/fast/:n' });
    expect(byUri.get('/fast/2')?.request.size).toBe(Buffer.byteLength(two));
    const sizes = entries.reduce((sum, entry) => sum + entry.response.size, 0);
    expect(sizes).toBe(Buffer.byteLength(raw, 'latin1'));
  });

  it('lets a route hook override the path and gives custom fields the Express request', async () => {
    const sink = recordingSink();
    const app = express();
    app.use(
      kafkaLog({
        sink,
        route: (req) => ({ name: `${req.method} ${req.route?.path ?? '?'}` }),
        customFields: { 'request.params': (_entry, context) => (context.request as Request).params },
      }),
    );
    app.get('/orders/:orderId', (_req: Request, res: Response) => res.sendStatus(204));
    const port = await serve(app);
    expect((await fetch(`http://127.0.0.1:${port}/orders/77`)).status).toBe(204);
    const entry = await sink.next();
    expect(entry.route).toEqual({ name: 'GET /orders/:orderId' });
    expect((entry.request as unknown as Record<string, unknown>).params).toEqual({ orderId: '77' });
    expect(entry.response.status).toBe(204);
  });
});

describe('kafkaLog stacked under withKafkaLog', () => {
  it('logs one entry, counted once, when both adapters see the request', async () => {
    const { withKafkaLog } = await import('../../src/adapters/http.js');
    const outer = recordingSink();
    const inner = recordingSink();
    const app = express();
    app.use(kafkaLog({ sink: inner }));
    app.get('/both', (_req: Request, res: Response) => {
      res.write('a');
      res.end('bc');
    });
    const server = http.createServer(withKafkaLog(app, { sink: outer }));
    servers.push(server);
    const port = await listen(server);
    const raw = await rawExchange(port, 'GET /both HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const entry = await outer.next();
    expect(entry.response.size).toBe(raw.length);
    expect(entry.route).toEqual({ path: '/both' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(outer.entries).toHaveLength(1);
    expect(inner.entries).toHaveLength(0);
  });
});

describe('withKafkaLog around an Express app', () => {
  it('watches through the app prototypes: nothing is added to the request or response, sizes and bodies exact', async () => {
    const { withKafkaLog } = await import('../../src/adapters/http.js');
    const sink = recordingSink();
    const app = express();
    app.use(express.json());
    const ownKeys: string[] = [];
    app.post('/echo', (req: Request, res: Response) => {
      for (const name of ['write', 'end', 'push']) {
        if (Object.hasOwn(res, name) || Object.hasOwn(req, name)) ownKeys.push(name);
      }
      res.type('json');
      res.write('{"got":');
      setTimeout(() => res.end(`${JSON.stringify(req.body)}}`), 5);
    });
    const server = http.createServer(withKafkaLog(app, { sink, logRequestBody: true, logResponseBody: true }));
    servers.push(server);
    const port = await listen(server);
    const body = '{"a":1}';
    const request = `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    const raw = await rawExchange(port, request);
    const entry = await sink.next();
    expect(ownKeys).toEqual([]);
    expect(entry.request.size).toBe(Buffer.byteLength(request));
    expect(entry.request.body_args).toEqual({ a: 1 });
    expect(entry.response.size).toBe(raw.length);
    expect(entry.response.body_args).toEqual({ got: { a: 1 } });
    expect(entry.source).toBe('upstream');
  });

  it('falls back to watching the instances when the app did not re-parent the response', async () => {
    const { withKafkaLog } = await import('../../src/adapters/http.js');
    const sink = recordingSink();
    const listener = withAppPrototypes((_req, res) => {
      setTimeout(() => {
        res.setHeader('content-type', 'text/plain');
        res.write('late ');
        res.end('answer');
      }, 5);
    });
    const server = http.createServer(withKafkaLog(listener, { sink, logResponseBody: true }));
    servers.push(server);
    const port = await listen(server);
    const raw = await rawExchange(port, 'GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const entry = await sink.next();
    expect(entry.response.size).toBe(raw.length);
    expect(entry.response.body).toBe('late answer');
  });

  it('reports, never throws, when such a response cannot be watched on its instance either', async () => {
    const { withKafkaLog } = await import('../../src/adapters/http.js');
    const sink = recordingSink();
    const listener = withAppPrototypes((_req, res) => {
      res.end('sealed');
      Object.preventExtensions(res);
    });
    const server = http.createServer(withKafkaLog(listener, { sink }));
    servers.push(server);
    const port = await listen(server);
    const raw = (await rawExchange(port, 'GET /sealed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toString('latin1');
    expect(raw.endsWith('sealed')).toBe(true);
    expect(sink.errors.map((error) => error.message).join(' ')).toMatch(/not extensible|Cannot add property/);
  });
});
