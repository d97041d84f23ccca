/**
 * The ready-made schemas of the Kong log entry for a schema registry, derived from the entry definition
 * (`entry/definition.ts`), the same source as `logEntrySchema`. The files under `schemas/` are these texts with
 * a "generated" header (`npm run generate:schemas`).
 *
 * @module
 */

import type { FieldDefinition, RecordDefinition } from '../entry/definition.js';
import { LOG_ENTRY } from '../entry/definition.js';
import { type JsonSchema, logEntrySchema } from '../entry/schema.js';
import { InvalidOptionError } from '../errors.js';
import type { SchemaType } from './client.js';

type Kind = Exclude<FieldDefinition['type'], object>;

// ---- Avro ----

/** The JSON kinds an open object's values may take in Avro: unions with one branch per kind (no wrapping needed). */
const AVRO_SCALARS = ['null', 'boolean', 'double', 'string'] as const;
const AVRO_JSON_TEXT = { type: 'string', logicalType: 'json' } as const;

function avroKind(kind: Kind): unknown {
  switch (kind) {
    case 'string':
    case 'boolean':
      return kind;
    case 'status':
      return 'int';
    case 'size':
    case 'milliseconds':
      return 'long';
    case 'headers':
      return { type: 'map', values: ['string', { type: 'array', items: 'string' }] };
    case 'query':
      return { type: 'map', values: ['string', 'boolean', { type: 'array', items: ['string', 'boolean'] }] };
    case 'json':
      return AVRO_JSON_TEXT;
    case 'object': {
      const list = { type: 'array', items: AVRO_SCALARS };
      return { type: 'map', values: [...AVRO_SCALARS, list, { type: 'map', values: [...AVRO_SCALARS, list] }] };
    }
    case 'objects':
      return { type: 'array', items: { type: 'map', values: AVRO_SCALARS } };
  }
}

function avroType(type: FieldDefinition['type']): unknown {
  if (typeof type === 'string') return avroKind(type);
  if (type.kind === 'enum') return { type: 'enum', name: type.name, symbols: type.symbols };
  if (type.kind === 'stringMap') return { type: 'map', values: 'string' };
  return avroRecord(type);
}

function avroField(field: FieldDefinition): object {
  const doc = field.doc === undefined ? {} : { doc: field.doc };
  const type = avroType(field.type);
  return field.optional === true ? { name: field.name, ...doc, type: ['null', type], default: null } : { name: field.name, ...doc, type };
}

function avroRecord(record: RecordDefinition): object {
  const fields = record.fields.map(avroField);
  const extra = record.extraKeysField;
  if (extra !== undefined) {
    // Read back by the Avro codec (`AVRO_CUSTOM_FIELD`): undeclared keys go there as JSON text.
    fields.push({ name: extra.name, doc: `${extra.doc}, each as JSON text.`, type: { type: 'map', values: AVRO_JSON_TEXT }, default: {} });
  }
  return { type: 'record', name: record.name, fields };
}

function kongAvroSchema(): object {
  return {
    ...avroRecord(LOG_ENTRY),
    namespace: 'kafka_log.kong',
    doc:
      'One Kong access-log entry (kafka-log). Open maps use unwrapped-friendly unions (one branch per JSON kind); ' +
      'body_args and custom fields hold JSON text (logicalType json).',
  };
}

// ---- Protobuf ----

const PROTOBUF_HEADER = [
  '// One Kong access-log entry (kafka-log), for a Confluent Schema Registry PROTOBUF subject.',
  '// KongLogEntry is the first message of the file (message index [0]), the one kafka-log writes.',
  '// Open maps (headers, querystring, body_args, route, service, consumer, tries) are google.protobuf.Struct /',
  "// Value, whose canonical protobuf JSON is the plain JSON of Kong's entry. Custom fields (top-level keys this",
  '// schema does not declare) go to `custom`.',
  'syntax = "proto3";',
  '',
  'package kafka_log.kong.v1;',
  '',
  'import "google/protobuf/struct.proto";',
];

function protobufKind(kind: Kind): string {
  switch (kind) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'status':
      return 'int32';
    case 'size':
    case 'milliseconds':
      return 'int64';
    case 'json':
      return 'google.protobuf.Value';
    case 'objects':
      return 'repeated google.protobuf.Struct';
    case 'headers':
    case 'query':
    case 'object':
      return 'google.protobuf.Struct';
  }
}

/** The field's declaration, without its name and number. Only scalars take `optional` (messages have presence). */
function protobufType(field: FieldDefinition): string {
  const type = field.type;
  if (typeof type === 'string') {
    const declared = protobufKind(type);
    const scalar = type === 'string' || type === 'boolean' || type === 'status' || type === 'size' || type === 'milliseconds';
    return scalar && field.optional === true ? `optional ${declared}` : declared;
  }
  if (type.kind === 'enum') return field.optional === true ? 'optional string' : 'string';
  if (type.kind === 'stringMap') return 'map<string, string>';
  return type.name;
}

/** The record and every record below it, depth first, each once. */
function recordsOf(record: RecordDefinition, into: RecordDefinition[] = []): RecordDefinition[] {
  if (into.some((known) => known.name === record.name)) return into;
  into.push(record);
  for (const field of record.fields) if (typeof field.type === 'object' && field.type.kind === 'record') recordsOf(field.type, into);
  return into;
}

function protobufMessage(record: RecordDefinition): string[] {
  const lines = [`message ${record.name} {`];
  if (record.reservedTags !== undefined && record.reservedTags.length > 0) lines.push(`  reserved ${record.reservedTags.join(', ')};`);
  for (const field of record.fields) {
    if (field.doc !== undefined) lines.push(`  // ${field.doc}`);
    lines.push(`  ${protobufType(field)} ${field.name} = ${field.tag};`);
  }
  const extra = record.extraKeysField;
  if (extra !== undefined) lines.push(`  google.protobuf.Struct ${extra.name} = ${extra.tag};`);
  lines.push('}');
  return lines;
}

function kongProtobufSchema(): string {
  const lines = [...PROTOBUF_HEADER];
  for (const record of recordsOf(LOG_ENTRY)) lines.push('', ...protobufMessage(record));
  return `${lines.join('\n')}\n`;
}

// ---- JSON Schema ----

function kongJsonSchema(): JsonSchema {
  return { ...logEntrySchema, $id: 'kafka-log/kong-log-entry' };
}

const texts = new Map<SchemaType, string>();

/** The ready-made Kong log-entry schema text of a type (computed once); InvalidOptionError for another type. */
export function kongLogEntrySchema(type: SchemaType): string {
  let text = texts.get(type);
  if (text === undefined) {
    if (type === 'AVRO') text = JSON.stringify(kongAvroSchema());
    else if (type === 'JSON') text = JSON.stringify(kongJsonSchema());
    else if (type === 'PROTOBUF') text = kongProtobufSchema();
    else throw new InvalidOptionError('type', 'must be "AVRO", "JSON" or "PROTOBUF"');
    texts.set(type, text);
  }
  return text;
}
