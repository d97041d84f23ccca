// Function fields (checked on the host) and expression fields (checked inside QuickJS) share one JSON value check:
// the same source, run as a function and as an expression, has the same outcome and the same message.
import { describe, expect, it } from 'vitest';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import type { CustomFieldsOptions } from '../../src/entry/custom-fields/custom-fields.js';
import type { CustomFieldFunction, CustomFields } from '../../src/entry/entry-options.js';
import type { LogEntry } from '../../src/entry/log-entry.js';

const PLAIN = 'object is not JSON data, use plain objects, arrays and primitives';
const TOO_LARGE_64 = 'the value is larger than maxValueBytes (64 bytes of JSON)';

/** Source of the value; what is written (as JSON), or the problem reported. */
type Row = [name: string, source: string, expected: { json: string | undefined } | { problem: string | RegExp }];

/** Rows checked with maxValueBytes 64. */
const SMALL_LIMIT: Row[] = [
  ['function', '() => 1', { problem: 'a function is not a JSON value' }],
  ['symbol', "Symbol('x')", { problem: 'a symbol is not a JSON value' }],
  ['bigint', '10n', { problem: 'a bigint is not a JSON value' }],
  ['nan', 'NaN', { problem: 'NaN is not a JSON number' }],
  ['minusInfinity', '-Infinity', { problem: '-Infinity is not a JSON number' }],
  ['map', 'new Map([[1, 2]])', { problem: `a Map ${PLAIN}` }],
  ['date', 'new Date(0)', { problem: `a Date ${PLAIN}` }],
  ['classInstance', 'new (class Point { constructor() { this.x = 1; } })()', { problem: `a Point ${PLAIN}` }],
  ['nullPrototype', 'Object.assign(Object.create(null), { a: 1 })', { json: '{"a":1}' }],
  ['nestedFunction', '({ a: [1, { b: () => 1 }] })', { problem: 'a function is not a JSON value (at value.a[1].b)' }],
  ['nestedMap', '({ list: [new Map()] })', { problem: `a Map ${PLAIN} (at value.list[0])` }],
  ['nestedInfinity', '({ deep: [0, [Infinity]] })', { problem: 'Infinity is not a JSON number (at value.deep[1][0])' }],
  ['cyclic', '(() => { const o = {}; o.self = o; return o; })()', { problem: 'the value is cyclic' }],
  ['cyclicArray', '(() => { const a = [1]; a.push({ back: a }); return a; })()', { problem: 'the value is cyclic' }],
  ['undefinedDropped', '({ gone: undefined, kept: [undefined, 1] })', { json: '{"kept":[null,1]}' }],
  ['removed', 'undefined', { json: undefined }],
  ['twoByteAtLimit', "'é'.repeat(31)", { json: JSON.stringify('é'.repeat(31)) }],
  ['twoByteOverLimit', "'é'.repeat(31) + 'a'", { problem: TOO_LARGE_64 }],
  ['fourByteAtLimit', "'😀'.repeat(15) + 'ab'", { json: JSON.stringify(`${'😀'.repeat(15)}ab`) }],
  ['fourByteOverLimit', "'😀'.repeat(15) + 'abc'", { problem: TOO_LARGE_64 }],
  ['escapesAtLimit', "'\"'.repeat(20) + '\\u0001'.repeat(3) + '\\n'.repeat(2)", { json: JSON.stringify(`${'"'.repeat(20)}${'\u0001'.repeat(3)}\n\n`) }],
  ['escapesOverLimit', "'\"'.repeat(20) + '\\u0001'.repeat(3) + '\\n'.repeat(2) + 'a'", { problem: TOO_LARGE_64 }],
  ['loneSurrogatesAtLimit', "'\\ud800'.repeat(10) + 'ab'", { json: JSON.stringify(`${'\ud800'.repeat(10)}ab`) }],
  ['loneSurrogatesOverLimit', "'\\ud800'.repeat(10) + 'abc'", { problem: TOO_LARGE_64 }],
  ['objectAtLimit', "({ 'ключ': 'é'.repeat(24) + 'a' })", { json: JSON.stringify({ ключ: `${'é'.repeat(24)}a` }) }],
  ['objectOverLimit', "({ 'ключ': 'é'.repeat(24) + 'ab' })", { problem: TOO_LARGE_64 }],
  ['numbers', '[1e-7, -1.2345678901234567e-308, 0.1]', { json: '[1e-7,-1.2345678901234567e-308,0.1]' }],
  ['huge', "'x'.repeat(100000)", { problem: TOO_LARGE_64 }],
  ['getterThrows', "({ a: 1, get b() { throw new Error('boom'); } })", { problem: 'threw Error: boom' }],
];

