/**
 * `buildLogEntry`: one {@link HttpExchange} in, one {@link LogEntry} in Kong's layout out. Pure: no I/O, no
 * clock, no globals. Options are compiled once by {@link createLogEntryBuilder}; the per-request path only
 * walks the exchange.
 *
 * @module
 */

import { type BodySide, CustomFieldError, describeError } from '../errors.js';
import { describeValue } from '../options/check.js';
import { type BodyEncodingOptions, encodeBody } from './body.js';
import { type ClientIpResolver, compileClientIpResolver } from './client-ip.js';
import type { ExchangeBody, ExchangeRequest, ExchangeResponse, HttpExchange, RawHeaders } from './exchange.js';
import { HeaderNames, type HeaderMapOptions, firstHeader, headerBlockSize, toHeaderMap } from './headers.js';
import type { HeaderMap, LogEntry, LoggedBody, LoggedRequest, LoggedResponse, QueryMap } from './log-entry.js';
import { resolveEntryOptions } from './check-options.js';
import type { BodyCondition, BodyParseFailurePolicy, EntryOptions } from './entry-options.js';
import { settleQuietly } from './settle-quietly.js';
import { parseUrlEncoded, redactUrlEncoded } from './urlencoded.js';

export { DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_JSON_DEPTH, DEFAULT_REDACTED_HEADERS, DEFAULT_REDACTED_VALUE } from './check-options.js';

/**
 * A compiled entry builder: options are validated once, `build` runs per request. `TRequest`: what body
 * conditions receive as their request.
 */
export interface LogEntryBuilder<TRequest = unknown> {
  /**
   * Builds the entry; body conditions are called with `request`. Throws a `BodyParseError` when a body of a
   * parsed type fails to parse and the policy is `'skip-entry'` (Kong's default: the entry is not sent), and the
   * `CustomFieldError` of a body condition that threw or returned something else than a boolean; never otherwise.
   */
  build(exchange: HttpExchange, request?: TRequest): LogEntry;
  /**
   * The entry without bodies (what body conditions, and an adapter's `filter` and `sampleRate`, see); complete it
   * with {@link LogEntryBuilder.addBodies}. Never throws.
   */
  buildWithoutBodies(exchange: HttpExchange): LogEntry;
  /**
   * Adds to an entry from {@link LogEntryBuilder.buildWithoutBodies} the bodies the options ask for. Body conditions
   * are called first, both seeing the entry without bodies; one that throws or returns something else than a
   * boolean leaves its body out, and its `CustomFieldError` is returned (a promise it returned is quietened, so its
   * rejection is never unhandled). A body a condition refuses is neither parsed nor encoded. Throws a
   * `BodyParseError` as {@link LogEntryBuilder.build} does.
   */
  addBodies(entry: LogEntry, exchange: HttpExchange, request?: TRequest): readonly CustomFieldError[];
  /** The resolved options, defaults applied. */
  readonly options: Readonly<ResolvedEntryOptions<TRequest>>;
}

/** {@link EntryOptions} with every default applied. */
export interface ResolvedEntryOptions<TRequest = unknown> {
  /** Lower-cased header names to redact. */
  redactHeaders: ReadonlySet<string>;
  /** Query argument names to redact. */
  redactQueryArgs: ReadonlySet<string>;
  /** Dotted `body_args` paths to redact. */
  redactBodyFields: readonly string[];
  /** Replacement text. */
  redactedValue: string;
  /** Whether request bodies are logged, or the condition deciding it per entry. */
  logRequestBody: boolean | BodyCondition<TRequest>;
  /** Whether response bodies are logged, or the condition deciding it per entry. */
  logResponseBody: boolean | BodyCondition<TRequest>;
  /** Longest logged body. */
  maxBodySize: number;
  /** Deepest parsed JSON. */
  maxJsonDepth: number;
  /** Most headers kept per message. */
  maxHeaders: number;
  /** Most query arguments kept. */
  maxArgs: number;
  /** Body parse failure policy. */
  bodyParseFailure: BodyParseFailurePolicy;
}

