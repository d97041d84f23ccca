/**
 * Loads a package only the registry needs when it needs it: the codecs `avsc` and `protobufjs` are optional peer
 * dependencies (an application without a schema registry never installs them), and ajv's draft builds load only
 * for JSON schemas.
 *
 * @module
 */

import { ErrorCodes, KafkaLogError } from '../errors.js';

/** Imports `name`, or throws a non-retriable MISSING_DEPENDENCY error saying what to install. */
export async function loadOptional<T>(name: string, purpose: string): Promise<T> {
  try {
    const loaded = (await import(name)) as T & { default?: T };
    // A CommonJS package imported from ESM arrives as its `default` export.
    return (loaded.default ?? loaded) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new KafkaLogError(ErrorCodes.MISSING_DEPENDENCY, `${purpose} need the package "${name}": npm install ${name}`, { cause: error });
    throw error;
  }
}
