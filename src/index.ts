/**
 * kafka-log: Kong's Kafka Log plugin for Node.js. One JSON log entry per HTTP request/response, in Kong's
 * exact format, published to Apache Kafka.
 *
 * @packageDocumentation
 */

export * from './errors.js';
export type * from './entry/log-entry.js';
export type * from './entry/exchange.js';
export type * from './entry/entry-options.js';
export {
  buildLogEntry,
  createLogEntryBuilder,
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_REDACTED_HEADERS,
  DEFAULT_REDACTED_VALUE,
  type LogEntryBuilder,
  type ResolvedEntryOptions,
} from './entry/build.js';
export { logEntrySchema, type JsonSchema } from './entry/schema.js';
export { serializeLogEntry } from './entry/serialize.js';
export { readTraceIds } from './entry/trace-ids.js';
export { parseUrlEncoded } from './entry/urlencoded.js';
export {
  encodeBody,
  mediaTypeOf,
  bodyKindOf,
  type BodyKind,
  type BodyEncoding,
  type BodyEncodingOptions,
} from './entry/body.js';
export {
  applyCustomFields,
  compileCustomFields,
  setSerializeValue,
  type CompiledCustomField,
  type CompiledCustomFields,
  type CustomFieldsOptions,
} from './entry/custom-fields/custom-fields.js';
export type { KongType, OptionsTableRow } from './options/kong-table.js';
export { ADAPTER_OPTIONS_TABLE } from './capture/adapter-options-table.js';
export * from './registry/index.js';
export * from './publisher/index.js';
