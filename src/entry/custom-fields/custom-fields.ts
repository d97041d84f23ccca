/**
 * Custom fields: Kong's `custom_fields_by_lua` in JavaScript, written with the semantics of
 * `kong.log.set_serialize_value` (Kong's `kong/pdk/log.lua`).
 *
 * Like Kong, which runs every `custom_fields_by_lua` snippet (each queuing a `set_serialize_value`) before
 * `serialize()` applies the queue, kafka-log first evaluates every field against the entry as built, then
 * writes the results in the configured order. So no field sees another custom field's result, and the order
 * decides only which write wins.
 *
 * A field is a function (the application's own code, trusted, called in-process) or an expression string
 * (configuration, not trusted: evaluated in the QuickJS sandbox of `sandbox.ts`, which keeps it away from the
 * application, bounds its time and memory, and switches off one that keeps timing out).
 *
 * Values must be JSON data: `null`, booleans, finite numbers, strings, arrays and plain objects (nested
 * `undefined` is dropped, as JSON does). Function values are written by reference, not copied.
 *
 * @module
 */

import { CustomFieldError, InvalidOptionError, describeError } from '../../errors.js';
import { dottedPathProblem, splitDottedPath, writeDottedPath } from './dotted-path.js';
import type { LogEntry } from '../log-entry.js';
import type { CustomField, CustomFieldContext, CustomFieldFunction, CustomFieldMode, CustomFields } from '../entry-options.js';
import { createJsonValueCheck } from './json-value-check.js';
import { ExpressionSandbox } from './sandbox.js';
import type { ExpressionOutcome } from './sandbox.js';

/** Settings of {@link compileCustomFields}. */
export interface CustomFieldsOptions {
  /**
   * Time limit of the expression fields of one entry, milliseconds (a positive integer). Default 50. When it
   * passes, the expression running fails as timed out and the ones after it get a fresh limit.
   */
  expressionTimeoutMs?: number;
  /**
   * An expression that times out this many times in a row (a positive integer) is switched off until the
   * application restarts: reported once, then no longer run. Default 3.
   */
  expressionTimeoutsBeforeSwitchOff?: number;
  /** Largest JSON (UTF-8 bytes) a field's value may have; larger values give a `CustomFieldError`. Default 65536. */
  maxValueBytes?: number;
}

/** One compiled custom field, as {@link CompiledCustomFields} lists it. */
export interface CompiledCustomField {
  /** The dotted key as configured. */
  readonly key: string;
  /** How the value is written. */
  readonly mode: CustomFieldMode;
  /** Whether the value comes from a function or from an expression string. */
  readonly kind: 'function' | 'expression';
  /** How many times the value was computed (a switched-off expression is not run). */
  readonly evaluations: number;
  /** Whether the expression is switched off (see `expressionTimeoutsBeforeSwitchOff`); `false` for functions. */
  readonly switchedOff: boolean;
}

/** Custom fields validated and compiled once, at start-up, by {@link compileCustomFields}. */
export interface CompiledCustomFields {
  /** The fields, in the order they are written. */
  readonly fields: readonly CompiledCustomField[];
}

const DEFAULT_EXPRESSION_TIMEOUT_MS = 50;
const DEFAULT_TIMEOUTS_BEFORE_SWITCH_OFF = 3;
const DEFAULT_MAX_VALUE_BYTES = 65_536;
const MODES: ReadonlySet<string> = new Set(['set', 'add', 'replace']);

/** The shared result of a call where every field went fine: no allocation on the common path. */
const NO_ERRORS: CustomFieldError[] = Object.freeze([]) as unknown as CustomFieldError[];

/** Brand of compiled field sets; `Symbol.for` so two copies of the package (ESM and CJS) recognise each other. */
const COMPILED = Symbol.for('kafka-log.compiledCustomFields');

/** A field with everything precomputed. */
class FieldPlan implements CompiledCustomField {
  readonly key: string;
  readonly mode: CustomFieldMode;
  readonly kind: 'function' | 'expression';
  readonly segments: readonly string[];
  /** The function, for function fields. */
  readonly fn: CustomFieldFunction | undefined;
  /** The sandbox and the index in it, for expression fields. */
  readonly #sandbox: ExpressionSandbox | undefined;
  readonly expression: number;
  /** Calls of `fn`. */
  calls = 0;

