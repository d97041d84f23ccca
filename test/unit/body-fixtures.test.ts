import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BodyEncodingOptions, encodeBody } from '../../src/entry/body.js';
import { BodyParseError } from '../../src/errors.js';
import type { LoggedBody } from '../../src/entry/log-entry.js';

/** One conformance case; a fixture file holds an array of them. */
interface BodyCase {
  name: string;
  contentType?: string;
  body?: string;
  bodyBase64?: string;
  totalSize?: number;
  options?: Partial<BodyEncodingOptions>;
  expected: { ok: true; fields: LoggedBody } | { ok: false; errorCode: string; errorMessage?: string; errorMessageExcludes?: string; fields: LoggedBody };
}

const directory = join(__dirname, '../fixtures/bodies');
const files = readdirSync(directory).filter((file) => file.endsWith('.json'));

function bytesOf(testCase: BodyCase): Uint8Array {
  if (testCase.bodyBase64 !== undefined) return Buffer.from(testCase.bodyBase64, 'base64');
  if (testCase.body !== undefined) return Buffer.from(testCase.body, 'utf8');
  throw new Error(`fixture "${testCase.name}" has neither body nor bodyBase64`);
}

it('finds the fixture files', () => {
  expect(files.length).toBeGreaterThanOrEqual(6);
});

for (const file of files) {
  const cases = JSON.parse(readFileSync(join(directory, file), 'utf8')) as BodyCase[];
  describe(file, () => {
    it.each(cases.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
      const options: BodyEncodingOptions = { side: 'request', maxBodySize: 65_536, maxJsonDepth: 64, ...testCase.options };
      const body = testCase.totalSize === undefined ? { bytes: bytesOf(testCase) } : { bytes: bytesOf(testCase), totalSize: testCase.totalSize };
      const result = encodeBody(body, testCase.contentType, options);
      expect(result.fields).toStrictEqual(testCase.expected.fields);
      expect(result.ok).toBe(testCase.expected.ok);
      if (!result.ok && !testCase.expected.ok) {
        expect(result.error).toBeInstanceOf(BodyParseError);
        expect(result.error.code).toBe(testCase.expected.errorCode);
        expect(result.error.side).toBe(options.side);
        if (testCase.expected.errorMessage !== undefined) expect(result.error.message).toContain(testCase.expected.errorMessage);
        if (testCase.expected.errorMessageExcludes !== undefined) {
          expect(result.error.message).not.toContain(testCase.expected.errorMessageExcludes);
        }
      }
    });
  });
}
