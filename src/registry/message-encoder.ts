/**
 * The seam between the publisher and value/key encoding: the publisher hands entries to a `MessageEncoder` and
 * sends the bytes it returns. The registry encoder implements it; so can a plain JSON encoder.
 *
 * @module
 */

import type { LogEntry } from '../entry/log-entry.js';

/**
 * Turns entries into the bytes of one Kafka message value (and keys into key bytes).
 *
 * Errors are `KafkaLogError`s the publisher branches on: `REGISTRY` with `retriable: true` (registry
 * unreachable, timed out, 5xx: retry with backoff), `REGISTRY` with `retriable: false` (subject missing,
 * credentials refused: drop, reason `registry`), `SCHEMA_MISMATCH` (never retriable: drop, reason
 * `schema_mismatch`; `path` names the failing value), `INVALID_OPTION` (a batch given to an encoder whose
 * `supportsBatchedValues` is false).
 */
export interface MessageEncoder {
  /**
   * Whether one message value may hold several entries (`maxBatchSize` > 1). The registry encoder says false:
   * with a schema every entry is its own message, and the publisher groups messages into produce requests.
   */
  readonly supportsBatchedValues: boolean;
  /**
   * Encodes one message value: `entries` holds exactly one entry when `batched` is false; with `batched` true
   * (only when `supportsBatchedValues`) the entries form one array value.
   */
  encodeValue(entries: readonly LogEntry[], batched: boolean): Promise<Buffer>;
  /** Encodes a message key (the key schema's wire format, or plain UTF-8 when no key schema is configured). */
  encodeKey(key: string): Promise<Buffer>;
  /** Releases connections; later calls fail. */
  close(): Promise<void>;
}
