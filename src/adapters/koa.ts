/**
 * `kafka-log/koa`: a Koa 3 middleware that logs every exchange in Kong's format.
 *
 * ```ts
 * const log = kafkaLog({ sink: publisher });
 * app.use(log);                    // first, before any middleware that reads the body or answers
 * app.use(errorHandler);           // your own error-handling middleware, if any
 * app.use(log.errorBoundary);      // right after it: errors it catches are logged with source "kong"
 * app.use(auth);                   // gateway-like middleware, if any (see `upstreamBoundary`)
 * app.use(router.routes());        // or your own middleware answering
 * ```
 *
 * Koa has no route handlers of its own, so where the app (Kong's upstream) begins is decided per app, from the
 * middleware given to `app.use`:
 * - with `@koa/router`: where a matched route's stack begins; middleware answering before that (an auth check,
 *   `allowedMethods`, a `router.use` middleware) is the gateway's part;
 * - with `log.upstreamBoundary` installed: there (or at a route's stack, whichever comes first);
 * - with neither: right after kafka-log's middleware: the app's own middleware is the upstream.
 *
 * What the entry says:
 * - `route`: `{ path }` of the matched `@koa/router` route (its full path, router prefixes included);
 * - `source`: `upstream` when the app answered; `kong` when a middleware answered before the app began, when no
 *   middleware answered at all (Koa's own 404), or when an error was thrown and Koa's or your error handling
 *   produced the response;
 * - `latencies.proxy`: from the start of the app to the first response byte (Koa writes the body after the
 *   middleware chain unwinds, so this includes the unwinding); `-1` when the app never began or nothing answered.
 *
 * Koa writes the response itself (strings, buffers, JSON, streams) through node's `res.write`/`res.end`, which the
 * shared capture observes: bodies and sizes are those on the wire.
 *
 * The entry's `request.id` is `ctx.requestId` for the application during the request (or `requestIdOf(ctx)`,
 * typed).
 *
 * @module
 */

import type { Context, Middleware, Next } from 'koa';
import { type ExchangeCapture, captureOf } from '../capture/capture.js';
import type { KafkaLogAdapterOptions } from '../capture/adapter-options.js';
import { createExchangePipeline } from '../capture/pipeline.js';
import { defineRequestIdProperty, requestIdOfMessage } from '../capture/request-id-property.js';

export type { EntryFilter, KafkaLogAdapterOptions, RequestIdGenerator, SampleRateFunction } from '../capture/adapter-options.js';
export type { LogSink, SinkMeta, SkipReason } from '../capture/sink.js';

/**
 * The entry's `request.id` for this request (also `ctx.requestId`): the request id header, else the generated id;
 * `undefined` when the request is not being logged or has no id. Never throws.
 */
export function requestIdOf(ctx: Pick<Context, 'req'>): string | undefined {
  return requestIdOfMessage(ctx.req);
}

/** Options of {@link kafkaLog}: hooks and custom field functions receive Koa's `Context`. */
export type KafkaLogKoaOptions = KafkaLogAdapterOptions<Context>;

/** The middleware {@link kafkaLog} returns, with its companions. */
export interface KafkaLogKoaMiddleware extends Middleware {
  /**
   * Install right after your own error-handling middleware (which would otherwise hide thrown errors from
   * kafka-log): marks the exchange as answered by the error path (`source: "kong"`) and re-throws unchanged.
   * Not needed when errors reach Koa's default handler.
   */
  readonly errorBoundary: Middleware;
  /**
   * Install where your app begins (Kong's upstream), after gateway-like middleware such as authentication or
   * rate limits: a response from middleware above it is logged with `source: "kong"` and `latencies.proxy: -1`,
   * and `latencies.proxy` is measured from here. Not needed when `@koa/router` routes mark that point, or when
   * every middleware after kafka-log's is the app. Install it with `app.use` (kafka-log looks for it there).
   */
  readonly upstreamBoundary: Middleware;
}

const kRouterPath = Symbol('kafka-log.koaRouterPath');
const kUpstreamBoundary = Symbol('kafka-log.koaUpstreamBoundary');

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
  // The app's context prototype seen last, and whether that app begins right after this middleware.
  let probedPrototype: object | null = null;
  let appStartsAfterLog = true;

  const middleware = async function kafkaLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const prototype = Object.getPrototypeOf(ctx) as object | null;
    if (prototype !== probedPrototype && prototype !== null) {
      probedPrototype = prototype;
      appStartsAfterLog = true;
      try {
        installRouteProbe(prototype, ctx);
        // Only the app's own context prototype, as for the route probe.
        if (prototype === (ctx.app as { context?: unknown } | undefined)?.context) defineRequestIdProperty(prototype, (self) => (self as Context).req);
        appStartsAfterLog = !marksItsUpstream(ctx.app);
      } catch (error) {
        pipeline.report(error);
      }
    }
    const capture = pipeline.capture(ctx.req, ctx.res, ctx);
    if (capture !== undefined && appStartsAfterLog) capture.markHandlerStart();
    try {
      await next();
    } catch (error) {
      markError(ctx);
      // Koa's error handling removes every header before it answers: the echoed request id goes out all the same.
      if (capture !== undefined) pipeline.echoRequestIdAgain(capture);
      throw error;
    }
    if (capture !== undefined && !answered(ctx, pipeline.report)) {
      // Koa answers 404 itself: no upstream was reached, as for a request no Kong route matched.
      capture.clearUpstream();
      capture.source = 'kong';
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

  const upstreamBoundary = Object.assign(
    function kafkaLogUpstreamBoundary(ctx: Context, next: Next): Promise<void> {
      captureOf(ctx.req)?.markHandlerStart();
      return next();
    },
    { [kUpstreamBoundary]: true },
  );

  return Object.assign(middleware, { errorBoundary, upstreamBoundary });
}

/**
 * True when the app's own middleware list (`app.use`) holds a `@koa/router` dispatcher (it carries its router)
 * or kafka-log's `upstreamBoundary`: then the app begins at a route's stack or at the boundary. Koa composes
 * that list when the server is created, so reading it at the first request sees what will run.
 */
function marksItsUpstream(app: unknown): boolean {
  const list = (app as { middleware?: unknown } | undefined)?.middleware;
  if (!Array.isArray(list)) return false;
  for (const fn of list as unknown[]) {
    if (typeof fn !== 'function') continue;
    if ((fn as { [kUpstreamBoundary]?: unknown })[kUpstreamBoundary] === true) return true;
    if (typeof (fn as { router?: { match?: unknown } }).router?.match === 'function') return true;
  }
  return false;
}

/**
 * Whether a middleware answered: a body, a status of its own (Koa's `_explicitStatus` also covers a body-less
 * `ctx.status = 404`), `ctx.respond = false`, or bytes already written. Otherwise Koa sends its own 404. Never
 * throws.
 */
function answered(ctx: Context, report: (error: unknown) => void): boolean {
  try {
    if (ctx.body !== undefined && ctx.body !== null) return true;
    if (ctx.status !== 404 || ctx.respond === false || ctx.res.headersSent) return true;
    return (ctx.response as { _explicitStatus?: unknown })._explicitStatus === true;
  } catch (error) {
    // A context whose accessors an app replaced: leave the entry as it is rather than throw into the app.
    report(error);
    return true;
  }
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
 * `source: kong` when the app never began.
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