  constructor(key: string, mode: CustomFieldMode, value: CustomFieldFunction | { sandbox: ExpressionSandbox; index: number }) {
    this.key = key;
    this.mode = mode;
    this.segments = splitDottedPath(key);
    if (typeof value === 'function') {
      this.kind = 'function';
      this.fn = value;
      this.#sandbox = undefined;
      this.expression = -1;
    } else {
      this.kind = 'expression';
      this.fn = undefined;
      this.#sandbox = value.sandbox;
      this.expression = value.index;
    }
  }

  get evaluations(): number {
    return this.#sandbox === undefined ? this.calls : this.#sandbox.evaluations(this.expression);
  }

  get switchedOff(): boolean {
    return this.#sandbox?.isSwitchedOff(this.expression) === true;
  }
}

/** The real shape behind {@link CompiledCustomFields}. */
interface CompiledPlan extends CompiledCustomFields {
  readonly [COMPILED]: true;
  readonly fields: readonly FieldPlan[];
  readonly sandbox: ExpressionSandbox | undefined;
  readonly maxValueBytes: number;
  /** Fields that failed to compile (only for raw maps given straight to applyCustomFields). */
  readonly compileErrors: readonly CustomFieldError[];
  /** Per-call scratch for values, reused unless a call is already running (re-entrancy). */
  scratch: unknown[] | undefined;
}

/**
 * Validates and compiles custom fields once, at start-up. Keys must be non-empty dotted paths without empty
 * segments or `__proto__`/`constructor`/`prototype` segments; expression strings are compiled in the sandbox
 * here, once.
 *
 * @throws InvalidOptionError naming `customFields.<key>` (or the offending option) when anything is invalid.
 */
export function compileCustomFields(fields: CustomFields | CompiledCustomFields, options?: CustomFieldsOptions): CompiledCustomFields {
  if (isCompiled(fields)) {
    // Already compiled (adapters accept both): its options were given when it was.
    if (options !== undefined) throw new InvalidOptionError('customFields', 'is already compiled: give the options to the first compileCustomFields');
    return fields;
  }
  return compilePlan(fields, options ?? {}, (error) => {
    throw error;
  });
}

function isCompiled(fields: CustomFields | CompiledCustomFields): fields is CompiledCustomFields {
  return typeof fields === 'object' && fields !== null && (fields as Partial<CompiledPlan>)[COMPILED] === true;
}

/** Compiles, handing each invalid field to `onInvalid` (which throws at start-up, or records at run time). */
function compilePlan(
  fields: CustomFields,
  options: CustomFieldsOptions,
  onInvalid: (error: InvalidOptionError) => void,
): CompiledPlan {
  const timeoutMs = positiveInteger(options.expressionTimeoutMs, DEFAULT_EXPRESSION_TIMEOUT_MS, 'expressionTimeoutMs');
  const timeoutsBeforeSwitchOff = positiveInteger(
    options.expressionTimeoutsBeforeSwitchOff,
    DEFAULT_TIMEOUTS_BEFORE_SWITCH_OFF,
    'expressionTimeoutsBeforeSwitchOff',
  );
  const maxValueBytes = positiveInteger(options.maxValueBytes, DEFAULT_MAX_VALUE_BYTES, 'maxValueBytes');
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new InvalidOptionError('customFields', 'must be an object mapping dotted keys to functions or expressions');
  }
  const plans: FieldPlan[] = [];
  const compileErrors: CustomFieldError[] = [];
  let sandbox: ExpressionSandbox | undefined;
  for (const key of Object.keys(fields)) {
    const name = `customFields.${key}`;
    try {
      const keyProblem = dottedPathProblem(key);
      if (keyProblem !== undefined) throw new InvalidOptionError(name, keyProblem);
      const { value, mode } = unpackField(fields[key], name);
      if (typeof value === 'function') {
        plans.push(new FieldPlan(key, mode, value));
        continue;
      }
      if (value.trim() === '') throw new InvalidOptionError(name, 'the expression is empty');
      sandbox ??= new ExpressionSandbox({ timeoutMs, maxValueBytes, timeoutsBeforeSwitchOff });
      let index: number;
      try {
        index = sandbox.compile(value);
      } catch (error) {
        throw new InvalidOptionError(name, `the expression does not compile: ${describeError(error)}`);
      }
      plans.push(new FieldPlan(key, mode, { sandbox, index }));
    } catch (error) {
      if (!(error instanceof InvalidOptionError)) throw error;
      onInvalid(error);
      compileErrors.push(new CustomFieldError(key, error.message, error));
    }
  }
  return {
    [COMPILED]: true,
    fields: plans,
    sandbox,
    maxValueBytes,
    compileErrors: compileErrors.length === 0 ? NO_ERRORS : compileErrors,
    scratch: undefined,
  };
}

