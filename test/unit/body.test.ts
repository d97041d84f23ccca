import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { type BodyEncodingOptions, bodyKindOf, encodeBody, mediaTypeOf } from '../../src/entry/body.js';
import { decodeComponent, parseUrlEncoded } from '../../src/entry/urlencoded.js';
import { MAX_MULTIPART_PARTS, parseMultipart } from '../../src/entry/multipart.js';
import { InvalidOptionError } from '../../src/errors.js';

const defaults: BodyEncodingOptions = { side: 'request', maxBodySize: 65_536, maxJsonDepth: 64 };

function encode(text: string, contentType: string | undefined, options: Partial<BodyEncodingOptions> = {}) {
  return encodeBody({ bytes: Buffer.from(text) }, contentType, { ...defaults, ...options });
}

function multipartOf(boundary: string, parts: number): string {
  let body = '';
  for (let i = 0; i < parts; i++) body += `--${boundary}\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n${i}\r\n`;
  return `${body}--${boundary}--\r\n`;
}

describe('mediaTypeOf', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['Application/JSON', 'application/json'],
    [' text/plain ; charset=utf-8', 'text/plain'],
    ['multipart/form-data;boundary=x', 'multipart/form-data'],
  ])('%j gives %j', (input, expected) => {
    expect(mediaTypeOf(input)).toBe(expected);
  });

  it('classifies the parsed, text and other types', () => {
    expect(bodyKindOf('application/json')).toBe('json');
    expect(bodyKindOf('application/x-www-form-urlencoded')).toBe('urlencoded');
    expect(bodyKindOf('multipart/form-data')).toBe('multipart');
    expect(bodyKindOf('application/soap+xml')).toBe('text');
    expect(bodyKindOf('application/vnd.api+json')).toBe('binary');
    expect(bodyKindOf('')).toBe('binary');
  });
});

describe('encodeBody', () => {
  it('rejects a 100k-deep JSON body by the depth scan, without exhausting the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const result = encode(deep, 'application/json', { maxBodySize: 1_000_000 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain('nesting deeper than 64 levels');
  });

  it('parses a multipart body with 5000 parts cheaply, keeping the first parts only', () => {
    const body = multipartOf('b', 5000);
    const started = performance.now();
    const result = encode(body, 'multipart/form-data; boundary=b', { maxBodySize: body.length });
    const elapsed = performance.now() - started;
    expect(result.ok).toBe(true);
    const args = result.fields.body_args as Record<string, string>;
    expect(Object.keys(args)).toHaveLength(MAX_MULTIPART_PARTS);
    expect(args.f0).toBe('0');
    expect(args[`f${MAX_MULTIPART_PARTS - 1}`]).toBe(String(MAX_MULTIPART_PARTS - 1));
    expect(result.fields.body).toBe(body);
    expect(elapsed).toBeLessThan(500);
  });

  it('never lets a late busboy error reach the host process (body ends inside a file part)', async () => {
    const unhandled: unknown[] = [];
    const record = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', record);
    try {
      const body = '--b\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\nabc';
      const result = encode(body, 'multipart/form-data; boundary=b');
      expect(result.ok).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
    }
  });

  it('reads a subarray view without looking outside it', () => {
    const backing = Buffer.from('XX{"a":1}YY');
    const result = encodeBody({ bytes: backing.subarray(2, 9) }, 'application/json', defaults);
    expect(result).toEqual({ ok: true, fields: { body: '{"a":1}', body_args: { a: 1 } } });
  });

  it('does not change the caller\'s bytes', () => {
    const bytes = Buffer.from('a=%41%FF&b=2');
    const copy = Buffer.from(bytes);
    encodeBody({ bytes }, 'application/x-www-form-urlencoded', defaults);
    expect(bytes.equals(copy)).toBe(true);
  });

  it.each([
    ['maxBodySize', { maxBodySize: -1 }],
    ['maxBodySize', { maxBodySize: Number.NaN }],
    ['maxJsonDepth', { maxJsonDepth: 1.5 }],
  ])('rejects a bad %s with a field-named error', (field, options) => {
    expect(() => encode('x', 'text/plain', options)).toThrow(InvalidOptionError);
    expect(() => encode('x', 'text/plain', options)).toThrow(field);
  });

  it('redacts inside nested arrays and leaves absent paths alone', () => {
    const result = encode('[[{"token":"t"}],{"x":1}]', 'application/json', { redactBodyFields: ['token', 'x.y', 'missing'] });
    expect(result).toEqual({ ok: true, fields: { body: '[[{"token":"REDACTED"}],{"x":1}]', body_args: [[{ token: 'REDACTED' }], { x: 1 }] } });
  });

  it('redacts the same way every time with the same path list (compiled paths are cached)', () => {
    const paths = ['password'];
    for (let i = 0; i < 3; i++) {
      expect(encode('{"password":"p"}', 'application/json', { redactBodyFields: paths }).fields.body).toBe('{"password":"REDACTED"}');
    }
  });
});

describe('form parsing', () => {
  it.each([
    ['a+b', 'a b'],
    ['%E2%82%AC', '€'],
    ['%e2%82%ac', '€'],
    ['%', '%'],
    ['%2', '%2'],
    ['%G1%41', '%G1A'],
    ['%FF', '%FF'],
    ['x%FF+%41', 'x%FF+%41'],
  ])('decodes %j as %j', (raw, decoded) => {
    expect(decodeComponent(raw)).toBe(decoded);
  });

  it('caps the number of pairs read', () => {
    expect(parseUrlEncoded('a=1&b=2&c=3', 2)).toEqual({ a: '1', b: '2' });
  });
});

describe('multipart parsing', () => {
  it('decodes UTF-8 file names and gives a file without a filename no filename field', () => {
    const body = Buffer.from(
      '--b\r\nContent-Disposition: form-data; name="doc"; filename="résumé.pdf"\r\nContent-Type: application/pdf\r\n\r\n12345\r\n' +
        '--b\r\nContent-Disposition: form-data; name="raw"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--b--',
    );
    expect(parseMultipart(body, 'multipart/form-data; boundary=b')).toEqual({
      ok: true,
      args: {
        doc: { filename: 'résumé.pdf', content_type: 'application/pdf', size: 5 },
        raw: { content_type: 'application/octet-stream', size: 0 },
      },
    });
  });

  it('reports a malformed content type as a failure, never a throw', () => {
    expect(parseMultipart(Buffer.from('x'), 'not a type').ok).toBe(false);
  });

  it('describes a file larger than the stream buffer with its full size', () => {
    const size = 200_000;
    const body = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="big"; filename="big.bin"\r\n\r\n'),
      Buffer.alloc(size, 0x61),
      Buffer.from('\r\n--b\r\nContent-Disposition: form-data; name="after"\r\n\r\nyes\r\n--b--'),
    ]);
    expect(parseMultipart(body, 'multipart/form-data; boundary=b')).toEqual({
      ok: true,
      // A part without Content-Type is text/plain (RFC 7578), file or not.
      args: { big: { filename: 'big.bin', content_type: 'text/plain', size }, after: 'yes' },
    });
  });
});
