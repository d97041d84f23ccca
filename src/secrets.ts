/**
 * The secrets one publisher or registry client holds, and their removal from text and errors.
 *
 * Errors are built clean: their text goes through {@link SecretSet.scrub} before the error object exists, and a
 * cause that comes from elsewhere (a Kafka client, a socket, a custom transport) is replaced by a scrubbed copy
 * ({@link SecretSet.cleanError}). So no error holding a secret ever reaches code outside kafka-log, and a stack
 * read early is as clean as one read late (V8 formats `stack` once, from the message of that moment).
 *
 * The set holds the static secrets (passwords, client secrets) and, per token source, only the token in use:
 * a replaced token leaves it, so the set does not grow with the life of the process.
 *
 * @module
 */
import { types } from 'node:util';

/** What a removed secret reads as. */
export const REDACTED = '[REDACTED]';

/** Shorter values are not treated as secrets: cutting every "a" out of a message would make it unreadable. */
const MIN_SECRET_LENGTH = 3;
/** Bounds of an error tree copied by {@link SecretSet.cleanError}: causes nest, aggregates fan out. */
const MAX_DEPTH = 8;
const MAX_ARRAY_ITEMS = 32;

/** Removes secrets from text and errors. A transport builds its errors from what this returns. */
export interface Redactor {
  /** `text` with every known secret (in every form it travels in) replaced by `[REDACTED]`. */
  scrub(text: string): string;
  /**
   * `error` itself when it holds no secret; otherwise a copy of it (same prototype, so `instanceof` and
   * `constructor.name` still hold) whose strings are scrubbed, whose error-valued properties (`cause`,
   * `errors`, ...) are copied the same way, and which keeps no other object.
   */
  cleanError<T>(error: T): T;
}

/**
 * The forms a secret travels in: as is, URL-encoded (query and form bodies), JSON-escaped, and, with a user
 * name, inside HTTP basic's and SASL PLAIN's base64.
 */
function formsOf(secret: string, user: string | undefined): string[] {
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)];
  if (user !== undefined) {
    forms.push(Buffer.from(`${user}:${secret}`).toString('base64'), Buffer.from(`\0${user}\0${secret}`).toString('base64'));
  }
  return forms;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isError(value: object): boolean {
  return value instanceof Error || types.isNativeError(value);
}

/** The secrets of one owner (a publisher, a registry client), and the scrubbing built from them. */
export class SecretSet implements Redactor {
  readonly #fixed = new Set<string>();
  readonly #current = new Map<object, readonly string[]>();
  #pattern: RegExp | null | undefined;

  /** Adds a static secret (a password, a client secret); `user` adds the base64 forms of basic and SASL PLAIN. */
  add(secret: string | undefined, user?: string): this {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return this;
    for (const form of formsOf(secret, user)) this.#fixed.add(form);
    this.#pattern = undefined;
    return this;
  }

  /**
   * Sets the secret `owner` uses now (a token source's current token), replacing the one it used before;
   * `undefined` removes it.
   */
  setCurrent(owner: object, secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) this.#current.delete(owner);
    else this.#current.set(owner, formsOf(secret, undefined));
    this.#pattern = undefined;
  }

  /** How many forms of secrets are held (a replaced token no longer counts). */
  get size(): number {
    const forms = new Set(this.#fixed);
    for (const list of this.#current.values()) for (const form of list) forms.add(form);
    return forms.size;
  }

  /** `text` with every secret, in every form, replaced by `[REDACTED]`. */
  scrub(text: string): string {
    const pattern = this.#compiled();
    if (pattern === null) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, REDACTED);
  }

  /** See {@link Redactor.cleanError}. */
  cleanError<T>(error: T): T {
    const state = { changed: false, seen: new Map<object, unknown>() };
    const copy = this.#copy(error, 0, state);
    return (state.changed ? copy : error) as T;
  }

  #compiled(): RegExp | null {
    if (this.#pattern !== undefined) return this.#pattern;
    const forms = new Set(this.#fixed);
    for (const list of this.#current.values()) for (const form of list) forms.add(form);
    // Longest first, so a form that contains another is removed whole.
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    this.#pattern = sorted.length === 0 ? null : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
    return this.#pattern;
  }

  #copy(value: unknown, depth: number, state: { changed: boolean; seen: Map<object, unknown> }): unknown {
    if (typeof value === 'string') {
      const clean = this.scrub(value);
      if (clean !== value) state.changed = true;
      return clean;
    }
    if (typeof value === 'function' || typeof value === 'symbol') {
      state.changed = true;
      return undefined;
    }
    if (value === null || typeof value !== 'object') return value;
    if (state.seen.has(value)) return state.seen.get(value);
    try {
      return this.#copyObject(value, depth, state);
    } catch {
      // A value whose inspection throws (a Proxy with hostile traps, thrown by user code as a cause): left out.
      state.changed = true;
      return undefined;
    }
  }

  #copyObject(value: object, depth: number, state: { changed: boolean; seen: Map<object, unknown> }): unknown {
    if (depth > MAX_DEPTH || !(Array.isArray(value) || isError(value))) {
      // Objects other than errors may hold anything (a client's config, a socket): they are not carried along.
      state.changed = true;
      return undefined;
    }
    if (Array.isArray(value)) {
      const list: unknown[] = [];
      state.seen.set(value, list);
      if (value.length > MAX_ARRAY_ITEMS) state.changed = true;
      for (const item of value.slice(0, MAX_ARRAY_ITEMS)) list.push(this.#copy(item, depth + 1, state));
      return list;
    }
    const copy = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
    state.seen.set(value, copy);
    for (const name of Object.getOwnPropertyNames(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, name);
      // Accessors are not run (a getter of a foreign error could do anything), except the engine's own `stack`
      // accessor, which newer V8 (Node 24) installs on every error instead of a plain `stack` value.
      const own =
        descriptor !== undefined && 'value' in descriptor
          ? descriptor.value
          : isEngineStack(name, descriptor)
            ? (value as { stack: unknown }).stack
            : NOT_COPIED;
      if (own === NOT_COPIED || descriptor === undefined) {
        state.changed = true;
        continue;
      }
      const item = this.#copy(own, depth + 1, state);
      if (item === undefined && own !== undefined) continue;
      Object.defineProperty(copy, name, { value: item, enumerable: descriptor.enumerable ?? false, writable: true, configurable: true });
    }
    return copy;
  }
}

const NOT_COPIED = Symbol('not copied');

/** The engine's `stack` accessor, where the engine installs one on errors (V8 in Node 24), else undefined. */
const ENGINE_STACK_GETTER = Object.getOwnPropertyDescriptor(new Error(), 'stack')?.get;

function isEngineStack(name: string, descriptor: PropertyDescriptor | undefined): boolean {
  return name === 'stack' && ENGINE_STACK_GETTER !== undefined && descriptor?.get === ENGINE_STACK_GETTER;
}
