/**
 * Loads an optional peer dependency when a feature needs it: the registry codecs `avsc` and `protobufjs` (an
 * application without a schema registry never installs them), ajv's draft builds (only for JSON schemas), and
 * `prom-client` for the Prometheus metrics.
 *
 * @module
 */

import { createRequire } from 'node:module';
import { ErrorCodes, KafkaLogError } from './errors.js';

/** Whether `error` says the module itself was not found (a missing package, not a failure inside it). */
function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** The non-retriable MISSING_DEPENDENCY error saying what to install. */
function missing(name: string, purpose: string, cause: unknown): KafkaLogError {
  return new KafkaLogError(ErrorCodes.MISSING_DEPENDENCY, `${purpose} need the package "${name}": npm install ${name}`, { cause });
}

/** Imports `name`, or throws a non-retriable MISSING_DEPENDENCY error saying what to install. */
export async function loadOptional<T>(name: string, purpose: string): Promise<T> {
  try {
    const loaded = (await import(name)) as T & { default?: T };
    // A CommonJS package imported from ESM arrives as its `default` export.
    return (loaded.default ?? loaded) as T;
  } catch (error) {
    if (isNotFound(error)) throw missing(name, purpose, error);
    throw error;
  }
}

// Resolves packages from kafka-log's own location, as `import()` does (the build shims `__filename` for the ES
// module output). Made on first use: importing kafka-log does nothing with it.
let requireFromHere: NodeJS.Require | undefined;

/**
 * Requires the CommonJS package `name` synchronously (for APIs that must not turn asynchronous), or throws a
 * non-retriable MISSING_DEPENDENCY error saying what to install.
 */
export function requireOptional<T>(name: string, purpose: string): T {
  try {
    requireFromHere ??= createRequire(__filename);
    return requireFromHere(name) as T;
  } catch (error) {
    if (isNotFound(error)) throw missing(name, purpose, error);
    throw error;
  }
}
