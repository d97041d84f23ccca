// Hostile input through the pure pipeline: buildLogEntry (with encodeBody inside) -> applyCustomFields ->
// serializeLogEntry -> JSON.parse -> validateLogEntry. Property-based (fast-check) and hand-picked.
//
// Every case must end in one of two ways, and never in a crash:
// - a valid entry (it validates against logEntrySchema), with the reason it is smaller than the input where a
//   limit applied (body_truncated, body_args_error, headers or arguments capped, a custom field error), or
// - Kong's documented "not sent" for a body of a parsed type that does not parse: a BodyParseError (counted by
//   the adapters through `sink.reportError`).
// Memory stays bounded: what is kept is bounded by the limits, whatever the input's size.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildLogEntry } from '../../src/entry/build.js';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import type { HttpExchange } from '../../src/entry/exchange.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { CustomFields, EntryOptions } from '../../src/entry/entry-options.js';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import { BodyParseError, CustomFieldError } from '../../src/errors.js';
import { exchangeFixture } from '../../src/testing/exchange-fixture.js';
import { validateLogEntry } from '../../src/testing/validate.js';
import { HOSTILE_ENTRY_CASES, HOSTILE_ENTRY_PROPERTY_RUNS, HOSTILE_HTTP_CASES, everyTestPassed } from './hostile-cases.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const retained = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const MiB = 1024 * 1024;

/** How one hostile case ended. */
type Outcome =
  | { kind: 'entry'; entry: LogEntry; json: string; reasons: string[] }
  | { kind: 'not-sent'; error: BodyParseError; reasons: string[] };

let cases = 0;
afterAll((file) => {
  console.log(`hostile-entry: ${cases} cases`);
  if (everyTestPassed(file)) expect(cases).toBe(HOSTILE_ENTRY_CASES);
});

/** Runs one exchange through the whole pure pipeline and checks the invariants every case shares. */
function run(exchange: HttpExchange, options: EntryOptions = {}, customFields?: CustomFields): Outcome {
  cases += 1;
  let entry: LogEntry;
  try {
    entry = buildLogEntry(exchange, options);
  } catch (error) {
    // The only thing the builder may throw on input is Kong's "not sent" for an unparsable body.
    expect(error).toBeInstanceOf(BodyParseError);
    expect((error as BodyParseError).code).toBe('KAFKA_LOG_ERR_BODY_PARSE');
    return { kind: 'not-sent', error: error as BodyParseError, reasons: [`body_parse:${(error as BodyParseError).side}`] };
  }
  const reasons: string[] = [];
  if (customFields !== undefined) {
    const errors = applyCustomFields(entry, compileCustomFields(customFields, { maxValueBytes: 4096 }));
    for (const e of errors) {
      expect(e).toBeInstanceOf(CustomFieldError);
      reasons.push(`custom_field:${e.field}`);
    }
  }
  const json = serializeLogEntry(entry);
  const parsed = JSON.parse(json) as LogEntry;
  const validation = validateLogEntry(parsed);
  expect(validation.errors).toEqual([]);
  for (const side of ['request', 'response'] as const) {
    const logged = parsed[side] as { body_truncated?: boolean; body_args_error?: string };
    if (logged.body_truncated) reasons.push(`${side}.body_truncated`);
    if (logged.body_args_error !== undefined) reasons.push(`${side}.body_args_error`);
  }
  return { kind: 'entry', entry: parsed, json, reasons };
}

const withRequestBody = (bytes: Uint8Array, contentType: string | undefined, extra: Partial<HttpExchange['request']> = {}) =>
  exchangeFixture({
    request: {
      method: 'POST',
      headers: contentType === undefined ? ['Host', 'h'] : ['Host', 'h', 'Content-Type', contentType],
      body: { bytes },
      ...extra,
    },
  });

const PARSED_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=XyZ'];
const ANY_TYPES = [...PARSED_TYPES, 'text/plain', 'application/xml', 'application/octet-stream', 'image/png', 'multipart/form-data'];

