/**
 * The sandbox that evaluates custom-field expression strings (SPEC section 3), built on `node:vm`.
 *
 * node:vm is NOT a security boundary (Node's own documentation says so): code in a context can still exhaust
 * memory, and V8 bugs have allowed escapes. This sandbox guards against configuration mistakes, not against
 * hostile code: configuration authors are trusted. Within that scope it makes sure that
 *
 * - an expression sees only `entry` and `context` plus the realm's own builtins (JSON, Math, Date, String, ...):
 *   no `require`, `process`, timers, `queueMicrotask`, `fetch`, `console`, WebAssembly or `import()`;
 * - no host object crosses into the context: `entry` and `context` enter as JSON text and are parsed (and
 *   deep-frozen) inside, and results leave as JSON text, so `entry.constructor.constructor` is the context's own
 *   `Function`, whose string compilation is disabled; the contextified global has a null prototype, so
 *   `globalThis.constructor` is the context's `Object`, not the host's;
 * - every run has a time limit (`while (true) {}` ends with an error), promise jobs run inside that limit
 *   (`microtaskMode: 'afterEvaluate'`), and the context's builtins are frozen and their global bindings pinned,
 *   so one expression cannot change what the next one sees (expressions run in strict mode, so an undeclared
 *   assignment throws rather than creating a global).
 *
 * Cost: a vm time limit starts a watchdog thread per run (roughly 0.1 ms), so all expressions of one entry are
 * evaluated in ONE run, not one run each.
 *
 * @module
 */

import vm from 'node:vm';
import type { JsonValue } from './log-entry.js';

/** What one expression produced: a JSON value, removal (neither key), or the reason it failed. */
export interface ExpressionOutcome {
  /** The value, already checked to be JSON data within the size limit. */
  readonly value?: JsonValue;
  /** Why the expression failed (threw, timed out, returned a non-JSON value or a Promise, too large). */
  readonly error?: string;
}

/** Settings of an {@link ExpressionSandbox}. */
export interface ExpressionSandboxOptions {
  /** Time limit of one run of the expressions, milliseconds (a positive integer). */
  readonly timeoutMs: number;
  /** Largest JSON (UTF-8 bytes) one result may have. */
  readonly maxValueBytes: number;
}

/** The functions the setup script leaves in the context, called from the host with primitive arguments only. */
interface SandboxControl {
  register(expression: unknown): number;
  setInput(entryJson: string, contextJson: string, start: number): void;
  partial(): string;
  position(): number;
}

/** Globals a fresh V8 context has that expressions must not use (nondeterminism, blocking, compilation). */
const REMOVED_GLOBALS = ['console', 'WebAssembly', 'Atomics', 'SharedArrayBuffer', 'FinalizationRegistry', 'WeakRef'];

/**
 * Runs once inside the context. Everything here is context code: the objects it makes have the context's
 * prototypes. It returns the control object; the evaluation entry point is the lexical `__kafkaLogRun`.
 */
