/**
 * Exact delivery counters. At every moment `accepted = sent + dropped.total + skipped.total + spooled + buffered + inFlight`.
 *
 * @module
 */

import type { ErrorCode } from '../errors.js';

/**
 * Why entries were dropped. With a schema registry: `registry` (the registry refused for good: credentials,
 * missing subject or version, unparseable schema) and `schema_mismatch` (that entry, or its key, does not fit the
 * schema; the other entries of its request are still sent). With a spool: `spool_failed` (the spool could not take
 * entries it should have: its directory unusable, a write failed).
 */
export type DropReason =
  | 'queue_full_entries'
  | 'queue_full_bytes'
  | 'queue_full_messages'
  | 'retry_time_exceeded'
  | 'non_retriable'
  | 'closed'
  | 'close_timeout'
  | 'serialize_failed'
  | 'message_too_large'
  | 'topic_not_allowed'
  | 'routing_failed'
  | 'registry'
  | 'schema_mismatch'
  | 'spool_failed';

/** Every drop reason, for iteration and documentation. */
export const DROP_REASONS: readonly DropReason[] = [
  'queue_full_entries',
  'queue_full_bytes',
  'queue_full_messages',
  'retry_time_exceeded',
  'non_retriable',
  'closed',
  'close_timeout',
  'serialize_failed',
  'message_too_large',
  'topic_not_allowed',
  'routing_failed',
  'registry',
  'schema_mismatch',
  'spool_failed',
];

/**
 * Why an adapter decided not to publish an entry (not a drop: nothing was lost that was meant to be sent):
 * `filtered` by its `filter` option, `sampled_out` by its `sampleRate` option.
 */
export type SkipReason = 'filtered' | 'sampled_out';

/** Every skip reason, for iteration and documentation. */
export const SKIP_REASONS: readonly SkipReason[] = ['filtered', 'sampled_out'];

/** Entries adapters decided not to publish, in total and per reason. */
export interface SkippedCounts {
  /** All skipped entries. */
  total: number;
  /** Skipped entries per reason. */
  byReason: Record<SkipReason, number>;
}

/** Dropped entries, in total and per reason. */
export interface DroppedCounts {
  /** All dropped entries. */
  total: number;
  /** Dropped entries per reason. */
  byReason: Record<DropReason, number>;
}

/** A snapshot of the publisher's counters (entries, unless named otherwise). */
export interface PublisherStats {
  /** Entries handed to `publish`, and entries adapters counted as skipped (`skipped`). */
  accepted: number;
  /** Entries acknowledged by the broker (with acks 0: written to the socket). */
  sent: number;
  /** Entries re-sent: each retry of a request adds its entries. */
  retried: number;
  /** Entries dropped, in total and per reason. */
  dropped: DroppedCounts;
  /**
   * Entries adapters decided not to publish (their `filter` and `sampleRate` options), in total and per reason:
   * counted in `accepted` and settled at once, not drops.
   */
  skipped: SkippedCounts;
  /** Message value bytes acknowledged. */
  bytesSent: number;
  /**
   * Entries on their way out: in produce requests not yet settled (including those waiting to be retried), or
   * being written to the spool.
   */
  inFlight: number;
  /** Entries waiting in the queue. */
  buffered: number;
  /** Serialized bytes of the entries waiting in the queue. */
  bufferedBytes: number;
  /**
   * Entries written to the local spool instead of being dropped (a full buffer, an exhausted retry time, the
   * close deadline): kept on disk for a replay. 0 without the `spool` option.
   */
  spooled: number;
  /** Bytes of the spool files in the spool directory now (0 without the `spool` option). */
  spoolBytes: number;
  /**
   * Entries this publisher's background replay (`spool.replay`) sent from the spool and the broker acknowledged.
   * Not part of the `accepted` balance: they were counted as `spooled` when they were written (by this process or
   * an earlier one).
   */
  replayed: number;
  /**
   * Failures adapters reported through `reportError`, per error code: entries never handed to `publish` (a body
   * Kong would not log: `KAFKA_LOG_ERR_BODY_PARSE`), and entries sent without a field whose hook or custom field
   * failed. Not part of the `accepted` balance.
   */
  reported: ReportedCounts;
}

/** Failures adapters reported, in total and per error code. */
export interface ReportedCounts {
  /** All reported failures. */
  total: number;
  /** Reported failures per error code. */
  byCode: Partial<Record<ErrorCode, number>>;
}

/** Mutable counters owned by the publisher. */
export class StatsCounters {
  /** See {@link PublisherStats.accepted}. */
  accepted = 0;
  /** See {@link PublisherStats.sent}. */
  sent = 0;
  /** See {@link PublisherStats.retried}. */
  retried = 0;
  /** See {@link PublisherStats.bytesSent}. */
  bytesSent = 0;
  /** See {@link PublisherStats.inFlight}. */
  inFlight = 0;
  /** See {@link PublisherStats.buffered}. */
  buffered = 0;
  /** See {@link PublisherStats.bufferedBytes}. */
  bufferedBytes = 0;
  /** See {@link PublisherStats.spooled}. */
  spooled = 0;
  /** See {@link PublisherStats.spoolBytes}. */
  spoolBytes = 0;
  /** See {@link PublisherStats.replayed}. */
  replayed = 0;
  /** Reported adapter failures per code. */
  readonly reportedByCode: Partial<Record<ErrorCode, number>> = {};
  /** Total of {@link StatsCounters.reportedByCode}. */
  reportedTotal = 0;
  /** Total of {@link StatsCounters.byReason}. */
  droppedTotal = 0;
  /** Total of {@link StatsCounters.skippedByReason}. */
  skippedTotal = 0;
  /** Skipped entries per reason. */
  readonly skippedByReason: Record<SkipReason, number> = { filtered: 0, sampled_out: 0 };
  /** Drops per reason. */
  readonly byReason: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
    DropReason,
    number
  >;

  /** Counts `count` dropped entries. */
  drop(reason: DropReason, count: number): void {
    this.byReason[reason] += count;
    this.droppedTotal += count;
  }

  /** Counts `count` entries an adapter did not publish, as accepted and settled at once. */
  skip(reason: SkipReason, count: number): void {
    this.accepted += count;
    this.skippedByReason[reason] += count;
    this.skippedTotal += count;
  }

  /** Counts one reported adapter failure. */
  report(code: ErrorCode): void {
    this.reportedByCode[code] = (this.reportedByCode[code] ?? 0) + 1;
    this.reportedTotal++;
  }

  /** A copy safe to hand out. */
  snapshot(): PublisherStats {
    return {
      accepted: this.accepted,
      sent: this.sent,
      retried: this.retried,
      dropped: { total: this.droppedTotal, byReason: { ...this.byReason } },
      skipped: { total: this.skippedTotal, byReason: { ...this.skippedByReason } },
      bytesSent: this.bytesSent,
      inFlight: this.inFlight,
      buffered: this.buffered,
      bufferedBytes: this.bufferedBytes,
      spooled: this.spooled,
      spoolBytes: this.spoolBytes,
      replayed: this.replayed,
      reported: { total: this.reportedTotal, byCode: { ...this.reportedByCode } },
    };
  }
}
