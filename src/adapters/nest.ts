/**
 * `kafka-log/nest`: a NestJS 11 module (on `@nestjs/platform-express`) that logs every exchange in Kong's format.
 *
 * ```ts
 * @Module({ imports: [KafkaLogModule.forRoot({ sink: publisher })] })
 * export class AppModule {}
 * // or, with options from other providers:
 * KafkaLogModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => ({ sink: ..., logRequestBody: true }) })
 * ```
 *
 * Two parts, because neither alone sees every field of Kong's entry (`kong/pdk/log.lua`, `serialize`):
 * - a middleware on the HTTP adapter, installed while the module is instantiated, so it runs before Nest's body
 *   parsers and every Nest middleware. A `MiddlewareConsumer` middleware would run after the body parsers had
 *   read the whole body: request body, size and `latencies.receive` would be lost. It starts the shared node:http
 *   capture, so it also sees exchanges that never reach a controller (a 404, a middleware's early exit, a guard
 *   that refused);
 * - a global interceptor ({@link KafkaLogInterceptor}), which runs after the guards and knows the matched route
 *   and when the handler began; an error leaving the handler marks the response as the exception filters'.
 *   An exception filter would not do: a global catch-all filter competes with the application's own.
 *
 * What the entry says:
 * - `route`: `{ path }` of the route Nest registered (global prefix, version and controller path included);
 * - `source`: `upstream` when the controller method answered; `kong` when a middleware or guard answered before it
 *   (an early exit, a 404), or when an exception (thrown by the handler or a pipe) was turned into the response;
 * - `latencies.proxy`: from the interceptor (just before pipes and the handler) to the first response byte; `-1`
 *   when the handler was never reached. `latencies.kong`: the time before that.
 *
 * The entry's `request.id` is `req.requestId` for guards, interceptors and controllers (`@Req() req`), or
 * `requestIdOf(req)`, typed.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, type InjectionToken, type ModuleMetadata, Module, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import type { Request } from 'express';
import { InvalidOptionError } from '../errors.js';
import type { ExchangeCapture } from '../capture/capture.js';
import { KafkaLogInterceptor } from './nest-interceptor.js';
import type { KafkaLogAdapterOptions } from '../capture/adapter-options.js';
import { createExchangePipeline } from '../capture/pipeline.js';
import { defineRequestIdProperty } from '../capture/request-id-property.js';

export { KafkaLogInterceptor } from './nest-interceptor.js';
export type { EntryFilter, KafkaLogAdapterOptions, RequestIdGenerator, SampleRateFunction } from '../capture/adapter-options.js';
export { requestIdOfMessage as requestIdOf } from '../capture/request-id-property.js';
export type { LogSink, SinkMeta, SkipReason } from '../capture/sink.js';

/** Options of {@link KafkaLogModule}: hooks and custom field functions receive platform-express's `Request`. */
export type KafkaLogNestOptions = KafkaLogAdapterOptions<Request>;

/** Options of {@link KafkaLogModule.forRootAsync}: the options come from a factory with injected providers. */
export interface KafkaLogNestAsyncOptions {
  /** Modules exporting the providers the factory needs. */
  imports?: ModuleMetadata['imports'];
  /** Providers handed to the factory, in order. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Returns the options (or a promise of them). */
  useFactory: (...dependencies: never[]) => KafkaLogNestOptions | Promise<KafkaLogNestOptions>;
}

/** Injection token of the module's options (as given to `forRoot`, or returned by the `forRootAsync` factory). */
export const KAFKA_LOG_OPTIONS: unique symbol = Symbol('kafka-log.options');

const KAFKA_LOG_INSTALLATION = Symbol('kafka-log.installation');

type Next = (error?: unknown) => void;

/**
 * The module. Import it once, in the root module: `KafkaLogModule.forRoot(options)` or
 * `KafkaLogModule.forRootAsync({ imports, inject, useFactory })`. Invalid options fail the application's bootstrap
 * with an `InvalidOptionError` naming the field; afterwards nothing is thrown into the application.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; forRoot/forRootAsync are Nest's convention.
export class KafkaLogModule {
  /** The module with fixed options. */
  static forRoot(options: KafkaLogNestOptions): DynamicModule {
    return moduleOf([{ provide: KAFKA_LOG_OPTIONS, useValue: options }], undefined);
  }

  /** The module with options made by a factory (from a config service, say). */
  static forRootAsync(options: KafkaLogNestAsyncOptions): DynamicModule {
    const provider: Provider = {
      provide: KAFKA_LOG_OPTIONS,
      useFactory: options.useFactory as (...dependencies: unknown[]) => KafkaLogNestOptions | Promise<KafkaLogNestOptions>,
      inject: options.inject ?? [],
    };
    return moduleOf([provider], options.imports);
  }
}
Module({})(KafkaLogModule);

function moduleOf(optionProviders: Provider[], imports: ModuleMetadata['imports']): DynamicModule {
  return {
    module: KafkaLogModule,
    imports: imports ?? [],
    providers: [
      ...optionProviders,
      { provide: KAFKA_LOG_INSTALLATION, useFactory: install, inject: [KAFKA_LOG_OPTIONS, HttpAdapterHost] },
      { provide: APP_INTERCEPTOR, useFactory: () => new KafkaLogInterceptor(), inject: [KAFKA_LOG_INSTALLATION] },
    ],
    exports: [KAFKA_LOG_OPTIONS],
  };
}

/**
 * Compiles the options and puts the capture middleware on the HTTP adapter. Nest instantiates providers before
 * `app.init()` registers its body parsers and routes, so this middleware is ahead of all of them. An application
 * context without an HTTP server has nothing to log.
 */
function install(options: KafkaLogNestOptions, host: HttpAdapterHost): true {
  const pipeline = createExchangePipeline<Request>(options, { beforeBuild: describeNestExchange });
  const adapter = host.httpAdapter;
  if (adapter === undefined || adapter === null) return true;
  if (adapter.getType() !== 'express') {
    throw new InvalidOptionError(
      'platform',
      `kafka-log/nest works with @nestjs/platform-express (got "${adapter.getType()}"); on platform-fastify register kafka-log/fastify on the Fastify instance`,
    );
  }
  // The Express app's request prototype seen last (Nest's requests are Express's): `req.requestId` is defined there.
  let knownPrototype: object | null = null;
  adapter.use(function kafkaLogMiddleware(request: IncomingMessage, response: ServerResponse, next: Next): void {
    const prototype = Object.getPrototypeOf(request) as object | null;
    if (prototype !== knownPrototype) {
      knownPrototype = prototype;
      exposeRequestId(prototype, pipeline.report);
    }
    pipeline.capture(request, response, request as Request);
    next();
  });
  return true;
}

/** Defines `req.requestId` on an Express app's own request prototype (one that owns `app`), never on node's. */
function exposeRequestId(prototype: object | null, report: (error: unknown) => void): void {
  if (prototype === null || !Object.hasOwn(prototype, 'app')) return;
  try {
    defineRequestIdProperty(prototype, (request) => request as IncomingMessage);
  } catch (error) {
    report(error);
  }
}

/**
 * The route Express matched when the interceptor did not run (a guard refused: like Kong, the route was matched
 * before the check); `source: kong` when the handler was never reached.
 */
function describeNestExchange(capture: ExchangeCapture<Request>): void {
  if (capture.route === undefined) {
    const path = (capture.context as { route?: { path?: unknown } }).route?.path;
    if (typeof path === 'string') capture.route = { path };
  }
  if (capture.source === undefined && capture.handlerStartTime === 0) capture.source = 'kong';
}
