import { describe, expect, it, vi } from 'vitest';
import { applyCustomFields, compileCustomFields, setSerializeValue } from '../../src/entry/custom-fields/custom-fields.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { CustomFieldContext, CustomFields } from '../../src/entry/entry-options.js';
import { CustomFieldError, ErrorCodes, InvalidOptionError } from '../../src/errors.js';

/** A small stand-in entry: custom fields only care about its shape as a JSON object. */
function entryOf(data: Record<string, unknown> = {}): LogEntry {
  return structuredClone(data) as unknown as LogEntry;
}

function messages(errors: readonly CustomFieldError[]): string[] {
  return errors.map((error) => `${error.field}: ${error.message}`);
}

describe('compileCustomFields', () => {
  it('lists the compiled fields in order with their mode and kind', () => {
    const compiled = compileCustomFields({
      a: () => 1,
      'b.c': "'x'",
      d: { value: () => 2, mode: 'add' },
      e: { value: '3', mode: 'replace' },
    });
    expect(compiled.fields).toEqual([
      { key: 'a', mode: 'set', kind: 'function' },
      { key: 'b.c', mode: 'set', kind: 'expression' },
      { key: 'd', mode: 'add', kind: 'function' },
      { key: 'e', mode: 'replace', kind: 'expression' },
    ].map((expected) => expect.objectContaining(expected)));
  });

  it.each([
    ['expressionTimeoutMs', { expressionTimeoutMs: 0 }],
    ['expressionTimeoutMs', { expressionTimeoutMs: -5 }],
    ['expressionTimeoutMs', { expressionTimeoutMs: 1.5 }],
    ['expressionTimeoutMs', { expressionTimeoutMs: Number.NaN }],
    ['maxValueBytes', { maxValueBytes: 0 }],
    ['maxValueBytes', { maxValueBytes: Number.POSITIVE_INFINITY }],
  ])('refuses an invalid %s', (field, options) => {
    expect(() => compileCustomFields({ a: '1' }, options)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION, field }),
    );
  });

  it('refuses a fields value that is not an object', () => {
    expect(() => compileCustomFields(null as unknown as CustomFields)).toThrow(InvalidOptionError);
    expect(() => compileCustomFields(['a'] as unknown as CustomFields)).toThrow(
      expect.objectContaining({ field: 'customFields' }),
    );
  });

  it('compiles expressions once: the compiled set is reused for every entry', () => {
    const compiled = compileCustomFields({ n: 'entry.n * 2' });
    for (let n = 0; n < 5; n++) {
      const entry = entryOf({ n });
      expect(applyCustomFields(entry, compiled)).toHaveLength(0);
      expect(entry).toEqual({ n: n * 2 });
    }
  });
});

