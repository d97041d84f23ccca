/**
 * {@link HttpExchange}: the framework-neutral snapshot of one HTTP request/response that adapters capture and
 * the pure entry builder turns into a {@link LogEntry}. Plain data: no sockets, no streams.
 *
 * @module
 */

import type { AuthenticatedEntity, JsonObject, ResponseSource, TraceIds, UpstreamTry } from './log-entry.js';
import type { readTraceIds } from './trace-ids.js';

/**
 * Headers as captured. Prefer the flat `[name, value, name, value, ...]` list node gives as `rawHeaders`
 * (it keeps repeats and order); a record of name to value(s) is accepted too.
 */
export type RawHeaders = readonly string[] | Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** TLS facts of the client connection, as read from the TLS socket. */
export interface ExchangeTls {
  /** e.g. `TLSv1.3` (`socket.getProtocol()`). */
  version: string;
  /** OpenSSL cipher name (`socket.getCipher().standardName` or `.name`). */
  cipher: string;
  /** `SUCCESS`, `FAILED:<reason>` or `NONE`. */
  clientVerify: string;
}

/** A captured body. */
export interface ExchangeBody {
  /** The captured bytes; adapters stop capturing at the size limit, so this may be a prefix. */
  bytes: Uint8Array;
  /** Total length of the body as sent, when known (may exceed `bytes.length`). */
  totalSize?: number;
}

/** The request side of an {@link HttpExchange}. */
export interface ExchangeRequest {
  /** HTTP method, e.g. `GET`. */
  method: string;
  /** The request target exactly as received: path plus `?query`. */
  uri: string;
  /** HTTP version, e.g. `1.1` (default) or `2.0`. */
  httpVersion?: string;
  /** `http` or `https`. */
  scheme: 'http' | 'https';
  /** Host as the client named it (Host header or `:authority`), possibly with a port. */
  host?: string;
  /** The server port the request arrived on. */
  port?: number;
  /** Request headers. */
  headers: RawHeaders;
  /** The request body, when body logging is on. */
  body?: ExchangeBody;
  /** Total request bytes if the adapter counted them; otherwise computed from line, headers and body size. */
  size?: number;
  /** TLS facts; absent on plain HTTP. */
  tls?: ExchangeTls;
}

/** The response side of an {@link HttpExchange}. */
export interface ExchangeResponse {
  /** Status sent (499 when the client went away before the response finished). */
  status: number;
  /** Response headers. */
  headers: RawHeaders;
  /** The response body, when response body logging is on. */
  body?: ExchangeBody;
  /** Total response bytes if the adapter counted them; otherwise computed from status line, headers and body. */
  size?: number;
}

/** Timings of the exchange; durations in milliseconds (fractions allowed, the builder rounds). */
export interface ExchangeTimings {
  /** When the first byte of the request was read, milliseconds since the epoch. */
  startedAt: number;
  /** First byte read to last byte sent. */
  total: number;
  /** Time to read the request body. */
  receive: number;
  /** Time the upstream (or the handler, when the app is its own upstream) took; omit when none was reached. */
  upstream?: number;
  /** Time spent in the middleware/gateway itself; defaults to `total - upstream` (or `total`). */
  own?: number;
}

/** Upstream facts, for gateways. */
export interface ExchangeUpstream {
  /** URI sent upstream, with the query appended. */
  uri: string;
  /** Status or statuses from upstream (several when the gateway retried). */
  status?: number | string | readonly number[];
  /** Balancer tries. */
  tries?: UpstreamTry[];
}

/** A framework-neutral snapshot of one HTTP request/response. */
export interface HttpExchange {
  /** The request. */
  request: ExchangeRequest;
  /** The response. */
  response: ExchangeResponse;
  /** The socket peer address (IPv4-mapped IPv6 addresses are written as IPv4). */
  remoteAddress: string;
  /** Timings. */
  timings: ExchangeTimings;
  /** Who produced the response; defaults to `upstream`. */
  source?: ResponseSource;
  /** Upstream facts (gateways). */
  upstream?: ExchangeUpstream;
  /** The matched route (e.g. `{ path: '/users/:id' }`). */
  route?: JsonObject;
  /** The service. */
  service?: JsonObject;
  /** The consumer. */
  consumer?: JsonObject;
  /** The authenticated credential. */
  authenticatedEntity?: AuthenticatedEntity;
  /** Workspace id. */
  workspace?: string;
  /** Workspace name. */
  workspaceName?: string;
  /** Request id; `""` when none. */
  requestId?: string;
  /** Trace ids by tracing format (`trace_id`); {@link readTraceIds} reads them from request headers as Kong does. */
  traceIds?: TraceIds;
  /** Correlation id. */
  correlationId?: string;
}
