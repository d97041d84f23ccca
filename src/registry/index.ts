/**
 * Schema-registry serialization: Kong log entries (and keys) in the Confluent wire format, with Avro, JSON Schema
 * or Protobuf schemas from a Confluent-compatible registry.
 *
 * @module
 */

export {
  createRegistryEncoder,
  type RegistryEncoder,
  type RegistryEncoderHooks,
  type ResolvedSchemaInfo,
  type ResolvedSchemas,
} from './encoder.js';
export type { MessageEncoder } from './message-encoder.js';
export {
  DEFAULT_OAUTH2_SCOPES,
  DEFAULT_REGISTRY_REFRESH_INTERVAL_MS,
  DEFAULT_REGISTRY_REQUEST_TIMEOUT_MS,
  resolveRegistryOptions,
  type RegistryAuth,
  type RegistryBasicAuth,
  type RegistryNoAuth,
  type RegistryOAuth2Auth,
  type RegistryOptions,
  type ResolvedRegistryOptions,
  type SchemaSelector,
} from './registry-options.js';
export {
  fromKongSchemaRegistry,
  SCHEMA_REGISTRY_OPTIONS_TABLE,
  type KongConfluentRegistry,
  type KongRegistryAuthentication,
  type KongRegistryBasic,
  type KongRegistryOAuth2,
  type KongSchemaRegistryConfig,
  type KongSchemaSelector,
} from './kong-schema-registry-config.js';
export { kongLogEntrySchema } from './kong-schemas.js';
export {
  registerKongSchemas,
  topicSubject,
  type RegisterKongSchemaRequest,
  type RegisteredKongSchema,
} from './register.js';
export type { SchemaReference, SchemaType } from './client.js';
export { CONFLUENT_MAGIC_BYTE, decodeWireMessage, encodeWireMessage, type WireMessage } from './wire-format.js';
