/**
 * `kafka-log/fastify`: a Fastify 5 plugin that logs every exchange in Kong's format.
 *
 * ```ts
 * await app.register(kafkaLog, { sink: publisher }); // before the routes (and other plugins) it should see
 * app.get('/users/:id', ...);
 * ```
 *
 * The plugin is wrapped with `fastify-plugin`, so its hooks apply to the whole application, not only to an
 * encapsulated child context. How it watches:
 * - `onRequest` starts the shared node:http capture on `request.raw`/`reply.raw`: the request body is observed as
 *   node's parser delivers it, so Fastify's content-type parsers read the stream exactly as without logging, and
 *   the response is observed where Fastify writes it (any payload type: strings, buffers, streams);
 * - `onRoute` wraps each route's handler to mark the moment it starts (so hooks that answer early, or fail, are
 *   not counted as the upstream);
 * - `onError` marks the response as produced by the error path (`source: "kong"`);
 * - the capture's own `'close'` listener ends the exchange, also when the client went away (status 499).
 *
 * What the entry says:
 * - `route`: `{ path }` with the route's URL as declared (`request.routeOptions.url`, prefixes included);
 * - `source`: `upstream` when a route handler answered; `kong` when a hook answered before the handler (an early
 *   exit, a 404) or an error handler produced the response;
 * - `latencies.proxy`: from the handler's start to the first response byte; `-1` when no handler ran.
 *
 * The entry's `request.id` is `request.requestId` for the application during the request (or
 * `requestIdOf(request)`, typed); Fastify's own `request.id` is Fastify's id (`generateRequestId: (request) =>
 * request.id` logs that one).
 *
 * @module
 */

import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { type ExchangeCapture, captureOf } from '../capture/capture.js';
import type { KafkaLogAdapterOptions } from '../capture/adapter-options.js';
import { type ExchangePipeline, createExchangePipeline } from '../capture/pipeline.js';
import { REQUEST_ID_PROPERTY, requestIdOfMessage } from '../capture/request-id-property.js';

export type { EntryFilter, KafkaLogAdapterOptions, RequestIdGenerator, SampleRateFunction } from '../capture/adapter-options.js';
export type { LogSink, SinkMeta, SkipReason } from '../capture/sink.js';

/**
 * The entry's `request.id` for this request (also `request.requestId`; Fastify's own `request.id` is another id):
 * the request id header, else the generated id; `undefined` when the request is not being logged or has no id.
 * Never throws.
 */
export function requestIdOf(request: Pick<FastifyRequest, 'raw'>): string | undefined {
  return requestIdOfMessage(request.raw);
}

/** Options of {@link kafkaLog}: hooks and custom field functions receive Fastify's `FastifyRequest`. */
export type KafkaLogFastifyOptions = KafkaLogAdapterOptions<FastifyRequest>;

const kWrapped = Symbol('kafka-log.fastifyHandler');

// What `app.register(plugin, options)` itself reads from the options object.
const FASTIFY_REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'];

type Handler = RouteOptions['handler'] & { [kWrapped]?: true };

function plugin(app: FastifyInstance, options: KafkaLogFastifyOptions, done: (error?: Error) => void): void {
  // Options compiled once; an invalid option fails the registration (and so the app's start), naming the field.
  let pipeline: ExchangePipeline<FastifyRequest>;
  try {
    pipeline = createExchangePipeline<FastifyRequest>(options, { beforeBuild: describeFastifyExchange, frameworkOptions: FASTIFY_REGISTER_OPTIONS });
  } catch (error) {
    done(error as Error);
    return;
  }

  // A getter on Fastify's request prototype: nothing per request until read. Left alone when the app (or another
  // plugin) decorates `requestId` itself; `requestIdOf(request)` still answers.
  if (!app.hasRequestDecorator(REQUEST_ID_PROPERTY)) {
    app.decorateRequest(REQUEST_ID_PROPERTY, {
      getter(this: FastifyRequest): string | undefined {
        return requestIdOfMessage(this.raw);
      },
    });
  }

  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, next: () => void) => {
    pipeline.capture(request.raw, reply.raw, request);
    next();
  });

  app.addHook('onError', (request: FastifyRequest, _reply: FastifyReply, _error: Error, next: () => void) => {
    const capture = captureOf(request.raw);
    if (capture !== undefined) capture.source = 'kong';
    next();
  });

  app.addHook('onRoute', (route: RouteOptions) => {
    const handler = route.handler as Handler;
    if (typeof handler !== 'function' || handler[kWrapped] === true) return;
    const wrapped = function kafkaLogHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      captureOf(request.raw)?.markHandlerStart();
      return handler.call(this, request, reply);
    } as Handler;
    wrapped[kWrapped] = true;
    route.handler = wrapped;
  });

  done();
}

/**
 * The plugin: `app.register(kafkaLog, options)`. Register it before the routes and plugins it should see (Fastify
 * applies hooks to routes declared after them). Per request it only starts the capture; it never throws into the
 * app and changes nothing the client sees.
 */
export const kafkaLog: FastifyPluginCallback<KafkaLogFastifyOptions> = fastifyPlugin(plugin, {
  fastify: '5.x',
  name: 'kafka-log',
});

/** `{ path }` of the matched route; `source: kong` when no route handler ran. */
function describeFastifyExchange(capture: ExchangeCapture<FastifyRequest>): void {
  const request = capture.context;
  if (capture.route === undefined && !request.is404) {
    const url = request.routeOptions.url;
    if (url !== undefined) capture.route = { path: url };
  }
  if (capture.source === undefined && capture.handlerStartTime === 0) capture.source = 'kong';
}
