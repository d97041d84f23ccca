// Optional peers (the registry codecs avsc and protobufjs, prom-client for the metrics) are loaded on first use,
// with an error saying what to install when the application does not have them.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, KafkaLogError } from '../../src/errors.js';
import { loadOptional, requireOptional } from '../../src/optional-dependency.js';

describe('loadOptional', () => {
  it('loads an installed package (a CommonJS one arrives as its exports, not as a default wrapper)', async () => {
    const avsc = await loadOptional<typeof import('avsc')>('avsc', 'Avro schemas');
    expect(typeof avsc.Type.forSchema).toBe('function');
  });

  it('names the package and the npm install line when it is not installed', async () => {
    const error = await loadOptional('kafka-log-absent-codec', 'Avro schemas').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaLogError);
    expect(error).toMatchObject({ code: ErrorCodes.MISSING_DEPENDENCY, retriable: false });
    expect((error as Error).message).toBe('Avro schemas need the package "kafka-log-absent-codec": npm install kafka-log-absent-codec');
  });

  it("a room's own error for a missing package, also when a loader wrapped the not-found error as its cause", async () => {
    const notFound = Object.assign(new Error("Cannot find package 'x'"), { code: 'ERR_MODULE_NOT_FOUND' });
    const wrapped = new Error('the loader failed', { cause: notFound });
    const own = (name: string, install: string) => new RangeError(`${name}: ${install}`);
    const error = await loadOptional('kafka-log-absent', own, { load: () => Promise.reject(wrapped) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('kafka-log-absent: npm install kafka-log-absent');
  });

  it('a package that is installed but fails to load gives its own error, not "install it"', async () => {
    const broken = new SyntaxError('Unexpected token');
    await expect(loadOptional('kafka-log-broken', 'Avro schemas', { load: () => Promise.reject(broken) })).rejects.toBe(broken);
  });

  it('takes the module as it is when it has the named export, else its default export', async () => {
    const esm = { trace: 1, default: { trace: 2 } };
    expect(await loadOptional<{ trace: number }>('a', 'A', { load: async () => esm, has: 'trace' })).toBe(esm);
    expect(await loadOptional<{ trace: number }>('a', 'A', { load: async () => ({ default: esm.default }), has: 'trace' })).toBe(esm.default);
  });
});

describe('requireOptional', () => {
  it('loads an installed CommonJS package synchronously', () => {
    const avsc = requireOptional<typeof import('avsc')>('avsc', 'Avro schemas');
    expect(typeof avsc.Type.forSchema).toBe('function');
  });

  it('names the package and the npm install line when it is not installed', () => {
    let error: unknown;
    try {
      requireOptional('kafka-log-absent-metrics', 'Prometheus metrics');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KafkaLogError);
    expect(error).toMatchObject({ code: ErrorCodes.MISSING_DEPENDENCY, retriable: false });
    expect((error as Error).message).toBe('Prometheus metrics need the package "kafka-log-absent-metrics": npm install kafka-log-absent-metrics');
  });
});
