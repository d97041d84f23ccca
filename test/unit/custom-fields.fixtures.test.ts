import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import type { CustomFieldsOptions } from '../../src/entry/custom-fields/custom-fields.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { CustomFields } from '../../src/entry/entry-options.js';
import { ErrorCodes, InvalidOptionError } from '../../src/errors.js';

interface ExpectedError {
  field: string;
  messageIncludes?: string;
}

interface FixtureCase {
  name: string;
  fields: CustomFields;
  entry?: Record<string, unknown>;
  context?: Record<string, unknown>;
  expectedEntry?: Record<string, unknown>;
  expectedErrors?: ExpectedError[];
  expectedCompileError?: ExpectedError;
}

interface Fixture {
  description: string;
  options?: CustomFieldsOptions;
  cases: FixtureCase[];
}

const directory = join(__dirname, '../fixtures/custom-fields');
const files = readdirSync(directory).filter((name) => name.endsWith('.json'));

describe('custom field fixtures', () => {
  it('finds the fixture files', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of files) {
    const fixture = JSON.parse(readFileSync(join(directory, file), 'utf8')) as Fixture;
    describe(`${file}: ${fixture.description}`, () => {
      for (const testCase of fixture.cases) {
        it(testCase.name, () => runCase(testCase, fixture.options));
      }
    });
  }
});

function runCase(testCase: FixtureCase, options: CustomFieldsOptions | undefined): void {
  if (testCase.expectedCompileError !== undefined) {
    const expected = testCase.expectedCompileError;
    let thrown: unknown;
    try {
      compileCustomFields(testCase.fields, options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    const error = thrown as InvalidOptionError;
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION);
    expect(error.field).toBe(expected.field);
    if (expected.messageIncludes !== undefined) expect(error.message).toContain(expected.messageIncludes);
    return;
  }
  const compiled = compileCustomFields(testCase.fields, options);
  const entry = structuredClone(testCase.entry ?? {}) as unknown as LogEntry;
  const errors = applyCustomFields(entry, compiled, testCase.context);
  expect(entry).toStrictEqual(testCase.expectedEntry);
  const expectedErrors = testCase.expectedErrors ?? [];
  expect(errors.map((error) => error.field)).toEqual(expectedErrors.map((error) => error.field));
  expectedErrors.forEach((expected, index) => {
    const error = errors[index]!;
    expect(error.code).toBe(ErrorCodes.CUSTOM_FIELD);
    if (expected.messageIncludes !== undefined) expect(error.message).toContain(expected.messageIncludes);
  });
}
