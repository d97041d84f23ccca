/**
 * The script that prepares a QuickJS context for custom-field expressions, as a function whose text
 * `sandbox-source.ts` hands to QuickJS: it runs there, never on the host, so it reads nothing from this module or
 * its imports, only its parameters and the globals of the realm it runs in. It
 *
 * - replaces every way to compile code from a string (`eval`, `Function` and the constructors of generator and
 *   async functions) with a function that throws, keeping the real indirect eval private to compile expressions;
 * - removes `WeakRef`, `FinalizationRegistry`, `SharedArrayBuffer` (garbage-collection timing and shared memory);
 * - freezes the global object and every object reachable from it or from syntax (iterator, generator and async
 *   prototypes, the `%ThrowTypeError%` accessors): an expression can keep nothing from one entry to the next;
 * - returns the runner: `register(index, source, text)`, `switchOff(index)`, `load(entryJson, contextJson)`,
 *   `evaluate(index)`, and `runAll(entryJson, contextJson)` (load and every expression not switched off, in one
 *   call, with `position()` telling where it stopped). It lives in a closure, out of reach of expressions.
 *
 * Values are checked with the host's own JSON-value check (`createJsonValueCheck`, created here before anything
 * is frozen or any expression runs), so function and expression fields report a value the same way.
 *
 * @module
 */
import type { JsonValueCheck } from './json-value-check.js';

type Expression = (entry: unknown, context: unknown) => unknown;

/** The runner the setup script returns. */
export interface SandboxRunner {
  register(index: number, source: string, text: string): string;
  load(entryJson: string, contextJson: string): void;
  switchOff(index: number): void;
  evaluate(index: number): string;
  runAll(entryJson: string, contextJson: string): string;
  position(): string;
}

/**
 * Prepares the realm; returns the frozen runner. `maxValueBytes`: most bytes of JSON a value may take;
 * `maxMessageChars`: longest description of a thrown value; `createJsonValueCheck`: the value check's factory.
 */
