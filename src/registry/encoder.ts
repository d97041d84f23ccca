/**
 * `createRegistryEncoder`: the {@link MessageEncoder} that writes entries (and keys) in the Confluent wire
 * format with schemas from a registry. Subject versions are resolved once and cached; a `latest` version is
 * resolved again when older than `refreshIntervalMs` (in the background, the known id meanwhile) and after an
 * entry failed to fit it. Codecs are cached by schema id, which never changes meaning. Once resolved, encoding
 * needs no registry, so a registry outage stops only resolutions, never the stream of an already-running encoder.
 *
 * @module
 */

import type { LogEntry } from '../entry/log-entry.js';
import { ErrorCodes, InvalidOptionError, KafkaLogError, RegistryError, SchemaMismatchError, describeError } from '../errors.js';
import { createAvroCodec } from './avro.js';
import { RegistryClient, type SchemaType, type SubjectVersion } from './client.js';
import type { CodecContext, SchemaCodec } from './schema-codec.js';
import { createJsonSchemaCodec } from './json-schema.js';
import { type KongSchemaRegistryConfig, resolveKongSchemaRegistry } from './kong-schema-registry-config.js';
import type { MessageEncoder } from './message-encoder.js';
import { type RegistryOptions, type SchemaSelector, resolveRegistryOptions } from './registry-options.js';
import { createProtobufCodec } from './protobuf.js';
import { encodeWireMessage } from './wire-format.js';

/** Callbacks of a registry encoder. */
export interface RegistryEncoderHooks {
  /** A key the schema has no place for was left out of a message (dotted path). Count it; the message is still sent. */
  onDroppedField?(path: string): void;
  /** Clock, ms (tests). */
  now?(): number;
}

/** Which schema a selector resolved to. */
export interface ResolvedSchemaInfo {
  /** The subject. */
  subject: string;
  /** The version it resolved to. */
  version: number;
  /** The registry-wide schema id written into messages. */
  id: number;
  /** The schema's type. */
  schemaType: SchemaType;
}

/** The schemas a registry encoder writes with. */
export interface ResolvedSchemas {
  /** The value schema. */
  value: ResolvedSchemaInfo;
  /** The key schema, when one is configured. */
  key?: ResolvedSchemaInfo;
}

/** The registry encoder: a {@link MessageEncoder} plus what it resolved. */
export interface RegistryEncoder extends MessageEncoder {
  /** Resolves the value (and key) schemas now, so configuration errors show at start rather than on the first entry. */
  ready(): Promise<ResolvedSchemas>;
  /**
   * Encodes one entry now, without waiting, when its schema is already resolved and may be used without asking
   * the registry; `undefined` when it must be resolved first (not resolved yet, `refreshIntervalMs` 0, or a
   * `latest` schema the entry does not fit, which is resolved again before giving up). Throws a
   * {@link SchemaMismatchError} when the entry does not fit a pinned version.
   */
  encodeValueNow(entry: LogEntry): Buffer | undefined;
  /** {@link RegistryEncoder.encodeValueNow} for a key (plain UTF-8 without a key schema). */
  encodeKeyNow(key: string): Buffer | undefined;
}

interface Resolved {
  info: ResolvedSchemaInfo;
  codec: SchemaCodec;
  resolvedAt: number;
}