/** Validates and compiles entry options once (at start-up); throws InvalidOptionError naming every bad option. */
export function createLogEntryBuilder<TRequest = unknown>(options: EntryOptions<TRequest> = {}): LogEntryBuilder<TRequest> {
  const resolved = resolveEntryOptions(options);
  const compiled: CompiledOptions<TRequest> = {
    options: resolved,
    headerMap: {
      redact: resolved.redactHeaders,
      redactedValue: resolved.redactedValue,
      maxHeaders: resolved.maxHeaders,
      names: new HeaderNames(),
    },
    clientIp: compileClientIpResolver(options.trustProxy),
    readsForwardedFor: options.trustProxy !== undefined && options.trustProxy !== false,
    requestBody: bodyEncodingOptions('request', resolved),
    responseBody: bodyEncodingOptions('response', resolved),
  };
  return {
    options: resolved,
    build: (exchange, request) => {
      const entry = buildWithoutBodies(exchange, compiled);
      const [failure] = addBodies(entry, exchange, request as TRequest, compiled);
      if (failure !== undefined) throw failure;
      return entry;
    },
    buildWithoutBodies: (exchange) => buildWithoutBodies(exchange, compiled),
    addBodies: (entry, exchange, request) => addBodies(entry, exchange, request as TRequest, compiled),
  };
}

/**
 * Builds one entry. Convenient for tests and one-off use; a server should call {@link createLogEntryBuilder}
 * once and reuse its `build`.
 */
export function buildLogEntry(exchange: HttpExchange, options: EntryOptions = {}): LogEntry {
  return createLogEntryBuilder(options).build(exchange);
}

/** What a builder prepares once and every `build` reads. */
interface CompiledOptions<TRequest = unknown> {
  options: ResolvedEntryOptions<TRequest>;
  /** Header map options, with the builder's memo of lower-cased names. */
  headerMap: HeaderMapOptions;
  clientIp: ClientIpResolver;
  /** Whether `clientIp` looks at X-Forwarded-For (only when some proxy is trusted). */
  readsForwardedFor: boolean;
  /** Body encoding options of each side. */
  requestBody: BodyEncodingOptions;
  responseBody: BodyEncodingOptions;
}

function bodyEncodingOptions(side: BodySide, options: ResolvedEntryOptions<never>): BodyEncodingOptions {
  return {
    side,
    maxBodySize: options.maxBodySize,
    maxJsonDepth: options.maxJsonDepth,
    redactBodyFields: options.redactBodyFields,
    redactedValue: options.redactedValue,
  };
}

function buildWithoutBodies(exchange: HttpExchange, compiled: CompiledOptions<never>): LogEntry {
  const { options, clientIp } = compiled;
  const { request, response, timings } = exchange;
  const upstreamTime = timings.upstream;
  const loggedRequest = buildRequest(exchange, compiled);
  const entry: LogEntry = {
    request: loggedRequest,
    upstream_uri: redactUri(exchange.upstream?.uri ?? '', options),
    upstream_status: upstreamStatusText(exchange.upstream?.status),
    response: buildResponse(response, compiled),
    latencies: {
      request: wholeMs(timings.total),
      proxy: upstreamTime === undefined ? -1 : wholeMs(upstreamTime),
      kong: wholeMs(timings.own ?? Math.max(0, timings.total - (upstreamTime ?? 0))),
      receive: wholeMs(timings.receive),
    },
    client_ip: clientIp(
      exchange.remoteAddress,
      compiled.readsForwardedFor ? headerOf(loggedRequest.headers, request.headers, 'x-forwarded-for', options, true) : undefined,
    ),
    started_at: Math.floor(timings.startedAt),
    source: exchange.source ?? 'upstream',
  };
  if (exchange.upstream?.tries !== undefined) entry.tries = exchange.upstream.tries;
  if (exchange.authenticatedEntity !== undefined) entry.authenticated_entity = exchange.authenticatedEntity;
  if (exchange.route !== undefined) entry.route = exchange.route;
  if (exchange.service !== undefined) entry.service = exchange.service;
  if (exchange.consumer !== undefined) entry.consumer = exchange.consumer;
  if (exchange.workspace !== undefined) entry.workspace = exchange.workspace;
  if (exchange.workspaceName !== undefined) entry.workspace_name = exchange.workspaceName;
  if (exchange.traceIds !== undefined) entry.trace_id = exchange.traceIds;
  if (exchange.correlationId !== undefined) entry.correlation_id = exchange.correlationId;
  return entry;
}

