// The apps of the shared exchange scenarios (adapters-exchanges.test.ts), one small factory per framework and
// scenario: each starts the framework's app with kafka-log first and the routes the scenario sends to, written as
// that framework's users write them (its own body parsers, error handling, guards and streaming styles).
import 'reflect-metadata';
import { Readable } from 'node:stream';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import {
  Body,
  type CanActivate,
  Controller,
  ForbiddenException,
  Get,
  Param,
  Post,
  Req,
  StreamableFile,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import busboy from 'busboy';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Context, Next } from 'koa';
import { sleep } from '../unit/adapters-support.js';
import {
  type AnyAdapterOptions,
  type HttpsOptions,
  type KafkaLogNestOptions,
  type NestSetup,
  type RunningApp,
  startExpress,
  startFastify,
  startKoaRouter,
  startNest,
} from './adapters-apps.js';
import { type MethodDecoratorLike, decorate } from './adapters-support.js';

/**
 * The shared scenarios and the routes their apps answer:
 * - json: `POST /api/users/:id` (a router or prefix at `/api`) answers 201 `{ id, received: body }`;
 * - urlencoded: `POST /login` reads the form and answers `hello <user>`;
 * - multipart: `POST /upload` reads the form (a `photo` file, a `title` field) and answers `{ title, photo: size }`;
 * - binary: `GET /files/:name` answers {@link BINARY_PAYLOAD} as application/octet-stream with its length;
 * - stream: `GET /events` writes {@link STREAM_CHUNKS} 20 ms apart, chunked, as {@link FrameworkFacts.streamType};
 * - errors: `GET /throws` throws, `GET /rejects` rejects (answered by the app's own JSON error handler), `GET /ok`
 *   answers, plus the framework's own {@link FrameworkFacts.failures};
 * - early: a middleware answers 401 unless `authorization: Bearer good`; `GET /private` answers; with
 *   {@link FrameworkFacts.guardsAdmin}, `GET /admin/stats` is refused (403) inside its route without `x-admin: yes`;
 * - aborted: `GET /slow` answers only once the client is gone;
 * - tls: `GET /secure` answers `hi`, over HTTPS.
 */
