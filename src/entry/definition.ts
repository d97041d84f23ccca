/**
 * The log entry's fields, described once. `logEntrySchema` (JSON Schema, `schema.ts`) and the Avro and Protobuf
 * schemas the registry registers (`registry/kong-schemas.ts`) are all derived from {@link LOG_ENTRY}, and the
 * files under `schemas/` are generated from those (`npm run generate:schemas`; a test fails when they drift).
 * The TypeScript types of `log-entry.ts` carry the documentation; a type test keeps their keys equal to these.
 *
 * Field numbers (`tag`) are the Protobuf field numbers: never reuse one, list retired ones in `reservedTags`.
 *
 * @module
 */

import { TRACE_ID_FORMATS } from './trace-ids.js';

/**
 * What a field holds. Each kind has one form per schema language:
 *
 * | kind | JSON Schema | Avro | Protobuf |
 * |---|---|---|---|
 * | `string`, `boolean` | string, boolean | string, boolean | string, bool |
 * | `status` | integer | int | int32 |
 * | `size` | integer ≥ 0 | long | int64 |
 * | `milliseconds` | number | long | int64 |
 * | `headers` | object of string or string list | map of those | Struct |
 * | `query` | object of string, `true` or a list of those | map of those | Struct |
 * | `json` | any JSON value | JSON text (logicalType `json`) | Value |
 * | `object` | open object | map of JSON scalars, lists and one nested level | Struct |
 * | `objects` | list of open objects | list of maps of JSON scalars | repeated Struct |
 *
 * and a {@link StringMapDefinition} is an object of strings in JSON Schema, a map of strings in Avro and a
 * `map<string, string>` in Protobuf.
 */
type ValueKind = 'string' | 'boolean' | 'status' | 'size' | 'milliseconds' | 'headers' | 'query' | 'json' | 'object' | 'objects';

/** A closed set of strings (Avro enum; a string in JSON Schema and Protobuf). */
interface EnumDefinition {
  readonly kind: 'enum';
  /** The Avro enum's name. */
  readonly name: string;
  readonly symbols: readonly string[];
}

/** An object of string values whose usual keys are known (JSON Schema lists them; other keys are allowed). */
interface StringMapDefinition {
  readonly kind: 'stringMap';
  readonly keys: readonly string[];
}

/** A field of a record. */
export interface FieldDefinition {
  readonly name: string;
  /** Protobuf field number. */
  readonly tag: number;
  readonly type: ValueKind | EnumDefinition | StringMapDefinition | RecordDefinition;
  /** Left out of the entry when it does not apply (never `null`). */
  readonly optional?: boolean;
  /** What a consumer must know about the field beyond its name and type. */
  readonly doc?: string;
}

/** An object with declared fields; it may hold undeclared keys too (Kong's entry is open). */
export interface RecordDefinition {
  readonly kind: 'record';
  /** The Avro record's and the Protobuf message's name. */
  readonly name: string;
  readonly fields: readonly FieldDefinition[];
  /** Where Avro and Protobuf put the keys the record does not declare (custom fields); else they are dropped. */
  readonly extraKeysField?: { readonly name: string; readonly tag: number; readonly doc: string };
  /** Protobuf field numbers used by earlier versions, never to be reused. */
  readonly reservedTags?: readonly number[];
}

// The body fields kafka-log adds to `request` and `response` (Kong's entry has none), numbered from `first`.
function bodyFields<const First extends number>(first: First) {
  return [
    { name: 'body', tag: first, type: 'string', optional: true },
    { name: 'body_args', tag: first + 1, type: 'json', optional: true },
    { name: 'body_base64', tag: first + 2, type: 'boolean', optional: true },
    { name: 'body_truncated', tag: first + 3, type: 'boolean', optional: true },
    { name: 'body_args_error', tag: first + 4, type: 'string', optional: true },
  ] as const;
}