/** Reads a field's value and mode, checking their types. */
function unpackField(
  field: CustomField | undefined,
  name: string,
): { value: CustomFieldFunction | string; mode: CustomFieldMode } {
  if (typeof field === 'function' || typeof field === 'string') return { value: field, mode: 'set' };
  if (typeof field === 'object' && field !== null) {
    const { value, mode = 'set' } = field;
    if (!MODES.has(mode)) throw new InvalidOptionError(`${name}.mode`, "must be 'set', 'add' or 'replace'");
    if (typeof value === 'function' || typeof value === 'string') return { value, mode };
    throw new InvalidOptionError(`${name}.value`, 'must be a function or an expression string');
  }
  throw new InvalidOptionError(name, 'must be a function, an expression string, or { value, mode }');
}

/** Validates an optional positive integer option. */
function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidOptionError(field, 'must be a positive integer');
  return value;
}

/** Raw maps given straight to applyCustomFields are compiled once each (leniently: bad fields become errors). */
const rawMapPlans = new WeakMap<CustomFields, CompiledPlan>();

/** Finds the plan behind `fields`, compiling a raw map the first time it is seen. */
function planOf(fields: CompiledCustomFields | CustomFields): CompiledPlan {
  if (isCompiled(fields)) return fields as CompiledPlan;
  const raw = fields as CustomFields;
  let plan = rawMapPlans.get(raw);
  if (plan === undefined) {
    plan = compilePlan(raw, {}, () => {});
    rawMapPlans.set(raw, plan);
  }
  return plan;
}

/**
 * Evaluates the custom fields and writes their values into `entry` (in place), with Kong's
 * `set_serialize_value` rules. Every field is evaluated against the entry as built; the values are then written
 * in the configured order. A field that throws, returns a Promise, times out, returns a non-JSON or too large
 * value, or writes below a non-object fails alone: the others still apply. An expression switched off (after
 * timing out too often in a row) fails once, when it is switched off, and is left out silently afterwards.
 *
 * Never throws. Returns the failures; on success, a shared frozen empty array.
 */