describe('applyCustomFields with function fields', () => {
  it('passes the entry and the context and writes the result', () => {
    const fn = vi.fn((entry: Readonly<LogEntry>, context: CustomFieldContext) => `${String(entry.a)}-${String(context.user)}`);
    const entry = entryOf({ a: 'x' });
    expect(applyCustomFields(entry, { 'who.am.i': fn }, { user: 'u1' })).toHaveLength(0);
    expect(entry).toEqual({ a: 'x', who: { am: { i: 'x-u1' } } });
    expect(fn).toHaveBeenCalledWith(entry, { user: 'u1' });
  });

  it('gives an empty frozen context when none is passed', () => {
    let seen: CustomFieldContext | undefined;
    applyCustomFields(entryOf(), { a: (_entry, context) => { seen = context; return 1; } });
    expect(seen).toEqual({});
    expect(Object.isFrozen(seen)).toBe(true);
  });

  it('returns the same frozen empty array on every success (no allocation)', () => {
    const compiled = compileCustomFields({ a: () => 1 });
    const first = applyCustomFields(entryOf(), compiled);
    const second = applyCustomFields(entryOf(), compiled);
    expect(first).toHaveLength(0);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('reports a thrown error for its field and still applies the others', () => {
    const entry = entryOf();
    const errors = applyCustomFields(entry, {
      before: () => 1,
      bad: () => {
        throw new RangeError('out of range');
      },
      text: () => {
        throw 'plain string';
      },
      after: () => 2,
    });
    expect(entry).toEqual({ before: 1, after: 2 });
    expect(errors.every((error) => error instanceof CustomFieldError && error.code === ErrorCodes.CUSTOM_FIELD)).toBe(true);
    expect(messages(errors)).toEqual([
      'bad: custom field "bad": threw RangeError: out of range',
      'text: custom field "text": threw plain string',
    ]);
  });

  it('refuses a returned Promise, saying why, without an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const entry = entryOf();
      const errors = applyCustomFields(entry, {
        a: async () => 1,
        b: () => Promise.reject(new Error('later')),
        // biome-ignore lint/suspicious/noThenProperty: a non-Promise thenable is exactly what this case returns
        c: () => ({ then: () => undefined }),
      });
      expect(entry).toEqual({});
      expect(errors.map((error) => error.field)).toEqual(['a', 'b', 'c']);
      for (const error of errors) expect(error.message).toContain('returned a Promise; custom fields must be synchronous');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('refuses values that are not JSON data, naming where inside the value', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const entry = entryOf();
    const errors = applyCustomFields(entry, {
      fn: () => () => 1,
      sym: () => Symbol('s'),
      big: () => 10n,
      nan: () => Number.NaN,
      deep: () => ({ a: [1, { b: Number.POSITIVE_INFINITY }] }),
      date: () => new Date(0),
      map: () => ({ list: [new Map()] }),
      cyclic: () => cyclic,
      fine: () => ({ nested: [null, true, 'x', 1.5, { empty: {} }] }),
    });
    expect(entry).toEqual({ fine: { nested: [null, true, 'x', 1.5, { empty: {} }] } });
    expect(messages(errors)).toEqual([
      'fn: custom field "fn": a function is not a JSON value',
      'sym: custom field "sym": a symbol is not a JSON value',
      'big: custom field "big": a bigint is not a JSON value',
      'nan: custom field "nan": NaN is not a JSON number',
      'deep: custom field "deep": Infinity is not a JSON number (at value.a[1].b)',
      'date: custom field "date": a Date object is not JSON data, use plain objects, arrays and primitives',
      'map: custom field "map": a Map object is not JSON data, use plain objects, arrays and primitives (at value.list[0])',
      expect.stringMatching(/^cyclic: custom field "cyclic": the value is cyclic/),
    ]);
  });

  it('accepts null-prototype objects and drops nested undefined as JSON does', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, gone: undefined });
    const entry = entryOf();
    expect(applyCustomFields(entry, { bare: () => bare, list: () => [undefined] })).toHaveLength(0);
    expect(JSON.parse(JSON.stringify(entry))).toEqual({ bare: { a: 1 }, list: [null] });
  });

  it('counts the JSON size exactly at the maxValueBytes limit (UTF-8, escapes, numbers)', () => {
    // Sizes come from the real encoder: each value must fit at its exact size and be refused one byte below.
    const samples: Record<string, () => unknown> = {
      twoByteChars: () => 'é'.repeat(5),
      threeByteChars: () => '€€',
      escapes: () => '"\\\n"\\',
      controls: () => '\u0001x\u0002',
      astral: () => '😀😀x',
      loneSurrogate: () => '\ud800x',
      numbers: () => [123.5, -7e21, 0.1, 1e-7],
      object: () => ({ key: 'value', nested: { t: true, f: false, n: null } }),
    };
    for (const [key, make] of Object.entries(samples)) {
      const size = new TextEncoder().encode(JSON.stringify(make())).length;
      const fits = compileCustomFields({ [key]: make }, { maxValueBytes: size });
      const tooSmall = compileCustomFields({ [key]: make }, { maxValueBytes: size - 1 });
      expect(applyCustomFields(entryOf(), fits), key).toHaveLength(0);
      const errors = applyCustomFields(entryOf(), tooSmall);
      expect(messages(errors), key).toEqual([`${key}: custom field "${key}": the value is larger than maxValueBytes (${size - 1} bytes of JSON)`]);
    }
  });

  it('refuses a huge value quickly, by its lower bound, and keeps the entry as it was', () => {
    const huge = 'x'.repeat(10_000_000);
    const entry = entryOf({ keep: true });
    const started = performance.now();
    const errors = applyCustomFields(entry, compileCustomFields({ huge: () => huge, wide: () => Array.from({ length: 100_000 }, () => 1) }));
    expect(performance.now() - started).toBeLessThan(500);
    expect(entry).toEqual({ keep: true });
    expect(errors.map((error) => error.field)).toEqual(['huge', 'wide']);
  });

  it('lets a field call applyCustomFields again (re-entrancy) without mixing values', () => {
    const compiled = compileCustomFields({
      outer: () => {
        const inner = entryOf();
        applyCustomFields(inner, compiled2);
        return inner;
      },
      second: () => 'second',
    });
    const compiled2 = compileCustomFields({ innerField: () => 'inner' });
    const entry = entryOf();
    expect(applyCustomFields(entry, compiled)).toHaveLength(0);
    expect(entry).toEqual({ outer: { innerField: 'inner' }, second: 'second' });
  });

  it('evaluates every field against the entry as built, then writes in order', () => {
    const entry = entryOf({ status: 200 });
    const errors = applyCustomFields(entry, {
      status: () => 500,
      sawStatus: (built) => built.status,
      a: () => 1,
      'a.b': () => 2,
    });
    expect(entry).toEqual({ status: 500, sawStatus: 200, a: 1 });
    expect(messages(errors)).toEqual(['a.b: custom field "a.b": cannot write below "a": it holds a number (1), not an object']);
  });
});

