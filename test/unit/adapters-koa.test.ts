// kafka-log/koa: who answered (source, latencies.proxy, route) in apps with and without @koa/router, on real
// Koa apps on 127.0.0.1 (entries recorded by a sink).
import http from 'node:http';
import Router from '@koa/router';
import Koa, { type Context, type Middleware, type Next } from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaLog } from '../../src/adapters/koa.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { type RecordingSink, close, listen, recordingSink, sleep } from './adapters-support.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((closeIt) => closeIt()));
});

async function serve(app: Koa): Promise<number> {
  app.silent = true; // Koa's default error handler would print the stack
  const server = http.createServer(app.callback());
  closers.push(() => close(server));
  return listen(server);
}

/** Sends each path in turn and returns the entries in the same order, with the statuses seen. */
async function exchanges(port: number, sink: RecordingSink, paths: string[], headers: Record<string, string> = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (const path of paths) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
    await response.arrayBuffer();
    const entry = await sink.next();
    expect(entry.request.uri).toBe(path);
    expect(entry.response.status).toBe(response.status);
    entries.push(entry);
  }
  expect(sink.errors).toEqual([]);
  return entries;
}

/** A middleware that refuses requests without `authorization: Bearer good`. */
const auth: Middleware = async (ctx: Context, next: Next) => {
  if (ctx.get('authorization') !== 'Bearer good') {
    ctx.status = 401;
    ctx.body = { message: 'Unauthorized' };
    return;
  }
  await next();
};

describe('kafka-log/koa without @koa/router: the app middleware is the upstream', () => {
  it('logs the app middleware answering as upstream with its real proxy latency, and no route', async () => {
    const sink = recordingSink();
    const app = new Koa();
    app.use(kafkaLog({ sink }));
    app.use(async (ctx) => {
      if (ctx.path === '/slow') await sleep(250);
      ctx.body = { hello: 'world' };
    });
    const port = await serve(app);
    const [fast, slow] = (await exchanges(port, sink, ['/', '/slow'])) as [LogEntry, LogEntry];
    for (const entry of [fast, slow]) {
      expect(entry.response.status).toBe(200);
      expect(entry.source).toBe('upstream');
      expect(entry).not.toHaveProperty('route');
      expect(entry.latencies.proxy).toBeGreaterThanOrEqual(0);
      expect(entry.latencies.proxy).toBeLessThanOrEqual(entry.latencies.request);
    }
    // The 250 ms the middleware took are the upstream's, not kafka-log's (far enough from any timer lag of a busy
    // machine that kong time holding them could not pass for jitter).
    expect(slow.latencies.proxy).toBeGreaterThanOrEqual(245);
    expect(slow.latencies.kong).toBeLessThan(250);
  });

  it('counts every kind of answer as the app: an explicit body-less 404, a 204, ctx.respond = false', async () => {
    const sink = recordingSink();
    const app = new Koa();
    app.use(kafkaLog({ sink }));
    app.use(async (ctx) => {
      if (ctx.path === '/gone') ctx.status = 404;
      else if (ctx.path === '/empty') ctx.body = null;
      else if (ctx.path === '/raw') {
        ctx.respond = false;
        ctx.res.writeHead(202, { 'content-type': 'text/plain' });
        ctx.res.end('raw');
      }
    });
    const port = await serve(app);
    const entries = await exchanges(port, sink, ['/gone', '/empty', '/raw']);
    expect(entries.map((entry) => entry.response.status)).toEqual([404, 204, 202]);
    for (const entry of entries) {
      expect(entry.source).toBe('upstream');
      expect(entry.latencies.proxy).toBeGreaterThanOrEqual(0);
    }
  });

  it("logs Koa's own 404 (no middleware answered) and a thrown error as kong", async () => {
    const sink = recordingSink();
    const app = new Koa();
    app.use(kafkaLog({ sink }));
    app.use(async (ctx, next) => {
      if (ctx.path === '/fails') throw new Error('broken');
      await next(); // a pass-through middleware that answers nothing
    });
    const port = await serve(app);
    const [missing, failed] = (await exchanges(port, sink, ['/nowhere', '/fails'])) as [LogEntry, LogEntry];
    expect(missing.response.status).toBe(404);
    expect(missing.source).toBe('kong');
    expect(missing.latencies.proxy).toBe(-1);
    expect(missing.latencies.kong).toBe(missing.latencies.request);
    expect(failed.response.status).toBe(500);
    expect(failed.source).toBe('kong');
  });

  it('never throws into the app when a context accessor it reads after the chain throws: the failure is reported', async () => {
    const sink = recordingSink();
    const app = new Koa();
    app.use(kafkaLog({ sink }));
    app.use(async (ctx) => {
      // Koa's own ctx.status = 404 path would answer; a hostile accessor that throws on its first read only.
      let reads = 0;
      const status = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Object.getPrototypeOf(ctx)), 'status');
      Object.defineProperty(ctx, 'status', {
        configurable: true,
        get() {
          reads += 1;
          if (reads === 1) throw new Error('hostile status getter');
          return status?.get?.call(ctx);
        },
        set(value) {
          status?.set?.call(ctx, value);
        },
      });
    });
    const port = await serve(app);
    const response = await fetch(`http://127.0.0.1:${port}/hostile`);
    expect(response.status).toBe(404);
    const entry = await sink.next();
    expect(entry.response.status).toBe(404);
    expect(sink.errors.map((error) => error.message).join()).toContain('hostile status getter');
  });

  it('with log.upstreamBoundary, middleware answering above it is kong and the proxy latency starts there', async () => {
    const sink = recordingSink();
    const app = new Koa();
    const log = kafkaLog({ sink });
    app.use(log);
    app.use(async (_ctx, next) => {
      await sleep(40); // gateway-side work before the app begins
      await next();
    });
    app.use(auth);
    app.use(log.upstreamBoundary);
    app.use(async (ctx) => {
      ctx.body = 'private';
    });
    const port = await serve(app);
    const [denied] = (await exchanges(port, sink, ['/private'])) as [LogEntry];
    const [allowed] = (await exchanges(port, sink, ['/private'], { authorization: 'Bearer good' })) as [LogEntry];
    expect(denied.response.status).toBe(401);
    expect(denied.source).toBe('kong');
    expect(denied.latencies.proxy).toBe(-1);
    expect(allowed.response.status).toBe(200);
    expect(allowed.source).toBe('upstream');
    expect(allowed.latencies.kong).toBeGreaterThanOrEqual(35);
    expect(allowed.latencies.proxy).toBeLessThan(allowed.latencies.kong);
  });
});

