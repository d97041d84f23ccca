import { describe, expect, it } from 'vitest';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { setupSource } from '../../src/entry/custom-fields/sandbox-source.js';
import { sandboxSetup } from '../../src/entry/custom-fields/sandbox-setup.js';
import { createJsonValueCheck } from '../../src/entry/custom-fields/json-value-check.js';

// One JSON-value check serves function fields (on the host) and expression fields (inside the sandbox): each case
// is written once as JavaScript, run as a function field and as an expression, and both must say the same.
const MAX = 64;
const cases: Record<string, string> = {
  function: '() => 1',
  nestedFunction: '({ a: [1, 2, () => 1] })',
  symbol: "Symbol('s')",
  nestedSymbol: "({ a: { b: Symbol('s') } })",
  bigint: '10n',
  notANumber: 'NaN',
  infinity: '[1, -Infinity]',
  date: 'new Date(0)',
  map: '({ m: new Map() })',
  classInstance: '(() => { class Point { constructor() { this.x = 1; } } return new Point(); })()',
  cyclic: '(() => { const o = { list: [] }; o.list.push(o); return o; })()',
  deep: '(() => { let v = 1; for (let i = 0; i < 2000; i++) v = [v]; return v; })()',
  // 62 two-byte characters and the quotes: 126 bytes; 31: 64 bytes (at the limit); 32: 66 bytes (one over).
  atLimit: "'é'.repeat(31)",
  overLimit: "'é'.repeat(32)",
  astralOverLimit: "'😀'.repeat(16)",
  plainFits: "({ a: [true, null, 'x'], b: { c: 1.5 } })",
  undefinedRemoves: 'undefined',
};

// A time limit no busy machine reaches: building the deep case takes QuickJS tens of milliseconds.
function outcome(field: string | (() => unknown)): { value: unknown; error: string | undefined } {
  const entry = {} as unknown as LogEntry;
  const errors = applyCustomFields(entry, compileCustomFields({ f: field }, { maxValueBytes: MAX, expressionTimeoutMs: 5000 }));
  const error = errors[0]?.message;
  return { value: (entry as unknown as Record<string, unknown>).f, error: error?.replace(/^custom field "f": /, '') };
}

describe('function and expression fields share one JSON-value check', () => {
  it.each(Object.entries(cases))('%s', (_name, source) => {
    // The test's own literal cases, compiled on the host as functions.
    const asFunction = outcome(new Function(`return () => (${source})`)() as () => unknown);
    const asExpression = outcome(source);
    expect(asExpression).toEqual(asFunction);
  });

  it('refuses what is not JSON data, naming the place, and passes what is', () => {
    expect(outcome(cases.nestedFunction as string).error).toBe('a function is not a JSON value (at value.a[2])');
    expect(outcome(cases.nestedSymbol as string).error).toBe('a symbol is not a JSON value (at value.a.b)');
    expect(outcome(cases.infinity as string).error).toBe('-Infinity is not a JSON number (at value[1])');
    expect(outcome(cases.map as string).error).toMatch(/^a Map object is not JSON data/);
    expect(outcome(cases.classInstance as string).error).toMatch(/^a Point object is not JSON data/);
    expect(outcome(cases.cyclic as string).error).toBe('the value is cyclic');
    expect(outcome(cases.deep as string).error).toBe(`the value is larger than maxValueBytes (${MAX} bytes of JSON)`);
    expect(outcome(cases.atLimit as string)).toEqual({ value: 'é'.repeat(31), error: undefined });
    expect(outcome(cases.overLimit as string).error).toBe(`the value is larger than maxValueBytes (${MAX} bytes of JSON)`);
    expect(outcome(cases.plainFits as string).error).toBeUndefined();
  });
});

describe('the sandbox setup script', () => {
  it('is the text of the linted setup function and of the shared check', () => {
    const text = setupSource(1234);
    expect(text).toContain(sandboxSetup.toString());
    expect(text).toContain(createJsonValueCheck.toString());
    expect(text).toContain('(1234, ');
  });

  it('reads nothing from its modules: both functions run when compiled from their text alone', () => {
    // new Function sees only globals: a reference to anything of the module would throw here.
    const check = new Function(`return (${createJsonValueCheck.toString()})()`)() as ReturnType<typeof createJsonValueCheck>;
    expect(check.problem({ a: [1, 'x'] }, 100)).toBeUndefined();
    expect(check.problem({ a: () => 1 }, 100)).toBe('a function is not a JSON value (at value.a)');
    expect(check.textProblem('"é"', 4)).toBeUndefined();
    expect(check.textProblem('"é"', 3)).toBe('the value is larger than maxValueBytes (3 bytes of JSON)');
    expect(sandboxSetup.toString()).not.toMatch(/__name|__require|import\(/);
  });
});
