// kafka-log/koa, kafka-log/fastify and kafka-log/nest details on real apps on 127.0.0.1 (entries recorded by a
// sink), and the rule that importing an adapter loads no framework it does not use. Invalid options on every
// framework: adapters-invalid-options.test.ts.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa, { type Context } from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaLog as fastifyLog } from '../../src/adapters/fastify.js';
import { kafkaLog as koaLog } from '../../src/adapters/koa.js';
import { KafkaLogModule } from '../../src/adapters/nest.js';
import { close, listen, recordingSink } from './adapters-support.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((closeIt) => closeIt()));
});

const FRAMEWORKS = /^(koa|@koa\/|fastify|fastify-plugin|@nestjs\/|express|rxjs|reflect-metadata)/;

/** Bare package specifiers reachable from `file` through relative imports (type-only imports excluded). */
function packagesReachedFrom(file: string, seen = new Set<string>(), found = new Set<string>()): Set<string> {
  if (seen.has(file)) return found;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)';/gms)) {
    const [, typeOnly, specifier] = match as unknown as [string, string | undefined, string];
    if (typeOnly !== undefined) continue;
    if (specifier.startsWith('.')) packagesReachedFrom(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')), seen, found);
    else if (!specifier.startsWith('node:')) found.add(specifier);
  }
  return found;
}

describe('framework isolation', () => {
  it.each([
    ['index.ts', []],
    ['adapters/http.ts', []],
    ['adapters/express.ts', []],
    ['adapters/koa.ts', []],
    ['adapters/fastify.ts', ['fastify-plugin']],
    ['adapters/nest.ts', ['@nestjs/common', '@nestjs/core', 'rxjs']],
  ])('%s loads only its own framework packages at run time', (file, expected) => {
    const reached = [...packagesReachedFrom(path.resolve('src', file))].filter((name) => FRAMEWORKS.test(name));
    expect(reached.sort()).toEqual(expected);
  });
});

describe('kafkaLog (Koa)', () => {
  it('hands Koa context to hooks and custom fields, honours skip, leaves a body-less HEAD alone', async () => {
    const sink = recordingSink();
    const app = new Koa();
    app.use(
      koaLog({
        sink,
        skip: (ctx) => ctx.path === '/health',
        consumer: (ctx) => ({ username: String(ctx.state.user) }),
        customFields: { 'extra.path': (_entry, { request }) => (request as Context).path },
      }),
    );
    app.use(async (ctx, next) => {
      ctx.state.user = 'ada';
      await next();
    });
    const router = new Router();
    router.get('/health', (ctx) => {
      ctx.body = 'ok';
    });
    router.get('/items/:id', (ctx) => {
      ctx.body = { id: ctx.params.id };
    });
    app.use(router.routes());
    const server = http.createServer(app.callback());
    closers.push(() => close(server));
    const port = await listen(server);
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe('ok');
    expect((await fetch(`http://127.0.0.1:${port}/items/7`, { method: 'HEAD' })).status).toBe(200);
    const entry = await sink.next();
    expect(entry.request.method).toBe('HEAD');
    expect(entry.consumer).toEqual({ username: 'ada' });
    expect((entry as unknown as { extra: unknown }).extra).toEqual({ path: '/items/7' });
    expect(entry.route).toEqual({ path: '/items/:id' });
    expect(entry.source).toBe('upstream');
    expect(sink.entries).toHaveLength(1);
    expect(sink.errors).toEqual([]);
  });
});

describe('kafkaLog (Fastify plugin)', () => {
  async function app(options: Parameters<typeof fastifyLog>[1]): Promise<FastifyInstance> {
    const instance = Fastify();
    closers.push(() => instance.close());
    await instance.register(fastifyLog, options);
    return instance;
  }

  it('applies to routes of encapsulated child plugins and hands FastifyRequest to hooks', async () => {
    const sink = recordingSink();
    const instance = await app({ sink, service: (request) => ({ name: String((request.routeOptions.config as { service?: string }).service) }) });
    await instance.register(async (child) => {
      child.get('/child/:id', { config: { service: 'orders' } }, async (request) => ({ id: (request.params as { id: string }).id }));
    });
    await instance.listen({ port: 0, host: '127.0.0.1' });
    const port = (instance.server.address() as AddressInfo).port;
    expect(await (await fetch(`http://127.0.0.1:${port}/child/3`)).json()).toEqual({ id: '3' });
    const entry = await sink.next();
    expect(entry.route).toEqual({ path: '/child/:id' });
    expect(entry.service).toEqual({ name: 'orders' });
    expect(entry.source).toBe('upstream');
  });
});

describe('KafkaLogModule (Nest)', () => {
  it('hands the express request to hooks and honours skip', async () => {
    const sink = recordingSink();
    class PingController {
      ping() {
        return 'pong';
      }
      health() {
        return 'ok';
      }
    }
    Controller()(PingController);
    for (const [key, route] of [['ping', 'ping'], ['health', 'health']] as const) {
      Get(route)(PingController.prototype, key, Object.getOwnPropertyDescriptor(PingController.prototype, key) as PropertyDescriptor);
    }
    class AppModule {}
    Module({
      imports: [KafkaLogModule.forRoot({ sink, skip: (req) => req.url === '/health', consumer: (req) => ({ ip: String(req.ip) }) })],
      controllers: [PingController],
    })(AppModule);
    const nest: INestApplication = await NestFactory.create(AppModule, { logger: false });
    closers.push(() => nest.close());
    await nest.listen(0, '127.0.0.1');
    const port = (nest.getHttpServer().address() as AddressInfo).port;
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe('ok');
    expect(await (await fetch(`http://127.0.0.1:${port}/ping`)).text()).toBe('pong');
    const entry = await sink.next();
    expect(entry.request.uri).toBe('/ping');
    expect(entry.consumer).toEqual({ ip: '127.0.0.1' });
    expect(entry.route).toEqual({ path: '/ping' });
    expect(entry.source).toBe('upstream');
    expect(sink.entries).toHaveLength(1);
  });
});
