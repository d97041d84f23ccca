/**
 * The entry builder's options checked and their defaults applied, once, when a builder is created.
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
  flagOrFunctionOption,
  integer,
  integerOption,
  oneOfOption,
  refuse,
  textList,
} from '../options/check.js';
import type { ResolvedEntryOptions } from './build.js';
import { DEFAULT_MAX_HEADERS } from './headers.js';
import type { BodyCondition, BodyParseFailurePolicy, EntryOptions, TrustProxy } from './entry-options.js';
import { DEFAULT_MAX_ARGS } from './urlencoded.js';

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
  logRequestBody: flagOrFunctionOption<BodyCondition<never>>(false, '(entry, request) => boolean'),
  logResponseBody: flagOrFunctionOption<BodyCondition<never>>(false, '(entry, request) => boolean'),
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
export function resolveEntryOptions<TRequest>(options: EntryOptions<TRequest>): ResolvedEntryOptions<TRequest> {
  const { trustProxy: _compiledByTheBuilder, ...resolved } = checkOptions('', options, ENTRY_OPTIONS);
  return resolved as ResolvedEntryOptions<TRequest>;
}
