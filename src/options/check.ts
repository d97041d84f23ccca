/**
 * The option checks every options object of kafka-log is validated with: the publisher's, the registry's, the
 * adapters', the entry builder's and Kong's plugin configuration. Each check takes the field's path first and the
 * value second, says one thing per fault, and throws an {@link InvalidOptionError} naming the field. Pure: no
 * I/O and no imports beyond the errors, so the entry builder may use it too.
 *
 * @module
 */
import { InvalidOptionError, type OptionProblem } from '../errors.js';

/** A record of named values: any object that is not an array or binary data (instances of classes count). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** `prefix.name`, or `name` at the top level. */
export function fieldPath(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/**
 * A value as error messages may show it: short scalars as they are, anything else by its kind. Options may hold
 * secrets, so nothing long or nested is ever echoed; checks of secrets never call this.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : 'a long string';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Throws an {@link InvalidOptionError} naming `field`. */
export function refuse(field: string, problem: string): never {
  throw new InvalidOptionError(field, problem);
}

/** A required object (see {@link isPlainObject}). */
export function object(field: string, value: unknown): Record<string, unknown> {
  if (value === undefined) refuse(field, 'is required');
  return isPlainObject(value) ? value : refuse(field, `must be an object, got ${describeValue(value)}`);
}

/** A required non-empty string. */
export function text(field: string, value: unknown): string {
  if (value === undefined) refuse(field, 'is required');
  if (typeof value !== 'string' || value === '') refuse(field, `must be a non-empty string, got ${describeValue(value)}`);
  return value;
}

/** A non-empty string, or `undefined`. */
export function optionalText(field: string, value: unknown): string | undefined {
  return value === undefined ? undefined : text(field, value);
}

/** Any string, the empty one included; `fallback` when absent. */
export function anyText(field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') refuse(field, `must be a string, got ${describeValue(value)}`);
  return value;
}

/** A required password, token or client secret: a non-empty string, never quoted in the message. */
export function secret(field: string, value: unknown): string {
  if (value === undefined) refuse(field, 'is required');
  if (typeof value !== 'string' || value === '') refuse(field, 'must be a non-empty string');
  return value;
}

/** `true` or `false`; `fallback` when absent. */
export function flag(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') refuse(field, `must be true or false, got ${describeValue(value)}`);
  return value;
}

function rangeText(kind: string, min: number, max: number): string {
  const hasMin = min > Number.MIN_SAFE_INTEGER;
  const hasMax = max < Number.MAX_SAFE_INTEGER;
  if (hasMin && hasMax) return `must be ${kind} from ${min} to ${max}`;
  if (hasMin) return `must be ${kind} >= ${min}`;
  if (hasMax) return `must be ${kind} <= ${max}`;
  return `must be ${kind}`;
}

function numberInRange(field: string, value: unknown, fallback: number, whole: boolean, min: number, max: number): number {
  if (value === undefined) return fallback;
  const fits = typeof value === 'number' && (whole ? Number.isInteger(value) : Number.isFinite(value)) && value >= min && value <= max;
  if (!fits) refuse(field, `${rangeText(whole ? 'an integer' : 'a number', min, max)}, got ${describeValue(value)}`);
  return value as number;
}

/** An integer from `min` to `max`; `fallback` when absent. */
export function integer(field: string, value: unknown, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  return numberInRange(field, value, fallback, true, min, max);
}

/** A finite number from `min` to `max` (Kong's `number` fields, seconds say); `fallback` when absent. */
export function finiteNumber(field: string, value: unknown, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  return numberInRange(field, value, fallback, false, min, max);
}

/** One of `allowed`; `fallback` when absent. */
export function oneOf<T extends string | number>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    refuse(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

/** A function, or `undefined`. */
export function optionalFunction<T>(field: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') refuse(field, `must be a function, got ${describeValue(value)}`);
  return value as T;
}

/** An array of non-empty strings (a copy). */
export function textList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) refuse(field, `must be an array of non-empty strings, got ${describeValue(value)}`);
  return value.map((item: unknown, i) => text(`${field}[${i}]`, item));
}

