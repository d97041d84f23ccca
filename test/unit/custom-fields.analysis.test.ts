import { describe, expect, it } from 'vitest';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import { type PathSet, addPath, analyseExpression, emptyPathSet, selectPaths } from '../../src/entry/custom-fields/expression-analysis.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { CustomFieldFunction } from '../../src/entry/entry-options.js';
import { expressionScript } from '../../src/entry/custom-fields/sandbox-source.js';

/** A path set as plain data: 'ALL', or the children read. */
function shape(set: PathSet): unknown {
  return set.all ? 'ALL' : Object.fromEntries([...set.children].map(([key, child]) => [key, shape(child)]));
}

function analyse(expression: string) {
  const analysis = analyseExpression(expressionScript(expression));
  return { entry: shape(analysis.reads.entry), context: shape(analysis.reads.context), plain: analysis.plainNodes !== undefined };
}

describe('what an expression reads', () => {
  it.each([
    ["entry.request.headers['x-id']", { entry: { request: { headers: { 'x-id': 'ALL' } } }, context: {} }],
    ['entry?.latencies?.request > 5', { entry: { latencies: { request: 'ALL' } }, context: {} }],
    ['entry.tries[0].ip', { entry: { tries: { '0': { ip: 'ALL' } } }, context: {} }],
    // A method gets the object it is called on as `this`: that object is read whole.
    ["entry.request.uri.split('?')[0]", { entry: { request: { uri: 'ALL' } }, context: {} }],
    ["entry.request.headers.hasOwnProperty('x')", { entry: { request: { headers: 'ALL' } }, context: {} }],
    ['entry.request.headers[context.name]', { entry: { request: { headers: 'ALL' } }, context: { name: 'ALL' } }],
    ["'x' in entry.request.headers", { entry: { request: { headers: 'ALL' } }, context: {} }],
    ['Object.keys(entry)', { entry: 'ALL', context: {} }],
    ['JSON.stringify(context)', { entry: {}, context: 'ALL' }],
    ['arguments[0].n', { entry: 'ALL', context: 'ALL' }],
    ["({ entry: 1, x: 'entry' }).x", { entry: {}, context: {} }],
    ['({ entry })', { entry: 'ALL', context: {} }],
    ['[1].map((entry) => entry)', { entry: 'ALL', context: {} }],
    ['entry.a); return (entry.b', { entry: 'ALL', context: 'ALL' }],
  ])('%s', (expression, expected) => {
    expect(analyse(expression)).toMatchObject(expected);
  });

  it('selects own properties along the paths; arrays and primitives whole; a __proto__ key stays a key', () => {
    const set = emptyPathSet();
    addPath(set, ['request', 'headers', 'x-id']);
    addPath(set, ['tries', '0']);
    addPath(set, ['request', 'constructor']);
    addPath(set, ['__proto__', 'polluted']);
    const value = JSON.parse('{"request":{"headers":{"x-id":"1","other":"2"},"method":"GET"},"tries":[{"ip":"a"},{"ip":"b"}],"__proto__":{"polluted":true},"latencies":{}}');
    const selected = selectPaths(value, set);
    expect(JSON.parse(JSON.stringify(selected))).toEqual(
      JSON.parse('{"request":{"headers":{"x-id":"1"}},"tries":[{"ip":"a"},{"ip":"b"}],"__proto__":{"polluted":true}}'),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives the same results as the whole entry would', () => {
    const entry = {
      request: { uri: '/a?b=1', headers: { 'x-id': '7', accept: 'text/html' }, method: 'GET', querystring: { b: '1' } },
      tries: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
      latencies: { request: 12 },
    };
    const view = (built: unknown) => built as typeof entry;
    const cases: Record<string, [string, CustomFieldFunction]> = {
      path: ["entry.request.uri.split('?')[0]", (e) => view(e).request.uri.split('?')[0]],
      own: ["entry.request.headers.hasOwnProperty('accept')", (e) => Object.hasOwn(view(e).request.headers, 'accept')],
      keys: ['Object.keys(entry.request.headers).length', (e) => Object.keys(view(e).request.headers).length],
      has: ["'x-id' in entry.request.headers", (e) => 'x-id' in view(e).request.headers],
      length: ['entry.tries.length', (e) => view(e).tries.length],
      last: ['entry.tries[entry.tries.length - 1].ip', (e) => view(e).tries[1]!.ip],
      spread: ['({ ...entry.request.querystring, n: entry.latencies.request })', (e) => ({ ...view(e).request.querystring, n: 12 })],
      missing: ['entry.request.nothing?.here ?? null', () => null],
    };
    const fromExpressions = structuredClone(entry) as unknown as LogEntry;
    const fromFunctions = structuredClone(entry) as unknown as LogEntry;
    expect(applyCustomFields(fromExpressions, compileCustomFields(Object.fromEntries(Object.entries(cases).map(([key, [expression]]) => [`out.${key}`, expression]))))).toHaveLength(0);
    expect(applyCustomFields(fromFunctions, Object.fromEntries(Object.entries(cases).map(([key, [, fn]]) => [`out.${key}`, fn])))).toHaveLength(0);
    expect(fromExpressions).toEqual(fromFunctions);
  });
});

describe('plain expressions (whose work is bounded by their size)', () => {
  it.each([
    "entry.latencies.request > 500 ? 'slow' : 'ok'",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the expression is a template literal
    "`${entry.request.method} ${entry.request.uri}`",
    '({ m: entry.request.method, list: [entry.a, ...entry.b], [entry.k]: !entry.c })',
    "(entry.a?.b ?? entry.c) || 'none'",
    "typeof entry.x === 'string' && entry.x.length",
  ])('%s is plain', (expression) => {
    expect(analyse(expression).plain).toBe(true);
  });

  it.each([
    ['a call', "entry.request.uri.split('?')"],
    ['a function', '((x) => x)'],
    ['a getter in a literal', '({ get x() { return 1; } })'],
    ['a method in a literal', '({ toString() { return 1; } }) + 1'],
    ['a regular expression', '/a+/'],
    ['a BigInt', '10n ** 20n'],
    ['an assignment', '(entry.x = 1)'],
    ['an update', 'entry.x++'],
    ['a tagged template', 'String.raw`x`'],
    ['new', 'new Date(0)'],
    ['statements of its own', 'entry.a); return (entry.b'],
  ])('an expression with %s is not plain', (_what, expression) => {
    expect(analyse(expression).plain).toBe(false);
  });
});
