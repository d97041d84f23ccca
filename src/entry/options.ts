/**
 * Options of the pure entry builder: their types, defaults and validation.
 *
 * @module
 */

import type { InvalidOptionError } from '../errors.js';
import {
  type OptionRule,
  anyText,
  checkOptions,
  customOption,
  describeValue,
  flagOption,
  integer,
  integerOption,
  oneOfOption,
  refuse,
  textList,
} from '../options/check.js';
import type { ResolvedEntryOptions } from './build.js';
import { DEFAULT_MAX_HEADERS } from './headers.js';
import type { LogEntry } from './log-entry.js';
import { DEFAULT_MAX_ARGS } from './urlencoded.js';

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

/** Options of {@link buildLogEntry} and {@link createLogEntryBuilder}. All are optional. */
export interface EntryOptions {
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
  /** Log request bodies (`request.body`, `request.body_args`, ...). Default `false`. */
  logRequestBody?: boolean;
  /** Log response bodies (`response.body`, ...), beyond Kong. Default `false`. */
  logResponseBody?: boolean;
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

/** Kong's default redaction list. */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization'];
/** The text that replaces redacted values. */
export const DEFAULT_REDACTED_VALUE = 'REDACTED';
/** Default longest logged body, bytes. */
export const DEFAULT_MAX_BODY_SIZE = 65_536;
/** Default deepest JSON body parsed into `body_args`. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

function nameSet(defaultNames: readonly string[], lowerCase: boolean) {
  return customOption((field, value): ReadonlySet<string> => {
    const names = value === undefined ? defaultNames : textList(field, value);
    return new Set(lowerCase ? names.map((name) => name.toLowerCase()) : names);
  }, new Set(defaultNames));
}

function trustProxy(field: string, value: unknown): TrustProxy | undefined {
  if (value === undefined || typeof value === 'boolean' || typeof value === 'function') return value as TrustProxy | undefined;
  if (typeof value === 'number') return integer(field, value, 0, 0);
  if (Array.isArray(value)) return textList(field, value);
  return refuse(field, `must be true, false, a hop count, a list of addresses or CIDR ranges, or a function, got ${describeValue(value)}`);
}

/**
 * Every entry option: how it is checked and its default. A new option is one line here and one property of
 * {@link EntryOptions} (plus {@link ResolvedEntryOptions} when the builder reads it resolved).
 */
export const ENTRY_OPTIONS = {
  redactHeaders: nameSet(DEFAULT_REDACTED_HEADERS, true),
  redactQueryArgs: nameSet([], false),
  redactBodyFields: customOption((field, value) => (value === undefined ? [] : textList(field, value)), []),
  redactedValue: customOption((field, value) => anyText(field, value, DEFAULT_REDACTED_VALUE), DEFAULT_REDACTED_VALUE),
  logRequestBody: flagOption(false),
  logResponseBody: flagOption(false),
  maxBodySize: integerOption(DEFAULT_MAX_BODY_SIZE, 0),
  maxJsonDepth: integerOption(DEFAULT_MAX_JSON_DEPTH, 1),
  bodyParseFailure: oneOfOption<BodyParseFailurePolicy>(['skip-entry', 'keep'], 'skip-entry'),
  maxHeaders: integerOption(DEFAULT_MAX_HEADERS, 1),
  maxArgs: integerOption(DEFAULT_MAX_ARGS, 1),
  trustProxy: customOption(trustProxy, false),
} satisfies { readonly [K in keyof Required<EntryOptions>]: OptionRule<unknown> };

/**
 * Validates entry options and applies the defaults (`trustProxy` is compiled by the builder).
 *
 * @throws {@link InvalidOptionError} naming every bad option, unknown ones with the nearest known name.
 */
export function resolveEntryOptions(options: EntryOptions): ResolvedEntryOptions {
  const { trustProxy: _compiledByTheBuilder, ...resolved } = checkOptions('', options, ENTRY_OPTIONS);
  return resolved;
}
