/**
 * The script that prepares a QuickJS context for custom-field expressions, and the text each expression is
 * compiled from. Everything here runs inside QuickJS; the host only passes strings in and reads strings out.
 *
 * The setup script:
 * - replaces every way to compile code from a string (`eval`, `Function` and the constructors of generator and
 *   async functions) with a function that throws, keeping the real indirect eval private to compile expressions;
 * - removes `WeakRef`, `FinalizationRegistry`, `SharedArrayBuffer` (garbage-collection timing and shared memory);
 * - freezes the global object and every object reachable from it or from syntax (iterator, generator and async
 *   prototypes, the `%ThrowTypeError%` accessors): an expression can keep nothing from one entry to the next;
 * - returns the runner: `register(index, source, text)`, `switchOff(index)`, `load(entryJson, contextJson)`,
 *   `evaluate(index)`, and `runAll(entryJson, contextJson)` (load and every expression not switched off, in one
 *   call, with `position()` telling where it stopped). It lives in a closure, out of reach of expressions.
 *
 * @module
 */

/** Longest description of a thrown value or failure, in characters. */
const MAX_MESSAGE_CHARS = 500;

/**
 * The JavaScript text of the function an expression is compiled to, and that QuickJS's `Function.prototype.toString`
 * must give back for the compiled value: when the expression closes the parenthesis to run statements of its own,
 * the value is some other function (or none), and the expression is refused. The newline before `)` lets an
 * expression end in a line comment.
 */
export function expressionFunctionText(expression: string): string {
  return `function (entry, context) { 'use strict'; return (\n${expression}\n); }`;
}

/** The script that compiles an expression: its completion value is the function. */
export function expressionScript(expression: string): string {
  return `(${expressionFunctionText(expression)})`;
}

/** The setup script; its completion value is the frozen runner object. */
export function setupSource(maxValueBytes: number): string {
  return `'use strict';
(() => {
  const G = globalThis;
  const freeze = Object.freeze, getProto = Object.getPrototypeOf;
  const defineProperty = Object.defineProperty, ownKeys = Reflect.ownKeys, describeOwn = Reflect.getOwnPropertyDescriptor;
  const apply = Reflect.apply, isArray = Array.isArray, isFinite = Number.isFinite, stringify = JSON.stringify, parse = JSON.parse;
  const ObjectProto = Object.prototype, FunctionProto = Function.prototype, functionText = FunctionProto.toString;
  const compile = G.eval;
  const MAX = ${maxValueBytes};

  // No code from strings: the constructors reachable through functions and the globals all throw.
  const refuse = function Function() {
    throw new EvalError('Code generation from strings disallowed for custom field expressions');
  };
  defineProperty(refuse, 'prototype', { value: FunctionProto });
  const functionKinds = [FunctionProto, getProto(function* () {}), getProto(async function () {}), getProto(async function* () {})];
  for (const proto of functionKinds) defineProperty(proto, 'constructor', { value: refuse });
  G.Function = refuse;
  G.eval = refuse;
  for (const name of ['WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Atomics']) delete G[name];

  // Freeze everything an expression can reach: the globals, their prototypes, accessors, and what syntax makes.
  const roots = [G, ...functionKinds, getProto([][Symbol.iterator]()), getProto(new Map()[Symbol.iterator]()),
    getProto(new Set()[Symbol.iterator]()), getProto(''[Symbol.iterator]()), getProto(/a/[Symbol.matchAll](''))];
  try { roots.push(getProto([].values().map((x) => x))); } catch {}
  try { roots.push(getProto(Iterator.from({ next() { return { done: true }; } }))); } catch {}
  const seen = new Set();
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

  const cut = (text) => (text.length > ${MAX_MESSAGE_CHARS} ? text.slice(0, ${MAX_MESSAGE_CHARS}) + '...' : text);
  const describe = (e) => {
    try {
      if (e instanceof Error) return cut(String(e.name) + ': ' + String(e.message));
      if (typeof e === 'string') return cut(e);
      return 'a non-Error value (' + typeof e + ')';
    } catch {
      return 'an unprintable value';
    }
  };
  // JSON.parse calls it for every value, innermost first: each object is complete, and its parent not yet frozen.
  const frozen = (key, value) => (typeof value === 'object' && value !== null ? freeze(value) : value);
  const at = (key) => (key === '' ? '' : ' (at key "' + key + '")');
  // JSON data only: what JSON.stringify would write without silently changing it.
  function replacer(key, value) {
    const original = this[key];
    const t = typeof original;
    if (t === 'function' || t === 'symbol' || t === 'bigint') throw new TypeError('a ' + t + ' is not a JSON value' + at(key));
    if (t === 'number' && !isFinite(original)) throw new TypeError(original + ' is not a JSON number' + at(key));
    if (t === 'object' && original !== null && !isArray(original)) {
      const proto = getProto(original);
      if (proto !== ObjectProto && proto !== null) {
        const name = (proto.constructor && proto.constructor.name) || 'non-plain';
        throw new TypeError('a ' + name + ' object is not JSON data, return plain objects, arrays and primitives' + at(key));
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
  const off = [];
  let entry = {};
  let context = {};
  let position = -1;
  const load = (entryJson, contextJson) => {
    entry = undefined;
    context = undefined;
    entry = parse(entryJson, frozen);
    context = parse(contextJson, frozen);
  };
  const evaluateOne = (index) => {
    const fn = expressions[index];
    if (fn === undefined) return failure('was not compiled');
    let result;
    try {
      result = fn(entry, context);
    } catch (e) {
      return failure('threw ' + describe(e));
    }
    if (result === undefined) return '{}';
    let json;
    try {
      if ((typeof result === 'object' || typeof result === 'function') && result !== null && typeof result.then === 'function') {
        return failure('returned a Promise; custom fields must be synchronous');
      }
      json = stringify(result, replacer);
    } catch (e) {
      return failure(describe(e));
    }
    // UTF-8 bytes are at least the UTF-16 length and at most three times it: count only when in doubt.
    if (json.length > MAX || (json.length * 3 > MAX && utf8Length(json) > MAX)) {
      return failure('the value is larger than maxValueBytes (' + MAX + ' bytes of JSON)');
    }
    return '{"value":' + json + '}';
  };
  return freeze({
    register(index, source, text) {
      let fn;
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
      expressions[index] = fn;
      return '';
    },
    load,
    switchOff(index) {
      off[index] = true;
    },
    evaluate: evaluateOne,
    runAll(entryJson, contextJson) {
      position = -1;
      load(entryJson, contextJson);
      let out = '[';
      for (let index = 0; index < expressions.length; index++) {
        position = index;
        out += (index === 0 ? '' : ',') + (off[index] === true ? 'null' : evaluateOne(index));
      }
      position = expressions.length;
      return out + ']';
    },
    position() {
      return String(position);
    },
  });
})();`;
}
