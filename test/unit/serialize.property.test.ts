import Ajv from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonValue, type LogEntry, SerializeError, buildLogEntry, logEntrySchema, serializeLogEntry } from '../../src/index.js';
import { exchangeFixture } from '../../src/testing/index.js';

// Strings mixing every kind of character a client can send: unicode beyond the BMP, control characters,
// quotes, backslashes and the JavaScript line separators.
const nastyString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', '"', '\\', '\u0000\u001f', '\u2028\u2029', '</script>', '\ud83d\ude00', 'REDACTED'),
);
const keyString = nastyString;
const jsonValue = (maxDepth: number): fc.Arbitrary<JsonValue> => fc.jsonValue({ maxDepth }) as fc.Arbitrary<JsonValue>;

type Schema = { properties?: Record<string, Schema>; required?: string[] };

/**
 * The entry with its keys in the order the compiled serializer writes them: each schema object's required
 * properties, then its other declared ones (both in schema order), then the rest in insertion order (open maps
 * keep theirs). Entries that fit the schema are written with `request`, `response`, `route`, `service` and
 * `consumer` in their own insertion order (see `serializerOrder` below).
 */
function inSerializerOrder(value: unknown, schema: Schema): unknown {
  if (schema.properties === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  const put = (key: string, inner: unknown) =>
    Object.defineProperty(ordered, key, { value: inner, enumerable: true, writable: true, configurable: true });
  const required = new Set(schema.required ?? []);
  const declared = Object.entries(schema.properties);
  for (const [key, inner] of [...declared.filter(([key]) => required.has(key)), ...declared.filter(([key]) => !required.has(key))]) {
    if (Object.hasOwn(source, key)) put(key, inSerializerOrder(source[key], inner));
  }
  for (const key of Object.keys(source)) if (!Object.hasOwn(schema.properties, key)) put(key, source[key]);
  return ordered;
}
const serializerOrder: Schema = {
  ...(logEntrySchema as Schema),
  properties: Object.fromEntries(
    Object.entries((logEntrySchema as Schema).properties ?? {}).map(([key, inner]) => [
      key,
      ['request', 'response', 'route', 'service', 'consumer'].includes(key) ? {} : inner,
    ]),
  ),
};
const nativeText = (value: LogEntry) => JSON.stringify(inSerializerOrder(value, serializerOrder));

const headerMap = fc.dictionary(
  keyString.map((name) => name.toLowerCase()),
  fc.oneof(nastyString, fc.array(nastyString, { minLength: 2, maxLength: 4 })),
  { maxKeys: 12 },
);
const queryMap = fc.dictionary(
  keyString,
  fc.oneof(nastyString, fc.constant(true), fc.array(fc.oneof(nastyString, fc.constant(true)), { minLength: 2, maxLength: 3 })),
  { maxKeys: 6 },
);
const jsonObject = fc.dictionary(keyString, jsonValue(6), { maxKeys: 5 });
const size = fc.nat({ max: 2 ** 31 });
const latency = fc.oneof(fc.nat({ max: 600_000 }), fc.double({ min: 0, max: 1e6, noNaN: true }));

const body = fc.record(
  {
    body: nastyString,
    body_args: jsonValue(8),
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
        tls: fc.record({
          version: fc.constantFrom('TLSv1.2', 'TLSv1.3'),
          cipher: nastyString,
          client_verify: fc.constantFrom('SUCCESS', 'NONE', 'FAILED:unknown CA'),
        }),
        workspace: nastyString,
        trace_id: fc.record(
          { w3c: fc.stringMatching(/^[0-9a-f]{32}$/), b3: fc.stringMatching(/^[0-9a-f]{16}$/), datadog: fc.stringMatching(/^[0-9]{1,20}$/) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    custom: fc.dictionary(keyString.map((key) => `x_${key}`), jsonValue(10), { maxKeys: 4 }),
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

  // Compared as text, byte for byte, with what V8's JSON.stringify writes for the same entry in the serializer's key
  // order: stronger than comparing JSON.parse results, and independent of JSON.parse, which in V8 13.6 (Node 24.21)
  // can return a wrong key after parsing a same-length key with another escape (`{"x_\\":1}` then `{"x_\"":1}`).
  it('writes what JSON.stringify writes, and the output conforms to logEntrySchema', () => {
    fc.assert(
      fc.property(entry, (generated) => {
        const text = serializeLogEntry(generated);
        expect(text).toBe(nativeText(generated));
        const written = JSON.parse(text);
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
        expect(batch).toBe(`[${entries.map(nativeText).join(',')}]`);
      }),
      { numRuns: 100 },
    );
  });

  // The fast path leaves body, route, service and consumer to V8; an entry whose values there are not what the
  // schema says (a custom field may put anything anywhere) goes through the serializer compiled from the schema.
  it('keeps the output conforming when body, route, service or consumer hold the wrong kind of value', () => {
    const wrongKinds: Array<[string, (entry: Record<string, unknown> & LogEntry) => void]> = [
      ['request.body a number', (e) => Object.assign(e.request, { body: 42 })],
      ['response.body an object', (e) => Object.assign(e.response, { body: { a: 1 } })],
      ['route a string', (e) => Object.assign(e, { route: 'orders' })],
      ['service an array', (e) => Object.assign(e, { service: [1, 2] })],
      ['consumer null', (e) => Object.assign(e, { consumer: null })],
    ];
    for (const [what, spoil] of wrongKinds) {
      const spoilt = structuredClone(fc.sample(entry, { numRuns: 1, seed: 7 })[0]) as Record<string, unknown> & LogEntry;
      spoil(spoilt);
      const written = JSON.parse(serializeLogEntry(spoilt));
      expect(conforms(written), `${what}: ${JSON.stringify(conforms.errors)}`).toBe(true);
    }
    const numberBody = structuredClone(fc.sample(entry, { numRuns: 1, seed: 7 })[0]) as LogEntry;
    Object.assign(numberBody.request, { body: 42 });
    expect(JSON.parse(serializeLogEntry(numberBody)).request.body).toBe('42');
  });

  // The loose path writes request and response in the order their keys were set; the builder sets them in schema
  // order, so what it builds comes out exactly as the strictly typed serializer would write it.
  it('writes entries the builder made with every object in schema order', () => {
    const exchanges = [
      exchangeFixture(),
      exchangeFixture({
        request: {
          headers: ['Content-Type', 'application/json', 'X-Forwarded-For', '10.0.0.1'],
          body: { bytes: Buffer.from('{"a":[1,2],"b":"x"}') },
          tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientVerify: 'SUCCESS' },
        },
        response: { body: { bytes: Buffer.from('\u00ff binary'), totalSize: 20 } },
        route: { path: '/a/:id' },
        service: { name: 'orders' },
        consumer: { id: 'c-1' },
      }),
    ];
    for (const exchange of exchanges) {
      const built = buildLogEntry(exchange, { logRequestBody: true, logResponseBody: true });
      expect(serializeLogEntry(built)).toBe(JSON.stringify(inSerializerOrder(built, logEntrySchema as Schema)));
    }
  });

  it('gives a typed SerializeError when a known field cannot take its type', () => {
    const broken = { ...fc.sample(entry, 1)[0], response: { status: 'teapot', headers: {}, size: 1 } } as unknown as LogEntry;
    expect(() => serializeLogEntry(broken)).toThrow(SerializeError);
  });
});
