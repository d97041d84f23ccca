/**
 * `validateLogEntry`: checks an entry (or a parsed message) against the exported {@link logEntrySchema} with
 * ajv, and reports each problem with its JSON path. ajv is loaded only by the testing kit, never by
 * `import 'kafka-log'`.
 *
 * @module
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { logEntrySchema } from '../entry/schema.js';

/** The outcome of {@link validateLogEntry}. */
export interface LogEntryValidation {
  /** Whether the entry conforms to the schema. */
  valid: boolean;
  /** One readable line per problem, each starting with the path, e.g. `/response/status: must be integer`. */
  errors: string[];
}

let compiled: ValidateFunction | undefined;

// Compiled on first use: a test file that never validates pays nothing.
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(logEntrySchema as object);
  return compiled;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') return `${path}: missing required field "${String(params.missingProperty)}"`;
  if (error.keyword === 'enum') {
    const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
    return `${path}: must be one of ${allowed}`;
  }
  return `${path}: ${error.message ?? error.keyword}`;
}

/**
 * Validates one log entry against {@link logEntrySchema} (JSON Schema draft 7) and lists every problem.
 *
 * @example
 * ```ts
 * const { valid, errors } = validateLogEntry(JSON.parse(message.value.toString()));
 * assert.ok(valid, errors.join('\n'));
 * ```
 */
export function validateLogEntry(entry: unknown): LogEntryValidation {
  const validate = validator();
  if (validate(entry)) return { valid: true, errors: [] };
  const errors = (validate.errors ?? []).map(describe);
  return { valid: false, errors: [...new Set(errors)] };
}