function setupSource(maxValueBytes: number): string {
  return `'use strict';
const __kafkaLogControl = (() => {
  const G = globalThis;
  for (const name of ${JSON.stringify(REMOVED_GLOBALS)}) delete G[name];
  const freeze = Object.freeze, getProto = Object.getPrototypeOf, isArray = Array.isArray;
  const ObjectProto = Object.prototype, PromiseThen = Promise.prototype.then;
  const stringify = JSON.stringify, parse = JSON.parse;
  const MAX = ${maxValueBytes};
  // Freeze the builtins and pin their global bindings so an expression cannot change what a later one sees.
  for (const name of Reflect.ownKeys(G)) {
    if (name === 'globalThis') continue;
    const own = Object.getOwnPropertyDescriptor(G, name);
    if (own && !own.configurable) {
      // e.g. gc under node --expose-gc: neither deletable nor re-describable; a writable one is emptied
      // and pinned (an expression must not force collections), a read-only one (NaN, undefined) stays as is.
      if (own.writable) Object.defineProperty(G, name, { value: undefined, writable: false });
      continue;
    }
    const v = G[name];
    if ((typeof v === 'object' && v !== null) || typeof v === 'function') {
      freeze(v);
      if (v.prototype) freeze(v.prototype);
    }
    Object.defineProperty(G, name, { value: v, writable: false, enumerable: false, configurable: false });
  }
  const iteratorProto = getProto(getProto([][Symbol.iterator]()));
  freeze(iteratorProto);
  freeze(getProto([][Symbol.iterator]()));
  freeze(getProto(function* () {}).prototype);
  freeze(getProto(function* () {}));
  const deepFreeze = (v) => {
    if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
      freeze(v);
      for (const k of Object.keys(v)) deepFreeze(v[k]);
    }
    return v;
  };
  const describe = (e) => {
    try {
      if (e instanceof Error) return e.name + ': ' + e.message;
      if (typeof e === 'string') return e;
      return 'a non-Error value (' + typeof e + ')';
    } catch { return 'an unprintable value'; }
  };
  // JSON data only: what JSON.stringify would write without silently changing it.
  function replacer(key, value) {
    const original = this[key];
    const t = typeof original;
    if (t === 'function' || t === 'symbol' || t === 'bigint') {
      throw new TypeError('a ' + t + ' is not a JSON value' + (key === '' ? '' : ' (at key "' + key + '")'));
    }
    if (t === 'number' && !Number.isFinite(original)) {
      throw new TypeError(original + ' is not a JSON number' + (key === '' ? '' : ' (at key "' + key + '")'));
    }
    if (t === 'object' && original !== null && !isArray(original)) {
      const proto = getProto(original);
      if (proto !== ObjectProto && proto !== null) {
        const name = (proto.constructor && proto.constructor.name) || 'non-plain';
        throw new TypeError('a ' + name + ' object is not JSON data, return plain objects, arrays and primitives'
          + (key === '' ? '' : ' (at key "' + key + '")'));
      }
    }
    return value;
  }
  const utf8Length = (s) => {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) { n += 4; i++; }
      else n += 3;
    }
    return n;
  };
  const failure = (message) => '{"error":' + stringify(message) + '}';
  const expressions = [];
  const parts = [];
  let entryJson = '', contextJson = '', entry, context, start = 0, current = 0;
  const evaluateOne = (fn) => {
    let result;
    try { result = fn(entry, context); } catch (e) { return failure('threw ' + describe(e)); }
    if (result === undefined) return '{}';
    if ((typeof result === 'object' || typeof result === 'function') && result !== null
        && typeof result.then === 'function') {
      try { PromiseThen.call(result, undefined, () => {}); } catch {}
      return failure('returned a Promise; custom fields must be synchronous');
    }
    let json;
    try { json = stringify(result, replacer); } catch (e) { return failure(describe(e)); }
    // UTF-8 bytes are at least the UTF-16 length and at most three times it: count only when in doubt.
    if (json.length > MAX || (json.length * 3 > MAX && utf8Length(json) > MAX)) {
      return failure('the value is larger than maxValueBytes (' + MAX + ' bytes of JSON)');
    }
    return '{"value":' + json + '}';
  };
  const control = freeze({
    register(fn) {
      if (typeof fn !== 'function') throw new TypeError('not an expression');
      expressions.push(fn);
      return expressions.length - 1;
    },
    setInput(newEntryJson, newContextJson, newStart) {
      if (newEntryJson !== entryJson) { entry = undefined; entryJson = newEntryJson; }
      if (newContextJson !== contextJson) { context = undefined; contextJson = newContextJson; }
      start = newStart;
      current = newStart;
      parts.length = 0;
    },
    run() {
      // Parsing happens here, inside the time limit.
      if (entry === undefined) entry = deepFreeze(parse(entryJson));
      if (context === undefined) context = deepFreeze(parse(contextJson));
      for (current = start; current < expressions.length; current++) parts.push(evaluateOne(expressions[current]));
      return '[' + parts.join(',') + ']';
    },
    partial() { return '[' + parts.join(',') + ']'; },
    position() { return current; },
  });
  return control;
})();
const __kafkaLogRun = __kafkaLogControl.run;
__kafkaLogControl;`;
}

/** Longest a compile may run (it runs at start-up, where a slow machine must not fail a good config). */
const COMPILE_TIMEOUT_MS = 2000;

/** Dynamic `import()` is never available to expressions. */
function rejectDynamicImport(): never {
  throw new Error('import() is not available in custom field expressions');
}

/** Whether an error is node:vm's time-limit error. */
function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/**
 * One vm context holding compiled expressions. Create it once at start-up, {@link ExpressionSandbox.compile}
 * each expression once, then call {@link ExpressionSandbox.evaluateAll} once per entry.
 */
export class ExpressionSandbox {
  readonly #context: vm.Context;
  readonly #control: SandboxControl;
  readonly #runner: vm.Script;
  readonly #timeoutMs: number;
  #count = 0;