describe('applyCustomFields with a raw CustomFields map', () => {
  it('compiles it on first use and reports invalid fields instead of throwing', () => {
    const fields: CustomFields = { 'a..b': '1', ok: "'yes'", bad: 'entry.(' };
    const entry = entryOf();
    const errors = applyCustomFields(entry, fields);
    expect(entry).toEqual({ ok: 'yes' });
    expect(errors.map((error) => [error.field, error.code])).toEqual([
      ['a..b', ErrorCodes.CUSTOM_FIELD],
      ['bad', ErrorCodes.CUSTOM_FIELD],
    ]);
    expect(errors[0]!.cause).toBeInstanceOf(InvalidOptionError);
    // Same map again: same outcome (the compiled form is cached per map).
    const again = entryOf();
    expect(applyCustomFields(again, fields).map((error) => error.field)).toEqual(['a..b', 'bad']);
    expect(again).toEqual({ ok: 'yes' });
  });

  it('never throws, even when the entry cannot be read as JSON', () => {
    const entry = entryOf();
    Object.defineProperty(entry, 'trap', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    });
    let errors: CustomFieldError[] = [];
    expect(() => {
      // The expression reads the whole entry: only what an expression reads is copied into its engine.
      errors = applyCustomFields(entry, { fromExpression: 'Object.keys(entry).length', fromFunction: () => 2 });
    }).not.toThrow();
    expect(errors.map((error) => error.field)).toEqual(['fromExpression']);
    expect(errors[0]!.message).toContain('getter exploded');
    expect(Object.getOwnPropertyDescriptor(entry, 'fromFunction')?.value).toBe(2);
  });
});

