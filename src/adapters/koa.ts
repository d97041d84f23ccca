/**
 * `kafka-log/koa`: a Koa 3 middleware that logs every exchange in Kong's format.
 *
 * ```ts
 * const log = kafkaLog({ sink: publisher });
 * app.use(log);                 // first, before any middleware that reads the body or answers
 * app.use(errorHandler);        // your own error-handling middleware, if any
 * app.use(log.errorBoundary);   // right after it: errors it catches are logged with source "kong"
 * app.use(router.routes());
 * ```
 *
 * What the entry says:
 * - `route`: `{ path }` of the matched `@koa/router` route (its full path, router prefixes included);
 * - `source`: `upstream` when a route's middleware stack ran and answered; `kong` when a middleware answered before
 *   any route ran (an early exit, a 404), or when an error was thrown and Koa's or your error handling produced the
 *   response;
 * - `latencies.proxy`: from the start of the matched route's stack to the first response byte (Koa writes the
 *   body after the middleware chain unwinds, so this includes the unwinding); `-1` when no route ran.
 *
 * Koa writes the response itself (strings, buffers, JSON, streams) through node's `res.write`/`res.end`, which the
 * shared capture observes: bodies and sizes are those on the wire.
 *
 * @module
 */

import type { Context, Middleware, Next } from 'koa';
import { type ExchangeCapture, captureOf } from './capture.js';
import type { KafkaLogAdapterOptions } from './options.js';
import { createExchangePipeline } from './pipeline.js';

export type { KafkaLogAdapterOptions } from './options.js';
export type { LogSink, SinkMeta } from './sink.js';

/** Options of {@link kafkaLog}: hooks and custom field functions receive Koa's `Context`. */
export type KafkaLogKoaOptions = KafkaLogAdapterOptions<Context>;

/** The middleware {@link kafkaLog} returns, with its error-boundary companion. */
export interface KafkaLogKoaMiddleware extends Middleware {
  /**
   * Install right after your own error-handling middleware (which would otherwise hide thrown errors from
   * kafka-log): marks the exchange as answered by the error path (`source: "kong"`) and re-throws unchanged.
   * Not needed when errors reach Koa's default handler.
   */
  readonly errorBoundary: Middleware;
}

const kRouterPath = Symbol('kafka-log.koaRouterPath');

/** What `@koa/router` leaves on the context (read-only here). */
interface RouterFacts {
  [kRouterPath]?: unknown;
  matched?: ReadonlyArray<{ path?: unknown; methods?: readonly unknown[] }>;
  req: Context['req'];
}

/**
 * Creates the middleware. Options are compiled once (invalid ones throw `InvalidOptionError`); per request it
 * only starts the capture, and it never throws into the app (errors from downstream are re-thrown unchanged).
 */
export function kafkaLog(options: KafkaLogKoaOptions): KafkaLogKoaMiddleware {
  const pipeline = createExchangePipeline<Context>(options, { beforeBuild: describeKoaExchange });
  let probedPrototype: object | null = null;

  const middleware = async function kafkaLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const prototype = Object.getPrototypeOf(ctx) as object | null;
    if (prototype !== probedPrototype && prototype !== null) {
      probedPrototype = prototype;
      try {
        installRouteProbe(prototype, ctx);
      } catch (error) {
        pipeline.report(error);
      }
    }
    pipeline.capture(ctx.req, ctx.res, ctx);
    try {
      await next();
    } catch (error) {
      markError(ctx);
      throw error;
    }
  };

  const errorBoundary = async function kafkaLogErrorBoundary(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      markError(ctx);
      throw error;
    }
  };

  return Object.assign(middleware, { errorBoundary });
}

function markError(ctx: Context): void {
  const capture = captureOf(ctx.req);
  if (capture !== undefined) capture.source = 'kong';
}

/**
 * `@koa/router` assigns `ctx.routerPath` as each matched layer's stack begins (route layers and `router.use`
 * layers alike). An accessor on the app's context prototype (`app.context`, one per app) turns the assignment of
 * a route layer's path into the handler-start signal, with no per-request cost and without touching the router.
 * The value is stored and returned unchanged.
 */
function installRouteProbe(prototype: object, ctx: Context): void {
  // Only the app's own context prototype; never Koa's shared base context.
  if (prototype !== (ctx.app as { context?: unknown } | undefined)?.context) return;
  if (Object.getOwnPropertyDescriptor(prototype, 'routerPath') !== undefined) return;
  Object.defineProperty(prototype, 'routerPath', {
    configurable: true,
    enumerable: true,
    get(this: RouterFacts): unknown {
      return this[kRouterPath];
    },
    set(this: RouterFacts, path: unknown) {
      this[kRouterPath] = path;
      const capture = captureOf(this.req);
      if (capture === undefined || !isRouteLayerPath(this.matched, path)) return;
      capture.markHandlerStart();
      capture.route = { path: String(path) };
    },
  });
}

/** True when `path` is the path of a matched route layer (one with methods), not of a `router.use` layer. */
function isRouteLayerPath(matched: RouterFacts['matched'], path: unknown): boolean {
  if (matched === undefined || path === undefined) return false;
  for (const layer of matched) if (layer.path === path && (layer.methods?.length ?? 0) > 0) return true;
  return false;
}

/**
 * When no route layer ran (a `router.use` middleware answered), the route the router matched (its most specific
 * route layer, as `_matchedRoute` first says): like Kong, the route was matched before that middleware ran.
 * `source: kong` when no route ran.
 */
function describeKoaExchange(capture: ExchangeCapture<Context>): void {
  if (capture.route === undefined) {
    const matched = (capture.context as unknown as RouterFacts).matched;
    for (let i = (matched?.length ?? 0) - 1; i >= 0; i--) {
      const layer = (matched as NonNullable<RouterFacts['matched']>)[i];
      if (layer !== undefined && typeof layer.path === 'string' && (layer.methods?.length ?? 0) > 0) {
        capture.route = { path: layer.path };
        break;
      }
    }
  }
  if (capture.source === undefined && capture.handlerStartTime === 0) capture.source = 'kong';
}
