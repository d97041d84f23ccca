// The QuickJS sandbox of expression strings: what one entry's expression can leave for the next (nothing), what
// the host does with a thrown value (never reads it), and the limits (time, memory, stack, promise work).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { CustomFields } from '../../src/entry/entry-options.js';

function entryOf(data: Record<string, unknown> = {}): LogEntry {
  return structuredClone(data) as unknown as LogEntry;
}

/** Applies the fields to `count` entries; the written values and failure messages of each. */
function run(fields: CustomFields, count: number, options = {}): Array<{ entry: LogEntry; errors: string[] }> {
  const compiled = compileCustomFields(fields, options);
  return Array.from({ length: count }, (_, n) => {
    const entry = entryOf({ n, request: { headers: { 'x-id': `id-${n}` } } });
    const errors = applyCustomFields(entry, compiled).map((error) => error.message);
    return { entry, errors };
  });
}

/** The outcome of the first entry of {@link run}. */
function first(fields: CustomFields, count: number, options = {}): { entry: LogEntry; errors: string[] } {
  return run(fields, count, options)[0]!;
}

/** On two entries, every one of `stuck` times out (30 ms) and a field after them is still written. */
function expectStuckThenFine(stuck: Record<string, string>): void {
  const results = run({ ...stuck, id: "entry.request.headers['x-id']" }, 2, { expressionTimeoutMs: 30 });
  for (const [n, { entry, errors }] of results.entries()) {
    expect(errors).toEqual(Object.keys(stuck).map((key) => `custom field "${key}": timed out (limit 30 ms)`));
    expect(entry).toMatchObject({ id: `id-${n}` });
  }
}

