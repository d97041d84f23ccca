// App factories for the adapter suites: each starts one framework's app on 127.0.0.1 with kafka-log's adapter
// first and the routes a test adds. The only module of the adapter suites that imports the adapters.
//
// FRAMEWORK_APPS: one small app per framework with the same routes, so that one scenario can run on every adapter:
//   GET  /status/:code  answers `code` with the JSON {"code": code}
//   POST /echo/:code    parses the JSON body with the framework's own parser and answers `code` with it
//   GET  /id            answers {"property": the framework's requestId property, "typed": requestIdOf(...)}
//   GET  /boom          its handler throws; the framework's error handling answers 500
import 'reflect-metadata';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Body, Controller, Get, type MiddlewareConsumer, Module, Param, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import express, { type Request, type Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa, { type Context } from 'koa';
import { kafkaLog as expressLog, requestIdOf as expressRequestIdOf, type KafkaLogExpressOptions } from '../../src/adapters/express.js';
import { kafkaLog as fastifyLog, requestIdOf as fastifyRequestIdOf, type KafkaLogFastifyOptions } from '../../src/adapters/fastify.js';
import { withKafkaLog, requestIdOf as httpRequestIdOf, type KafkaLogHttpOptions } from '../../src/adapters/http.js';
import { kafkaLog as koaLog, requestIdOf as koaRequestIdOf, type KafkaLogKoaOptions } from '../../src/adapters/koa.js';
import { KafkaLogModule, requestIdOf as nestRequestIdOf, type KafkaLogNestOptions } from '../../src/adapters/nest.js';
import type { KafkaLogAdapterOptions } from '../../src/capture/adapter-options.js';
import { close, listen } from '../unit/adapters-support.js';
import { type MethodDecoratorLike, decorate } from './adapters-support.js';

export type { KafkaLogNestOptions };

/** Options every framework's adapter takes (functions of the entry; requests are not looked into). */
export type AnyAdapterOptions = KafkaLogAdapterOptions<never>;

/** A running app. */
export interface RunningApp {
  readonly port: number;
  close(): Promise<void>;
}

/** Server options that make an app listen over HTTPS instead of HTTP. */
export type HttpsOptions = Pick<https.ServerOptions, 'key' | 'cert' | 'ca' | 'requestCert' | 'rejectUnauthorized'>;

/** Starts the app of one framework with these adapter options, on 127.0.0.1. */
export type ServeApp = (options: AnyAdapterOptions) => Promise<RunningApp>;

/** What `GET /id` answers. */
export interface IdAnswer {
  property: string | null;
  typed: string | null;
}

type ExpressLog = ReturnType<typeof expressLog>;
type KoaLog = ReturnType<typeof koaLog>;
type Class = new (...args: never[]) => object;

async function serveListener(listener: RequestListener, tls?: HttpsOptions): Promise<RunningApp> {
  const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
  return { port: await listen(server), close: () => close(server) };
}

/** An Express app: kafka-log's middleware, then what `build` adds. */
export function startExpress(options: KafkaLogExpressOptions, build: (app: express.Express, log: ExpressLog) => void, tls?: HttpsOptions): Promise<RunningApp> {
  const app = express();
  const log = expressLog(options);
  app.use(log);
  build(app, log);
  return serveListener(app, tls);
}

/** A Koa app without a router: kafka-log's middleware, then what `build` adds. */
export function startKoa(options: KafkaLogKoaOptions, build: (app: Koa, log: KoaLog) => void, tls?: HttpsOptions): Promise<RunningApp> {
  const app = new Koa();
  app.silent = true; // Koa's default error handler would print the stack
  const log = koaLog(options);
  app.use(log);
  build(app, log);
  return serveListener(app.callback(), tls);
}

/** A Koa app with @koa/router: kafka-log's middleware, what `build` adds, then the router's routes. */
export function startKoaRouter(options: KafkaLogKoaOptions, build: (app: Koa, router: Router, log: KoaLog) => void, tls?: HttpsOptions): Promise<RunningApp> {
  return startKoa(
    options,
    (app, log) => {
      const router = new Router();
      build(app, router, log);
      app.use(router.routes());
    },
    tls,
  );
}

type FastifyBuild = (app: FastifyInstance) => void | Promise<void>;

/** A Fastify app with kafka-log's plugin registered and what `build` adds, ready but not listening. */
export async function fastifyApp(options: KafkaLogFastifyOptions, build: FastifyBuild, tls?: HttpsOptions): Promise<FastifyInstance> {
  // An HTTPS app's type differs only in its server's; the routes and hooks the tests add are the same.
  const server = tls === undefined ? Fastify({ forceCloseConnections: true }) : Fastify({ forceCloseConnections: true, https: tls });
  const app = server as unknown as FastifyInstance;
  await app.register(fastifyLog, options);
  await build(app);
  await app.ready();
  return app;
}

/** {@link fastifyApp}, listening on 127.0.0.1. */
export async function startFastify(options: KafkaLogFastifyOptions, build: FastifyBuild, tls?: HttpsOptions): Promise<RunningApp> {
  const app = await fastifyApp(options, build, tls);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

/** How a Nest app is put together beside its controllers. */
export interface NestSetup {
  /** A global route prefix. */
  prefix?: string;
  /** The root module's `configure` (middleware). */
  configure?: (consumer: MiddlewareConsumer) => void;
  /** Imports KafkaLogModule.forRootAsync (options from an injected provider, which sets logRequestBody) instead of forRoot. */
  async?: boolean;
  tls?: HttpsOptions;
}

const CONFIG = 'TEST_CONFIG';
class ConfigModule {}
Module({ providers: [{ provide: CONFIG, useValue: { logRequestBody: true } }], exports: [CONFIG] })(ConfigModule);

/** A Nest app (platform-express) whose root module imports KafkaLogModule and declares the controllers. */
export async function startNest(options: KafkaLogNestOptions, controllers: Class[], setup: NestSetup = {}): Promise<RunningApp> {
  const kafkaLogModule = setup.async
    ? KafkaLogModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { logRequestBody: boolean }) => ({ ...config, ...options }),
      })
    : KafkaLogModule.forRoot(options);
  class AppModule {
    configure(consumer: MiddlewareConsumer): void {
      setup.configure?.(consumer);
    }
  }
  Module({ imports: [kafkaLogModule], controllers })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false, ...(setup.tls === undefined ? {} : { httpsOptions: setup.tls }) });
  if (setup.prefix !== undefined) app.setGlobalPrefix(setup.prefix);
  await app.listen(0, '127.0.0.1');
  return { port: (app.getHttpServer().address() as AddressInfo).port, close: () => app.close() };
}

