// trace_id in Kong's shape: the fixtures of test/fixtures/trace-ids/ (Kong's own propagation test vectors and cases
// derived from its extractors' code) through readTraceIds, through the adapters' one-pass header scan, and from a
// header record; then the shape of every value whatever the headers hold.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readRequestIds } from '../../src/capture/request-ids.js';
import type { TraceIds } from '../../src/entry/log-entry.js';
import { TRACE_ID_FORMATS, isTraceHeader, mayBeTraceHeader, readTraceIds, withW3cTraceId } from '../../src/entry/trace-ids.js';

interface TraceIdCase {
  name: string;
  kong: string;
  headers: string[];
  expected: TraceIds | null;
}
const { cases } = JSON.parse(readFileSync(join(__dirname, '../fixtures/trace-ids/kong-propagation.json'), 'utf8')) as { cases: TraceIdCase[] };

/** The same headers as a record: names lower-cased, a repeated header as a list (what node's `req.headers` is not). */
function asRecord(raw: string[]): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const known = record[name];
    record[name] = known === undefined ? (raw[i + 1] as string) : [...(typeof known === 'string' ? [known] : known), raw[i + 1] as string];
  }
  return record;
}

const scan = (raw: string[], readTraceHeaders = true) =>
  readRequestIds(raw, { requestIdHeader: 'x-request-id', correlationIdHeader: undefined, readTraceHeaders });

describe('trace ids from request headers, as Kong reads them', () => {
  it('has a case for every format, valid and ignored', () => {
    for (const format of TRACE_ID_FORMATS) {
      expect(cases.some((one) => one.expected?.[format] !== undefined)).toBe(true);
      expect(cases.some((one) => one.expected === null && one.name.startsWith(`${format} ignored`))).toBe(true);
    }
  });

  it.each(cases.map((one) => [one.name, one] as const))('%s', (_, { headers, expected }) => {
    const read = readTraceIds(headers);
    expect(read).toStrictEqual(expected ?? undefined);
    // Formats in Kong's order.
    expect(Object.keys(read ?? {})).toEqual(TRACE_ID_FORMATS.filter((format) => expected?.[format] !== undefined));
    expect(scan(headers).traceIds).toStrictEqual(expected ?? undefined);
    expect(readTraceIds(asRecord(headers))).toStrictEqual(expected ?? undefined);
  });

  it('reads nothing when the adapter does not write trace_id, and still reads the request id', () => {
    const ids = scan(['x-request-id', 'r-1', 'traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'], false);
    expect(ids).toEqual({ requestId: 'r-1', traceIds: undefined, correlationId: undefined });
  });

  it('a tracing header may also be the request id header', () => {
    const raw = ['X-B3-TraceId', '0af7651916cd43dd8448eb211c80319c'];
    const ids = readRequestIds(raw, { requestIdHeader: 'x-b3-traceid', correlationIdHeader: undefined, readTraceHeaders: true });
    expect(ids.requestId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(ids.traceIds).toEqual({ b3: '0af7651916cd43dd8448eb211c80319c' });
  });

  it('the length filter lets every tracing header through', () => {
    const names = cases.flatMap((one) => one.headers.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase())).filter(isTraceHeader);
    expect(new Set(names).size).toBe(15);
    for (const name of names) expect(mayBeTraceHeader(name) && mayBeTraceHeader(name.toUpperCase())).toBe(true);
    for (const name of ['content-type', 'Content-Type', 'Authorization', 'Accept-Encoding', 'user-agent-that-is-long-enough-to-overflow', '', '-b'])
      expect(mayBeTraceHeader(name)).toBe(false);
  });

  it('withW3cTraceId puts the active span first and replaces a received w3c id', () => {
    const span = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(withW3cTraceId(undefined, span)).toEqual({ w3c: span });
    const both = withW3cTraceId({ w3c: '0af7651916cd43dd8448eb211c80319c', datadog: '1' }, span);
    expect(both).toEqual({ w3c: span, datadog: '1' });
    expect(Object.keys(withW3cTraceId({ datadog: '1' }, span))).toEqual(['w3c', 'datadog']);
  });
});

describe('trace ids from hostile headers', () => {
  const SHAPES: Record<string, RegExp> = {
    w3c: /^[0-9a-f]{32}$/,
    b3: /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/,
    jaeger: /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/,
    ot: /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/,
    datadog: /^(?:0|[1-9][0-9]{0,19})$/,
    aws: /^[0-9a-f]{32}$/,
    gcp: /^[0-9a-f]{32}$/,
    instana: /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/,
  };
  const names = ['traceparent', 'b3', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'uber-trace-id', 'ot-tracer-traceid', 'ot-tracer-spanid',
    'x-datadog-trace-id', 'x-datadog-sampling-priority', 'x-amzn-trace-id', 'x-cloud-trace-context', 'x-instana-t', 'x-instana-s'];
  const near = fc.stringMatching(/^[0-9a-fA-F:;=/ -]{0,80}$/);
  const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), near, fc.stringMatching(/^[0-9]{0,60}$/));

  it('never throw, and every value has its format\'s shape', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 12 }), (pairs) => {
        const ids = readTraceIds(pairs.flat());
        for (const [format, id] of Object.entries(ids ?? {})) expect(id).toMatch(SHAPES[format] as RegExp);
      }),
      { numRuns: 2000 },
    );
  });

  it('a Datadog id of thousands of digits still gives its low 64 bits', () => {
    const digits = `1${'0'.repeat(8000)}`;
    expect(readTraceIds(['x-datadog-trace-id', digits])).toEqual({ datadog: (10n ** 8000n % 2n ** 64n).toString() });
  });
});
