/**
 * Loads an optional peer dependency when a feature needs it, the one way kafka-log does: the registry codecs
 * `avsc` and `protobufjs` (an application without a schema registry never installs them), ajv's draft builds
 * (only for JSON schemas), `prom-client` for the Prometheus metrics, the compression codecs, `@platformatic/kafka`,
 * `@opentelemetry/api` and the CLI's schema-registry decoder. A package that is not installed gives an error
 * saying what to install; a package that is installed but fails to load gives its own error.
 *
 * @module
 */

import { createRequire } from 'node:module';
import { ErrorCodes, KafkaLogError } from './errors.js';

/**
 * Whether `error` says the module itself was not found (a missing package, not a failure inside it). Loaders
 * that wrap the resolution error (module mockers, bundler runtimes) keep it as `cause`: a few levels are read.
 */
export function isModuleNotFound(error: unknown): boolean {
  for (let depth = 0; depth < 4 && typeof error === 'object' && error !== null; depth++) {
    const { code, cause } = error as { code?: unknown; cause?: unknown };
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
    error = cause;
  }
  return false;
}

/**
 * The error for a package that is not installed. The default is a non-retriable MISSING_DEPENDENCY
 * {@link KafkaLogError} saying "`purpose` need the package ...: npm install ..."; a room with errors of its own (the
 * transports' `TransportError`, the CLI's usage errors) passes its own, made from the same install command.
 */
export type MissingPackageError = (name: string, install: string, cause: unknown) => Error;

function missing(purpose: string): MissingPackageError {
  return (name, install, cause) => new KafkaLogError(ErrorCodes.MISSING_DEPENDENCY, `${purpose} need the package "${name}": ${install}`, { cause });
}

/** A module's exports: a CommonJS package imported from ESM arrives as its `default` export. */
export function moduleExports<T>(loaded: T | { default: T }, has?: keyof T): T {
  const module = loaded as T & { default?: T };
  if (has !== undefined) return has in (module as object) ? module : (module.default as T);
  return module.default ?? module;
}

/** How {@link loadOptional} loads and unwraps. */
export interface LoadOptions<T> {
  /** Replaces the import (tests). The default imports `name`: a variable specifier the bundler leaves alone. */
  load?: () => Promise<unknown>;
  /** A key the module's own exports have: when present the module is taken as it is, else its `default` export. */
  has?: keyof T;
}

/**
 * Imports `name` (its `default` export when it is a CommonJS package), or throws the missing-package error:
 * `purpose` names the feature in the default message, or is the room's own error maker.
 */
export async function loadOptional<T>(name: string, purpose: string | MissingPackageError, options: LoadOptions<T> = {}): Promise<T> {
  let loaded: unknown;
  try {
    loaded = await (options.load ?? (() => import(name)))();
  } catch (error) {
    if (isModuleNotFound(error)) throw (typeof purpose === 'string' ? missing(purpose) : purpose)(name, `npm install ${name}`, error);
    throw error;
  }
  return moduleExports(loaded as T, options.has);
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
    if (isModuleNotFound(error)) throw missing(purpose)(name, `npm install ${name}`, error);
    throw error;
  }
}
