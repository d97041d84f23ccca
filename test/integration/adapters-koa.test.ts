// kafka-log/koa end to end, what only Koa has (the exchanges every adapter logs are in adapters-exchanges.test.ts):
// a real Koa app on 127.0.0.1, entries published by a real KafkaLogPublisher to the local broker and read back with
// a kafkajs consumer.
import type { Context, Next } from 'koa';
import { expect, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { sleep } from '../unit/adapters-support.js';
import { startKoa } from './adapters-apps.js';
import { describeEachTransport, expectPlausible } from './adapters-support.js';

describeEachTransport('kafka-log/koa through the local broker (%s)', ['routerless'], ({ harness, track }) => {
  it('logs an app without @koa/router: its middleware answering is upstream; above upstreamBoundary or unanswered is kong', async () => {
    const sink = harness().sink('routerless'); // one publisher: the entries arrive in the order sent
    const start = async (build: Parameters<typeof startKoa>[1]) => {
      const app = track(await startKoa({ sink }, build));
      return app.port;
    };
    // The README's Koa quick start: one middleware answers every request.
    const quickStart = await start((app) => {
      app.use(async (ctx) => {
        await sleep(30);
        ctx.body = { hello: 'world' };
      });
    });
    // Gateway-like middleware above the boundary, and a path nobody answers.
    const guarded = await start((app, log) => {
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
    const [answered, denied, admitted, missing] = (await harness().entries('routerless', 4)) as [LogEntry, LogEntry, LogEntry, LogEntry];
    expectPlausible(answered, quickStart);
    expect(answered.request.id).toMatch(/^[0-9a-f-]{36}$/);
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
});
