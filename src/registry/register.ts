/**
 * `registerKongSchemas`: registers kafka-log's ready-made Kong log-entry schema (Avro, JSON Schema or Protobuf)
 * under a subject, by convention `<topic>-value` (Confluent's TopicNameStrategy).
 *
 * @module
 */

import { InvalidOptionError, type RegistryError, type SchemaIncompatibleError } from '../errors.js';
import { RegistryClient, type SchemaType } from './client.js';
import { kongLogEntrySchema } from './kong-schemas.js';
import { type RegistryOptions, resolveRegistryOptions } from './registry-options.js';

/** The subject Confluent's default TopicNameStrategy gives a topic's values (`<topic>-value`) or keys (`<topic>-key`). */
export function topicSubject(topic: string, part: 'value' | 'key' = 'value'): string {
  return `${topic}-${part}`;
}

/** What {@link registerKongSchemas} registers. */
export interface RegisterKongSchemaRequest {
  /** Which of the ready-made schemas. */
  type: SchemaType;
  /** The subject, e.g. `topicSubject('kong-logs')` = `kong-logs-value`. */
  subject: string;
}

/** What {@link registerKongSchemas} registered. */
export interface RegisteredKongSchema {
  /** The registry-wide schema id. */
  id: number;
  /** The subject it is registered under. */
  subject: string;
  /** The schema type. */
  type: SchemaType;
}

/**
 * Registers the ready-made Kong log-entry schema of `type` under `subject` and returns its schema id (the same
 * id again when it is already registered). Only `url`, `auth`, `sslVerify` and `requestTimeoutMs` of the
 * registry options are used; `valueSchema` may be left out.
 *
 * Rejects with a {@link SchemaIncompatibleError} (`KAFKA_LOG_ERR_SCHEMA_INCOMPATIBLE`, not retriable) when the
 * registry refuses the schema as incompatible with the subject's earlier versions (HTTP 409), and with a
 * {@link RegistryError} for any other refusal or when the registry cannot be reached.
 */
export async function registerKongSchemas(
  registryOptions: Omit<RegistryOptions, 'valueSchema'> & Partial<Pick<RegistryOptions, 'valueSchema'>>,
  request: RegisterKongSchemaRequest,
): Promise<RegisteredKongSchema> {
  if (request.type !== 'AVRO' && request.type !== 'JSON' && request.type !== 'PROTOBUF')
    throw new InvalidOptionError('type', 'must be "AVRO", "JSON" or "PROTOBUF"');
  const options = resolveRegistryOptions({ ...registryOptions, valueSchema: registryOptions.valueSchema ?? { subject: request.subject, version: 'latest' } });
  if (typeof request.subject !== 'string' || request.subject.length === 0) throw new InvalidOptionError('subject', 'must be a non-empty string');
  const client = new RegistryClient(options);
  try {
    const id = await client.register(request.subject, { schema: kongLogEntrySchema(request.type), schemaType: request.type });
    return { id, subject: request.subject, type: request.type };
  } finally {
    client.close();
  }
}
