/**
 * The Protobuf codec: the entry is written as the FIRST message declared in the registered .proto file (message
 * index `[0]`). Plain JSON maps onto it field by field: `google.protobuf.Struct` / `Value` / `ListValue` fields
 * take any JSON (their canonical protobuf JSON is that same JSON); message fields take objects; `map<>` fields
 * take objects; scalars must have the field's type. Keys the message does not declare go to its `custom`
 * Struct field when it has one, else they are dropped and reported. A non-object value (a message key) is
 * written into the message's first field.
 *
 * @module
 */

import type * as ProtobufModule from 'protobufjs';
import { SchemaMismatchError } from '../errors.js';
import { isPlainObject } from '../options/check.js';
import type { CodecContext, SchemaCodec } from './schema-codec.js';
import { loadOptional } from '../optional-dependency.js';

type Protobuf = typeof ProtobufModule;
type MessageType = ProtobufModule.Type;
type Field = ProtobufModule.Field;

/** The message field that receives keys the message does not declare. */
export const PROTOBUF_CUSTOM_FIELD = 'custom';

const INT32_TYPES = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32_TYPES = new Set(['uint32', 'fixed32']);
const INT64_TYPES = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Any JSON value as a `google.protobuf.Value` in protobufjs object form. */
function toValue(value: unknown, path: string): Record<string, unknown> {
  if (value === null) return { nullValue: 0 };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SchemaMismatchError(path, 'a number that is not finite has no JSON form');
    return { numberValue: value };
  }
  if (Array.isArray(value)) return { listValue: toListValue(value, path) };
  if (isPlainObject(value)) return { structValue: toStruct(value, path) };
  throw new SchemaMismatchError(path, `${typeof value} is not a JSON value`);
}

function toStruct(value: Record<string, unknown>, path: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) fields[key] = toValue(item, join(path, key));
  return { fields };
}

function toListValue(value: unknown[], path: string): Record<string, unknown> {
  return { values: value.map((item, index) => toValue(item, join(path, index))) };
}

function resolveScalar(field: Field, value: unknown, path: string): unknown {
  const mismatch = (expected: string) => new SchemaMismatchError(path, `expected ${expected}, got ${kindOf(value)}`);
  const type = field.type;
  if (type === 'string') {
    if (typeof value === 'string') return value;
    throw mismatch('string');
  }
  if (type === 'bool') {
    if (typeof value === 'boolean') return value;
    throw mismatch('boolean');
  }
  if (type === 'double' || type === 'float') {
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    throw mismatch(type);
  }
  if (INT32_TYPES.has(type)) {
    if (Number.isInteger(value) && (value as number) >= -2147483648 && (value as number) <= 2147483647) return value;
    throw mismatch(`${type} (32-bit integer)`);
  }
  if (UINT32_TYPES.has(type)) {
    if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 4294967295) return value;
    throw mismatch(`${type} (unsigned 32-bit integer)`);
  }
  if (INT64_TYPES.has(type)) {
    if (Number.isSafeInteger(value) && (!type.startsWith('u') && !type.startsWith('fixed') || (value as number) >= 0)) return value;
    throw mismatch(`${type} (integer)`);
  }
  if (type === 'bytes') {
    if (Buffer.isBuffer(value)) return value;
    throw mismatch('bytes');
  }
  throw new SchemaMismatchError(path, `Protobuf type ${type} is not supported`);
}

