/**
 * `kafka-log/http`: logs every request of a plain `node:http` / `node:https` server. The wrapped listener is
 * the upstream: `latencies.proxy` is its time to the first response byte, `source` is `upstream`.
 *
 * ```ts
 * const server = http.createServer(withKafkaLog(app, { sink: publisher }));
 * ```
 *
 * Gateways built on it annotate each exchange ({@link getExchangeCapture}, a {@link GatewayCapture}) with what they
 * measured upstream. The entry's `request.id` is `requestIdOf(req)` for the listener during the request.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { captureOf } from '../capture/capture.js';
import type { GatewayCapture } from '../capture/gateway-capture.js';
import type { KafkaLogAdapterOptions } from '../capture/adapter-options.js';
import { createExchangePipeline } from '../capture/pipeline.js';

export { CLIENT_CLOSED_REQUEST } from '../capture/client-closed.js';
export type { GatewayCapture } from '../capture/gateway-capture.js';
export type { EntryFilter, KafkaLogAdapterOptions, RequestIdGenerator, SampleRateFunction } from '../capture/adapter-options.js';
export { requestIdOfMessage as requestIdOf } from '../capture/request-id-property.js';
export type { LogSink, SinkMeta, SkipReason } from '../capture/sink.js';

/** Options of {@link withKafkaLog}: hooks receive node's `IncomingMessage`. */
export type KafkaLogHttpOptions = KafkaLogAdapterOptions<IncomingMessage>;

/**
 * Any request listener: node's `(req, res) => void`, an Express or Connect app, a handler typed with narrower
 * request/response types. (`never` parameters accept every such function.)
 */
export type AnyRequestListener = (request: never, response: never) => unknown;

/** node's request listener, as `http.createServer` takes it. */
export type NodeRequestListener = (request: IncomingMessage, response: ServerResponse) => unknown;

type NodeListener = (this: unknown, request: IncomingMessage, response: ServerResponse) => unknown;

/**
 * Wraps a request listener so that every exchange is logged once its response is over, and returns a listener
 * `http.createServer` takes: node's listener type for a listener of node's request and response (an Express or
 * Connect app included), the listener's own type for one typed with narrower request/response types.
 * The options are compiled here, once (invalid ones throw `InvalidOptionError`); the wrapper never throws on its
 * own and changes nothing the listener or the client sees. An error the listener throws is re-thrown unchanged
 * (and the entry, if any is still sent, says `source: "kong"`).
 */
export function withKafkaLog(listener: NodeRequestListener, options: KafkaLogHttpOptions): NodeRequestListener;
/** A listener typed with narrower request/response types keeps its type. */
export function withKafkaLog<Listener extends AnyRequestListener>(listener: Listener, options: KafkaLogHttpOptions): Listener;
export function withKafkaLog(listener: AnyRequestListener, options: KafkaLogHttpOptions): AnyRequestListener {
  if (typeof listener !== 'function') throw new TypeError('withKafkaLog: listener must be a function');
  const pipeline = createExchangePipeline<IncomingMessage>(options);
  const handle = listener as unknown as NodeListener;
  const wrapped = function kafkaLogListener(this: unknown, request: IncomingMessage, response: ServerResponse): unknown {
    const capture = pipeline.capture(request, response, request);
    capture?.markHandlerStart();
    try {
      return handle.call(this, request, response);
    } catch (error) {
      if (capture !== undefined) capture.source = 'kong';
      throw error;
    }
  };
  return wrapped as unknown as AnyRequestListener;
}

/**
 * The capture of this request (or of its response), for gateways and middleware to annotate: set `upstream`
 * (URI, status, tries), `upstreamLatency` (measured upstream time, ms), `source`, `route`, `service`, `consumer`
 * or `authenticatedEntity`, or call `clearUpstream()`. `undefined` when the request is not being logged.
 */
export function getExchangeCapture(request: IncomingMessage | ServerResponse): GatewayCapture | undefined {
  return captureOf(request);
}