describe('state does not carry from one entry to the next', () => {
  it('refuses writes to the global object and to every builtin, whatever the path to it', () => {
    const results = run(
      {
        stash: '(globalThis.stash = (globalThis.stash || 0) + 1)',
        seen: 'typeof globalThis.stash',
        objectProto: '(Object.prototype.polluted = entry.n)',
        arrayProto: '(Array.prototype.last = entry.n)',
        viaLiteral: '(({}).__proto__.viaLiteral = entry.n)',
        iteratorProto: '(Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())).kept = entry.n)',
        generatorProto: '(Object.getPrototypeOf(function* () {}).kept = entry.n)',
        fnProto: '((() => 1).constructor.prototype.kept = entry.n)',
        errorStack: '(Error.stackTraceLimit = entry.n)',
        polluted: '[({}).polluted, [].last, ({}).viaLiteral, typeof Function.prototype.kept]',
      },
      3,
      // The time limit is not under test here: a loaded machine must not turn a slow evaluation into a timeout.
      { expressionTimeoutMs: 2000 },
    );
    for (const { entry, errors } of results) {
      expect(entry).toMatchObject({ seen: 'undefined', polluted: [null, null, null, 'undefined'] });
      expect(errors).toHaveLength(8);
      for (const message of errors) expect(message).toMatch(/TypeError: (object is not extensible|'\w+' is read-only)/);
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('gives each entry its own parsed copy: a mutation attempt fails and the next entry sees its own data', () => {
    const results = run({ mutate: "(entry.request.headers['x-id'] = 'changed')", id: "entry.request.headers['x-id']" }, 2);
    expect(results.map(({ entry }) => (entry as unknown as { id: string }).id)).toEqual(['id-0', 'id-1']);
    expect(results[1]!.errors).toEqual(['custom field "mutate": threw TypeError: \'x-id\' is read-only']);
  });

  it('refuses an expression that closes its function to keep a counter in a closure', () => {
    // Were it accepted, `n` would live across entries: the compiled value would be the second function.
    const injected = "0); }); let n = [0]; (function (entry, context) { 'use strict'; return (n[0]++";
    expect(() => compileCustomFields({ counter: injected })).toThrow(/does not compile: it is not one expression/);
    // Closing only the parenthesis stays inside the function: code that runs per entry, in a fresh scope.
    const results = run({ inside: 'entry.n); let n = [0]; n[0]++; return (n[0]' }, 2);
    expect(results.map(({ entry }) => (entry as unknown as { inside: number }).inside)).toEqual([0, 1]);
  });

  it('leaves nothing from a refused expression to the ones compiled after it (lenient raw maps)', () => {
    const fields: CustomFields = {
      // Runs code at compile time (and is refused): a lexical binding would be state, were it global.
      leak: '0); }); let kept = [0]; (function () { return (0',
      reader: "typeof kept === 'undefined' ? 'clean' : 'leaked'",
    };
    const entry = entryOf();
    const errors = applyCustomFields(entry, fields);
    expect(errors.map((error) => error.field)).toEqual(['leak']);
    expect(entry).toEqual({ reader: 'clean' });
  });

  it('leaves no promise work from a refused expression for the ones after it to pay for', () => {
    const fields: CustomFields = {
      leak: '0); }); Promise.resolve().then(function spin() { for (;;) {} }); (function () { return (0',
      // Not plain (a call): evaluated one at a time, with the promise work of its engine run after it.
      after: 'Number(String(entry.n))',
    };
    for (let n = 0; n < 3; n++) {
      const entry = entryOf({ n });
      expect(applyCustomFields(entry, fields).map((error) => error.message)).toEqual([
        'custom field "leak": invalid option "customFields.leak": the expression does not compile: it is not one expression (it closes the function it is compiled into)',
      ]);
      expect(entry).toEqual({ n, after: n });
    }
  });

  it('has no way to compile code from a string', () => {
    const { errors } = first(
      {
        fnCtor: "(() => 1).constructor('return 1')()",
        asyncCtor: "Object.getPrototypeOf(async () => 1).constructor('return 1')()",
        genCtor: "Object.getPrototypeOf(function* () {}).constructor('yield 1')().next().value",
        indirectEval: "(0, eval)('1')",
        fn: "Function('return 1')()",
      },
      1,
    );
    expect(errors).toHaveLength(5);
    for (const message of errors) expect(message).toContain('EvalError: Code generation from strings disallowed');
  });
});

describe('thrown values stay inside the sandbox', () => {
  it('reads nothing of a thrown non-Error, so its getters never run', () => {
    const { errors } = first(
      {
        getter: '(() => { throw { get code() { for (;;) {} }, toString() { for (;;) {} } } })()',
        proxy: '(() => { throw new Proxy({}, { get() { for (;;) {} }, getPrototypeOf() { return null; } }) })()',
      },
      1,
      { expressionTimeoutMs: 2000 },
    );
    expect(errors).toEqual(['custom field "getter": threw a non-Error value (object)', 'custom field "proxy": threw a non-Error value (object)']);
  });

  it('describes a thrown Error inside the time limit: a slow getter on it is a time-out, not a stall', () => {
    const started = performance.now();
    const { entry, errors } = first(
      {
        slowMessage: "(() => { throw Object.defineProperty(new Error('x'), 'message', { get() { for (;;) {} } }) })()",
        slowName: "(() => { const e = new TypeError('y'); Object.defineProperty(e, 'name', { get() { for (;;) {} } }); throw e; })()",
        fine: "'ok'",
      },
      1,
      { expressionTimeoutMs: 50 },
    );
    expect(errors).toEqual(['custom field "slowMessage": timed out (limit 50 ms)', 'custom field "slowName": timed out (limit 50 ms)']);
    expect(entry).toMatchObject({ fine: 'ok' });
    // Two limits and the machinery around them; without the limit this would never end.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('cuts a long thrown message before it leaves the sandbox', () => {
    const { errors } = first({ long: "(() => { throw new Error('x'.repeat(100000)) })()" }, 1);
    expect(errors[0]!.length).toBeLessThan(600);
    expect(errors[0]).toMatch(/threw Error: x+\.\.\.$/);
  });
});

describe('promises made by an expression', () => {
  const unhandled = vi.fn();
  beforeEach(() => process.on('unhandledRejection', unhandled));
  afterEach(() => {
    process.off('unhandledRejection', unhandled);
    unhandled.mockReset();
  });

  it('never reach the host: unreturned rejections are harmless, returned promises are refused', async () => {
    const { entry, errors } = first(
      {
        unreturned: '[1].map(async (x) => x.y.z).length',
        rejected: "(Promise.reject(new Error('x')), 1)",
        thenThrows: "(Promise.resolve().then(() => { throw new Error('later') }), 2)",
        returned: "Promise.reject(new Error('x'))",
      },
      1,
    );
    expect(entry).toMatchObject({ unreturned: 1, rejected: 1, thenThrows: 2 });
    expect(errors).toEqual(['custom field "returned": returned a Promise; custom fields must be synchronous']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('time out when their work does not end, and the sandbox goes on with a fresh engine', () => {
    expectStuckThenFine({
      chain: '(() => { const f = () => Promise.resolve().then(f); f(); return 1; })()',
      flood: '(() => { const f = () => { Promise.resolve().then(f); Promise.resolve().then(f); }; f(); return 1; })()',
    });
  });
});

describe('limits', () => {
  it('end native loops that QuickJS does not interrupt (the hard limit), then evaluate the rest with a fresh engine', () => {
    expectStuckThenFine({
      indexOf: 'Array.prototype.indexOf.call({ length: 1e15 }, 1)',
      reverse: 'Array.prototype.reverse.call({ length: 1e15 })',
    });
  });

  it('bound memory and stack: huge strings and arrays and deep recursion fail alone', () => {
    const { entry, errors } = first(
      {
        repeat1e9: "'x'.repeat(1e9)",
        repeat5e8: "'x'.repeat(5e8)",
        array: 'new Array(2 ** 31).fill(0).length',
        recursion: '(function f() { return f() + 1; })()',
        deepJson: "JSON.parse('['.repeat(100000) + ']'.repeat(100000))",
        fine: 'entry.n',
      },
      1,
      { expressionTimeoutMs: 1000 },
    );
    expect(entry).toMatchObject({ fine: 0 });
    expect(errors).toHaveLength(5);
    for (const message of errors) expect(message).toMatch(/out of memory|stack overflow|Invalid array length|invalid array length|timed out/);
  });

  it('see what an expression reads of the entry, and nothing of the host', () => {
    const { entry } = first(
      {
        globals: "['require', 'process', 'module', 'setTimeout', 'queueMicrotask', 'console', 'WebAssembly', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'Buffer', 'fetch'].filter((name) => typeof globalThis[name] !== 'undefined')",
        thisValue: 'typeof this',
      },
      1,
    );
    expect(entry).toMatchObject({ globals: [], thisValue: 'undefined' });
  });
});
