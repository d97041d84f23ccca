import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BodyEncodingOptions, encodeBody } from '../../src/entry/body.js';

const contentTypes = fc.oneof(
  fc.constantFrom(
    undefined,
    'application/json',
    'APPLICATION/JSON; charset=utf-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=b',
    'multipart/form-data',
    'text/plain',
    'text/html; charset=iso-8859-1',
    'application/xml',
    'text/xml',
    'application/soap+xml',
    'image/png',
  ),
  fc.string(),
);

// Raw bytes, plus inputs shaped like each parsed type so the parsers see more than noise.
const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.json().map((text) => Buffer.from(text)),
  fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 8 }).map((pairs) => Buffer.from(pairs.map(([k, v]) => `${k}=${v}`).join('&'))),
  fc
    .array(fc.tuple(fc.string({ maxLength: 8 }), fc.uint8Array({ maxLength: 20 })), { maxLength: 5 })
    .map((parts) =>
      Buffer.concat([
        ...parts.map(([name, value]) =>
          Buffer.concat([Buffer.from(`--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), value, Buffer.from('\r\n')]),
        ),
        Buffer.from('--b--'),
      ]),
    ),
);

const options = fc.record({
  side: fc.constantFrom<BodyEncodingOptions['side']>('request', 'response'),
  maxBodySize: fc.integer({ min: 0, max: 400 }),
  maxJsonDepth: fc.integer({ min: 0, max: 8 }),
  redactBodyFields: fc.option(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), { nil: undefined }),
});

describe('encodeBody properties', () => {
  it('never throws, gives JSON-safe fields, and base64 bodies decode to the cut input', () => {
    fc.assert(
      fc.property(bodies, fc.option(fc.nat(1000), { nil: undefined }), contentTypes, options, (bytes, extra, contentType, opts) => {
        const totalSize = extra === undefined ? undefined : bytes.length + extra;
        const result = encodeBody(totalSize === undefined ? { bytes } : { bytes, totalSize }, contentType, opts);
        const { fields } = result;
        expect(JSON.parse(JSON.stringify(fields))).toEqual(fields);

        const cut = Math.min(bytes.length, opts.maxBodySize);
        const truncated = bytes.length > opts.maxBodySize || (totalSize !== undefined && totalSize > bytes.length);
        expect(fields.body_truncated === true).toBe(truncated);
        if (fields.body_base64 === true) {
          expect(Buffer.from(fields.body as string, 'base64').equals(Buffer.from(bytes.subarray(0, cut)))).toBe(true);
        } else if (fields.body !== undefined) {
          // Text is the cut input itself, or (redacted bodies aside) at most 3 bytes shorter at a character boundary.
          const text = Buffer.from(fields.body, 'utf8');
          if (opts.redactBodyFields === undefined || opts.redactBodyFields.length === 0) {
            expect(text.equals(Buffer.from(bytes.subarray(0, text.length)))).toBe(true);
            expect(cut - text.length).toBeLessThanOrEqual(truncated ? 3 : 0);
          }
        }
        if (bytes.length === 0 && !truncated) expect(fields).toEqual({});
        if (!result.ok) expect(result.error.code).toBe('KAFKA_LOG_ERR_BODY_PARSE');
      }),
      { numRuns: 2000 },
    );
  });
});