export function sandboxSetup(maxValueBytes: number, maxMessageChars: number, createJsonValueCheck: () => JsonValueCheck): SandboxRunner {
  const G = globalThis as unknown as Record<string, unknown>;
  const freeze = Object.freeze;
  const getProto = Object.getPrototypeOf;
  const defineProperty = Object.defineProperty;
  const ownKeys = Reflect.ownKeys;
  const describeOwn = Reflect.getOwnPropertyDescriptor;
  const apply = Reflect.apply;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const FunctionProto = Function.prototype;
  const functionText = FunctionProto.toString;
  const compile = G.eval as (source: string) => unknown;
  const check = createJsonValueCheck();

  // No code from strings: the constructors reachable through functions and the globals all throw. A constructor
  // (so `new Function(...)` throws this too) named as the one it stands in for; by a property, since compilers
  // rename a function called `Function` that shadows the global.
  function refuse(): never {
    throw new EvalError('Code generation from strings disallowed for custom field expressions');
  }
  defineProperty(refuse, 'name', { value: 'Function' });
  defineProperty(refuse, 'prototype', { value: FunctionProto });
  const functionKinds = [FunctionProto, getProto(function* () {}), getProto(async () => {}), getProto(async function* () {})];
  for (const proto of functionKinds) defineProperty(proto, 'constructor', { value: refuse });
  G.Function = refuse;
  G.eval = refuse;
  for (const name of ['WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics']) delete G[name];

  // Freeze everything an expression can reach: the globals, their prototypes, accessors, and what syntax makes.
  const roots: unknown[] = [
    G,
    ...functionKinds,
    getProto([][Symbol.iterator]()),
    getProto(new Map()[Symbol.iterator]()),
    getProto(new Set()[Symbol.iterator]()),
    getProto(''[Symbol.iterator]()),
    getProto(/a/[Symbol.matchAll]('')),
  ];
  // Iterator helpers, where the engine has them.
  type Helpers = { map(fn: (x: unknown) => unknown): object };
  type IteratorGlobal = { from(iterator: object): object };
  try {
    roots.push(getProto(([].values() as unknown as Helpers).map((x) => x)));
  } catch {}
  try {
    roots.push(getProto((G.Iterator as IteratorGlobal).from({ next: () => ({ done: true, value: undefined }) })));
  } catch {}
  const seen = new Set<unknown>();
  const pending = roots;
  while (pending.length > 0) {
    const value = pending.pop();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
    seen.add(value);
    freeze(value);
    pending.push(getProto(value));
    for (const key of ownKeys(value)) {
      const own = describeOwn(value, key);
      if (own === undefined) continue;
      if ('value' in own) pending.push(own.value);
      else pending.push(own.get, own.set);
    }
  }
  seen.clear();

  const cut = (text: string) => (text.length > maxMessageChars ? `${text.slice(0, maxMessageChars)}...` : text);
  const describe = (e: unknown): string => {
    try {
      if (e instanceof Error) return cut(`${String(e.name)}: ${String(e.message)}`);
      if (typeof e === 'string') return cut(e);
      return `a non-Error value (${typeof e})`;
    } catch {
      return 'an unprintable value';
    }
  };
  // JSON.parse calls it for every value, innermost first: each object is complete, and its parent not yet frozen.
  const frozen = (_key: string, value: unknown) => (typeof value === 'object' && value !== null ? freeze(value) : value);
  const failure = (message: string) => `{"error":${stringify(message)}}`;

  const expressions: Expression[] = [];
  const off: boolean[] = [];
  let entry: unknown = {};
  let context: unknown = {};
  let position = -1;
  const load = (entryJson: string, contextJson: string) => {
    entry = undefined;
    context = undefined;
    entry = parse(entryJson, frozen);
    context = parse(contextJson, frozen);
  };
  const evaluateOne = (index: number): string => {
    const fn = expressions[index];
    if (fn === undefined) return failure('was not compiled');
    let result: unknown;
    try {
      result = fn(entry, context);
    } catch (e) {
      return failure(`threw ${describe(e)}`);
    }
    if (result === undefined) return '{}';
    let json: string;
    try {
      if ((typeof result === 'object' || typeof result === 'function') && result !== null && typeof (result as { then?: unknown }).then === 'function') {
        return failure('returned a Promise; custom fields must be synchronous');
      }
      const problem = check.problem(result, maxValueBytes);
      if (problem !== undefined) return failure(problem);
      json = stringify(result);
    } catch (e) {
      // A getter, a Proxy trap or a toJSON method of the value threw: worded as for function fields.
      return failure(`threw ${describe(e)}`);
    }
    // A getter or a Proxy may answer differently the second time a value is read: the text is measured too.
    const tooLarge = check.textProblem(json, maxValueBytes);
    return tooLarge === undefined ? `{"value":${json}}` : failure(tooLarge);
  };
  return freeze({
    register(index: number, source: string, text: string): string {
      let fn: unknown;
      try {
        fn = compile(source);
      } catch (e) {
        return describe(e);
      }
      if (typeof fn !== 'function' || apply(functionText, fn, []) !== text) {
        return 'it is not one expression (it closes the function it is compiled into)';
      }
      freeze(fn);
      freeze(fn.prototype);
      expressions[index] = fn as Expression;
      return '';
    },
    load,
    switchOff(index: number): void {
      off[index] = true;
    },
    evaluate: evaluateOne,
    runAll(entryJson: string, contextJson: string): string {
      position = -1;
      load(entryJson, contextJson);
      let out = '[';
      for (let index = 0; index < expressions.length; index++) {
        position = index;
        out += (index === 0 ? '' : ',') + (off[index] === true ? 'null' : evaluateOne(index));
      }
      position = expressions.length;
      return `${out}]`;
    },
    position(): string {
      return String(position);
    },
  });
}
