/**
 * `buildLogEntry`: one {@link HttpExchange} in, one {@link LogEntry} in Kong's layout out. Pure: no I/O, no
 * clock, no globals. Options are compiled once by {@link createLogEntryBuilder}; the per-request path only
 * walks the exchange.
 *
 * @module
 */

import { InvalidOptionError } from '../errors.js';
import type { BodySide } from '../errors.js';
import { type BodyEncodingOptions, encodeBody } from './body.js';
import { type ClientIpResolver, compileClientIpResolver } from './client-ip.js';
import type { ExchangeBody, ExchangeRequest, ExchangeResponse, HttpExchange, RawHeaders } from './exchange.js';
import { DEFAULT_MAX_HEADERS, HeaderNames, type HeaderMapOptions, firstHeader, headerBlockSize, toHeaderMap } from './headers.js';
import type { HeaderMap, LogEntry, LoggedBody, LoggedRequest, LoggedResponse, QueryMap } from './log-entry.js';
import type { BodyParseFailurePolicy, EntryOptions } from './options.js';
import { DEFAULT_MAX_ARGS, parseUrlEncoded, redactUrlEncoded } from './urlencoded.js';

/** Kong's default redaction list. */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization'];
/** The text that replaces redacted values. */
export const DEFAULT_REDACTED_VALUE = 'REDACTED';
/** Default longest logged body, bytes. */
export const DEFAULT_MAX_BODY_SIZE = 65_536;
/** Default deepest JSON body parsed into `body_args`. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/** A compiled entry builder: options are validated once, `build` runs per request. */
export interface LogEntryBuilder {
  /**
   * Builds the entry. Throws a `BodyParseError` when a body of a parsed type fails to parse and the policy
   * is `'skip-entry'` (Kong's default: the entry is not sent); never throws otherwise.
   */
  build(exchange: HttpExchange): LogEntry;
  /** The resolved options, defaults applied. */
  readonly options: Readonly<ResolvedEntryOptions>;
}

/** {@link EntryOptions} with every default applied. */
export interface ResolvedEntryOptions {
  /** Lower-cased header names to redact. */
  redactHeaders: ReadonlySet<string>;
  /** Query argument names to redact. */
  redactQueryArgs: ReadonlySet<string>;
  /** Dotted `body_args` paths to redact. */
  redactBodyFields: readonly string[];
  /** Replacement text. */
  redactedValue: string;
  /** Whether request bodies are logged. */
  logRequestBody: boolean;
  /** Whether response bodies are logged. */
  logResponseBody: boolean;
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

/** Validates and compiles entry options once (at start-up); throws InvalidOptionError naming the field. */
export function createLogEntryBuilder(options: EntryOptions = {}): LogEntryBuilder {
  const resolved = resolveEntryOptions(options);
  const compiled: CompiledOptions = {
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
    build: (exchange) => buildWith(exchange, compiled),
  };
}

/**
 * Builds one entry. Convenient for tests and one-off use; a server should call {@link createLogEntryBuilder}
 * once and reuse its `build`.
 */
export function buildLogEntry(exchange: HttpExchange, options: EntryOptions = {}): LogEntry {
  return createLogEntryBuilder(options).build(exchange);
}

function resolveEntryOptions(options: EntryOptions): ResolvedEntryOptions {
  return {
    redactHeaders: new Set(nameList(options.redactHeaders ?? DEFAULT_REDACTED_HEADERS, 'redactHeaders', true)),
    redactQueryArgs: new Set(nameList(options.redactQueryArgs ?? [], 'redactQueryArgs', false)),
    redactBodyFields: nameList(options.redactBodyFields ?? [], 'redactBodyFields', false),
    redactedValue: stringOption(options.redactedValue, 'redactedValue', DEFAULT_REDACTED_VALUE),
    logRequestBody: booleanOption(options.logRequestBody, 'logRequestBody'),
    logResponseBody: booleanOption(options.logResponseBody, 'logResponseBody'),
    maxBodySize: countOption(options.maxBodySize, 'maxBodySize', DEFAULT_MAX_BODY_SIZE, 0),
    maxJsonDepth: countOption(options.maxJsonDepth, 'maxJsonDepth', DEFAULT_MAX_JSON_DEPTH, 1),
    maxHeaders: countOption(options.maxHeaders, 'maxHeaders', DEFAULT_MAX_HEADERS, 1),
    maxArgs: countOption(options.maxArgs, 'maxArgs', DEFAULT_MAX_ARGS, 1),
    bodyParseFailure: policyOption(options.bodyParseFailure),
  };
}

/** What a builder prepares once and every `build` reads. */
interface CompiledOptions {
  options: ResolvedEntryOptions;
  /** Header map options, with the builder's memo of lower-cased names. */
  headerMap: HeaderMapOptions;
  clientIp: ClientIpResolver;
  /** Whether `clientIp` looks at X-Forwarded-For (only when some proxy is trusted). */
  readsForwardedFor: boolean;
  /** Body encoding options of each side. */
  requestBody: BodyEncodingOptions;
  responseBody: BodyEncodingOptions;
}

function bodyEncodingOptions(side: BodySide, options: ResolvedEntryOptions): BodyEncodingOptions {
  return {
    side,
    maxBodySize: options.maxBodySize,
    maxJsonDepth: options.maxJsonDepth,
    redactBodyFields: options.redactBodyFields,
    redactedValue: options.redactedValue,
  };
}

function buildWith(exchange: HttpExchange, compiled: CompiledOptions): LogEntry {
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

function buildRequest(exchange: HttpExchange, compiled: CompiledOptions): LoggedRequest {
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
  if (options.logRequestBody && request.body !== undefined) {
    addBodyFields(logged, bodyFields(request.body, headerOf(headers, request.headers, 'content-type', options), compiled.requestBody, options));
  }
  return logged;
}

function buildResponse(response: ExchangeResponse, compiled: CompiledOptions): LoggedResponse {
  const options = compiled.options;
  const headers = toHeaderMap(response.headers, compiled.headerMap);
  const logged: LoggedResponse = {
    status: response.status,
    headers,
    size: response.size ?? responseSize(response),
  };
  if (options.logResponseBody && response.body !== undefined) {
    addBodyFields(logged, bodyFields(response.body, headerOf(headers, response.headers, 'content-type', options), compiled.responseBody, options));
  }
  return logged;
}

function bodyFields(
  body: ExchangeBody,
  contentType: string | undefined,
  encoding: BodyEncodingOptions,
  options: ResolvedEntryOptions,
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
function redactUri(uri: string, options: ResolvedEntryOptions): string {
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
  options: ResolvedEntryOptions,
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

function queryOf(uri: string, options: ResolvedEntryOptions): QueryMap {
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

function nameList(value: unknown, field: string, lowerCase: boolean): string[] {
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || name === '')) {
    throw new InvalidOptionError(field, 'must be an array of non-empty strings');
  }
  return lowerCase ? value.map((name: string) => name.toLowerCase()) : [...value];
}

function stringOption(value: unknown, field: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new InvalidOptionError(field, 'must be a string');
  return value;
}

function booleanOption(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InvalidOptionError(field, 'must be true or false');
  return value;
}

function countOption(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(field, `must be a whole number >= ${min}`);
  }
  return value;
}

function policyOption(value: unknown): BodyParseFailurePolicy {
  if (value === undefined) return 'skip-entry';
  if (value === 'skip-entry' || value === 'keep') return value;
  throw new InvalidOptionError('bodyParseFailure', "must be 'skip-entry' or 'keep'");
}

