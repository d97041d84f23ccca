// kafka-log/nest end to end: a real NestJS 11 app (platform-express) on 127.0.0.1, real requests, entries published
// by a real KafkaLogPublisher to the local broker and read back with a kafkajs consumer. Decorators are applied as
// plain calls (the project's tsconfig has no experimentalDecorators), exactly as compiled decorators would be.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  type CanActivate,
  Controller,
  ForbiddenException,
  Get,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  Param,
  Post,
  Req,
  StreamableFile,
  UploadedFile,
  Body,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FileInterceptor } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KafkaLogModule, type KafkaLogNestOptions } from '../../src/adapters/nest.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { abandonedExchange, headerBlockOf, rawExchange, sleep } from '../unit/adapters-support.js';
import {
  type BrokerHarness,
  type BrokerSink,
  brokerHarness,
  decorate,
  expectJsonExchangeEntry,
  type MethodDecoratorLike,
  expectPlausible,
  sendJsonExchange,
} from './adapters-support.js';
import { TRANSPORTS } from './transports.js';

const TOPICS = ['json', 'urlencoded', 'multipart', 'binary', 'stream', 'thrown', 'early', 'aborted', 'tls'] as const;
type Topic = (typeof TOPICS)[number];

let harness: BrokerHarness;
const apps: INestApplication[] = [];

// The apps of every transport's suite, closed once at the end of the file.
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

type Class = new (...args: never[]) => object;

/** A Nest app whose root module imports `KafkaLogModule.forRoot` (logging to `topic`) and the controllers. */
async function serveApp(
  topic: Topic,
  controllers: Class[],
  options: Partial<KafkaLogNestOptions> = {},
  setup: { prefix?: string; configure?: (consumer: MiddlewareConsumer) => void; async?: boolean } = {},
): Promise<{ port: number; sink: BrokerSink }> {
  const sink = harness.sink(topic);
  const kafkaLogModule = setup.async
    ? KafkaLogModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { logRequestBody: boolean }) => ({ sink, ...config, ...options }),
      })
    : KafkaLogModule.forRoot({ sink, ...options });
  class AppModule {
    configure(consumer: MiddlewareConsumer): void {
      setup.configure?.(consumer);
    }
  }
  Module({ imports: [kafkaLogModule], controllers })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  apps.push(app);
  if (setup.prefix !== undefined) app.setGlobalPrefix(setup.prefix);
  await app.listen(0, '127.0.0.1');
  return { port: (app.getHttpServer().address() as AddressInfo).port, sink };
}

const CONFIG = 'TEST_CONFIG';
class ConfigModule {}
Module({ providers: [{ provide: CONFIG, useValue: { logRequestBody: true } }], exports: [CONFIG] })(ConfigModule);

