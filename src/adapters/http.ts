/**
 * `kafka-log/http`: logs every request of a plain `node:http` / `node:https` server. The wrapped listener is
 * the upstream: `latencies.proxy` is its time to the first response byte, `source` is `upstream`.
 *
 * ```ts
 * const server = http.createServer(withKafkaLog(app, { sink: publisher }));
 * ```
 *
 * Gateways built on it annotate the capture ({@link getExchangeCapture}) with what they measured upstream.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ExchangeCapture, captureOf } from './capture.js';
import type { KafkaLogAdapterOptions } from './options.js';
import { createExchangePipeline } from './pipeline.js';

export { CLIENT_CLOSED_REQUEST, ExchangeCapture } from './capture.js';
export type { KafkaLogAdapterOptions } from './options.js';
export type { LogSink, SinkMeta } from './sink.js';

/** Options of {@link withKafkaLog}: hooks receive node's `IncomingMessage`. */
export type KafkaLogHttpOptions = KafkaLogAdapterOptions<IncomingMessage>;

/** A `node:http` request listener (what `http.createServer` takes). */
export type RequestListener<Request extends IncomingMessage = IncomingMessage, Response extends ServerResponse = ServerResponse> = (
  request: Request,
  response: Response,
) => unknown;

/**
 * Wraps a request listener so that every exchange is logged once its response is over. The options are
 * compiled here, once (invalid ones throw `InvalidOptionError`); the wrapper never throws on its own and
 * changes nothing the listener or the client sees. An error the listener throws is re-thrown unchanged (and the
 * entry, if any is still sent, says `source: "kong"`).
 */
export function withKafkaLog<Request extends IncomingMessage, Response extends ServerResponse>(
  listener: RequestListener<Request, Response>,
  options: KafkaLogHttpOptions,
): RequestListener<Request, Response> {
  if (typeof listener !== 'function') throw new TypeError('withKafkaLog: listener must be a function');
  const pipeline = createExchangePipeline<IncomingMessage>(options);
  return function kafkaLogListener(this: unknown, request: Request, response: Response): unknown {
    const capture = pipeline.capture(request, response, request);
    capture?.markHandlerStart();
    try {
      return listener.call(this, request, response);
    } catch (error) {
      if (capture !== undefined) capture.source = 'kong';
      throw error;
    }
  };
}

/**
 * The capture watching this request, for gateways and middleware to annotate: set `upstream` (URI, status,
 * tries), `upstreamLatency` (measured upstream time, ms), `source`, `route`, `service` or `consumer`.
 * `undefined` when the request is not being logged.
 */
export function getExchangeCapture<TContext = IncomingMessage>(
  request: IncomingMessage | ServerResponse,
): ExchangeCapture<TContext> | undefined {
  return captureOf<TContext>(request);
}