/** An object whose values are strings (a copy), or `undefined`. */
export function optionalTextMap(field: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const map = object(field, value);
  const problems = new OptionProblems();
  for (const [name, item] of Object.entries(map)) {
    if (typeof item !== 'string') problems.add(fieldPath(field, name), `must be a string, got ${describeValue(item)}`);
  }
  problems.throwIfAny();
  return { ...(map as Record<string, string>) };
}

/**
 * An absolute `http:` or `https:` URL without credentials: a URL is shown in errors and log lines, where a
 * password in it would leak, so credentials go in the options made for them (`credentialOptions` names them).
 */
export function httpUrl(field: string, value: unknown, credentialOptions: string): string {
  const url = text(field, value);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    refuse(field, 'must be an absolute http:// or https:// URL');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    refuse(field, `must not contain credentials (a URL shows in errors and logs); give them in ${credentialOptions}`);
  }
  return url;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)/i;

/**
 * A broker address: `host:port`, with IPv6 hosts in brackets (`[::1]:9092`). A scheme (`kafka://`) or a bare
 * IPv6 address gets a message saying what to write instead.
 */
export function hostPort(field: string, value: unknown): string {
  if (typeof value !== 'string') refuse(field, `must be a "host:port" string, got ${describeValue(value)}`);
  const scheme = SCHEME.exec(value);
  if (scheme) {
    const fix = scheme[2] === '' ? '"host:port"' : JSON.stringify(scheme[2]);
    refuse(field, `must be "host:port" without a scheme: write ${fix}, not ${describeValue(value)}`);
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]@]+):(\d{1,5})$/.exec(value);
  if (match === null || Number(match[2]) > 65535) {
    const hint = (value.match(/:/g)?.length ?? 0) > 1 && !value.startsWith('[') ? ' (an IPv6 host goes in brackets: "[::1]:9092")' : '';
    refuse(field, `must be "host:port"${hint}, got ${describeValue(value)}`);
  }
  return value;
}

/** A broker's host name or address, as in Kong's `{ host, port }`: without a scheme. */
export function brokerHost(field: string, value: unknown): string {
  const host = text(field, value);
  const scheme = SCHEME.exec(host);
  if (scheme) {
    const fix = JSON.stringify((scheme[2] ?? '').replace(/:\d*$/, '') || 'host');
    refuse(field, `must be a host name or address without a scheme: write ${fix}, not ${describeValue(host)}`);
  }
  return host;
}

/**
 * The candidate closest to `name` (case, `_` and `-` ignored), when it is close enough to be a likely typo: at
 * most a third of the name's letters (and at least 2) added, removed, changed or swapped, or a name of four
 * letters or more that the candidate starts with (`user` → `username`).
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = normalizedName(name);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let extended: string | undefined;
  for (const candidate of candidates) {
    const normalized = normalizedName(candidate);
    const distance = editDistance(wanted, normalized);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
    if (extended === undefined && wanted.length >= 4 && normalized.startsWith(wanted)) extended = candidate;
  }
  return bestDistance <= Math.max(2, Math.floor(wanted.length / 3)) ? best : extended;
}

function normalizedName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, (before[j - 2] as number) + 1);
      current.push(distance);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/** The problem text of an unknown key: `unknown option`, with the nearest known name when there is one. */
export function unknownOptionProblem(name: string, known: Iterable<string>, aliases?: Readonly<Record<string, string>>): string {
  const alias = aliases !== undefined && Object.hasOwn(aliases, name) ? aliases[name] : undefined;
  if (alias !== undefined) return `unknown option; ${alias}`;
  const nearest = nearestName(name, known);
  return nearest === undefined ? 'unknown option' : `unknown option; did you mean "${nearest}"?`;
}

/**
 * Problems found so far. Checks run one by one through {@link OptionProblems.check}, so one call can report every
 * mistake of an options object rather than the first.
 */
