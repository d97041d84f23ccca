/**
 * The Avro codec: plain JSON entries resolved against the writer schema, value by value (Kong's `simple_json`):
 * a union takes the first of its branches the value fits, in schema order; a record takes its declared fields
 * (a missing one takes its default) and puts undeclared keys into its `custom` map field when it has one, else
 * drops them and reports their path; a `{"type": "string", "logicalType": "json"}` field holds any JSON value
 * as JSON text. Anything else that does not fit is a {@link SchemaMismatchError} naming the path.
 *
 * @module
 */

import type { Schema, Type, types } from 'avsc';
import { SchemaMismatchError } from '../errors.js';
import { isPlainObject } from '../options/check.js';
import type { CodecContext, SchemaCodec } from './schema-codec.js';
import { loadOptional } from '../optional-dependency.js';

type AvscModule = typeof import('avsc');

/** The record field that receives keys the record does not declare (as Kong's entry has custom fields). */
export const AVRO_CUSTOM_FIELD = 'custom';
/** The logical type of string fields that hold any JSON value as JSON text. */
const AVRO_JSON_LOGICAL_TYPE = 'json';

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Buffer.isBuffer(value)) return 'bytes';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Which JSON kinds an Avro type can take, to report the closest branch's own error. */
function acceptsKind(type: Type, kind: string): boolean {
  switch (type.typeName) {
    case 'null':
      return kind === 'null';
    case 'boolean':
      return kind === 'boolean';
    case 'int':
    case 'long':
      return kind === 'integer';
    case 'float':
    case 'double':
      return kind === 'integer' || kind === 'number';
    case 'string':
    case 'enum':
      return kind === 'string';
    case 'bytes':
    case 'fixed':
      return kind === 'bytes';
    case 'array':
      return kind === 'array';
    case 'map':
    case 'record':
      return kind === 'object';
    default:
      return type.typeName.startsWith('logical:');
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Resolves one plain JSON value against an Avro type, giving the datum avsc writes (unions wrapped). */
function resolve(type: Type, value: unknown, path: string, context: CodecContext): unknown {
  const mismatch = (problem: string) => new SchemaMismatchError(path, problem);
  switch (type.typeName) {
    case 'null':
      if (value === null || value === undefined) return null;
      throw mismatch(`expected null, got ${kindOf(value)}`);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      throw mismatch(`expected boolean, got ${kindOf(value)}`);
    case 'int':
      if (Number.isInteger(value) && (value as number) >= -2147483648 && (value as number) <= 2147483647) return value;
      throw mismatch(`expected int (32-bit integer), got ${kindOf(value)}`);
    case 'long':
      if (Number.isSafeInteger(value)) return value;
      throw mismatch(`expected long (integer), got ${kindOf(value)}`);
    case 'float':
    case 'double':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      throw mismatch(`expected ${type.typeName}, got ${kindOf(value)}`);
    case 'string':
      if (typeof value === 'string') return value;
      throw mismatch(`expected string, got ${kindOf(value)}`);
    case 'bytes':
      if (Buffer.isBuffer(value)) return value;
      throw mismatch(`expected bytes, got ${kindOf(value)}`);
    case 'fixed': {
      const size = (type as types.FixedType).size;
      if (Buffer.isBuffer(value) && value.length === size) return value;
      throw mismatch(`expected ${size} fixed bytes, got ${kindOf(value)}`);
    }
    case 'enum': {
      const symbols = (type as types.EnumType).symbols;
      if (typeof value === 'string' && symbols.includes(value)) return value;
      throw mismatch(`expected one of ${symbols.join(', ')}, got ${typeof value === 'string' ? JSON.stringify(value) : kindOf(value)}`);
    }
    case 'array': {
      if (!Array.isArray(value)) throw mismatch(`expected array, got ${kindOf(value)}`);
      const items = (type as types.ArrayType).itemsType;
      return value.map((item, index) => resolve(items, item, join(path, index), context));
    }
    case 'map': {
      if (!isPlainObject(value)) throw mismatch(`expected object (map), got ${kindOf(value)}`);
      const values = (type as types.MapType).valuesType as Type;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        if (item !== undefined) out[key] = resolve(values, item, join(path, key), context);
      }
      return out;
    }
    case 'record':
      return resolveRecord(type as types.RecordType, value, path, context);
    case 'union:wrapped':
      return resolveUnion(type as types.WrappedUnionType, value, path, context);
    case `logical:${AVRO_JSON_LOGICAL_TYPE}`:
      if (value === undefined) throw mismatch('expected a JSON value, got nothing');
      return value;
    default:
      // Other logical types (timestamps, decimals, ...) take what their underlying type takes.
      if (type.typeName.startsWith('logical:')) return resolve((type as types.LogicalType).underlyingType, value, path, context);
      throw mismatch(`Avro type ${type.typeName} is not supported`);
  }
}

function resolveRecord(type: types.RecordType, value: unknown, path: string, context: CodecContext): unknown {
  if (!isPlainObject(value)) throw new SchemaMismatchError(path, `expected object (record ${type.name}), got ${kindOf(value)}`);
  const out: Record<string, unknown> = {};
  const declared = new Set<string>();
  const customField = type.fields.find((field) => field.name === AVRO_CUSTOM_FIELD && field.type.typeName === 'map');
  for (const field of type.fields) {
    declared.add(field.name);
    if (field === customField) continue;
    const fieldValue = value[field.name];
    const fieldPath = join(path, field.name);
    if (fieldValue === undefined) {
      const fallback = field.defaultValue();
      if (fallback !== undefined) {
        out[field.name] = fallback;
        continue;
      }
      if (field.type.typeName === 'union:wrapped' && (field.type as types.WrappedUnionType).types.some((t) => t.typeName === 'null')) {
        out[field.name] = null;
        continue;
      }
      throw new SchemaMismatchError(fieldPath, `required field is missing (Avro ${field.type.typeName})`);
    }
    out[field.name] = resolve(field.type, fieldValue, fieldPath, context);
  }
  const extra: Record<string, unknown> = {};
  for (const [key, extraValue] of Object.entries(value)) {
    if (declared.has(key) && key !== AVRO_CUSTOM_FIELD) continue;
    if (extraValue === undefined) continue;
    if (customField) extra[key] = extraValue;
    else context.onDroppedField(join(path, key));
  }
  if (customField) out[customField.name] = resolve(customField.type, extra, join(path, customField.name), context);
  return out;
}

function resolveUnion(type: types.WrappedUnionType, value: unknown, path: string, context: CodecContext): unknown {
  const kind = kindOf(value);
  let closest: SchemaMismatchError | undefined;
  for (const branch of type.types) {
    // Only branches that can take the value's kind are tried: optional fields are `["null", ...]` unions, and
    // failing the null branch by exception for every present value made encoding an order of magnitude slower.
    if (!acceptsKind(branch, kind)) continue;
    try {
      const datum = resolve(branch, value, path, context);
      return branch.typeName === 'null' ? null : { [branch.branchName as string]: datum };
    } catch (error) {
      if (!(error instanceof SchemaMismatchError)) throw error;
      // The first branch of the value's own kind explains best why it failed (a deeper path, usually).
      closest ??= error;
    }
  }
  if (closest) throw closest;
  const names = type.types.map((branch) => branch.branchName ?? branch.typeName).join(', ');
  throw new SchemaMismatchError(path, `${kind} fits none of the union's types (${names})`);
}

let avscModule: Promise<AvscModule> | undefined;
let jsonTextType: (new (schema: Schema, opts?: unknown) => types.LogicalType) | undefined;

/** The logical type `json`: any JSON value written as JSON text, read back parsed. */
function jsonLogicalType(avsc: AvscModule): new (schema: Schema, opts?: unknown) => types.LogicalType {
  jsonTextType ??= class JsonText extends avsc.types.LogicalType {
    protected override _fromValue(text: string): unknown {
      return JSON.parse(text);
    }
    protected override _toValue(value: unknown): string {
      return JSON.stringify(value);
    }
    protected override _resolve(writer: Type): ((value: string) => unknown) | undefined {
      return avsc.Type.isType(writer, 'string', `logical:${AVRO_JSON_LOGICAL_TYPE}`) ? (text: string) => JSON.parse(text) : undefined;
    }
  };
  return jsonTextType;
}

/** Parses an Avro schema (with the schemas it references, parsed first) the way the Avro codec reads it. */
export async function parseAvroSchema(schema: string, referencedSchemas: readonly string[] = []): Promise<Type> {
  avscModule ??= loadOptional<AvscModule>('avsc', 'Avro schemas');
  const avsc = await avscModule;
  const registry: Record<string, Type> = {};
  const options = { wrapUnions: true, logicalTypes: { [AVRO_JSON_LOGICAL_TYPE]: jsonLogicalType(avsc) }, registry };
  for (const referenced of referencedSchemas) avsc.Type.forSchema(JSON.parse(referenced) as Schema, options);
  return avsc.Type.forSchema(JSON.parse(schema) as Schema, options);
}

/** Creates the Avro codec of a registered schema. */
export async function createAvroCodec(schema: string, referencedSchemas: readonly string[] = []): Promise<SchemaCodec> {
  const type = await parseAvroSchema(schema, referencedSchemas);
  return {
    schemaType: 'AVRO',
    encode(value, context) {
      const datum = resolve(type, value, '', context);
      try {
        return { payload: type.toBuffer(datum) };
      } catch (error) {
        // The resolver checked every value; reaching here means a case it does not know.
        throw new SchemaMismatchError('', `Avro encoding failed: ${(error as Error).message}`);
      }
    },
  };
}