function buildRequest(exchange: HttpExchange, compiled: CompiledOptions<never>): LoggedRequest {
  const options = compiled.options;
  const request = exchange.request;
  const uri = redactUri(request.uri, options);
  // The header map is built once and read for Host, Content-Type and X-Forwarded-For, rather than searching the
  // raw list (lower-casing every name) for each.
  const headers = toHeaderMap(request.headers, compiled.headerMap);
  const authority = request.host ?? headerOf(headers, request.headers, 'host', options) ?? '';
  const logged: LoggedRequest = {
    id: exchange.requestId ?? '',
    uri,
    url: `${request.scheme}://${hostAndPort(authority, request)}${uri}`,
    querystring: queryOf(request.uri, options),
    method: request.method,
    headers,
    size: request.size ?? requestSize(request),
  };
  if (request.tls !== undefined) {
    logged.tls = { version: request.tls.version, cipher: request.tls.cipher, client_verify: request.tls.clientVerify };
  }
  return logged;
}

function buildResponse(response: ExchangeResponse, compiled: CompiledOptions<never>): LoggedResponse {
  const headers = toHeaderMap(response.headers, compiled.headerMap);
  return {
    status: response.status,
    headers,
    size: response.size ?? responseSize(response),
  };
}

/** Shared by every entry whose body conditions all answered: no allocation on the common path. */
const NO_FAILURES: readonly CustomFieldError[] = Object.freeze([]);

/**
 * Adds the bodies the options ask for. Both conditions are asked before either body is added, so each sees the
 * entry without bodies; a body that is not logged is never parsed or encoded.
 */
function addBodies<TRequest>(entry: LogEntry, exchange: HttpExchange, request: TRequest, compiled: CompiledOptions<TRequest>): readonly CustomFieldError[] {
  const options = compiled.options;
  const requestRule = options.logRequestBody;
  const responseRule = options.logResponseBody;
  if (requestRule === false && responseRule === false) return NO_FAILURES;
  const requestBody = exchange.request.body;
  const responseBody = exchange.response.body;
  let failures: CustomFieldError[] | undefined;
  const fail = (failure: CustomFieldError): false => {
    failures ??= [];
    failures.push(failure);
    return false;
  };
  const logRequest =
    requestBody !== undefined && (requestRule === true || (requestRule !== false && asks(requestRule, 'logRequestBody', entry, request, fail)));
  const logResponse =
    responseBody !== undefined && (responseRule === true || (responseRule !== false && asks(responseRule, 'logResponseBody', entry, request, fail)));
  if (logRequest) {
    const contentType = headerOf(entry.request.headers, exchange.request.headers, 'content-type', options);
    addBodyFields(entry.request, bodyFields(requestBody, contentType, compiled.requestBody, options));
  }
  if (logResponse) {
    const contentType = headerOf(entry.response.headers, exchange.response.headers, 'content-type', options);
    addBodyFields(entry.response, bodyFields(responseBody, contentType, compiled.responseBody, options));
  }
  return failures ?? NO_FAILURES;
}

/** Asks a body condition; a throw or an answer that is not a boolean is a failure (the body is left out). */
function asks<TRequest>(
  condition: BodyCondition<TRequest>,
  option: string,
  entry: LogEntry,
  request: TRequest,
  fail: (failure: CustomFieldError) => false,
): boolean {
  let answer: unknown;
  try {
    answer = condition(entry, request);
  } catch (error) {
    return fail(new CustomFieldError(option, `the ${option} condition threw: ${describeError(error)}`, error));
  }
  if (typeof answer === 'boolean') return answer;
  settleQuietly(answer);
  return fail(new CustomFieldError(option, `the ${option} condition returned ${describeValue(answer)}, not true or false`));
}


function bodyFields(
  body: ExchangeBody,
  contentType: string | undefined,
  encoding: BodyEncodingOptions,
  options: ResolvedEntryOptions<never>,
): LoggedBody {
  const encoded = encodeBody(body, contentType, encoding);
  if (encoded.ok) return encoded.fields;
  if (options.bodyParseFailure === 'skip-entry') throw encoded.error;
  return { ...encoded.fields, body_args_error: encoded.error.message };
}

