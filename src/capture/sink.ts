/**
 * {@link LogSink}: the one thing the adapters need from whoever delivers entries. A `KafkaLogPublisher` is a
 * sink; so is any object with a `publish` method (tests record entries with one).
 *
 * @module
 */

import type { KafkaLogError } from '../errors.js';
import type { LogEntry } from '../entry/log-entry.js';
import type { SkipReason } from '../publisher/stats.js';

export type { SkipReason } from '../publisher/stats.js';

/** What an adapter may say about one entry when handing it on (the publisher's `PublishMeta`, structurally). */
export interface SinkMeta {
  /** Message key; `null` for no key. */
  key?: string | Buffer | null;
  /** Topic of this entry. */
  topic?: string;
  /** Extra message headers of this entry. */
  headers?: Record<string, string | Buffer>;
}

/** Where adapters hand finished entries. `publish` must not block; a thrown error is caught and reported. */
export interface LogSink {
  /** Takes one entry (and optional routing facts); the return value is ignored. */
  publish(entry: LogEntry, meta?: SinkMeta): unknown;
  /**
   * Receives what went wrong on the adapter side (a hook that threw, a body Kong would not log, a custom field
   * that failed). Without it such errors are dropped silently: logging never throws into the application.
   */
  reportError?(error: KafkaLogError): void;
  /**
   * Counts entries the adapter decided not to publish: its `filter` option said no (`filtered`), or its
   * `sampleRate` left them out (`sampled_out`). Called once per such entry with `count` 1; there is no event per
   * entry. A `KafkaLogPublisher` counts them in `stats().skipped` and `accepted`; a sink without this method is
   * not told.
   */
  skipped?(reason: SkipReason, count: number): void;
}