function resolveSingle(protobuf: Protobuf, field: Field, value: unknown, path: string, context: CodecContext): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && value in resolved.values) return value;
    if (Number.isInteger(value) && Object.values(resolved.values).includes(value as number)) return value;
    throw new SchemaMismatchError(path, `expected one of ${Object.keys(resolved.values).join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (resolved instanceof protobuf.Type) {
    switch (resolved.fullName) {
      case '.google.protobuf.Value':
        return toValue(value, path);
      case '.google.protobuf.Struct':
        if (!isPlainObject(value)) throw new SchemaMismatchError(path, `expected object (Struct), got ${kindOf(value)}`);
        return toStruct(value, path);
      case '.google.protobuf.ListValue':
        if (!Array.isArray(value)) throw new SchemaMismatchError(path, `expected array (ListValue), got ${kindOf(value)}`);
        return toListValue(value, path);
      default:
        return resolveMessage(protobuf, resolved, value, path, context);
    }
  }
  return resolveScalar(field, value, path);
}

function resolveField(protobuf: Protobuf, field: Field, value: unknown, path: string, context: CodecContext): unknown {
  if (field.map) {
    if (!isPlainObject(value)) throw new SchemaMismatchError(path, `expected object (map), got ${kindOf(value)}`);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      if (item !== undefined) out[key] = resolveSingle(protobuf, field, item, join(path, key), context);
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new SchemaMismatchError(path, `expected array, got ${kindOf(value)}`);
    return value.map((item, index) => resolveSingle(protobuf, field, item, join(path, index), context));
  }
  return resolveSingle(protobuf, field, value, path, context);
}

function resolveMessage(protobuf: Protobuf, type: MessageType, value: unknown, path: string, context: CodecContext): Record<string, unknown> {
  if (!isPlainObject(value)) throw new SchemaMismatchError(path, `expected object (message ${type.name}), got ${kindOf(value)}`);
  const out: Record<string, unknown> = {};
  const customField = type.fields[PROTOBUF_CUSTOM_FIELD];
  const takesCustom = customField?.resolvedType?.fullName === '.google.protobuf.Struct' && !customField.repeated;
  const extra: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // null means "no value": proto3 has no null, except inside Struct / Value.
    if (item === undefined) continue;
    const field = type.fields[key];
    if (field === undefined || (takesCustom && field === customField)) {
      if (takesCustom) extra[key] = item;
      else context.onDroppedField(join(path, key));
      continue;
    }
    if (item === null && field.resolvedType?.fullName !== '.google.protobuf.Value') continue;
    out[key] = resolveField(protobuf, field, item, join(path, key), context);
  }
  if (takesCustom && Object.keys(extra).length > 0) out[PROTOBUF_CUSTOM_FIELD] = toStruct(extra, join(path, PROTOBUF_CUSTOM_FIELD));
  return out;
}

let protobufModule: Promise<Protobuf> | undefined;

/** The parsed .proto file: its root and the message kafka-log writes (the first declared, index 0). */
export async function parseProtobufSchema(
  schema: string,
  referencedSchemas: readonly string[] = [],
): Promise<{ root: ProtobufModule.Root; message: MessageType }> {
  protobufModule ??= loadOptional<Protobuf>('protobufjs', 'Protobuf schemas');
  const protobuf = await protobufModule;
  const parsed = protobuf.parse(schema, { keepCase: true });
  const root = parsed.root;
  const namespace = parsed.package ? root.lookup(parsed.package) : root;
  // Declaration order of the file's own top-level messages, taken before references add theirs.
  const first = (namespace as ProtobufModule.Namespace | null)?.nestedArray.find((item) => item instanceof protobuf.Type);
  if (!first) throw new Error('the Protobuf schema declares no message');
  for (const referenced of referencedSchemas) protobuf.parse(referenced, root, { keepCase: true });
  for (const name of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
    const common = protobuf.common.get(name);
    if (common?.nested) root.addJSON(common.nested);
  }
  root.resolveAll();
  return { root, message: first as MessageType };
}

/** Creates the Protobuf codec of a registered schema. */
export async function createProtobufCodec(schema: string, referencedSchemas: readonly string[] = []): Promise<SchemaCodec> {
  const { message } = await parseProtobufSchema(schema, referencedSchemas);
  const protobuf = await (protobufModule as Promise<Protobuf>);
  const firstField = message.fieldsArray[0];
  return {
    schemaType: 'PROTOBUF',
    encode(value, context) {
      const plain = isPlainObject(value) || firstField === undefined ? value : { [firstField.name]: value };
      const object = resolveMessage(protobuf, message, plain, '', context);
      return { payload: message.encode(message.fromObject(object)).finish(), messageIndexes: [0] };
    },
  };
}