// One suite per transport: the same exchanges, published by each Kafka client.
describe.each(TRANSPORTS)('kafka-log/nest through the local broker (%s)', (transport) => {
  beforeAll(async () => {
    harness = await brokerHarness(inject('kafka'), TOPICS, transport);
  });
  afterAll(() => harness?.close());

  it('logs a JSON request read by Nest body parser under a global prefix, field by field (forRootAsync)', async () => {
    class UsersController {
      create(id: string, body: unknown) {
        return { id, received: body };
      }
    }
    Controller('users')(UsersController);
    decorate(UsersController, 'create', [Post(':id') as MethodDecoratorLike], [[0, Param('id')], [1, Body()]]);
    const { port, sink } = await serveApp(
      'json',
      [UsersController],
      { logResponseBody: true, consumer: (req) => ({ id: String(req.params?.id ?? 'none') }) },
      { prefix: 'api', async: true },
    );
    await sendJsonExchange(port, 'req-nest-1');

    const [entry] = (await harness.entries('json', 1)) as [LogEntry];
    // The body parser Nest registers read the body after kafka-log's middleware started watching.
    expectJsonExchangeEntry(entry, port, { requestId: 'req-nest-1', responseBodyLogged: true });
    expect(sink.errors).toEqual([]);
  });

  it('logs a urlencoded form read by Nest body parser', async () => {
    class LoginController {
      login(body: Record<string, string>) {
        return `hello ${body.user}`;
      }
    }
    Controller()(LoginController);
    decorate(LoginController, 'login', [Post('login') as MethodDecoratorLike], [[0, Body()]]);
    const { port } = await serveApp('urlencoded', [LoginController], { logRequestBody: true, redactBodyFields: ['password'] });
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
    expect(entry.response.status).toBe(201);
    expect(entry.source).toBe('upstream');
  });

  it('logs a multipart upload read by FileInterceptor (multer), with files described', async () => {
    class UploadController {
      upload(file: { size: number }, body: Record<string, string>) {
        return { title: body.title, photo: file.size };
      }
    }
    Controller()(UploadController);
    decorate(UploadController, 'upload', [Post('upload') as MethodDecoratorLike, UseInterceptors(FileInterceptor('photo')) as MethodDecoratorLike], [
      [0, UploadedFile()],
      [1, Body()],
    ]);
    const { port } = await serveApp('multipart', [UploadController], { logRequestBody: true });
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
    expect(entry.source).toBe('upstream');
  });

  it('logs a binary download (StreamableFile) with its body and the exact bytes on the wire', async () => {
    const payload = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
    class FilesController {
      download() {
        return new StreamableFile(payload, { type: 'application/octet-stream', length: payload.length });
      }
    }
    Controller('files')(FilesController);
    decorate(FilesController, 'download', [Get(':name') as MethodDecoratorLike]);
    const { port } = await serveApp('binary', [FilesController], { logResponseBody: true });
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

  it('logs a streaming response written in chunks over time', async () => {
    class EventsController {
      events() {
        const stream = Readable.from(
          (async function* () {
            for (let i = 0; i < 5; i++) {
              yield Buffer.from(`data: ${i}\n\n`);
              await sleep(20);
            }
          })(),
        );
        return new StreamableFile(stream, { type: 'text/plain' });
      }
    }
    Controller()(EventsController);
    decorate(EventsController, 'events', [Get('events') as MethodDecoratorLike]);
    const { port } = await serveApp('stream', [EventsController], { logResponseBody: true });
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

  it('marks thrown errors and HttpExceptions turned into responses by the exception filters as source kong', async () => {
    class FailingController {
      throws() {
        throw new Error('sync failure');
      }
      async rejects() {
        await sleep(5);
        throw new Error('async failure');
      }
      forbidden() {
        throw new ForbiddenException('no way');
      }
      ok() {
        return 'fine';
      }
    }
    Controller()(FailingController);
    decorate(FailingController, 'throws', [Get('throws') as MethodDecoratorLike]);
    decorate(FailingController, 'rejects', [Get('rejects') as MethodDecoratorLike]);
    decorate(FailingController, 'forbidden', [Get('forbidden') as MethodDecoratorLike]);
    decorate(FailingController, 'ok', [Get('ok') as MethodDecoratorLike]);
    const { port } = await serveApp('thrown', [FailingController]);
    const statuses: number[] = [];
    for (const path of ['/throws', '/rejects', '/forbidden', '/ok']) {
      statuses.push((await fetch(`http://127.0.0.1:${port}${path}`)).status);
    }
    expect(statuses).toEqual([500, 500, 403, 200]);
    const entries = await harness.entries('thrown', 4);
    const byPath = new Map(entries.map((entry) => [entry.request.uri, entry]));
    for (const [path, status] of [['/throws', 500], ['/rejects', 500], ['/forbidden', 403]] as const) {
      const entry = byPath.get(path) as LogEntry;
      expect(entry.response.status).toBe(status);
      expect(entry.source).toBe('kong');
      expect(entry.route).toEqual({ path });
      expect(entry.latencies.proxy).toBeGreaterThanOrEqual(0);
    }
    expect(byPath.get('/ok')?.source).toBe('upstream');
    expect(byPath.get('/ok')?.response.status).toBe(200);
  });

  it('marks an early exit by a middleware, a guard, and a 404 as source kong', async () => {
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
    Controller()(PrivateController);
    decorate(PrivateController, 'secret', [Get('private') as MethodDecoratorLike], [[0, Req()]]);
    decorate(PrivateController, 'stats', [Get('admin/stats') as MethodDecoratorLike, UseGuards(new AdminGuard()) as MethodDecoratorLike]);
    const { port } = await serveApp('early', [PrivateController], {}, {
      configure: (consumer) =>
        consumer
          .apply((req: Request, res: Response, next: NextFunction) => {
            if (req.headers.authorization !== 'Bearer good') {
              res.status(401).json({ message: 'Unauthorized' });
              return;
            }
            next();
          })
          .forRoutes(PrivateController),
    });
    const good = { authorization: 'Bearer good' };
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: { authorization: 'Bearer bad' } })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/private`, { headers: good })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/missing`, { headers: good })).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/admin/stats`, { headers: good })).status).toBe(403);
    expect((await fetch(`http://127.0.0.1:${port}/admin/stats`, { headers: { ...good, 'x-admin': 'yes' } })).status).toBe(200);
    const [denied, allowed, missing, refused, admitted] = (await harness.entries('early', 5)) as [LogEntry, LogEntry, LogEntry, LogEntry, LogEntry];
    expect(denied.response.status).toBe(401);
    expect(denied.source).toBe('kong');
    expect(denied.latencies.proxy).toBe(-1);
    expect(denied.request.headers.authorization).toBe('REDACTED');
    expect(allowed.source).toBe('upstream');
    expect(allowed.route).toEqual({ path: '/private' });
    expect(missing.response.status).toBe(404);
    expect(missing.source).toBe('kong');
    expect(missing).not.toHaveProperty('route');
    // The guard runs inside the matched route: the route is known, the handler never ran.
    expect(refused.response.status).toBe(403);
    expect(refused.source).toBe('kong');
    expect(refused.latencies.proxy).toBe(-1);
    expect(refused.route).toEqual({ path: '/admin/stats' });
    expect(admitted.source).toBe('upstream');
    expect(admitted.route).toEqual({ path: '/admin/stats' });
  });

  it('logs an aborted request as 499', async () => {
    class SlowController {
      async slow(req: Request) {
        // Answers only once the client has left (its connection closed), bounded in case it never does.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 10_000);
          req.socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        return 'too late';
      }
    }
    Controller()(SlowController);
    decorate(SlowController, 'slow', [Get('slow') as MethodDecoratorLike], [[0, Req()]]);
    const { port } = await serveApp('aborted', [SlowController]);
    await abandonedExchange(port, 'GET /slow?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 50);
    const [entry] = (await harness.entries('aborted', 1)) as [LogEntry];
    expect(entry.response.status).toBe(499);
    expect(entry.request.uri).toBe('/slow?x=1');
    expect(entry.route).toEqual({ path: '/slow' });
  });

  it('records TLS facts over HTTPS with a client certificate', async () => {
    const { tls } = inject('kafka');
    class SecureController {
      secure() {
        return 'hi';
      }
    }
    Controller()(SecureController);
    decorate(SecureController, 'secure', [Get('secure') as MethodDecoratorLike]);
    class AppModule {}
    Module({ imports: [KafkaLogModule.forRoot({ sink: harness.sink('tls') })], controllers: [SecureController] })(AppModule);
    const app = await NestFactory.create(AppModule, { logger: false, httpsOptions: { key: readFileSync(tls.key), cert: readFileSync(tls.cert), ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true } });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
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
