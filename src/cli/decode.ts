/**
 * Turns a Kafka message value back into log entries: JSON (one entry, or an array of them when
 * `max_batch_size` > 1), or the Confluent wire format (magic byte 0, schema id, payload) through a registry.
 *
 * @module
 */

import { loadOptional } from '../optional-dependency.js';

/** Decodes one Confluent-framed value into the object that was encoded. */
export interface RegistryDecoder {
  /** Decodes a whole framed value (magic byte included). */
  decode(value: Buffer): Promise<unknown>;
}

/** A value that could not be decoded; `tail` reports it on stderr and goes on. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Whether a value is Confluent-framed: JSON text never starts with byte 0. */
export function isWireFormat(value: Buffer): boolean {
  return value.length >= 5 && value[0] === 0;
}

/** Decodes a value into entries (batch arrays unrolled). A tombstone (`null`) gives none. */
export async function decodeEntries(value: Buffer | null, registry: RegistryDecoder | undefined): Promise<unknown[]> {
  if (value === null || value.length === 0) return [];
  let decoded: unknown;
  if (isWireFormat(value)) {
    const schemaId = value.readInt32BE(1);
    if (!registry) throw new DecodeError(`registry-encoded value (schema id ${schemaId}): pass --registry URL to decode it`);
    try {
      decoded = await registry.decode(value);
    } catch (error) {
      throw new DecodeError(`cannot decode registry-encoded value (schema id ${schemaId}): ${error instanceof Error ? error.message : String(error)}`);
    }
  } else {
    try {
      decoded = JSON.parse(value.toString('utf8'));
    } catch {
      throw new DecodeError(`value is neither JSON nor registry-encoded (${value.length} bytes)`);
    }
  }
  return Array.isArray(decoded) ? decoded : [decoded];
}

interface ConfluentRegistryModule {
  SchemaRegistry: new (
    args: { host: string; auth?: { username: string; password: string } },
  ) => { decode(buffer: Buffer): Promise<unknown> };
}

/** Registry connection settings. */
interface RegistrySettings {
  /** Base URL. */
  url: string;
  /** Basic auth, when the registry needs it. */
  auth?: { username: string; password: string };
}

/**
 * A decoder backed by `@kafkajs/confluent-schema-registry` (Avro, JSON Schema, Protobuf; schemas fetched by id
 * and cached). It is an optional package, loaded only when `--registry` is given.
 */
export async function loadRegistryDecoder(settings: RegistrySettings): Promise<RegistryDecoder> {
  // A variable specifier: the package is optional, so neither tsc nor the bundler may resolve it at build time.
  const specifier = '@kafkajs/confluent-schema-registry';
  const missing = () => new DecodeError(`--registry needs the optional package ${specifier}: npm install ${specifier}`);
  const mod = await loadOptional<ConfluentRegistryModule>(specifier, missing, { has: 'SchemaRegistry' });
  const registry = new mod.SchemaRegistry({ host: settings.url, ...(settings.auth ? { auth: settings.auth } : {}) });
  return { decode: (value) => registry.decode(value) };
}
