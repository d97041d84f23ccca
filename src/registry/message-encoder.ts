/**
 * The seam between the publisher and value/key encoding: the publisher hands entries to a `MessageEncoder` and
 * sends the bytes it returns. The registry encoder implements it.
 *
 * @module
 */

import type { LogEntry } from '../entry/log-entry.js';

/**
 * Turns an entry into the bytes of one Kafka message value (and keys into key bytes). With a schema every entry
 * is its own message; the publisher groups messages into produce requests.
 *
 * Errors are `KafkaLogError`s the publisher branches on: `REGISTRY` with `retriable: true` (registry
 * unreachable, timed out, 5xx: retry with backoff), `REGISTRY` with `retriable: false` (subject missing,
 * credentials refused: drop, reason `registry`), `SCHEMA_MISMATCH` (never retriable: drop, reason
 * `schema_mismatch`; `path` names the failing value).
 */
export interface MessageEncoder {
  /** Encodes one entry as one message value. */
  encodeValue(entry: LogEntry): Promise<Buffer>;
  /** Encodes a message key (the key schema's wire format, or plain UTF-8 when no key schema is configured). */
  encodeKey(key: string): Promise<Buffer>;
  /** Releases connections; later calls fail. */
  close(): Promise<void>;
}
