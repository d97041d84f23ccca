/**
 * The publisher's schema-registry stage. Once the value (and key) schemas are resolved, `publish` encodes each
 * entry at once in the Confluent wire format, so the queue holds and counts the very bytes it will send. Before
 * that (the registry not reached yet, or `refreshIntervalMs` 0, which asks the registry before every encode) an
 * entry waits as its JSON bytes, counted against `maxBytes` like any other, and this stage encodes it, from that
 * JSON, when its produce request is about to go out; a registry outage is then retried like a broker outage.
 *
 * @module
 */
import type { LogEntry } from '../entry/log-entry.js';
import { ErrorCodes, KafkaLogError, type SchemaMismatchError } from '../errors.js';
import { type RegistryEncoder, type ResolvedSchemas, createRegistryEncoder } from '../registry/encoder.js';
import type { ResolvedRegistryOptions } from '../registry/registry-options.js';
import type { QueuedMessage } from './queue.js';

/** A message whose entry (or key) does not fit the schema. */
export interface RegistryMisfit {
  /** The message, not sent. */
  message: QueuedMessage;
  /** Why: `path` names the failing value. */
  error: SchemaMismatchError;
}

/** What the stage reports besides its results. */
interface RegistryStageHooks {
  /** A key the value schema has no place for was left out of a message (dotted path). */
  onDroppedField(path: string): void;
}

/** An entry's value and key in the wire format. */
interface EncodedEntry {
  /** The value. */
  value: Buffer;
  /** The key: the key schema's wire format, or the routed bytes when there is no key schema. */
  key: Buffer | null;
}

/** Whether `error` is an entry (or key) that does not fit its schema. */
export function isSchemaMismatch(error: unknown): error is SchemaMismatchError {
  return error instanceof KafkaLogError && error.code === ErrorCodes.SCHEMA_MISMATCH;
}

const noop = () => undefined;

/** Encodes entries through one registry encoder, created once. */
export class RegistryStage {
  readonly #encoder: RegistryEncoder;
  readonly #keySchema: boolean;
  #schemas: Promise<ResolvedSchemas> | undefined;
  #warmed = false;

  /** Creates the encoder (no request is made yet; the codec packages load on first use). */
  constructor(options: ResolvedRegistryOptions, hooks: RegistryStageHooks) {
    this.#encoder = createRegistryEncoder(options, { onDroppedField: (path) => hooks.onDroppedField(path) });
    this.#keySchema = options.keySchema !== undefined;
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
   * Encodes an entry now when the schemas allow it without a request; `undefined` when it must wait (the first
   * call also starts resolving the schemas in the background, so the entries after it need not wait). Throws a
   * {@link SchemaMismatchError} when it does not fit a pinned schema version.
   */
  encodeNow(entry: LogEntry, key: Buffer | null): EncodedEntry | undefined {
    const value = this.#encoder.encodeValueNow(entry);
    if (value === undefined) {
      if (!this.#warmed) {
        this.#warmed = true;
        this.ready().catch(noop);
      }
      return undefined;
    }
    if (!this.#keySchema || key === null) return { value, key };
    const encodedKey = this.#encoder.encodeKeyNow(key.toString('utf8'));
    return encodedKey === undefined ? undefined : { value, key: encodedKey };
  }

  /**
   * Encodes, in place, the messages still holding an entry's JSON (a message encoded once is never encoded
   * again, so a retried request sends the same bytes). Returns the misfits, which the caller drops; throws the
   * REGISTRY error that stopped it (retriable or not), in which case the messages not yet encoded stay pending.
   */
  async encode(messages: readonly QueuedMessage[]): Promise<RegistryMisfit[]> {
    if (!messages.some((message) => message.pendingSchema)) return [];
    const schemas = await this.ready();
    const misfits: RegistryMisfit[] = [];
    for (const message of messages) {
      if (!message.pendingSchema) continue;
      const record = message.record;
      try {
        const entry = JSON.parse(record.value.toString('utf8')) as LogEntry;
        const value = await this.#encoder.encodeValue(entry);
        // Without a key schema keys stay the bytes routing chose (they may not even be UTF-8).
        const key = schemas.key === undefined || record.key === null ? record.key : await this.#encoder.encodeKey(record.key.toString('utf8'));
        message.record = { ...record, key, value };
        message.pendingSchema = false;
      } catch (error) {
        if (!isSchemaMismatch(error)) throw error;
        misfits.push({ message, error });
      }
    }
    return misfits;
  }

  /** Releases the registry connections (at once: sockets in use included). */
  close(): Promise<void> {
    return this.#encoder.close();
  }
}