describe('hostile bodies', () => {
  it('a 100 MB body: cut at maxBodySize, marked, and the entry holds only the cut (bounded memory)', () => {
    const huge = Buffer.alloc(100 * MiB, 0x61);
    const before = retained();
    const outcome = run(withRequestBody(huge, 'text/plain'), { logRequestBody: true });
    const after = retained();
    expect(outcome.kind).toBe('entry');
    if (outcome.kind !== 'entry') return;
    expect(outcome.reasons).toContain('request.body_truncated');
    expect((outcome.entry.request.body as string).length).toBe(65_536);
    expect(outcome.json.length).toBeLessThan(80_000);
    // what the pipeline kept beyond the input: about one body's worth, not 100 MB
    expect(after - before).toBeLessThan(8 * MiB);
    // a captured prefix with the real total (what the adapters hand over) gives the same entry
    const prefix = run(withRequestBody(huge.subarray(0, 65_536), 'text/plain', { size: 100 * MiB }), { logRequestBody: true });
    expect(prefix.kind === 'entry' && prefix.entry.request.body).toBe(outcome.entry.request.body);
  });

  it('a 100 MB JSON body is cut, not parsed (no body_args, no error): a prefix is not a malformed body', () => {
    const huge = Buffer.alloc(100 * MiB, 0x20);
    huge.write('{"a":[', 0);
    const outcome = run(withRequestBody(huge, 'application/json'), { logRequestBody: true });
    expect(outcome.kind).toBe('entry');
    if (outcome.kind !== 'entry') return;
    expect(outcome.entry.request.body_args).toBeUndefined();
    expect(outcome.reasons).toEqual(['request.body_truncated']);
  });

  it('invalid UTF-8: text becomes base64, parsed types are Kong\'s "not sent" (or kept with the reason)', () => {
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x7d]);
    const text = run(withRequestBody(bad, 'text/plain'), { logRequestBody: true });
    expect(text.kind === 'entry' && text.entry.request.body_base64).toBe(true);
    for (const type of PARSED_TYPES.slice(0, 2)) {
      const skipped = run(withRequestBody(bad, type), { logRequestBody: true });
      expect(skipped.kind).toBe('not-sent');
      const kept = run(withRequestBody(bad, type), { logRequestBody: true, bodyParseFailure: 'keep' });
      expect(kept.kind === 'entry' && kept.reasons).toEqual(['request.body_args_error']);
    }
  });

  it('deeply nested JSON: 100,000 levels is a parse failure found without recursion; 64 levels parse', () => {
    const deep = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const skipped = run(withRequestBody(deep, 'application/json'), { logRequestBody: true, maxBodySize: 1 * MiB });
    expect(skipped.kind).toBe('not-sent');
    expect(skipped.kind === 'not-sent' && skipped.error.message).toContain('nesting deeper than 64');
    const kept = run(withRequestBody(deep, 'application/json'), { logRequestBody: true, maxBodySize: 1 * MiB, bodyParseFailure: 'keep' });
    expect(kept.reasons).toEqual(['request.body_args_error']);
    const objects = Buffer.from(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`);
    expect(run(withRequestBody(objects, 'application/json'), { logRequestBody: true, maxBodySize: 1 * MiB }).kind).toBe('not-sent');
    const ok = Buffer.from(`${'['.repeat(64)}${']'.repeat(64)}`);
    const fine = run(withRequestBody(ok, 'application/json'), { logRequestBody: true });
    expect(fine.kind === 'entry' && fine.entry.request.body_args).toBeDefined();
    // brackets inside strings are not nesting
    const quoted = Buffer.from(JSON.stringify({ s: '['.repeat(10_000) }));
    expect(run(withRequestBody(quoted, 'application/json'), { logRequestBody: true }).kind).toBe('entry');
  });

  it('multipart with 5,000 parts keeps at most 1,000 fields; a missing or wrong boundary is "not sent"', () => {
    const parts = Array.from({ length: 5000 }, (_, i) => `--XyZ\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv${i}\r\n`);
    const body = Buffer.from(`${parts.join('')}--XyZ--\r\n`);
    const outcome = run(withRequestBody(body, 'multipart/form-data; boundary=XyZ'), { logRequestBody: true, maxBodySize: 4 * MiB });
    expect(outcome.kind).toBe('entry');
    if (outcome.kind !== 'entry') return;
    expect(Object.keys(outcome.entry.request.body_args as object).length).toBeLessThanOrEqual(1000);
    // the same body under the default limit is cut, so not parsed
    expect(run(withRequestBody(body, 'multipart/form-data; boundary=XyZ'), { logRequestBody: true }).reasons).toEqual([
      'request.body_truncated',
    ]);
    for (const type of ['multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=other']) {
      const missing = run(withRequestBody(body.subarray(0, 2000), type), { logRequestBody: true });
      expect(missing.kind).toBe('not-sent');
      const kept = run(withRequestBody(body.subarray(0, 2000), type), { logRequestBody: true, bodyParseFailure: 'keep' });
      expect(kept.reasons).toEqual(['request.body_args_error']);
    }
  });

  it('property: any bytes under any content type give a valid entry or "not sent", never a throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }),
          fc.string({ unit: 'binary', maxLength: 500 }).map((s) => Buffer.from(s)),
          fc.json({ depthSize: 'large' }).map((s) => Buffer.from(s)),
        ),
        fc.constantFrom(undefined, ...ANY_TYPES),
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom<EntryOptions['bodyParseFailure']>('skip-entry', 'keep'),
        (bytes, type, maxBodySize, maxJsonDepth, policy) => {
          const outcome = run(withRequestBody(bytes, type), { logRequestBody: true, maxBodySize, maxJsonDepth, bodyParseFailure: policy });
          if (outcome.kind === 'not-sent') expect(policy).toBe('skip-entry');
          if (bytes.length > maxBodySize) expect(outcome.reasons).toContain('request.body_truncated');
        },
      ),
      { numRuns: HOSTILE_ENTRY_PROPERTY_RUNS.bodies },
    );
  });
});

describe('hostile headers', () => {
  it('10,000 distinct headers: 100 kept (Kong\'s lua_max_req_headers), the entry stays small', () => {
    const raw = Array.from({ length: 10_000 }, (_, i) => [`X-H-${i}`, `v${i}`]).flat();
    const outcome = run(exchangeFixture({ request: { headers: raw } }));
    expect(outcome.kind === 'entry' && Object.keys(outcome.entry.request.headers).length).toBe(100);
  });

  it('10,000 headers of one name: 100 values kept, as Kong counts repeats (not one name with 10,000 values)', () => {
    const raw = Array.from({ length: 10_000 }, (_, i) => ['X-Same', `v${i}`]).flat();
    const outcome = run(exchangeFixture({ request: { headers: raw }, response: { headers: raw } }));
    expect(outcome.kind).toBe('entry');
    if (outcome.kind !== 'entry') return;
    expect(outcome.entry.request.headers['x-same']).toHaveLength(100);
    expect(outcome.entry.response.headers['x-same']).toHaveLength(100);
    expect(outcome.json.length).toBeLessThan(10_000);
  });

  it('property: control characters, invalid UTF-16 and odd names in header values keep the entry valid JSON', () => {
    const anyChar = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    const hostile = fc.string({ unit: anyChar, maxLength: 40 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(hostile, fc.constantFrom('__proto__', 'constructor', 'toString', 'Host')), hostile), {
          maxLength: 30,
        }),
        (pairs) => {
          const outcome = run(exchangeFixture({ request: { headers: pairs.flat() }, response: { headers: pairs.flat() } }));
          expect(outcome.kind).toBe('entry');
          if (outcome.kind !== 'entry') return;
          expect(Object.getPrototypeOf(outcome.entry.request.headers)).toBe(Object.prototype);
        },
      ),
      { numRuns: HOSTILE_ENTRY_PROPERTY_RUNS.headerValues },
    );
  });
});

describe('hostile URLs and query strings', () => {
  const malformed = [
    '/a%zz?x=%E0%A4%A&y=%%&%FF=1',
    '/%?%=%',
    '/p?a=%C3%28&b=%ED%A0%80&c=%F0%9F%98',
    `/?${'a=1&'.repeat(10_000)}`,
    `/?${Array.from({ length: 5000 }, (_, i) => `k${i}=%${i % 2 ? 'G' : 'F'}${i}`).join('&')}`,
    '/x?=&&==&a==b&+=+&%00=%00',
    `/${'%'.repeat(10_000)}`,
    '/\u0000\u0001\u001f\u007f?\u0000=\u0001',
    '*',
    '',
  ];
  it.each(malformed.map((uri) => [uri.length > 60 ? `${uri.slice(0, 60)}… (${uri.length} chars)` : JSON.stringify(uri), uri]))(
    '%s: valid entry, uri kept as received, at most 100 arguments',
    (_label, uri) => {
      const outcome = run(exchangeFixture({ request: { uri } }));
      expect(outcome.kind).toBe('entry');
      if (outcome.kind !== 'entry') return;
      expect(outcome.entry.request.uri).toBe(uri);
      // Kong's lua_max_uri_args: at most 100 arguments, repeats of a name included
      const values = Object.values(outcome.entry.request.querystring).flatMap((v) => (Array.isArray(v) ? v : [v]));
      expect(values.length).toBeLessThanOrEqual(100);
    },
  );

  it('property: arbitrary URIs with percent signs give a valid entry', () => {
    const piece = fc.oneof(fc.constantFrom('%', '%2', '%zz', '%FF', '%C3', '%E2%82', '=', '&', '?', '+', '#'), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const uri = `/${pieces.join('')}`;
        const outcome = run(exchangeFixture({ request: { uri } }));
        expect(outcome.kind === 'entry' && outcome.entry.request.uri).toBe(uri);
      }),
      { numRuns: HOSTILE_ENTRY_PROPERTY_RUNS.uris },
    );
  });

  it('malformed escapes in a urlencoded body are kept as written, never a failure', () => {
    const body = Buffer.from('a=%zz&b=%E0%A4%A&%FF=%&c=%C3%28');
    const outcome = run(withRequestBody(body, 'application/x-www-form-urlencoded'), { logRequestBody: true });
    expect(outcome.kind === 'entry' && outcome.entry.request.body_args).toMatchObject({ a: '%zz' });
  });
});

describe('hostile custom field values', () => {
  it('a 10 MB value, a 100,000-deep value, a cycle, a BigInt and a throwing getter are counted errors; the entry stays valid', () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 100_000; i++) {
      const next = {};
      cursor.a = next;
      cursor = next;
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const fields: CustomFields = {
      huge: () => 'x'.repeat(10 * MiB),
      'request.deep': () => deep,
      cyclic: () => cyclic,
      big: () => BigInt(1),
      getter: () => ({
        get boom(): never {
          throw new Error('getter');
        },
      }),
      expression: "'y'.repeat(10 * 1024 * 1024)",
      fine: () => 'ok',
    };
    const outcome = run(exchangeFixture(), {}, fields);
    expect(outcome.kind).toBe('entry');
    if (outcome.kind !== 'entry') return;
    expect(outcome.reasons.sort()).toEqual(
      ['custom_field:big', 'custom_field:cyclic', 'custom_field:expression', 'custom_field:getter', 'custom_field:huge', 'custom_field:request.deep'].sort(),
    );
    expect((outcome.entry as unknown as { fine: string }).fine).toBe('ok');
    expect(outcome.json.length).toBeLessThan(10_000);
  });

  it('property: any JSON value under maxValueBytes is written; over it, a counted error', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 1, max: 8000 }), (value, size) => {
        const big = 'z'.repeat(size);
        const outcome = run(exchangeFixture(), {}, { 'custom.value': () => value, 'custom.big': () => big });
        const written = outcome.kind === 'entry' ? (outcome.entry as unknown as { custom?: Record<string, unknown> }).custom : undefined;
        const bigFits = JSON.stringify(big).length <= 4096;
        expect(outcome.reasons.includes('custom_field:custom.big')).toBe(!bigFits);
        if (bigFits) expect(written?.big).toBe(big);
      }),
      { numRuns: HOSTILE_ENTRY_PROPERTY_RUNS.customFieldValues },
    );
  });
});

it('the README\'s guarantees table states the number of hostile cases the suites run', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const total = (HOSTILE_ENTRY_CASES + HOSTILE_HTTP_CASES).toLocaleString('en-US');
  expect(readme).toContain(`\`hostile-entry\` and \`hostile-http\`: ${total} cases`);
});