export const SCENARIOS = ['json', 'urlencoded', 'multipart', 'binary', 'stream', 'errors', 'early', 'aborted', 'tls'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** What the binary scenario downloads. */
export const BINARY_PAYLOAD = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
/** What the stream scenario writes, chunk by chunk. */
export const STREAM_CHUNKS = [0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`);

/** A failure the framework answers by itself (its error handling, validation or exceptions), beside thrown errors. */
export interface FrameworkFailure {
  path: string;
  status: number;
  /** Whether the route handler ran (proxy time measured) or the framework refused before it (`-1`). */
  handlerRan: boolean;
}

/** How a framework's apps answer, where frameworks differ; the scenarios assert these facts. */
export interface FrameworkFacts {
  /** The status a POST handler's plain return value gets (Nest answers 201). */
  postStatus: number;
  /** The content type the stream scenario's app streams with. */
  streamType: 'text/plain' | 'text/event-stream';
  failures: FrameworkFailure[];
  /** Whether an early exit by a middleware already knows the route (Fastify routes before its hooks run, Nest before its route-bound middleware). */
  earlyExitRouted: boolean;
  /** Whether the early scenario's app guards `/admin/stats` inside its route (a route-level guard the adapter tells apart from the handler). */
  guardsAdmin: boolean;
}

/** Starts the app of a scenario with these adapter options (`tls` for the tls scenario). */
export type ScenarioApp = (options: AnyAdapterOptions, tls?: HttpsOptions) => Promise<RunningApp>;

export interface FrameworkExchanges {
  facts: FrameworkFacts;
  apps: Record<Scenario, ScenarioApp>;
}

/** The consumer every scenario app logs: the `:id` route parameter, read the same way on every framework. */
export const consumerFromParams = (request: never): { id: string } => ({
  id: String((request as { params?: { id?: string } }).params?.id ?? 'none'),
});

/** An async iterable of {@link STREAM_CHUNKS}, 20 ms apart. */
async function* streamChunks(): AsyncGenerator<Buffer> {
  for (const chunk of STREAM_CHUNKS) {
    yield Buffer.from(chunk);
    await sleep(20);
  }
}

/** Resolves once the response's connection closed (the client left), bounded in case it never does. */
function clientGone(emitter: { once(event: 'close', listener: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    emitter.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Reads a multipart request with busboy: fields by value, files by size. */
function readMultipart(req: import('node:http').IncomingMessage): Promise<Record<string, number | string>> {
  return new Promise((resolve) => {
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
    parser.on('close', () => resolve(parts));
    req.pipe(parser);
  });
}

const isAuthorized = (authorization: string | undefined) => authorization === 'Bearer good';

/** The scenario apps of a framework: its `start` factory, with each scenario's routes. */
function scenarioApps<Options, Build>(
  start: (options: Options, build: Build, tls?: HttpsOptions) => Promise<RunningApp>,
  builds: Record<Scenario, Build>,
): Record<Scenario, ScenarioApp> {
  const apps: Partial<Record<Scenario, ScenarioApp>> = {};
  for (const scenario of SCENARIOS) apps[scenario] = (options, tls) => start(options as Options, builds[scenario], tls);
  return apps as Record<Scenario, ScenarioApp>;
}

/** The handlers of the errors scenario every framework shares: one throws, one rejects a little later. */
const throwsAtOnce = (): never => {
  throw new Error('sync failure');
};
const rejectsLater = async (): Promise<never> => {
  await sleep(5);
  throw new Error('async failure');
};

const express_: FrameworkExchanges = {
  // No admin guard: an Express route-level middleware counts as one of the route's handlers.
  facts: {
    postStatus: 200, streamType: 'text/event-stream', earlyExitRouted: false, guardsAdmin: false,
    failures: [{ path: '/next-error', status: 500, handlerRan: true }],
  },
  apps: scenarioApps(startExpress, {
    json: (app) => {
      const api = express.Router();
      api.post('/users/:id', express.json(), (req: Request, res: Response) => {
        res.status(201).json({ id: req.params.id, received: req.body });
      });
      app.use('/api', api);
    },
    urlencoded: (app) => {
      app.post('/login', express.urlencoded({ extended: false }), (req: Request, res: Response) => {
        res.send(`hello ${(req.body as Record<string, string>).user}`);
      });
    },
    multipart: (app) => {
      app.post('/upload', async (req: Request, res: Response) => {
        res.json(await readMultipart(req));
      });
    },
    binary: (app) => {
      app.get('/files/:name', (_req: Request, res: Response) => {
        res.type('application/octet-stream').send(BINARY_PAYLOAD);
      });
    },
    stream: (app) => {
      app.get('/events', async (_req: Request, res: Response) => {
        res.setHeader('content-type', 'text/event-stream');
        for await (const chunk of streamChunks()) res.write(chunk);
        res.end();
      });
    },
    errors: (app, log) => {
      app.get('/throws', throwsAtOnce);
      app.get('/rejects', rejectsLater);
      app.get('/next-error', (_req: Request, _res: Response, next: NextFunction) => next(new Error('passed on')));
      app.get('/ok', (_req: Request, res: Response) => res.send('fine'));
      app.use(log.errorHandler);
      app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
        res.status(500).json({ error: error.message });
      });
    },
    early: (app) => {
      app.use((req: Request, res: Response, next: NextFunction) => {
        if (!isAuthorized(req.headers.authorization)) {
          res.status(401).json({ message: 'Unauthorized' });
          return;
        }
        next();
      });
      app.get('/private', (_req: Request, res: Response) => res.send('secret'));
    },
    aborted: (app) => {
      app.get('/slow', async (_req: Request, res: Response) => {
        await clientGone(res);
        res.send('too late');
      });
    },
    tls: (app) => {
      app.get('/secure', (_req: Request, res: Response) => res.send('hi'));
    },
  }),
};

const koa: FrameworkExchanges = {
  facts: {
    postStatus: 200, streamType: 'text/event-stream', earlyExitRouted: false, guardsAdmin: true,
    failures: [{ path: '/forbidden', status: 403, handlerRan: true }],
  },
  apps: scenarioApps(startKoaRouter, {
    json: (_app, router) => {
      const api = new Router({ prefix: '/api' });
      api.post('/users/:id', bodyParser(), (ctx: Context) => {
        ctx.status = 201;
        ctx.body = { id: ctx.params.id, received: (ctx.request as { body?: unknown }).body };
      });
      router.use(api.routes());
    },
    urlencoded: (_app, router) => {
      router.post('/login', bodyParser({ enableTypes: ['form'] }), (ctx: Context) => {
        ctx.body = `hello ${(ctx.request as { body?: Record<string, string> }).body?.user}`;
      });
    },
    multipart: (_app, router) => {
      router.post('/upload', async (ctx: Context) => {
        ctx.body = await readMultipart(ctx.req);
      });
    },
    binary: (_app, router) => {
      // A Buffer body Koa writes after the middleware chain.
      router.get('/files/:name', (ctx: Context) => {
        ctx.type = 'application/octet-stream';
        ctx.body = BINARY_PAYLOAD;
      });
    },
    stream: (_app, router) => {
      router.get('/events', (ctx: Context) => {
        ctx.type = 'text/event-stream';
        ctx.body = Readable.from(streamChunks());
      });
    },
    errors: (app, router, log) => {
      // The app's own error middleware for /rejects, behind errorBoundary; Koa's default handler for the rest.
      app.use(async (ctx: Context, next: Next) => {
        if (ctx.path !== '/rejects') return next();
        try {
          await next();
        } catch (error) {
          ctx.status = 500;
          ctx.body = { error: (error as Error).message };
        }
      });
      app.use(log.errorBoundary);
      router.get('/throws', throwsAtOnce);
      router.get('/rejects', rejectsLater);
      router.get('/forbidden', (ctx: Context) => ctx.throw(403, 'no way'));
      router.get('/ok', (ctx: Context) => {
        ctx.body = 'fine';
      });
    },
    early: (app, router) => {
      app.use(async (ctx: Context, next: Next) => {
        if (!isAuthorized(ctx.get('authorization'))) {
          ctx.status = 401;
          ctx.body = { message: 'Unauthorized' };
          return;
        }
        await next();
      });
      // A router-level middleware: the router matched the route before it refused (as Kong routes before plugins run).
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
    },
    aborted: (_app, router) => {
      router.get('/slow', async (ctx: Context) => {
        await clientGone(ctx.res);
        ctx.body = 'too late';
      });
    },
    tls: (_app, router) => {
      router.get('/secure', (ctx: Context) => {
        ctx.body = 'hi';
      });
    },
  }),
};

const fastify: FrameworkExchanges = {
  facts: {
    postStatus: 200, streamType: 'text/plain', earlyExitRouted: true, guardsAdmin: true,
    failures: [{ path: '/validated', status: 400, handlerRan: false }],
  },
  apps: scenarioApps(startFastify, {
    json: async (app) => {
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
    urlencoded: async (app) => {
      await app.register(formbody);
      app.post('/login', async (request) => `hello ${(request.body as Record<string, string>).user}`);
    },
    multipart: async (app) => {
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
    binary: (app) => {
      app.get('/files/:name', async (_request, reply) => {
        reply.type('application/octet-stream');
        return BINARY_PAYLOAD;
      });
    },
    stream: (app) => {
      app.get('/events', (_request, reply) => reply.type('text/plain').send(Readable.from(streamChunks())));
    },
    errors: (app) => {
      app.get('/throws', throwsAtOnce);
      app.get('/rejects', rejectsLater);
      app.get('/validated', { schema: { querystring: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async () => 'valid');
      app.get('/ok', async () => 'fine');
    },
    early: (app) => {
      app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (!isAuthorized(request.headers.authorization)) return reply.code(401).send({ message: 'Unauthorized' });
      });
      app.get('/private', async () => 'secret');
      const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
        if (request.headers['x-admin'] !== 'yes') return reply.code(403).send('admins only');
      };
      app.get('/admin/stats', { preHandler }, async () => ({ users: 1 }));
    },
    aborted: (app) => {
      app.get('/slow', async (_request, reply) => {
        await clientGone(reply.raw);
        return 'too late';
      });
    },
    tls: (app) => {
      app.get('/secure', async () => 'hi');
    },
  }),
};

type Class = new (...args: never[]) => object;
/** A Nest app of one controller class, with `routes` as `[method, decorators, parameter decorators]`. */
function nestApp(
  controller: Class,
  routes: Record<string, [MethodDecoratorLike[], Array<[number, (target: object, key: string, index: number) => unknown]>?]>,
  setup: Omit<NestSetup, 'tls'> = {},
): ScenarioApp {
  let decorated = false;
  return (options, tls) => {
    if (!decorated) {
      Controller()(controller);
      for (const [method, [decorators, parameters]] of Object.entries(routes)) decorate(controller, method, decorators, parameters);
      decorated = true;
    }
    return startNest(options as KafkaLogNestOptions, [controller], { ...setup, ...(tls === undefined ? {} : { tls }) });
  };
}

const route = (decorator: unknown) => decorator as MethodDecoratorLike;

class AdminGuard implements CanActivate {
  canActivate(context: Parameters<CanActivate['canActivate']>[0]): boolean {
    return context.switchToHttp().getRequest<Request>().headers['x-admin'] === 'yes';
  }
}

class PrivateController {
  secret(req: Request) {
    return `secret for ${req.headers['x-user'] ?? 'nobody'}`;
  }
  stats() {
    return { users: 1 };
  }
}

const nest: FrameworkExchanges = {
  // The early exit is routed: middleware bound to a controller runs once Nest matched one of its routes.
  facts: {
    postStatus: 201, streamType: 'text/plain', earlyExitRouted: true, guardsAdmin: true,
    failures: [{ path: '/forbidden', status: 403, handlerRan: true }],
  },
  apps: {
    // KafkaLogModule.forRootAsync (logRequestBody from an injected provider) under a global prefix; Nest's body
    // parser reads the body after kafka-log's middleware started watching.
    json: nestApp(
      class UsersController {
        create(id: string, body: unknown) {
          return { id, received: body };
        }
      },
      { create: [[route(Post('users/:id'))], [[0, Param('id')], [1, Body()]]] },
      { prefix: 'api', async: true },
    ),
    urlencoded: nestApp(
      class LoginController {
        login(body: Record<string, string>) {
          return `hello ${body.user}`;
        }
      },
      { login: [[route(Post('login'))], [[0, Body()]]] },
    ),
    // FileInterceptor (multer) reads the upload.
    multipart: nestApp(
      class UploadController {
        upload(file: { size: number }, body: Record<string, string>) {
          return { title: body.title, photo: file.size };
        }
      },
      { upload: [[route(Post('upload')), route(UseInterceptors(FileInterceptor('photo')))], [[0, UploadedFile()], [1, Body()]]] },
    ),
    binary: nestApp(
      class FilesController {
        download() {
          return new StreamableFile(BINARY_PAYLOAD, { type: 'application/octet-stream', length: BINARY_PAYLOAD.length });
        }
      },
      { download: [[route(Get('files/:name'))]] },
    ),
    stream: nestApp(
      class EventsController {
        events() {
          return new StreamableFile(Readable.from(streamChunks()), { type: 'text/plain' });
        }
      },
      { events: [[route(Get('events'))]] },
    ),
    // Thrown errors and HttpExceptions turned into responses by Nest's exception filters.
    errors: nestApp(
      class FailingController {
        throws() {
          return throwsAtOnce();
        }
        rejects() {
          return rejectsLater();
        }
        forbidden() {
          throw new ForbiddenException('no way');
        }
        ok() {
          return 'fine';
        }
      },
      { throws: [[route(Get('throws'))]], rejects: [[route(Get('rejects'))]], forbidden: [[route(Get('forbidden'))]], ok: [[route(Get('ok'))]] },
    ),
    // A middleware bound to the controller, and a guard that runs inside the matched route.
    // A middleware bound to the controller, and a guard that runs inside the matched route.
    early: nestApp(
      PrivateController,
      { secret: [[route(Get('private'))], [[0, Req()]]], stats: [[route(Get('admin/stats')), route(UseGuards(new AdminGuard()))]] },
      {
        configure: (consumer) =>
          consumer
            .apply((req: Request, res: Response, next: NextFunction) => {
              if (!isAuthorized(req.headers.authorization)) {
                res.status(401).json({ message: 'Unauthorized' });
                return;
              }
              next();
            })
            .forRoutes(PrivateController),
      },
    ),
    aborted: nestApp(
      class SlowController {
        async slow(req: Request) {
          await clientGone(req.socket);
          return 'too late';
        }
      },
      { slow: [[route(Get('slow'))], [[0, Req()]]] },
    ),
    tls: nestApp(
      class SecureController {
        secure() {
          return 'hi';
        }
      },
      { secure: [[route(Get('secure'))]] },
    ),
  },
};

/** The frameworks every shared scenario runs on. */
export const FRAMEWORK_EXCHANGES = { express: express_, koa, fastify, nest } as const;
export type ExchangeFramework = keyof typeof FRAMEWORK_EXCHANGES;
