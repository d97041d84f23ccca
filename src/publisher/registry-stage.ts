/**
 * The publisher's schema-registry stage: with a registry configured, a queued message holds its entry (not its
 * JSON) until its produce request is about to go out; this stage then encodes its value (and its key, when a key
 * schema is set) in the Confluent wire format. Encoding at request time keeps `publish` synchronous and cheap,
 * and lets a registry outage be retried like a broker outage while the entries wait in the bounded queue.
 *
 * @module
 */
import { ErrorCodes, KafkaLogError, type SchemaMismatchError } from '../errors.js';
import { type RegistryEncoder, type ResolvedSchemas, createRegistryEncoder } from '../registry/encoder.js';
import type { ResolvedRegistryOptions } from '../registry/options.js';
import type { QueuedMessage } from './queue.js';

/** A message whose entry (or key) does not fit the schema. */
export interface RegistryMisfit {
  /** The message, not sent. */
  message: QueuedMessage;
  /** Why: `path` names the failing value. */
  error: SchemaMismatchError;
}

/** What the stage reports besides its results. */
export interface RegistryStageHooks {
  /** A key the value schema has no place for was left out of a message (dotted path). */
  onDroppedField(path: string): void;
}

function isSchemaMismatch(error: unknown): error is SchemaMismatchError {
  return error instanceof KafkaLogError && error.code === ErrorCodes.SCHEMA_MISMATCH;
}

/** Encodes queued messages through one registry encoder, created once. */
export class RegistryStage {
  readonly #encoder: RegistryEncoder;
  #schemas: Promise<ResolvedSchemas> | undefined;

  /** Creates the encoder (no request is made yet; the codec packages load on first use). */
  constructor(options: ResolvedRegistryOptions, hooks: RegistryStageHooks) {
    this.#encoder = createRegistryEncoder(options, { onDroppedField: (path) => hooks.onDroppedField(path) });
  }

  /** Resolves the value (and key) schemas once; a failure is forgotten, so the next request asks again. */
  ready(): Promise<ResolvedSchemas> {
    if (this.#schemas === undefined) {
      const attempt = this.#encoder.ready();
      this.#schemas = attempt;
      attempt.catch(() => {
        if (this.#schemas === attempt) this.#schemas = undefined;
      });
    }
    return this.#schemas;
  }

  /**
   * Encodes the messages still holding an entry, in place (a message encoded once is never encoded again, so a
   * retried request sends the same bytes). Returns the misfits, which the caller drops; throws the REGISTRY error
   * that stopped it (retriable or not), in which case the messages not yet encoded keep their entries.
   */
  async encode(messages: readonly QueuedMessage[]): Promise<RegistryMisfit[]> {
    const schemas = await this.ready();
    const misfits: RegistryMisfit[] = [];
    for (const message of messages) {
      const entry = message.entry;
      if (entry === undefined) continue;
      const record = message.record;
      try {
        const value = await this.#encoder.encodeValue([entry], false);
        // Without a key schema keys stay the bytes routing chose (they may not even be UTF-8).
        const key = schemas.key === undefined || record.key === null ? record.key : await this.#encoder.encodeKey(record.key.toString('utf8'));
        message.record = { ...record, key, value };
        message.entry = undefined;
      } catch (error) {
        if (!isSchemaMismatch(error)) throw error;
        misfits.push({ message, error });
      }
    }
    return misfits;
  }

  /** Releases the registry connections. */
  close(): Promise<void> {
    return this.#encoder.close();
  }
}