/** Rows checked with a limit the value never reaches. */
const LARGE_LIMIT: Row[] = [
  // Deeper than either engine's stack allows a walk to go.
  ['deep', '(() => { let v = []; for (let i = 0; i < 30000; i++) v = [v]; return v; })()', { problem: 'the value is nested too deeply' }],
  ['cyclicDeep', '(() => { const o = { n: [] }; o.n.push(o); return { a: { b: o } }; })()', { problem: /^the value is cyclic \(at value\.a\.b(\.n\[0\])+\)$/ }],
  ['nestedALittle', '(() => { let v = 1; for (let i = 0; i < 40; i++) v = { v }; return v; })()', { json: `${'{"v":'.repeat(40)}1${'}'.repeat(40)}` }],
];

/** Each row's outcome: the JSON written, or the error message. */
function outcomes(rows: Row[], fields: CustomFields, options: CustomFieldsOptions): Map<string, string | undefined> {
  const entry = {} as Record<string, unknown>;
  const errors = applyCustomFields(entry as unknown as LogEntry, compileCustomFields(fields, options));
  const byField = new Map(errors.map((error) => [error.field, error.message]));
  return new Map(rows.map(([name]) => [name, byField.get(name) ?? (name in entry ? JSON.stringify(entry[name]) : undefined)]));
}

function expectSameOutcomes(rows: Row[], options: CustomFieldsOptions): void {
  const asFunction = (source: string) => new Function('entry', 'context', `'use strict'; return (\n${source}\n);`) as CustomFieldFunction;
  const functions = outcomes(rows, Object.fromEntries(rows.map(([name, source]) => [name, asFunction(source)])), options);
  const expressions = outcomes(rows, Object.fromEntries(rows.map(([name, source]) => [name, source])), { ...options, expressionTimeoutMs: 5000 });
  for (const [name, , expected] of rows) {
    const got = functions.get(name);
    expect(expressions.get(name), name).toBe(got);
    if ('json' in expected) expect(got, name).toBe(expected.json);
    else if (typeof expected.problem === 'string') expect(got, name).toBe(`custom field "${name}": ${expected.problem}`);
    else expect(got?.replace(`custom field "${name}": `, ''), name).toMatch(expected.problem);
  }
}

describe('function fields and expression fields check values alike', () => {
  it('with a small maxValueBytes: non-JSON values, cycles, sizes at and over the limit in every UTF-8 width', () => {
    expectSameOutcomes(SMALL_LIMIT, { maxValueBytes: 64 });
  });

  it('with a large maxValueBytes: nesting too deep for the stack, cycles found by depth', () => {
    expectSameOutcomes(LARGE_LIMIT, { maxValueBytes: 10_000_000 });
  });
});

describe('expression fields: the JSON text is measured too', () => {
  it('a getter that answers small to the check and large to JSON.stringify is refused by its bytes, not its length', () => {
    const entry = {} as Record<string, unknown>;
    const fields = { grows: "(() => { let reads = 0; return { get s() { return reads++ === 0 ? 'a' : 'é'.repeat(40); } }; })()" };
    const errors = applyCustomFields(entry as unknown as LogEntry, compileCustomFields(fields, { maxValueBytes: 64 }));
    // {"s":"é…é"} is 46 UTF-16 units but 86 bytes.
    expect(errors.map((error) => error.message)).toEqual([`custom field "grows": ${TOO_LARGE_64}`]);
    expect(entry).toEqual({});
  });
});
