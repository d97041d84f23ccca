/**
 * Options of the pure entry builder (their checks and defaults: `check-options.ts`).
 *
 * @module
 */

import type { LogEntry } from './log-entry.js';

/** What to do when a JSON, urlencoded or multipart body cannot be parsed. */
export type BodyParseFailurePolicy =
  /** Kong's behaviour: the entry is not sent (the builder throws a `BodyParseError`). */
  | 'skip-entry'
  /** Send the entry with the raw `body`, without `body_args`, and the reason in `body_args_error`. */
  | 'keep';

/**
 * Which proxies to trust when resolving `client_ip` from `X-Forwarded-For`:
 * `false` (default) uses the socket address; `true` trusts every hop (the left-most address wins);
 * a number trusts that many hops nearest the server; a list trusts those addresses or CIDR ranges
 * (e.g. `['127.0.0.1', '10.0.0.0/8', '::1']`); a function decides per address.
 */
export type TrustProxy = boolean | number | readonly string[] | ((address: string, hopIndex: number) => boolean);

/** How a custom field writes its value (Kong's `set_serialize_value` modes). */
export type CustomFieldMode = 'set' | 'add' | 'replace';

/**
 * What a custom field function receives besides the entry: the `context` the caller passes (adapters pass the
 * framework's request object as `context.request`).
 */
export type CustomFieldContext = Readonly<Record<string, unknown>>;

/** A custom field computed by a function; returning `undefined` removes the field. */
export type CustomFieldFunction = (entry: Readonly<LogEntry>, context: CustomFieldContext) => unknown;

/**
 * A custom field: a function, or a JavaScript expression string (for configuration kept in files) evaluated in a
 * sandbox where `entry` and `context` are in scope, or either of those with an explicit mode (default `set`).
 */
export type CustomField =
  | CustomFieldFunction
  | string
  | CustomFieldWithMode;

/** A custom field with an explicit write mode. */
export interface CustomFieldWithMode {
  /** The function or expression string computing the value. */
  readonly value: CustomFieldFunction | string;
  /** How the value is written; default `set`. */
  readonly mode?: CustomFieldMode;
}

/** A map from dotted key (e.g. `request.tenant`) to custom field. */
export type CustomFields = Readonly<Record<string, CustomField>>;

/**
 * Decides, once the response is complete, whether one side's body is logged. It receives the entry built so far
 * (status, method, route, headers, latencies, ids: everything but bodies and custom fields) and the framework's
 * request (adapters pass theirs; `build(exchange, request)` passes what it is given). Must return a boolean;
 * anything else, or a throw, leaves the body out and is reported.
 *
 * @example
 * ```ts
 * logResponseBody: (entry) => entry.response.status >= 400 // bodies of 4xx and 5xx responses only
 * ```
 */
export type BodyCondition<TRequest = unknown> = (entry: Readonly<LogEntry>, request: TRequest) => boolean;

/**
 * Options of {@link buildLogEntry} and {@link createLogEntryBuilder}. All are optional. `TRequest`: what body
 * conditions receive as their request (the framework's request in an adapter).
 */
export interface EntryOptions<TRequest = unknown> {
  /**
   * Header names (any case) whose values are replaced by `redactedValue`, in requests and responses.
   * Default `['authorization', 'proxy-authorization']`. Giving a list replaces the default.
   */
  redactHeaders?: readonly string[];
  /**
   * Query argument names whose values are replaced by `redactedValue`: in `querystring`, and in the query part of
   * `uri`, `url` and `upstream_uri` (percent-encoded there), so the secret is not left in the raw URI. Default none.
   */
  redactQueryArgs?: readonly string[];
  /** Dotted paths into `body_args` (e.g. `password`, `user.card.number`) whose values are redacted. Default none. */
  redactBodyFields?: readonly string[];
  /** The replacement text. Default `"REDACTED"`. */
  redactedValue?: string;
  /**
   * Log request bodies (`request.body`, `request.body_args`, ...): `true`, or a {@link BodyCondition} deciding per
   * entry once the response is complete (the body is kept up to `maxBodySize` meanwhile, and dropped unparsed when
   * the condition says no). Default `false`.
   */
  logRequestBody?: boolean | BodyCondition<TRequest>;
  /** Log response bodies (`response.body`, ...), beyond Kong: `true`, or a {@link BodyCondition}. Default `false`. */
  logResponseBody?: boolean | BodyCondition<TRequest>;
  /** Longest body logged, in bytes; longer bodies are cut and marked `body_truncated`. Default 65536. */
  maxBodySize?: number;
  /** Deepest JSON nesting parsed into `body_args`; deeper bodies count as parse failures. Default 64. */
  maxJsonDepth?: number;
  /** What to do when a body of a parsed type cannot be parsed. Default `'skip-entry'` (Kong's behaviour). */
  bodyParseFailure?: BodyParseFailurePolicy;
  /** Most headers kept per request or response (Kong's `lua_max_req_headers`). Default 100. */
  maxHeaders?: number;
  /** Most query arguments kept (Kong's `lua_max_uri_args`). Default 100. */
  maxArgs?: number;
  /** Proxies trusted for `X-Forwarded-For`. Default `false`. */
  trustProxy?: TrustProxy;
}
