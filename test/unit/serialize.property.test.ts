import Ajv from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonValue, type LogEntry, SerializeError, logEntrySchema, serializeLogEntry } from '../../src/index.js';

// Strings mixing every kind of character a client can send: unicode beyond the BMP, control characters,
// quotes, backslashes and the JavaScript line separators.
const nastyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', '"', '\\', '\u0000\u001f', '\u2028\u2029', '</script>', '\ud83d\ude00', 'REDACTED'),
);
const headerMap = fc.dictionary(
  nastyString.map((name) => name.toLowerCase()),
  fc.oneof(nastyString, fc.array(nastyString, { minLength: 2, maxLength: 4 })),
  { maxKeys: 12 },
);
const queryMap = fc.dictionary(
  nastyString,
  fc.oneof(nastyString, fc.constant(true), fc.array(fc.oneof(nastyString, fc.constant(true)), { minLength: 2, maxLength: 3 })),
  { maxKeys: 6 },
);
const jsonObject = fc.dictionary(nastyString, fc.jsonValue({ maxDepth: 6 }) as fc.Arbitrary<JsonValue>, { maxKeys: 5 });
const size = fc.nat({ max: 2 ** 31 });
const latency = fc.oneof(fc.nat({ max: 600_000 }), fc.double({ min: 0, max: 1e6, noNaN: true }));

const body = fc.record(
  {
    body: nastyString,
    body_args: fc.jsonValue({ maxDepth: 8 }) as fc.Arbitrary<JsonValue>,
    body_base64: fc.constant(true),
    body_truncated: fc.constant(true),
  },
  { requiredKeys: [] },
);

const entry: fc.Arbitrary<LogEntry> = fc
  .record({
    request: fc.record({
      id: nastyString,
      uri: nastyString,
      url: nastyString,
      querystring: queryMap,
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      headers: headerMap,
      size,
    }),
    requestBody: body,
    upstream_uri: nastyString,
    upstream_status: fc.oneof(fc.constant(''), fc.constantFrom('200', '502, 503')),
    response: fc.record({ status: fc.integer({ min: 100, max: 599 }), headers: headerMap, size }),
    latencies: fc.record({ request: latency, proxy: fc.oneof(fc.constant(-1), latency), kong: latency, receive: latency }),
    optional: fc.record(
      {
        route: jsonObject,
        service: jsonObject,
        consumer: jsonObject,
        authenticated_entity: fc.record({ id: nastyString, consumer_id: nastyString }),
        tls: fc.record({ version: fc.constantFrom('TLSv1.2', 'TLSv1.3'), cipher: nastyString, client_verify: fc.constantFrom('SUCCESS', 'NONE', 'FAILED:unknown CA') }),
        workspace: nastyString,
        trace_id: fc.stringMatching(/^[0-9a-f]{32}$/),
      },
      { requiredKeys: [] },
    ),
    custom: fc.dictionary(nastyString.map((key) => `x_${key}`), fc.jsonValue({ maxDepth: 10 }), { maxKeys: 4 }),
    client_ip: fc.oneof(fc.ipV4(), fc.ipV6()),
    started_at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    source: fc.constantFrom('upstream' as const, 'kong' as const),
  })
  .map(({ requestBody, optional, custom, ...rest }) => {
    const { tls, ...top } = optional;
    const built: LogEntry = {
      ...rest,
      ...custom,
      ...top,
      request: { ...rest.request, ...requestBody, ...(tls === undefined ? {} : { tls }) },
    };
    return built;
  });

describe('serializeLogEntry', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const conforms = ajv.compile(logEntrySchema);

  it('writes what JSON.stringify writes, and the output conforms to logEntrySchema', () => {
    fc.assert(
      fc.property(entry, (generated) => {
        const written = JSON.parse(serializeLogEntry(generated));
        expect(written).toStrictEqual(JSON.parse(JSON.stringify(generated)));
        expect(conforms(written), JSON.stringify(conforms.errors)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('writes a batch as a JSON array of the same entries, byte for byte the joined single serializations', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (entries) => {
        const batch = serializeLogEntry(entries);
        expect(batch).toBe(`[${entries.map((one) => serializeLogEntry(one)).join(',')}]`);
        expect(JSON.parse(batch)).toStrictEqual(JSON.parse(JSON.stringify(entries)));
      }),
      { numRuns: 100 },
    );
  });

  it('gives a typed SerializeError when a known field cannot take its type', () => {
    const broken = { ...fc.sample(entry, 1)[0], response: { status: 'teapot', headers: {}, size: 1 } } as unknown as LogEntry;
    expect(() => serializeLogEntry(broken)).toThrow(SerializeError);
  });
});