describe('kafka-log/koa with @koa/router: the matched route is the upstream', () => {
  it('logs middleware answering before the route (auth, allowedMethods, no match) as kong, a route as upstream', async () => {
    const sink = recordingSink();
    const app = new Koa();
    app.use(kafkaLog({ sink }));
    app.use(auth);
    const router = new Router();
    router.get('/items/:id', async (ctx) => {
      await sleep(40);
      ctx.body = { id: ctx.params.id };
    });
    app.use(router.routes());
    app.use(router.allowedMethods());
    const port = await serve(app);
    const [denied] = (await exchanges(port, sink, ['/items/1'])) as [LogEntry];
    const good = { authorization: 'Bearer good' };
    const [found, missing] = (await exchanges(port, sink, ['/items/2', '/nowhere'], good)) as [LogEntry, LogEntry];
    const refused = await fetch(`http://127.0.0.1:${port}/items/3`, { method: 'DELETE', headers: good });
    expect(refused.status).toBe(405);
    const notAllowed = await sink.next();

    expect(denied.response.status).toBe(401);
    expect(found.response.status).toBe(200);
    expect(missing.response.status).toBe(404);
    for (const entry of [denied, missing, notAllowed]) {
      expect(entry.source).toBe('kong');
      expect(entry.latencies.proxy).toBe(-1);
    }
    expect(denied).not.toHaveProperty('route');
    expect(missing).not.toHaveProperty('route');
    expect(found.source).toBe('upstream');
    expect(found.route).toEqual({ path: '/items/:id' });
    expect(found.latencies.proxy).toBeGreaterThanOrEqual(35);
  });

  it('decides per app when one kafka-log middleware serves an app with a router and one without', async () => {
    const sink = recordingSink();
    const log = kafkaLog({ sink });
    const routed = new Koa();
    routed.use(log);
    routed.use(auth);
    const router = new Router();
    router.get('/r', (ctx) => {
      ctx.body = 'routed';
    });
    routed.use(router.routes());
    const plain = new Koa();
    plain.use(log);
    plain.use(auth);
    plain.use((ctx) => {
      ctx.body = 'plain';
    });
    const routedPort = await serve(routed);
    const plainPort = await serve(plain);
    // Alternate between the apps: each keeps its own rule.
    const [routedDenied] = (await exchanges(routedPort, sink, ['/r'])) as [LogEntry];
    const [plainDenied] = (await exchanges(plainPort, sink, ['/p'])) as [LogEntry];
    const [routedAgain] = (await exchanges(routedPort, sink, ['/r'])) as [LogEntry];
    expect(routedDenied.source).toBe('kong');
    expect(routedAgain.source).toBe('kong');
    // Without a router or a boundary, the auth middleware is part of the app.
    expect(plainDenied.response.status).toBe(401);
    expect(plainDenied.source).toBe('upstream');
  });
});