export function applyCustomFields(
  entry: LogEntry,
  fields: CompiledCustomFields | CustomFields,
  context: CustomFieldContext = EMPTY_CONTEXT,
): CustomFieldError[] {
  let errors: CustomFieldError[] | undefined;
  try {
    const plan = planOf(fields);
    if (plan.compileErrors.length > 0) errors = [...plan.compileErrors];
    const count = plan.fields.length;
    if (count === 0) return errors ?? NO_ERRORS;

    const outcomes = plan.sandbox === undefined ? undefined : plan.sandbox.evaluateAll(entry, context);
    const reuse = plan.scratch !== undefined;
    const values = reuse ? plan.scratch! : new Array<unknown>(count);
    plan.scratch = undefined; // taken: a re-entrant call allocates its own
    // Phase 1: every value, computed against the entry as built. A failed field leaves FAILED in its slot.
    for (let index = 0; index < count; index++) {
      const field = plan.fields[index]!;
      let problem: string | undefined;
      if (field.fn !== undefined) {
        field.calls++;
        try {
          const value = field.fn(entry, context);
          if (isThenable(value)) {
            // A rejected promise must not surface as an unhandled rejection in the host app.
            if (value instanceof Promise) value.catch(ignore);
            problem = 'returned a Promise; custom fields must be synchronous';
          } else {
            problem = jsonValueProblem(value, plan.maxValueBytes);
          }
          values[index] = value;
        } catch (error) {
          problem = `threw ${describeThrown(error)}`;
        }
      } else {
        const outcome: ExpressionOutcome | undefined = outcomes?.[field.expression];
        if (outcome?.skipped === true) {
          // Switched off, and reported once when it was: left out silently from then on.
          values[index] = FAILED;
          continue;
        }
        problem = outcome === undefined ? 'was not evaluated' : outcome.error;
        values[index] = outcome?.value;
      }
      if (problem !== undefined) {
        values[index] = FAILED;
        errors = withError(errors, new CustomFieldError(field.key, problem));
      }
    }
    // Phase 2: the writes, in order.
    for (let index = 0; index < count; index++) {
      const value = values[index];
      values[index] = undefined; // drop references: the scratch outlives the call
      if (value === FAILED) continue;
      const field = plan.fields[index]!;
      const problem = writeProblem(entry, field.segments, value, field.mode);
      if (problem !== undefined) errors = withError(errors, new CustomFieldError(field.key, problem));
    }
    plan.scratch = values;
  } catch (error) {
    // Only a bug (or a hostile getter) gets here; the contract is to report, never to throw.
    const reason = `custom fields could not be applied: ${describeError(error)}`;
    errors = withError(errors, new CustomFieldError('*', reason));
  }
  return errors ?? NO_ERRORS;
}

/** Appends `error`, creating the list on the first failure. */
function withError(errors: CustomFieldError[] | undefined, error: CustomFieldError): CustomFieldError[] {
  if (errors === undefined) return [error];
  errors.push(error);
  return errors;
}

const EMPTY_CONTEXT: CustomFieldContext = Object.freeze({});

/** Marks a field whose value could not be computed. */
const FAILED: unique symbol = Symbol('failed');

/**
 * Writes one value; returns what went wrong (a non-object on the path), or `undefined`.
 */
function writeProblem(
  entry: LogEntry,
  segments: readonly string[],
  value: unknown,
  mode: CustomFieldMode,
): string | undefined {
  const result = writeDottedPath(entry as Record<string, unknown>, segments, value, mode);
  if (result.kind !== 'blocked') return undefined;
  const at = segments.slice(0, result.index + 1).join('.');
  return `cannot write below "${at}": it holds ${describeKind(result.found)}, not an object`;
}

/**
 * Kong's `kong.log.set_serialize_value(key, value, { mode })`, applied at once: writes `value` at the dotted
 * `key` of `entry` (creating missing objects in modes `set` and `add`); `set` always writes, `add` only when the
 * key is absent, `replace` only when present; `undefined` removes the key (mode rules still apply).
 *
 * @throws CustomFieldError when the key is invalid, the mode unknown, the value not JSON data (no size limit
 *   here), or a segment on the path holds a non-object.
 */
export function setSerializeValue(entry: LogEntry, key: string, value: unknown, mode: CustomFieldMode = 'set'): void {
  const keyProblem = dottedPathProblem(key);
  if (keyProblem !== undefined) throw new CustomFieldError(String(key), keyProblem);
  if (!MODES.has(mode)) throw new CustomFieldError(key, "mode must be 'set', 'add' or 'replace'");
  const valueProblem = jsonValueProblem(value, Number.POSITIVE_INFINITY);
  if (valueProblem !== undefined) throw new CustomFieldError(key, valueProblem);
  const problem = writeProblem(entry, splitDottedPath(key), value, mode);
  if (problem !== undefined) throw new CustomFieldError(key, problem);
}

function ignore(): void {}

function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : `a non-Error value (${typeof error})`;
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `a ${typeof value} (${String(value)})`;
}

/** The JSON data check of function values (the sandbox runs the same check on expression values). */
const jsonValueProblem = createJsonValueCheck().problem;
