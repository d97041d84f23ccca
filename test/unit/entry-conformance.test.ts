import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KafkaLogError, buildLogEntry, serializeLogEntry } from '../../src/index.js';
import type { EntryOptions, HttpExchange } from '../../src/index.js';

// Conformance: every fixture is an exchange in and the exact entry (or error code) Kong's layout demands out.
// Expected values are written by hand from Kong's serializer (`kong/pdk/log.lua`, function `serialize`) and the
// README's "The log entry" section; "$string" matches any string.
const dir = join(__dirname, '../fixtures/entries');

interface BodyFixture {
  bytes: { text?: string; base64?: string };
  totalSize?: number;
}
interface EntryFixture {
  name: string;
  /** The entry fields (and body rules) this fixture checks. */
  covers: string[];
  options?: EntryOptions;
  exchange: HttpExchange & { request: { body?: BodyFixture }; response: { body?: BodyFixture } };
  expected?: unknown;
  expectedError?: string;
}

function toBody(body: BodyFixture | undefined) {
  if (body === undefined) return undefined;
  const bytes =
    body.bytes.base64 !== undefined ? Buffer.from(body.bytes.base64, 'base64') : Buffer.from(body.bytes.text ?? '', 'utf8');
  return { bytes: new Uint8Array(bytes), ...(body.totalSize === undefined ? {} : { totalSize: body.totalSize }) };
}

function materialize(fixture: EntryFixture): HttpExchange {
  const { exchange } = fixture;
  return {
    ...exchange,
    request: { ...exchange.request, body: toBody(exchange.request.body) },
    response: { ...exchange.response, body: toBody(exchange.response.body) },
  } as HttpExchange;
}

function withMatchers(value: unknown): unknown {
  if (value === '$string') return expect.any(String);
  if (Array.isArray(value)) return value.map(withMatchers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withMatchers(inner)]));
  }
  return value;
}

const fixtures = readdirSync(dir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ file, fixture: JSON.parse(readFileSync(join(dir, file), 'utf8')) as EntryFixture }));

describe('buildLogEntry conformance fixtures', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
  });

  for (const { file, fixture } of fixtures) {
    it(`${file}: ${fixture.name}`, () => {
      const exchange = materialize(fixture);
      if (fixture.expectedError !== undefined) {
        let thrown: unknown;
        try {
          buildLogEntry(exchange, fixture.options);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(KafkaLogError);
        expect((thrown as KafkaLogError).code).toBe(fixture.expectedError);
        return;
      }
      const entry = buildLogEntry(exchange, fixture.options);
      expect(entry).toStrictEqual(withMatchers(fixture.expected));
      // What goes on the wire is the same entry.
      expect(JSON.parse(serializeLogEntry(entry))).toStrictEqual(withMatchers(fixture.expected));
    });
  }
});

describe("coverage of Kong's entry fields", () => {
  const rows = [
    'request.id', 'request.uri', 'request.url', 'request.querystring', 'request.method', 'request.headers',
    'request.size', 'request.tls', 'upstream_uri', 'upstream_status', 'response.status', 'response.headers',
    'response.size', 'latencies', 'latencies.proxy', 'latencies.kong', 'tries', 'authenticated_entity', 'route',
    'service', 'consumer', 'client_ip', 'started_at', 'source', 'workspace', 'workspace_name', 'trace_id',
    'correlation_id', 'request.body', 'request.body_args', 'response.body', 'body_base64',
    'body parse failure (default)', 'body parse failure (keep)',
  ];
  it("every field of the README's entry table is covered by at least one fixture", () => {
    const covered = new Set(fixtures.flatMap(({ fixture }) => fixture.covers));
    expect(rows.filter((row) => !covered.has(row))).toEqual([]);
  });
});
