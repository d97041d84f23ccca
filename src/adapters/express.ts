/**
 * `kafka-log/express`: an Express 5 middleware that logs every exchange in Kong's format.
 *
 * ```ts
 * const log = kafkaLog({ sink: publisher });
 * app.use(log);               // first, before any middleware that reads the body or answers
 * app.get('/users/:id', ...);
 * app.use(log.errorHandler);  // after the routes: errors are logged with source "kong"
 * ```
 *
 * What the entry says:
 * - `route`: `{ path }`, the matched route's path under its routers' base URLs (e.g. `/api/users/:id`);
 * - `source`: `upstream` when a route handler produced the response; `kong` when a middleware answered before
 *   any route handler ran (an early exit, a 404) or when an error was passed on (`next(err)`, a thrown error,
 *   a rejected promise) and an error handler produced the response;
 * - `latencies.proxy`: from the moment the route matched to the first response byte (Kong's waiting time for
 *   the upstream); `-1` when no route handler ran. `latencies.kong`: the time before the route handler (the
 *   middleware's own time); the whole exchange when no route handler ran.
 *
 * The entry's `request.id` is `req.requestId` for the application during the request (or `requestIdOf(req)`,
 * typed).
 *
 * @module
 */

import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { JsonObject } from '../entry/log-entry.js';
import { type ExchangeCapture, captureOf, isAppPrototypePair, tapPrototypes } from '../capture/capture.js';
import type { KafkaLogAdapterOptions } from '../capture/adapter-options.js';
import { createExchangePipeline } from '../capture/pipeline.js';
import { defineRequestIdProperty } from '../capture/request-id-property.js';

export type { EntryFilter, KafkaLogAdapterOptions, RequestIdGenerator, SampleRateFunction } from '../capture/adapter-options.js';
export { requestIdOfMessage as requestIdOf } from '../capture/request-id-property.js';
export type { LogSink, SinkMeta, SkipReason } from '../capture/sink.js';

/** Options of {@link kafkaLog}: hooks and custom field functions receive Express's `Request`. */
export type KafkaLogExpressOptions = KafkaLogAdapterOptions<Request>;

/** The middleware {@link kafkaLog} returns, with its error-handling companion. */
export interface KafkaLogMiddleware extends RequestHandler {
  /**
   * Install after the routes (before your own error handlers): marks the exchange as answered by the error
   * path (`source: "kong"`) and passes the error on unchanged.
   */
  readonly errorHandler: ErrorRequestHandler;
}

// Where the router package (Express 5's router) records errors passed along a request; read-only here.
const ROUTER_ERRORS = Symbol.for('router.tracing.publishedErrors');
const kRoute = Symbol('kafka-log.expressRoute');

type RouteHolder = { [kRoute]?: unknown; baseUrl?: string };

/**
 * Creates the middleware. Options are compiled once (invalid ones throw `InvalidOptionError`); per request it
 * only starts the capture, and it never throws into the app.
 */
export function kafkaLog(options: KafkaLogExpressOptions): KafkaLogMiddleware {
  const pipeline = createExchangePipeline<Request>(options, { beforeBuild: describeExpressExchange });
  // The app's request prototype seen last, and whether its prototypes carry the capture's wrappers.
  let knownPrototype: object | null = null;
  let prototypesTapped = false;

  const middleware = function kafkaLogMiddleware(request: Request, response: Response, next: NextFunction): void {
    const prototype = Object.getPrototypeOf(request) as object | null;
    if (prototype !== knownPrototype) {
      knownPrototype = prototype;
      prototypesTapped = prepareAppPrototypes(prototype, Object.getPrototypeOf(response) as object | null, pipeline.report);
    }
    pipeline.capture(request, response, request, prototypesTapped);
    next();
  };

  const errorHandler: ErrorRequestHandler = function kafkaLogErrorHandler(error, request, _response, next) {
    const capture = captureOf(request);
    if (capture !== undefined) capture.source = 'kong';
    next(error);
  };

  return Object.assign(middleware, { errorHandler });
}

/**
 * Once per Express app (each app has its own request/response prototypes, which mounted apps inherit): wraps
 * the capture's hooks onto them and installs the route probe. Returns whether the capture may rely on the
 * wrapped prototypes. Only Express apps' prototypes (they own `app`) are touched, never node's shared ones.
 */
function prepareAppPrototypes(
  requestPrototype: object | null,
  responsePrototype: object | null,
  report: (error: unknown) => void,
): boolean {
  if (!isAppPrototypePair(requestPrototype, responsePrototype)) return false;
  try {
    installRouteProbe(requestPrototype as object);
    defineRequestIdProperty(requestPrototype as object, (request) => request as Request);
    return tapPrototypes(requestPrototype as object, responsePrototype as object);
  } catch (error) {
    report(error);
    return false;
  }
}

/**
 * Express's router assigns `req.route` when a route matches, just before its handlers run. An accessor on the
 * app's request prototype turns that assignment into the handler-start signal without touching the router.
 * The value lives in the capture (adding a property to an Express request is slow, see capture.ts) and reads
 * back unchanged.
 */
function installRouteProbe(prototype: object): void {
  if (Object.getOwnPropertyDescriptor(prototype, 'route') !== undefined) return;
  Object.defineProperty(prototype, 'route', {
    configurable: true,
    enumerable: true,
    get(this: RouteHolder): unknown {
      const capture = captureOf(this as unknown as Request);
      return capture === undefined ? this[kRoute] : capture.matchedRoute;
    },
    set(this: RouteHolder, route: unknown) {
      const capture = captureOf(this as unknown as Request);
      if (capture === undefined) {
        this[kRoute] = route;
        return;
      }
      // The router assigns the same route twice (on match, then on dispatch): only the first one counts.
      if (capture.matchedRoute === route) return;
      capture.matchedRoute = route;
      if (route === undefined || route === null) return;
      capture.markHandlerStart();
      capture.route = routeOf(this.baseUrl, (route as { path?: unknown }).path);
    },
  });
}

/** `{ path }` of the matched route, under the base URL of the router that matched it. */
function routeOf(baseUrl: string | undefined, path: unknown): JsonObject {
  const routePath = typeof path === 'string' ? path : String(path);
  if (baseUrl === undefined || baseUrl === '' || baseUrl === '/') return { path: routePath };
  return { path: routePath === '/' ? baseUrl : `${baseUrl}${routePath}` };
}

/** Decides `source` when the error handler did not: `kong` unless a route handler answered without error. */
function describeExpressExchange(capture: ExchangeCapture<Request>): void {
  if (capture.source !== undefined) return;
  if (capture.handlerStartTime === 0) {
    capture.source = 'kong';
    return;
  }
  // The router adds the set as the request's own property; reading a missing one from a re-parented request
  // would walk its prototype chain (see capture.ts).
  const request = capture.request as unknown as { [ROUTER_ERRORS]?: { size: number } };
  if (Object.hasOwn(request, ROUTER_ERRORS) && (request[ROUTER_ERRORS]?.size ?? 0) > 0) capture.source = 'kong';
}