describe('expression fields and the context', () => {
  it('see a data snapshot of the context: framework objects directly inside are copied, internals are not', () => {
    class FakeRequest {
      url = '/users/42?x=1';
      method = 'GET';
      params = { id: '42' };
      _internal = 'hidden';
      socket = new (class Socket {
        remoteAddress = '10.0.0.1';
      })();
      handler = () => 1;
      body = new Uint8Array([1, 2, 3]);
      at = new Date(0);
    }
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const entry = entryOf();
    const errors = applyCustomFields(
      entry,
      compileCustomFields({ snapshot: 'context' }),
      { request: new FakeRequest(), loop, big: 1n, count: 3 },
    );
    expect(errors).toHaveLength(0);
    expect(entry).toEqual({
      snapshot: {
        request: { url: '/users/42?x=1', method: 'GET', params: { id: '42' }, at: '1970-01-01T00:00:00.000Z' },
        loop: { name: 'loop' },
        count: 3,
      },
    });
  });

  it('copy a bounded amount of a huge context', () => {
    const huge = { list: Array.from({ length: 100_000 }, (_, index) => index) };
    const entry = entryOf();
    const errors = applyCustomFields(entry, compileCustomFields({ length: 'context.list.length' }), huge);
    expect(errors).toHaveLength(0);
    expect(entry.length).toBeLessThan(2000);
  });

  it('run one timed evaluation for all expressions: a stuck one costs one limit, not one per field', () => {
    const compiled = compileCustomFields({ a: '1', stuck: '(() => { for (;;) {} })()', b: '2', c: '3' }, { expressionTimeoutMs: 100 });
    // The first evaluation in a process also compiles the engine's WebAssembly functions (lazily): not timed.
    applyCustomFields(entryOf(), compiled);
    const entry = entryOf();
    const started = performance.now();
    const errors = applyCustomFields(entry, compiled);
    const elapsed = performance.now() - started;
    expect(entry).toEqual({ a: 1, b: 2, c: 3 });
    expect(messages(errors)).toEqual(['stuck: custom field "stuck": timed out (limit 100 ms)']);
    // One limit, with room for a loaded machine.
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(300);
  });

  it('do not reach the host: an escape attempt leaves host globals untouched', () => {
    const marker = '__kafkaLogEscapeMarker';
    const entry = entryOf();
    applyCustomFields(entry, compileCustomFields({
      a: `globalThis.constructor.constructor('globalThis.${marker} = 1')()`,
      b: `entry.constructor.constructor('globalThis.${marker} = 1')()`,
      c: `(globalThis.${marker} = 1)`,
    }));
    expect((globalThis as Record<string, unknown>)[marker]).toBeUndefined();
  });

  it('write host-realm values: the result carries no sandbox prototype', () => {
    const entry = entryOf();
    applyCustomFields(entry, compileCustomFields({ o: '({ list: [1] })' }));
    const written = entry.o as { list: number[] };
    expect(Object.getPrototypeOf(written)).toBe(Object.prototype);
    expect(written.list).toBeInstanceOf(Array);
  });
});

describe('setSerializeValue', () => {
  it('sets, adds, replaces and removes with Kong semantics', () => {
    const entry = entryOf({ request: { headers: { authorization: 'Basic x' } } });
    setSerializeValue(entry, 'request.headers.authorization', 'REDACTED', 'replace');
    setSerializeValue(entry, 'request.headers.proxy-authorization', 'REDACTED', 'replace');
    setSerializeValue(entry, 'tenant', 'acme', 'add');
    setSerializeValue(entry, 'tenant', 'other', 'add');
    setSerializeValue(entry, 'my.new.value', 4);
    setSerializeValue(entry, 'my.new.value', undefined);
    expect(entry).toEqual({ request: { headers: { authorization: 'REDACTED' } }, tenant: 'acme', my: { new: {} } });
  });

  it('throws a CustomFieldError when writing below a non-object, and changes nothing', () => {
    const entry = entryOf({ request: { method: 'GET' } });
    expect(() => setSerializeValue(entry, 'request.method.verb', 'x')).toThrow(
      expect.objectContaining({ code: ErrorCodes.CUSTOM_FIELD, field: 'request.method.verb' }),
    );
    expect(entry).toEqual({ request: { method: 'GET' } });
  });

  it('throws a CustomFieldError for a bad key, mode or value', () => {
    const entry = entryOf();
    expect(() => setSerializeValue(entry, '', 1)).toThrow(CustomFieldError);
    expect(() => setSerializeValue(entry, 'a.__proto__.x', 1)).toThrow(/__proto__/);
    expect(() => setSerializeValue(entry, 'a', 1, 'upsert' as 'set')).toThrow(/mode/);
    expect(() => setSerializeValue(entry, 'a', () => 1)).toThrow(/function/);
    expect(entry).toEqual({});
    expect(Object.prototype).not.toHaveProperty('x');
  });

  it('has no size limit of its own', () => {
    const entry = entryOf();
    setSerializeValue(entry, 'big', 'x'.repeat(200_000));
    expect((entry.big as string).length).toBe(200_000);
  });
});
