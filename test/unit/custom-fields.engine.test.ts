// A missing engine package is a clear, typed error at start-up (compileCustomFields), not a crash later.
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:module', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:module')>();
  const missing = (name: string) => {
    throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  };
  return { ...original, createRequire: () => Object.assign(missing, { resolve: missing }) };
});

describe('the expression engine packages', () => {
  it('when missing, make compileCustomFields throw KAFKA_LOG_ERR_MISSING_DEPENDENCY naming them; function fields need none', async () => {
    const { compileCustomFields, applyCustomFields } = await import('../../src/entry/custom-fields/custom-fields.js');
    const { ErrorCodes, KafkaLogError } = await import('../../src/errors.js');
    expect(() => compileCustomFields({ region: "'eu-west-1'" })).toThrow(KafkaLogError);
    expect(() => compileCustomFields({ region: "'eu-west-1'" })).toThrow(
      expect.objectContaining({
        code: ErrorCodes.MISSING_DEPENDENCY,
        retriable: false,
        message: expect.stringContaining('npm install quickjs-emscripten-core@0.32.0 @jitl/quickjs-wasmfile-release-sync@0.32.0'),
      }),
    );
    const compiled = compileCustomFields({ region: () => 'eu-west-1' });
    const entry = {} as Parameters<typeof applyCustomFields>[0];
    expect(applyCustomFields(entry, compiled)).toHaveLength(0);
    // A raw map given straight to applyCustomFields reports instead of throwing.
    const errors = applyCustomFields({} as Parameters<typeof applyCustomFields>[0], { region: "'eu-west-1'" });
    expect(errors.map((error) => error.code)).toEqual([ErrorCodes.CUSTOM_FIELD]);
    expect(errors[0]!.message).toContain('quickjs-emscripten-core');
  });
});