export class OptionProblems {
  readonly #problems: OptionProblem[] = [];

  /** Records a problem. */
  add(field: string, problem: string): void {
    this.#problems.push({ field, problem });
  }

  /** Runs `run`; when it throws an {@link InvalidOptionError}, records its problems and returns `undefined`. */
  check<T>(run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof InvalidOptionError)) throw error;
      this.#problems.push(...error.problems);
      return undefined;
    }
  }

  /** Whether any problem was recorded (at or below `field`, when given). */
  has(field?: string): boolean {
    if (field === undefined) return this.#problems.length > 0;
    return this.#problems.some((p) => p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`));
  }

  /** The problems recorded so far. */
  list(): readonly OptionProblem[] {
    return [...this.#problems];
  }

  /** Throws one {@link InvalidOptionError} holding every recorded problem, if there is any. */
  throwIfAny(): void {
    if (this.#problems.length > 0) throw InvalidOptionError.of(this.#problems);
  }
}

/** How one option is checked: a check applying its default, and the default itself (for docs and tables). */
export interface OptionRule<T> {
  /** Checks (and normalises) the value, `undefined` when absent. Throws {@link InvalidOptionError} naming `field`. */
  readonly check: (field: string, value: unknown) => T;
  /** The value used when the option is absent, when it has one. */
  readonly default?: unknown;
  /** The rules of a nested options object, when the option is one. */
  readonly fields?: OptionSpec;
}

/** A rule with a default (of type `D`, which the check gives for an absent option, or decides later). */
export interface DefaultedRule<T, D = T> extends OptionRule<T> {
  /** The value used when the option is absent. */
  readonly default: D;
}

/** The rules of every option of an options object, by name. */
export type OptionSpec = { readonly [name: string]: OptionRule<unknown> };

/** What {@link checkOptions} returns for a spec: every option checked, defaults applied. */
export type CheckedOptions<S extends OptionSpec> = { -readonly [K in keyof S]: S[K] extends OptionRule<infer T> ? T : never };

/** The defaults of a spec's options that have one. */
export type OptionDefaults<S extends OptionSpec> = {
  readonly [K in keyof S as S[K] extends DefaultedRule<unknown, unknown> ? K : never]: S[K] extends DefaultedRule<unknown, infer D> ? D : never;
};

/** An option checked by `check`; `defaultValue` is what `check` gives for `undefined` (shown in docs). */
export function customOption<T>(check: (field: string, value: unknown) => T): OptionRule<T>;
export function customOption<T, D extends T>(check: (field: string, value: unknown) => T, defaultValue: D): DefaultedRule<T, D>;
export function customOption<T>(check: (field: string, value: unknown) => T, defaultValue?: T): OptionRule<T> {
  return defaultValue === undefined ? { check } : { check, default: defaultValue };
}

/** A nested options object checked by `check`, whose own options are `fields`. */
export function nestedOption<T>(fields: OptionSpec, check: (field: string, value: unknown) => T): OptionRule<T> {
  return { check, fields };
}

/** A required non-empty string. */
export function textOption(): OptionRule<string> {
  return { check: text };
}

/** An optional non-empty string. */
export function optionalTextOption(): OptionRule<string | undefined> {
  return { check: optionalText };
}

/** An optional function. */
export function functionOption<T>(): OptionRule<T | undefined> {
  return { check: (field, value) => optionalFunction<T>(field, value) };
}

/** `true` or `false`, `defaultValue` when absent. */
export function flagOption(defaultValue: boolean): DefaultedRule<boolean> {
  return { check: (field, value) => flag(field, value, defaultValue), default: defaultValue };
}

/**
 * `true`, `false`, or a function deciding per request (`shape` says how it is called, for the error message);
 * `defaultValue` when absent.
 */
export function flagOrFunctionOption<F extends (...args: never[]) => unknown>(defaultValue: boolean, shape: string): DefaultedRule<boolean | F, boolean> {
  return {
    check: (field, value) => {
      if (value === undefined) return defaultValue;
      if (typeof value !== 'boolean' && typeof value !== 'function') refuse(field, `must be true, false or a function ${shape}, got ${describeValue(value)}`);
      return value as boolean | F;
    },
    default: defaultValue,
  };
}

/** An integer from `min` to `max`, `defaultValue` when absent. */
export function integerOption(defaultValue: number, min?: number, max?: number): DefaultedRule<number> {
  return { check: (field, value) => integer(field, value, defaultValue, min, max), default: defaultValue };
}

/** One of `allowed`, `defaultValue` when absent. */
export function oneOfOption<T extends string | number>(allowed: readonly T[], defaultValue: T): DefaultedRule<T> {
  return { check: (field, value) => oneOf(field, value, allowed, defaultValue), default: defaultValue };
}

/** The defaults of the options of `spec` that have one. */
export function defaultsOf<S extends OptionSpec>(spec: S): OptionDefaults<S> {
  const defaults: Record<string, unknown> = {};
  for (const [name, optionRule] of Object.entries(spec)) if ('default' in optionRule) defaults[name] = optionRule.default;
  return defaults as OptionDefaults<S>;
}

/** The rule of a dotted option path in `spec` (through nested options), or `undefined`. */
export function ruleAt(spec: OptionSpec, path: string): OptionRule<unknown> | undefined {
  const [name, ...rest] = path.split('.');
  const found = name === undefined || !Object.hasOwn(spec, name) ? undefined : spec[name];
  if (found === undefined || rest.length === 0) return found;
  return found.fields === undefined ? undefined : ruleAt(found.fields, rest.join('.'));
}

/** How {@link checkOptions} reports. */
export interface CheckOptionsSettings {
  /** Hints for unknown keys that are another name of an option (e.g. Kong's), by key. */
  readonly aliases?: Readonly<Record<string, string>>;
  /**
   * Where problems go. Given: nothing is thrown, and a failed option's value is `undefined` (call
   * `problems.throwIfAny()` before using the result). Absent: one error with every problem is thrown.
   */
  readonly problems?: OptionProblems;
}

/**
 * Checks an options object: refuses keys `spec` does not know (naming the nearest known one, or the hint of
 * `aliases`) and runs every rule, reporting every problem found. `field` is the object's path (`''` at the
 * top: problems then name the option alone).
 */
export function checkOptions<S extends OptionSpec>(
  field: string,
  value: unknown,
  spec: S,
  settings: CheckOptionsSettings = {},
): CheckedOptions<S> {
  const problems = settings.problems ?? new OptionProblems();
  const checked: Record<string, unknown> = {};
  const options = problems.check(() => object(field === '' ? 'options' : field, value));
  if (options !== undefined) {
    refuseUnknownKeys(field, options, Object.keys(spec), problems, settings.aliases);
    for (const [name, optionRule] of Object.entries(spec)) {
      checked[name] = problems.check(() => optionRule.check(fieldPath(field, name), options[name]));
    }
  }
  if (settings.problems === undefined) problems.throwIfAny();
  return checked as CheckedOptions<S>;
}

/** Records an `unknown option` problem for each key of `value` not in `known`. */
export function refuseUnknownKeys(
  field: string,
  value: Record<string, unknown>,
  known: readonly string[],
  problems: OptionProblems,
  aliases?: Readonly<Record<string, string>>,
): void {
  for (const [name, item] of Object.entries(value)) {
    // A key set to undefined says nothing (spreads and optional chains make them); only real values are refused.
    if (item !== undefined && !known.includes(name)) problems.add(fieldPath(field, name), unknownOptionProblem(name, known, aliases));
  }
}

/** The keys of `value` that `spec` knows, copied into a new object (the rest is someone else's to check). */
export function pickOptions(value: Record<string, unknown>, spec: OptionSpec): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of Object.keys(spec)) if (value[name] !== undefined) picked[name] = value[name];
  return picked;
}