/** Builds the codec of one registered schema, fetching the schemas it references first. */
async function buildCodec(client: RegistryClient, version: SubjectVersion): Promise<SchemaCodec> {
  const referenced: { name: string; schema: string }[] = [];
  const seen = new Set<string>();
  const collect = async (references: SubjectVersion['references']): Promise<void> => {
    for (const reference of references) {
      const key = `${reference.subject}/${reference.version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const found = await client.getSubjectVersion(reference.subject, reference.version);
      await collect(found.references);
      referenced.push({ name: reference.name, schema: found.schema });
    }
  };
  await collect(version.references);
  try {
    switch (version.schemaType) {
      case 'AVRO':
        return await createAvroCodec(version.schema, referenced.map((r) => r.schema));
      case 'JSON':
        return await createJsonSchemaCodec(version.schema, referenced);
      case 'PROTOBUF':
        return await createProtobufCodec(version.schema, referenced.map((r) => r.schema));
    }
  } catch (error) {
    if (error instanceof KafkaLogError) throw error;
    throw new RegistryError(`schema id ${version.id} (subject "${version.subject}") could not be parsed: ${describeError(error)}`, {
      retriable: false,
      cause: error,
    });
  }
}

/** One configured subject version, resolved lazily and kept. */
class SchemaSlot {
  private current: Resolved | undefined;
  private pending: Promise<Resolved> | undefined;

  constructor(
    private readonly selector: SchemaSelector,
    private readonly client: RegistryClient,
    private readonly codecs: Map<number, Promise<SchemaCodec>>,
    private readonly refreshIntervalMs: number,
    private readonly now: () => number,
  ) {}

  get tracksLatest(): boolean {
    return this.selector.version === 'latest';
  }

  async get(): Promise<Resolved> {
    const current = this.current;
    if (current === undefined) return this.resolve();
    if (!this.tracksLatest) return current;
    if (this.refreshIntervalMs === 0) return this.resolve();
    if (this.now() - current.resolvedAt >= this.refreshIntervalMs) {
      // Stale: refresh in the background; a failed refresh keeps the known id (still valid) and retries next time.
      this.resolve().catch(() => undefined);
    }
    return current;
  }

  /**
   * The resolved schema when it may be used without a request (a stale `latest` starts its refresh in the
   * background, as `get` does); `undefined` when a request must come first.
   */
  peek(): Resolved | undefined {
    const current = this.current;
    if (current === undefined || !this.tracksLatest) return current;
    if (this.refreshIntervalMs === 0) return undefined;
    if (this.now() - current.resolvedAt >= this.refreshIntervalMs) this.resolve().catch(() => undefined);
    return current;
  }

  /** Resolves again now (one request for concurrent callers). */
  resolve(): Promise<Resolved> {
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<Resolved> {
    const version = await this.client.getSubjectVersion(this.selector.subject, this.selector.version);
    let codec = this.codecs.get(version.id);
    if (codec === undefined) {
      codec = buildCodec(this.client, version);
      this.codecs.set(version.id, codec);
      codec.catch(() => this.codecs.delete(version.id));
    }
    const resolved: Resolved = {
      info: { subject: version.subject, version: version.version, id: version.id, schemaType: version.schemaType },
      codec: await codec,
      resolvedAt: this.now(),
    };
    this.current = resolved;
    return resolved;
  }
}

function encodeWith(resolved: Resolved, value: unknown, context: CodecContext): Buffer {
  const output = resolved.codec.encode(value, context);
  return encodeWireMessage(resolved.info.id, output.payload, output.messageIndexes);
}

/** Encodes with a slot's resolved schema, or `undefined` when it needs a request first (see `encodeValueNow`). */
function encodeNowThroughSlot(slot: SchemaSlot, value: unknown, context: CodecContext): Buffer | undefined {
  const resolved = slot.peek();
  if (resolved === undefined) return undefined;
  try {
    return encodeWith(resolved, value, context);
  } catch (error) {
    if (error instanceof SchemaMismatchError && slot.tracksLatest) return undefined;
    throw error;
  }
}

/** Encodes with a slot; after a mismatch against `latest`, resolves again once and retries if the schema changed. */
async function encodeThroughSlot(slot: SchemaSlot, value: unknown, context: CodecContext): Promise<Buffer> {
  const resolved = await slot.get();
  try {
    return encodeWith(resolved, value, context);
  } catch (error) {
    if (!(error instanceof SchemaMismatchError) || !slot.tracksLatest) throw error;
    let fresh: Resolved;
    try {
      fresh = await slot.resolve();
    } catch {
      throw error;
    }
    if (fresh.info.id === resolved.info.id) throw error;
    return encodeWith(fresh, value, context);
  }
}

function isKongShape(options: RegistryOptions | KongSchemaRegistryConfig): options is KongSchemaRegistryConfig {
  return typeof options === 'object' && options !== null && 'confluent' in options;
}

/**
 * Creates the registry encoder. `options` are {@link RegistryOptions}, or Kong's `schema_registry` block
 * (`{ confluent: { ... } }`), mapped as {@link fromKongSchemaRegistry} does. Throws {@link InvalidOptionError}
 * naming the field. No request is made until `ready()` or the first encode.
 */
export function createRegistryEncoder(options: RegistryOptions | KongSchemaRegistryConfig, hooks: RegistryEncoderHooks = {}): RegistryEncoder {
  const resolved = isKongShape(options) ? resolveKongSchemaRegistry(options) : resolveRegistryOptions(options);
  if (resolved === undefined) throw new InvalidOptionError('schema_registry.confluent', 'is required');
  const now = hooks.now ?? Date.now;
  const client = new RegistryClient(resolved);
  const codecs = new Map<number, Promise<SchemaCodec>>();
  const valueSlot = new SchemaSlot(resolved.valueSchema, client, codecs, resolved.refreshIntervalMs, now);
  const keySlot = resolved.keySchema ? new SchemaSlot(resolved.keySchema, client, codecs, resolved.refreshIntervalMs, now) : undefined;
  const context: CodecContext = { onDroppedField: (path) => hooks.onDroppedField?.(path) };
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new KafkaLogError(ErrorCodes.CLOSED, 'the registry encoder is closed');
  };

  return {
    async ready() {
      assertOpen();
      const value = (await valueSlot.get()).info;
      if (!keySlot) return { value };
      return { value, key: (await keySlot.get()).info };
    },

    async encodeValue(entry: LogEntry): Promise<Buffer> {
      assertOpen();
      return encodeThroughSlot(valueSlot, entry, context);
    },

    encodeValueNow(entry: LogEntry): Buffer | undefined {
      assertOpen();
      return encodeNowThroughSlot(valueSlot, entry, context);
    },

    encodeKeyNow(key: string): Buffer | undefined {
      assertOpen();
      if (!keySlot) return Buffer.from(key, 'utf8');
      return encodeNowThroughSlot(keySlot, key, context);
    },

    async encodeKey(key: string): Promise<Buffer> {
      assertOpen();
      if (!keySlot) return Buffer.from(key, 'utf8');
      return encodeThroughSlot(keySlot, key, context);
    },

    async close() {
      closed = true;
      client.close();
    },
  };
}
