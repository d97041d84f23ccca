/**
 * The log entry in Kong's layout (`kong.log.serialize()`), field for field. A consumer written for Kong's
 * Kafka Log plugin reads these entries unchanged.
 *
 * @module
 */

/** A header map: names lower-cased, a repeated header gives an array of its values in arrival order. */
export type HeaderMap = Record<string, string | string[]>;

/** One query-string value: a string, `true` for a bare key (`?debug`), an array when the key repeats. */
export type QueryValue = string | boolean | Array<string | boolean>;

/** The parsed query string, Kong's rules: repeats give arrays, a key with no `=` gives `true`. */
export type QueryMap = Record<string, QueryValue>;

/** Any JSON value (what `JSON.parse` can return). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Body fields that kafka-log adds to `request` (and, when response bodies are logged, to `response`). */
export interface LoggedBody {
  /** The raw body as text, or base64 when `body_base64` is true. Cut at the body size limit. */
  body?: string;
  /** The parsed arguments of a JSON, urlencoded or multipart body. */
  body_args?: JsonValue;
  /** Present and true when `body` holds base64 (content types outside the five text types). */
  body_base64?: boolean;
  /** Present and true when the body was longer than the limit and `body` holds only its first bytes. */
  body_truncated?: boolean;
  /** Why `body_args` is missing although the content type is a parsed one (only with `bodyParseFailure: 'keep'`). */
  body_args_error?: string;
}

/** TLS facts of the client connection (only present over TLS). */
export interface TlsInfo {
  /** Protocol version, e.g. `TLSv1.3`. */
  version: string;
  /** Cipher name as OpenSSL spells it, e.g. `TLS_AES_256_GCM_SHA384`. */
  cipher: string;
  /** Client certificate verification: `SUCCESS`, `FAILED:<reason>` or `NONE`. */
  client_verify: string;
}

/** `request` of a {@link LogEntry}. */
export interface LoggedRequest extends LoggedBody {
  /** The request id, `""` when there is none. */
  id: string;
  /** The raw request URI: path plus `?query` exactly as received. */
  uri: string;
  /** `scheme://host:port` plus the URI; the port is always written when known. */
  url: string;
  /** The parsed query string. */
  querystring: QueryMap;
  /** The HTTP method. */
  method: string;
  /** Request headers; `authorization` and `proxy-authorization` are `"REDACTED"` by default. */
  headers: HeaderMap;
  /** Request length in bytes: request line, headers and body. */
  size: number;
  /** TLS facts, only over TLS. */
  tls?: TlsInfo;
}

/** `response` of a {@link LogEntry}. */
export interface LoggedResponse extends LoggedBody {
  /** The status sent to the client (499 when the client went away first). */
  status: number;
  /** Response headers. */
  headers: HeaderMap;
  /** Bytes sent: status line, headers and body. */
  size: number;
}

/** `latencies` of a {@link LogEntry}, whole milliseconds. */
export interface Latencies {
  /** First byte read from the client to last byte sent. */
  request: number;
  /** Time waiting for the upstream (or the handler, when the app is its own upstream); `-1` when none was reached. */
  proxy: number;
  /** Time spent in the gateway or middleware itself. */
  kong: number;
  /** Time to read the request body. */
  receive: number;
}

/** One balancer try (gateways that retry upstreams). */
export interface UpstreamTry {
  /** Upstream IP address. */
  ip?: string;
  /** Upstream port. */
  port?: number;
  /** Time the balancer took, ms. */
  balancer_latency?: number;
  /** When the balancer started, ms since the epoch. */
  balancer_start?: number;
  /** Further facts of the try. */
  [key: string]: JsonValue | undefined;
}

/** `authenticated_entity` of a {@link LogEntry}. */
export interface AuthenticatedEntity {
  /** The credential's id. */
  id: string;
  /** The consumer the credential belongs to. */
  consumer_id?: string;
}

/** A tracing header format, as a key of `trace_id` (Kong's propagation formats). */
export type TraceIdFormat = 'w3c' | 'b3' | 'jaeger' | 'ot' | 'datadog' | 'aws' | 'gcp' | 'instana';

/**
 * `trace_id` of a {@link LogEntry}, Kong's shape (Kong 3.5 and later): one key per tracing format, each value
 * written the way Kong writes that format. Only the formats found are present.
 */
export interface TraceIds {
  /** From W3C `traceparent` (or the application's active OpenTelemetry span): 32 lower-case hex digits. */
  w3c?: string;
  /** From B3 (`b3`, a `b3=` entry of `tracestate`, or `x-b3-traceid`): 16 or 32 lower-case hex digits, as sent. */
  b3?: string;
  /** From Jaeger `uber-trace-id`: 16 lower-case hex digits for a 64-bit id, else 32 (zero-padded in front). */
  jaeger?: string;
  /** From OpenTracing `ot-tracer-traceid`: 16 or 32 lower-case hex digits, as sent. */
  ot?: string;
  /** From `x-datadog-trace-id`: decimal digits, the id's low 64 bits. */
  datadog?: string;
  /** From AWS X-Ray `x-amzn-trace-id` (`Root=1-<8 hex>-<24 hex>`): the 32 hex digits, lower-case. */
  aws?: string;
  /** From GCP `x-cloud-trace-context`: 32 lower-case hex digits. */
  gcp?: string;
  /** From Instana `x-instana-t`: 16 or 32 lower-case hex digits. */
  instana?: string;
}

/** Who produced the response: the upstream service, or the gateway/middleware itself. */
export type ResponseSource = 'upstream' | 'kong';

/**
 * One log entry in Kong's layout. Optional fields are left out rather than set to `null`. Custom fields add
 * further top-level keys (or keys below the known ones), hence the index signature.
 */
export interface LogEntry {
  /** The request as received. */
  request: LoggedRequest;
  /** URI sent upstream; `""` when there was none. */
  upstream_uri: string;
  /** Status(es) from upstream; `""` when none. */
  upstream_status: string;
  /** The response as sent. */
  response: LoggedResponse;
  /** Latencies in whole milliseconds. */
  latencies: Latencies;
  /** Balancer tries (gateways). */
  tries?: UpstreamTry[];
  /** The authenticated credential. */
  authenticated_entity?: AuthenticatedEntity;
  /** The matched route. */
  route?: JsonObject;
  /** The matched service. */
  service?: JsonObject;
  /** The consumer. */
  consumer?: JsonObject;
  /** The client address. */
  client_ip: string;
  /** Request start, milliseconds since the epoch. */
  started_at: number;
  /** Who produced the response. */
  source: ResponseSource;
  /** Workspace id. */
  workspace?: string;
  /** Workspace name. */
  workspace_name?: string;
  /** Trace ids by tracing format, from the request's tracing headers; absent when it carries none. */
  trace_id?: TraceIds;
  /** Correlation id. */
  correlation_id?: string;
  /** Custom fields. */
  [custom: string]: unknown;
}
