// One small app per framework, each with kafka-log's adapter first and the same routes, so that one scenario can
// run on every adapter:
//   GET  /status/:code  answers `code` with the JSON {"code": code}
//   POST /echo/:code    parses the JSON body with the framework's own parser and answers `code` with it
//   GET  /id            answers {"property": the framework's requestId property, "typed": requestIdOf(...)}
//   GET  /boom          its handler throws; the framework's error handling answers 500
import 'reflect-metadata';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Body, Controller, Get, Module, Param, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import express, { type Request, type Response } from 'express';
import Fastify from 'fastify';
import Koa, { type Context } from 'koa';
import { kafkaLog as expressLog, requestIdOf as expressRequestIdOf, type KafkaLogExpressOptions } from '../../src/adapters/express.js';
import { kafkaLog as fastifyLog, requestIdOf as fastifyRequestIdOf, type KafkaLogFastifyOptions } from '../../src/adapters/fastify.js';
import { withKafkaLog, requestIdOf as httpRequestIdOf, type KafkaLogHttpOptions } from '../../src/adapters/http.js';
import { kafkaLog as koaLog, requestIdOf as koaRequestIdOf, type KafkaLogKoaOptions } from '../../src/adapters/koa.js';
import { KafkaLogModule, requestIdOf as nestRequestIdOf, type KafkaLogNestOptions } from '../../src/adapters/nest.js';
import type { KafkaLogAdapterOptions } from '../../src/adapters/options.js';
import { close, listen } from '../unit/adapters-support.js';
import { type MethodDecoratorLike, decorate } from './adapters-support.js';

/** Options every framework's adapter takes (functions of the entry; requests are not looked into). */
export type AnyAdapterOptions = KafkaLogAdapterOptions<never>;

/** A running app. */
export interface RunningApp {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the app of one framework with these adapter options, on 127.0.0.1. */
export type ServeApp = (options: AnyAdapterOptions) => Promise<RunningApp>;

/** What `GET /id` answers. */
export interface IdAnswer {
  property: string | null;
  typed: string | null;
}

const code = (value: unknown): number => Number(value);

async function serveExpress(options: AnyAdapterOptions): Promise<RunningApp> {
  const app = express();
  const log = expressLog(options as KafkaLogExpressOptions);
  app.use(log);
  app.get('/status/:code', (req, res) => {
    res.status(code(req.params.code)).json({ code: code(req.params.code) });
  });
  app.post('/echo/:code', express.json(), (req, res) => {
    res.status(code(req.params.code)).json(req.body);
  });
  app.get('/id', (req, res) => {
    res.json({ property: (req as Request & { requestId?: string }).requestId ?? null, typed: expressRequestIdOf(req) ?? null });
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.use(log.errorHandler);
  const server = http.createServer(app);
  return { port: await listen(server), close: () => close(server) };
}

async function serveKoa(options: AnyAdapterOptions): Promise<RunningApp> {
  const app = new Koa();
  app.silent = true; // Koa's default error handler would print the stack
  app.use(koaLog(options as KafkaLogKoaOptions));
  const router = new Router();
  router.get('/status/:code', (ctx: Context) => {
    ctx.status = code(ctx.params.code);
    ctx.body = { code: code(ctx.params.code) };
  });
  router.post('/echo/:code', bodyParser(), (ctx: Context) => {
    ctx.status = code(ctx.params.code);
    ctx.body = (ctx.request as { body?: unknown }).body;
  });
  router.get('/id', (ctx: Context) => {
    ctx.body = { property: (ctx as Context & { requestId?: string }).requestId ?? null, typed: koaRequestIdOf(ctx) ?? null };
  });
  router.get('/boom', () => {
    throw new Error('boom');
  });
  app.use(router.routes());
  const server = http.createServer(app.callback());
  return { port: await listen(server), close: () => close(server) };
}

async function serveFastify(options: AnyAdapterOptions): Promise<RunningApp> {
  const app = Fastify({ forceCloseConnections: true });
  await app.register(fastifyLog, options as KafkaLogFastifyOptions);
  app.get<{ Params: { code: string } }>('/status/:code', (req, reply) => reply.code(code(req.params.code)).send({ code: code(req.params.code) }));
  app.post<{ Params: { code: string } }>('/echo/:code', (req, reply) => reply.code(code(req.params.code)).send(req.body));
  app.get('/id', (req) => ({ property: (req as unknown as { requestId?: string }).requestId ?? null, typed: fastifyRequestIdOf(req) ?? null }));
  app.get('/boom', () => {
    throw new Error('boom');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

async function serveNest(options: AnyAdapterOptions): Promise<RunningApp> {
  class RoutesController {
    status(value: string, res: Response) {
      res.status(code(value)).json({ code: code(value) });
    }
    echo(value: string, body: unknown, res: Response) {
      res.status(code(value)).json(body);
    }
    id(req: Request & { requestId?: string }) {
      return { property: req.requestId ?? null, typed: nestRequestIdOf(req) ?? null };
    }
    boom() {
      throw new Error('boom');
    }
  }
  Controller()(RoutesController);
  decorate(RoutesController, 'status', [Get('status/:code') as MethodDecoratorLike], [[0, Param('code')], [1, Res()]]);
  decorate(RoutesController, 'echo', [Post('echo/:code') as MethodDecoratorLike], [[0, Param('code')], [1, Body()], [2, Res()]]);
  decorate(RoutesController, 'id', [Get('id') as MethodDecoratorLike], [[0, Req()]]);
  decorate(RoutesController, 'boom', [Get('boom') as MethodDecoratorLike]);
  class AppModule {}
  Module({ imports: [KafkaLogModule.forRoot(options as KafkaLogNestOptions)], controllers: [RoutesController] })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { port: (app.getHttpServer().address() as AddressInfo).port, close: () => app.close() };
}

async function serveHttp(options: AnyAdapterOptions): Promise<RunningApp> {
  const json = (res: ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const listener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const [, route, value] = (req.url ?? '').split('/');
    if (route === 'status') return json(res, code(value), { code: code(value) });
    if (route === 'echo') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return json(res, code(value), JSON.parse(Buffer.concat(chunks).toString('utf8')));
    }
    if (route === 'id') return json(res, 200, { property: httpRequestIdOf(req) ?? null, typed: httpRequestIdOf(req) ?? null });
    // A plain listener has no error handling of its own: the app answers its failure itself.
    return json(res, 500, { error: 'boom' });
  };
  const server = http.createServer(withKafkaLog(listener, options as KafkaLogHttpOptions));
  return { port: await listen(server), close: () => close(server) };
}

/** Every adapter, by the name its entry point has. */
export const FRAMEWORK_APPS = {
  express: serveExpress,
  koa: serveKoa,
  fastify: serveFastify,
  nest: serveNest,
  http: serveHttp,
} as const satisfies Record<string, ServeApp>;

export type FrameworkName = keyof typeof FRAMEWORK_APPS;