/**
 * The URI with the values of `redactQueryArgs` replaced, so a secret query argument is not left in `uri`,
 * `url` or `upstream_uri` after being redacted from `querystring`.
 */
function redactUri(uri: string, options: ResolvedEntryOptions<never>): string {
  if (options.redactQueryArgs.size === 0) return uri;
  const mark = uri.indexOf('?');
  if (mark === -1) return uri;
  const hash = uri.indexOf('#', mark);
  const end = hash === -1 ? uri.length : hash;
  const query = uri.slice(mark + 1, end);
  const redacted = redactUrlEncoded(query, (key) => options.redactQueryArgs.has(key), options.redactedValue);
  return redacted === query ? uri : `${uri.slice(0, mark + 1)}${redacted}${uri.slice(end)}`;
}

/**
 * A header's value from the logged map (its first value, or all joined with `, ` for list headers such as
 * X-Forwarded-For), or from the raw list when the map holds it redacted.
 */
function headerOf(
  map: HeaderMap,
  raw: RawHeaders,
  name: string,
  options: ResolvedEntryOptions<never>,
  joinRepeats = false,
): string | undefined {
  if (options.redactHeaders.has(name)) return firstHeader(raw, name);
  const value = map[name];
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return undefined;
  return joinRepeats ? value.join(', ') : value[0];
}

/** Plain stores in a fixed order: every logged body gets the same object shape, which keeps V8's paths monomorphic. */
function addBodyFields(target: LoggedBody, fields: LoggedBody): void {
  if (fields.body !== undefined) target.body = fields.body;
  if (fields.body_args !== undefined) target.body_args = fields.body_args;
  if (fields.body_base64 !== undefined) target.body_base64 = fields.body_base64;
  if (fields.body_truncated !== undefined) target.body_truncated = fields.body_truncated;
  if (fields.body_args_error !== undefined) target.body_args_error = fields.body_args_error;
}

function queryOf(uri: string, options: ResolvedEntryOptions<never>): QueryMap {
  const mark = uri.indexOf('?');
  if (mark === -1) return {};
  const hash = uri.indexOf('#', mark);
  const query = parseUrlEncoded(hash === -1 ? uri.slice(mark + 1) : uri.slice(mark + 1, hash), options.maxArgs);
  for (const name of options.redactQueryArgs) {
    if (Object.hasOwn(query, name)) query[name] = options.redactedValue;
  }
  return query;
}

/**
 * Kong writes `scheme://host:server_port`: the host without any port the client put in the Host header,
 * then the port the request arrived on.
 */
function hostAndPort(authority: string, request: ExchangeRequest): string {
  let host = authority;
  let portInHost: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = close === -1 ? authority : authority.slice(0, close + 1);
    if (close !== -1 && authority[close + 1] === ':') portInHost = authority.slice(close + 2);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon !== -1) {
      host = authority.slice(0, colon);
      portInHost = authority.slice(colon + 1);
    }
  }
  const port = request.port ?? (portInHost ? Number(portInHost) : request.scheme === 'https' ? 443 : 80);
  return `${(host || 'localhost').toLowerCase()}:${port}`;
}

function upstreamStatusText(status: number | string | readonly number[] | undefined): string {
  if (status === undefined) return '';
  if (typeof status === 'object') return status.join(', ');
  return String(status);
}

function requestSize(request: ExchangeRequest): number {
  // `METHOD SP uri SP HTTP/x.y CRLF`
  const line = request.method.length + request.uri.length + (request.httpVersion ?? '1.1').length + 9;
  return line + headerBlockSize(request.headers) + bodySize(request.body);
}

function responseSize(response: ExchangeResponse): number {
  // `HTTP/1.1 SP 200 SP reason CRLF`; the reason phrase is unknown here, so count the status line without it.
  return 15 + headerBlockSize(response.headers) + bodySize(response.body);
}

function bodySize(body: ExchangeBody | undefined): number {
  return body === undefined ? 0 : (body.totalSize ?? body.bytes.length);
}

function wholeMs(ms: number): number {
  return ms > 0 ? Math.round(ms) : 0;
}
