/**
 * `logEntrySchema`: the JSON Schema (draft 7) of a {@link LogEntry}, derived from the entry definition
 * (`LOG_ENTRY` in `definition.ts`). The serializer is compiled from it once, and `validateLogEntry` in the
 * testing kit checks entries against it.
 *
 * Header and query maps are typed (string values, string lists, `true` for a bare query key); body_args,
 * route, service, consumer and custom fields are open. The serializer compiles a loosened copy of this schema
 * (see `serialize.ts`) and falls back to this one for entries that do not fit the loosened copy.
 *
 * @module
 */

import { type FieldDefinition, LOG_ENTRY, type RecordDefinition } from './definition.js';

/** A JSON Schema document (draft 7), as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

const stringList = { type: 'array', items: { type: 'string' } } as const;
const queryItem = { anyOf: [{ type: 'string' }, { type: 'boolean' }] } as const;

function kindSchema(kind: Exclude<FieldDefinition['type'], object>): JsonSchema {
  switch (kind) {
    case 'string':
    case 'boolean':
      return { type: kind };
    case 'status':
      return { type: 'integer' };
    case 'size':
      return { type: 'integer', minimum: 0 };
    case 'milliseconds':
      return { type: 'number' };
    case 'headers':
      return { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, stringList] } };
    case 'query':
      return { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'array', items: queryItem }] } };
    case 'json':
      return {};
    case 'object':
      return { type: 'object', additionalProperties: true };
    case 'objects':
      return { type: 'array', items: { type: 'object', additionalProperties: true } };
  }
}

function fieldSchema(field: FieldDefinition): JsonSchema {
  const type = field.type;
  let schema: JsonSchema;
  if (typeof type === 'string') schema = kindSchema(type);
  else if (type.kind === 'enum') schema = { type: 'string', enum: [...type.symbols] };
  else if (type.kind === 'stringMap') {
    const properties = Object.fromEntries(type.keys.map((key) => [key, { type: 'string' }]));
    schema = { type: 'object', properties, additionalProperties: { type: 'string' } };
  } else schema = recordSchema(type);
  return field.doc === undefined ? schema : { description: field.doc, ...schema };
}

function recordSchema(record: RecordDefinition): JsonSchema {
  const required = record.fields.filter((field) => field.optional !== true).map((field) => field.name);
  return {
    type: 'object',
    ...(required.length > 0 ? { required } : {}),
    properties: Object.fromEntries(record.fields.map((field) => [field.name, fieldSchema(field)])),
    // Kong's entry is open: custom fields may add keys anywhere.
    additionalProperties: true,
  };
}

/** JSON Schema (draft 7) of one log entry: Kong's layout plus kafka-log's body fields. */
export const logEntrySchema: JsonSchema = { $id: 'kafka-log/log-entry', title: 'Kong log entry', ...recordSchema(LOG_ENTRY) };