  /** Creates the context and runs its setup script. */
  constructor(options: ExpressionSandboxOptions) {
    this.#timeoutMs = options.timeoutMs;
    // A null-prototype global: nothing of the host's Object.prototype is reachable through `globalThis`.
    const globalObject: Record<string, unknown> = Object.create(null);
    this.#context = vm.createContext(globalObject, {
      name: 'kafka-log custom fields',
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: 'afterEvaluate',
    });
    this.#control = vm.runInContext(setupSource(options.maxValueBytes), this.#context, {
      filename: 'kafka-log:custom-fields-setup',
      importModuleDynamically: rejectDynamicImport as never,
    }) as SandboxControl;
    this.#runner = new vm.Script('__kafkaLogRun()', { filename: 'kafka-log:custom-fields-run' });
  }

  /** How many expressions are compiled. */
  get size(): number {
    return this.#count;
  }

  /**
   * Compiles `expression` (a JavaScript expression with `entry` and `context` in scope) and returns its index.
   * Throws a plain `Error` describing a syntax error or a forbidden construct; the caller names the field.
   */
  compile(expression: string, name: string): number {
    if (/\bimport\s*\(/.test(expression)) throw new Error('import() is not available in custom field expressions');
    // The newline before ")" lets an expression end in a line comment.
    const source = `(function (entry, context) { 'use strict'; return (\n${expression}\n); })`;
    const script = new vm.Script(source, {
      filename: `customFields.${name}`,
      lineOffset: -1,
      importModuleDynamically: rejectDynamicImport as never,
    });
    // Running the script only defines the function, unless the expression closes the parenthesis and runs
    // statements of its own: keep a limit, but a start-up one, not the per-entry limit a busy machine can exceed.
    const fn: unknown = script.runInContext(this.#context, { timeout: Math.max(this.#timeoutMs, COMPILE_TIMEOUT_MS) });
    const index = this.#control.register(fn);
    this.#count = index + 1;
    return index;
  }

  /**
   * Evaluates every compiled expression against `entryJson` and `contextJson` (the entry and the context as
   * JSON text), in order, in one run limited to `timeoutMs`. When the limit passes, the expression running at
   * that moment fails with a time-out and a new run (with a fresh limit) resumes after it, so one stuck
   * expression costs one limit and the others still count. Never throws.
   */
  evaluateAll(entryJson: string, contextJson: string): ExpressionOutcome[] {
    const outcomes: ExpressionOutcome[] = [];
    let start = 0;
    while (start < this.#count) {
      this.#control.setInput(entryJson, contextJson, start);
      try {
        const json = this.#runner.runInContext(this.#context, { timeout: this.#timeoutMs });
        appendOutcomes(outcomes, json);
        return outcomes;
      } catch (error) {
        const stoppedAt = this.#control.position();
        appendOutcomes(outcomes, this.#control.partial());
        const reason = isTimeout(error)
          ? `timed out (limit ${this.#timeoutMs} ms)`
          : `could not be evaluated: ${error instanceof Error ? error.message : String(error)}`;
        outcomes.push({ error: reason });
        start = Math.max(stoppedAt, start) + 1;
        while (outcomes.length < start) outcomes.push({ error: reason });
      }
    }
    return outcomes;
  }
}

/** Appends the outcomes of a run (a JSON array made inside the context) to `outcomes`. */
function appendOutcomes(outcomes: ExpressionOutcome[], json: unknown): void {
  if (typeof json !== 'string') return;
  const parsed = JSON.parse(json) as ExpressionOutcome[];
  for (const outcome of parsed) outcomes.push(outcome);
}

/** Deepest level of `context` copied into the sandbox. */
const MAX_CONTEXT_DEPTH = 8;
/** Most values of `context` copied into the sandbox, so a huge framework object costs little. */
const MAX_CONTEXT_VALUES = 2000;

/**
 * The JSON text of what an expression sees as `context`: a data snapshot. Copied are primitives, arrays, plain
 * objects, and the own enumerable properties of the objects directly inside `context` (e.g. a framework
 * request's `url`, `method`, `params`, `body`), except `_`-prefixed internals. Functions, symbols, bigints,
 * binary data, class instances further down, cycles, and anything beyond 8 levels or 2000 values are left out.
 * Function fields get the real context; use one when an expression cannot reach what it needs.
 */
export function contextToJson(context: Readonly<Record<string, unknown>> | undefined): string {
  if (context === undefined || context === null) return '{}';
  const budget = { left: MAX_CONTEXT_VALUES };
  const copy = copyContextValue(context, 0, budget, []);
  return copy === undefined ? '{}' : JSON.stringify(copy);
}

/** One step of {@link contextToJson}; `undefined` means "leave out". */
function copyContextValue(value: unknown, depth: number, budget: { left: number }, ancestors: unknown[]): unknown {
  if (budget.left-- <= 0) return undefined;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (depth >= MAX_CONTEXT_DEPTH || ancestors.includes(value)) return undefined;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  ancestors.push(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    for (const item of value) {
      if (budget.left <= 0) break;
      const copied = copyContextValue(item, depth + 1, budget, ancestors);
      list.push(copied === undefined ? null : copied);
    }
    copy = list;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    const plain = proto === null || Object.getPrototypeOf(proto) === null;
    // Class instances are copied only directly below `context` (the framework request, say), not further down.
    if (plain || depth <= 1) {
      const object: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (budget.left <= 0) break;
        if (!plain && key.startsWith('_')) continue;
        const copied = copyContextValue((value as Record<string, unknown>)[key], depth + 1, budget, ancestors);
        if (copied !== undefined) object[key] = copied;
      }
      copy = object;
    }
  }
  ancestors.pop();
  return copy;
}
