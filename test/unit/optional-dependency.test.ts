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