const TLS = {
  kind: 'record',
  name: 'Tls',
  fields: [
    { name: 'version', tag: 1, type: 'string' },
    { name: 'cipher', tag: 2, type: 'string' },
    { name: 'client_verify', tag: 3, type: 'string' },
  ],
} as const satisfies RecordDefinition;

const REQUEST = {
  kind: 'record',
  name: 'Request',
  fields: [
    { name: 'id', tag: 1, type: 'string' },
    { name: 'uri', tag: 2, type: 'string' },
    { name: 'url', tag: 3, type: 'string' },
    { name: 'querystring', tag: 4, type: 'query' },
    { name: 'method', tag: 5, type: 'string' },
    { name: 'headers', tag: 6, type: 'headers' },
    { name: 'size', tag: 7, type: 'size' },
    { name: 'tls', tag: 8, type: TLS, optional: true },
    ...bodyFields(9),
  ],
} as const satisfies RecordDefinition;

const RESPONSE = {
  kind: 'record',
  name: 'Response',
  fields: [
    { name: 'status', tag: 1, type: 'status' },
    { name: 'headers', tag: 2, type: 'headers' },
    { name: 'size', tag: 3, type: 'size' },
    ...bodyFields(4),
  ],
} as const satisfies RecordDefinition;

const LATENCIES = {
  kind: 'record',
  name: 'Latencies',
  fields: [
    { name: 'request', tag: 1, type: 'milliseconds' },
    { name: 'proxy', tag: 2, type: 'milliseconds' },
    { name: 'kong', tag: 3, type: 'milliseconds' },
    { name: 'receive', tag: 4, type: 'milliseconds' },
  ],
} as const satisfies RecordDefinition;

const AUTHENTICATED_ENTITY = {
  kind: 'record',
  name: 'AuthenticatedEntity',
  fields: [
    { name: 'id', tag: 1, type: 'string' },
    { name: 'consumer_id', tag: 2, type: 'string', optional: true },
  ],
} as const satisfies RecordDefinition;

/** The log entry: Kong's `kong.log.serialize()` layout (see Kong's `kong/pdk/log.lua`) plus kafka-log's body fields. */
export const LOG_ENTRY = {
  kind: 'record',
  name: 'KongLogEntry',
  fields: [
    { name: 'request', tag: 1, type: REQUEST },
    { name: 'upstream_uri', tag: 2, type: 'string' },
    { name: 'upstream_status', tag: 3, type: 'string' },
    { name: 'response', tag: 4, type: RESPONSE },
    { name: 'latencies', tag: 5, type: LATENCIES },
    { name: 'tries', tag: 6, type: 'objects', optional: true },
    { name: 'authenticated_entity', tag: 7, type: AUTHENTICATED_ENTITY, optional: true },
    { name: 'route', tag: 8, type: 'object', optional: true },
    { name: 'service', tag: 9, type: 'object', optional: true },
    { name: 'consumer', tag: 10, type: 'object', optional: true },
    { name: 'client_ip', tag: 11, type: 'string' },
    { name: 'started_at', tag: 12, type: 'milliseconds' },
    { name: 'source', tag: 13, type: { kind: 'enum', name: 'Source', symbols: ['upstream', 'kong'] } },
    { name: 'workspace', tag: 14, type: 'string', optional: true },
    { name: 'workspace_name', tag: 15, type: 'string', optional: true },
    {
      name: 'trace_id',
      tag: 19,
      type: { kind: 'stringMap', keys: TRACE_ID_FORMATS },
      optional: true,
      doc: 'Trace ids by tracing format as Kong 3.5+ writes them (w3c, b3, jaeger, ot, datadog, aws, gcp, instana); only the formats found.',
    },
    { name: 'correlation_id', tag: 17, type: 'string', optional: true },
  ],
  extraKeysField: { name: 'custom', tag: 18, doc: 'Custom fields (top-level keys this schema does not declare)' },
  // 16: trace_id as a string (a W3C trace id), before it took Kong's object shape.
  reservedTags: [16],
} as const satisfies RecordDefinition;