/** A node:http (or https) server whose listener is wrapped by withKafkaLog. */
export function startHttp(options: KafkaLogHttpOptions, listener: RequestListener, tls?: HttpsOptions): Promise<RunningApp> {
  return serveListener(withKafkaLog(listener, options), tls);
}

const code = (value: unknown): number => Number(value);

function serveExpress(options: AnyAdapterOptions): Promise<RunningApp> {
  return startExpress(options as KafkaLogExpressOptions, (app, log) => {
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
  });
}

function serveKoa(options: AnyAdapterOptions): Promise<RunningApp> {
  return startKoaRouter(options as KafkaLogKoaOptions, (_app, router) => {
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
  });
}

function serveFastify(options: AnyAdapterOptions): Promise<RunningApp> {
  return startFastify(options as KafkaLogFastifyOptions, (app) => {
    app.get<{ Params: { code: string } }>('/status/:code', (req, reply) => reply.code(code(req.params.code)).send({ code: code(req.params.code) }));
    app.post<{ Params: { code: string } }>('/echo/:code', (req, reply) => reply.code(code(req.params.code)).send(req.body));
    app.get('/id', (req) => ({ property: (req as unknown as { requestId?: string }).requestId ?? null, typed: fastifyRequestIdOf(req) ?? null }));
    app.get('/boom', () => {
      throw new Error('boom');
    });
  });
}

function serveNest(options: AnyAdapterOptions): Promise<RunningApp> {
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
  return startNest(options as KafkaLogNestOptions, [RoutesController]);
}

function serveHttp(options: AnyAdapterOptions): Promise<RunningApp> {
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
  return startHttp(options as KafkaLogHttpOptions, listener);
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
