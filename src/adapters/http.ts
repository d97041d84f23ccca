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
import { captureOf, isAppPrototypePair, tapPrototypes } from '../capture/capture.js';
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
  const prototypes = tapListenerPrototypes(listener, pipeline.report);
  const wrapped = function kafkaLogListener(this: unknown, request: IncomingMessage, response: ServerResponse): unknown {
    const capture = pipeline.capture(request, response, request, prototypes !== undefined);
    capture?.markHandlerStart();
    try {
      return handle.call(this, request, response);
    } catch (error) {
      if (capture !== undefined) capture.source = 'kong';
      throw error;
    } finally {
      // A listener that did not re-parent this response after all: watched on the instances from here on.
      if (capture !== undefined && prototypes !== undefined && !inherits.call(prototypes, response)) watchInstances(capture, pipeline.report);
    }
  };
  return wrapped as unknown as AnyRequestListener;
}

/**
 * An Express app re-parents every request and response to its own prototypes (`app.request`, `app.response`,
 * which inherit node's) as soon as it is called. Rather than wrapping `push`, `write` and `end` and adding a
 * listener on every request and response (five properties and a listener per request), the capture's wrappers go
 * once onto such an app's prototypes, as `kafka-log/express` does. Returns the response prototype when they carry
 * the wrappers; undefined for any other listener (captured on the instances).
 */
function tapListenerPrototypes(listener: AnyRequestListener, report: (error: unknown) => void): object | undefined {
  try {
    const { request, response } = listener as { request?: object; response?: object };
    if (!isAppPrototypePair(request, response)) return undefined;
    return tapPrototypes(request as object, response as object) ? response : undefined;
  } catch (error) {
    report(error);
    return undefined;
  }
}

const inherits = Object.prototype.isPrototypeOf;

/** Switches a capture to its instances; a response that refuses new properties is reported, never thrown into node. */
function watchInstances(capture: { tapInstances(): void }, report: (error: unknown) => void): void {
  try {
    capture.tapInstances();
  } catch (error) {
    report(error);
  }
}

/**
 * The capture of this request (or of its response), for gateways and middleware to annotate: set `upstream`
 * (URI, status, tries), `upstreamLatency` (measured upstream time, ms), `source`, `route`, `service`, `consumer`
 * or `authenticatedEntity`, or call `clearUpstream()`. `undefined` when the request is not being logged.
 */
export function getExchangeCapture(request: IncomingMessage | ServerResponse): GatewayCapture | undefined {
  return captureOf(request);
}
