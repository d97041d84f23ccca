import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCustomFields, compileCustomFields, setSerializeValue } from '../../src/entry/custom-fields/custom-fields.js';
import { isPathNode, readDottedPath } from '../../src/entry/custom-fields/dotted-path.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { CustomFieldError } from '../../src/errors.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** A path segment: any non-empty text without a dot, other than the three forbidden names. */
const segment = fc
  .oneof(fc.constantFrom('a', 'b', 'request', 'headers', 'x-tenant', '0'), fc.string({ minLength: 1, maxLength: 6 }))
  .filter((text) => !text.includes('.') && !FORBIDDEN.has(text));
const dottedPath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join('.'));
/** A starting entry that often shares path prefixes with the generated paths (and sometimes blocks them). */
const startingEntry = fc.dictionary(fc.constantFrom('a', 'b', 'request', 'x'), fc.jsonValue({ maxDepth: 3 }));

function asEntry(data: unknown): LogEntry {
  return structuredClone(data) as LogEntry;
}

/** Whether some proper prefix of the path holds a non-object (which blocks writing below it). */
function blockedPrefix(root: unknown, key: string): boolean {
  const segments = key.split('.');
  let node = root;
  for (let index = 0; index < segments.length - 1; index++) {
    if (!isPathNode(node)) return false;
    const segment = segments[index]!;
    const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (next === undefined) return false;
    if (!isPathNode(next)) return true;
    node = next;
  }
  return false;
}

describe('set_serialize_value properties', () => {
  it('set then read back gives the value, unless a non-object blocks the path (then nothing changes)', () => {
    fc.assert(
      fc.property(startingEntry, dottedPath, fc.jsonValue(), (start, key, value) => {
        const entry = asEntry(start);
        if (blockedPrefix(entry, key)) {
          expect(() => setSerializeValue(entry, key, value)).toThrow(CustomFieldError);
          expect(entry).toStrictEqual(asEntry(start));
        } else {
          setSerializeValue(entry, key, value);
          expect(readDottedPath(entry, key)).toBe(value);
        }
      }),
    );
  });

  it('removing leaves no key, and the parent object stays', () => {
    fc.assert(
      fc.property(startingEntry, dottedPath, fc.jsonValue(), (start, key, value) => {
        const entry = asEntry(start);
        fc.pre(!blockedPrefix(entry, key));
        setSerializeValue(entry, key, value);
        setSerializeValue(entry, key, undefined);
        const segments = key.split('.');
        const parent = segments.length === 1 ? entry : readDottedPath(entry, segments.slice(0, -1).join('.'));
        expect(isPathNode(parent)).toBe(true);
        expect(Object.hasOwn(parent as object, segments.at(-1)!)).toBe(false);
        expect(readDottedPath(entry, key)).toBeUndefined();
      }),
    );
  });

  it('add never changes a present key and replace never creates an absent one', () => {
    fc.assert(
      fc.property(startingEntry, dottedPath, fc.jsonValue(), (start, key, value) => {
        const entry = asEntry(start);
        fc.pre(!blockedPrefix(entry, key));
        const present = readDottedPath(entry, key) !== undefined;
        setSerializeValue(entry, key, value, present ? 'add' : 'replace');
        expect(entry).toStrictEqual(asEntry(start));
      }),
    );
  });

  it('a function field and an expression field returning the same JSON value write equal entries', () => {
    const key = 'custom.value';
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const viaFunction = asEntry({});
        const viaExpression = asEntry({});
        const fromFunction = applyCustomFields(viaFunction, { [key]: () => value });
        const fromExpression = applyCustomFields(
          viaExpression,
          // The time limit is not under test: a loaded machine must not turn a slow evaluation into a failure.
          compileCustomFields({ [key]: `JSON.parse(${JSON.stringify(JSON.stringify(value))})` }, { expressionTimeoutMs: 5000 }),
        );
        expect(fromFunction).toHaveLength(0);
        expect(fromExpression).toHaveLength(0);
        // JSON has no -0: compare what both serialize to.
        expect(JSON.stringify(viaExpression)).toBe(JSON.stringify(viaFunction));
      }),
      { numRuns: 50 },
    );
  }, 60_000);

  it('the size check agrees with the real JSON size for any JSON value', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const size = encoder.encode(JSON.stringify(value)).length;
        const at = applyCustomFields(asEntry({}), compileCustomFields({ v: () => value }, { maxValueBytes: size }));
        expect(at).toHaveLength(0);
        if (size > 1) {
          const below = applyCustomFields(asEntry({}), compileCustomFields({ v: () => value }, { maxValueBytes: size - 1 }));
          expect(below.map((error) => error.field)).toEqual(['v']);
        }
      }),
    );
  });
});
