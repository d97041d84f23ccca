/**
 * The publisher's metrics, described once for Prometheus and OpenTelemetry. Every value is read from a `stats()`
 * snapshot when the metrics are collected, so a scrape shows exactly what `stats()` says and the publish path
 * does no work for metrics. The delivery latency histogram is the one metric fed by an event
 * (`publisher.delivered`, once per acknowledged produce request).
 *
 * @module
 */
import { type ErrorCode, ErrorCodes } from '../errors.js';
import { DROP_REASONS, type PublisherStats, SKIP_REASONS } from '../publisher/stats.js';

/** A label (Prometheus) or attribute (OpenTelemetry) a metric is split by, besides the publisher's name. */
export type MetricLabel = 'outcome' | 'reason' | 'code';

/** One value of a metric in a snapshot, with its labels. */
export interface MetricPoint {
  /** The labels of this value; a label a point does not carry is absent. */
  readonly labels: Readonly<Partial<Record<MetricLabel, string>>>;
  /** The value. */
  readonly value: number;
}

/** A metric read from `stats()`. */
export interface StatsMetric {
  /** Its Prometheus name. */
  readonly prometheus: string;
  /** Its OpenTelemetry instrument name. */
  readonly openTelemetry: string;
  /** `counter` only grows; `gauge` is a current amount (an observable UpDownCounter in OpenTelemetry). */
  readonly kind: 'counter' | 'gauge';
  /** Its OpenTelemetry unit (UCUM): `{entry}` counts entries, `By` bytes. */
  readonly unit: string;
  /** The help text (Prometheus) and description (OpenTelemetry). */
  readonly description: string;
  /** The labels its points carry, besides the publisher's name. */
  readonly labels: readonly MetricLabel[];
  /** Its points in a snapshot; called at collection time only. */
  read(stats: PublisherStats): MetricPoint[];
}

/** How one settled outcome of an entry is read from `stats()`. */
interface EntryOutcome {
  /** Its points: one, or one per reason. */
  points(stats: PublisherStats): MetricPoint[];
}

/** An outcome counted as one number. */
function outcome(name: string, count: (stats: PublisherStats) => number): EntryOutcome {
  return { points: (stats) => [{ labels: { outcome: name }, value: count(stats) }] };
}

/** An outcome counted per reason: one point for every reason of the exported list, zero included. */
function outcomeByReason<R extends string>(name: string, reasons: readonly R[], counts: (stats: PublisherStats) => Readonly<Record<R, number>>): EntryOutcome {
  return {
    points: (stats) => {
      const byReason = counts(stats);
      return reasons.map((reason) => ({ labels: { outcome: name, reason }, value: byReason[reason] ?? 0 }));
    },
  };
}

/**
 * Every settled outcome of an entry: the one place an outcome is added when `stats()` gains one, and both
 * Prometheus and OpenTelemetry show it. Reasons come from the exported lists ({@link DROP_REASONS},
 * {@link SKIP_REASONS}), so a new reason appears without a change here. An entry an adapter skipped is an outcome
 * named by its reason (`filtered`, `sampled_out`): it was never meant to be sent, so it is no kind of drop. Entries
 * still pending are the `buffered` and `inFlight` gauges.
 */
const ENTRY_OUTCOMES: readonly EntryOutcome[] = [
  outcome('sent', (s) => s.sent),
  outcomeByReason('dropped', DROP_REASONS, (s) => s.dropped.byReason),
  ...SKIP_REASONS.map((reason) => outcome(reason, (s) => s.skipped.byReason[reason])),
  outcome('spooled', (s) => s.spooled),
];

/** Every error code, from {@link ErrorCodes}: each appears from the start, at zero until one is reported. */
const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCodes);

/** A metric with one unlabelled point. */
function single(value: (stats: PublisherStats) => number): Pick<StatsMetric, 'labels' | 'read'> {
  return { labels: [], read: (stats) => [{ labels: {}, value: value(stats) }] };
}

/**
 * Every metric read from `stats()`. The balance `stats()` keeps holds between them at every collection: accepted =
 * the entries of every outcome (sent, dropped, spooled) + buffered + in flight.
 */
export const STATS_METRICS: readonly StatsMetric[] = [
  {
    prometheus: 'kafka_log_accepted_entries_total',
    openTelemetry: 'kafka_log.entry.accepted',
    kind: 'counter',
    unit: '{entry}',
    description: 'Entries handed to publish, and entries adapters skipped (filtered, sampled out).',
    ...single((s) => s.accepted),
  },
  {
    prometheus: 'kafka_log_entries_total',
    openTelemetry: 'kafka_log.entries',
    kind: 'counter',
    unit: '{entry}',
    description:
      'Entries settled, by outcome (sent: acknowledged by the broker; dropped: by reason; filtered and sampled_out: skipped by an adapter; spooled: written ' +
        'to the local spool).',
    labels: ['outcome', 'reason'],
    read: (stats) => ENTRY_OUTCOMES.flatMap((o) => o.points(stats)),
  },
  {
    prometheus: 'kafka_log_retried_entries_total',
    openTelemetry: 'kafka_log.entry.retried',
    kind: 'counter',
    unit: '{entry}',
    description: 'Entries re-sent: each retry of a produce request adds its entries.',
    ...single((s) => s.retried),
  },
  {
    prometheus: 'kafka_log_sent_bytes_total',
    openTelemetry: 'kafka_log.payload.sent',
    kind: 'counter',
    unit: 'By',
    description: 'Message value bytes acknowledged by the broker.',
    ...single((s) => s.bytesSent),
  },
  {
    prometheus: 'kafka_log_buffered_entries',
    openTelemetry: 'kafka_log.entry.buffered',
    kind: 'gauge',
    unit: '{entry}',
    description: 'Entries waiting in the queue.',
    ...single((s) => s.buffered),
  },
  {
    prometheus: 'kafka_log_buffered_bytes',
    openTelemetry: 'kafka_log.buffer.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Serialized bytes of the entries waiting in the queue.',
    ...single((s) => s.bufferedBytes),
  },
  {
    prometheus: 'kafka_log_in_flight_entries',
    openTelemetry: 'kafka_log.entry.in_flight',
    kind: 'gauge',
    unit: '{entry}',
    description: 'Entries on their way out: in produce requests not yet settled (including those waiting to be retried), or being written to the spool.',
    ...single((s) => s.inFlight),
  },
  {
    prometheus: 'kafka_log_spool_bytes',
    openTelemetry: 'kafka_log.spool.usage',
    kind: 'gauge',
    unit: 'By',
    description: 'Bytes of the spool files in the spool directory (0 without a spool).',
    ...single((s) => s.spoolBytes),
  },
  {
    prometheus: 'kafka_log_replayed_entries_total',
    openTelemetry: 'kafka_log.entry.replayed',
    kind: 'counter',
    unit: '{entry}',
    description: 'Entries the background replay sent from the spool and the broker acknowledged (not part of the accepted balance).',
    ...single((s) => s.replayed),
  },
  {
    prometheus: 'kafka_log_reported_failures_total',
    openTelemetry: 'kafka_log.failure.reported',
    kind: 'counter',
    unit: '{failure}',
    description: 'Failures adapters reported around an entry, by error code (not part of the accepted balance).',
    labels: ['code'],
    read: (stats) => ERROR_CODES.map((code) => ({ labels: { code }, value: stats.reported.byCode[code] ?? 0 })),
  },
];

/** The delivery latency histogram, fed by `publisher.delivered` (one observation per acknowledged request). */
export const DELIVERY_DURATION_METRIC = {
  /** Its Prometheus name. */
  prometheus: 'kafka_log_delivery_duration_seconds',
  /** Its OpenTelemetry instrument name. */
  openTelemetry: 'kafka_log.delivery.duration',
  /** Seconds. */
  unit: 's',
  /** The help text and description. */
  description: 'Time from the first attempt of a produce request to its acknowledgement, retries included.',
} as const;

/**
 * Default bucket bounds of the delivery histogram, seconds: a few milliseconds for a healthy local broker up to
 * the default retry budget (`maxRetryTime`, 60 s).
 */
export const DEFAULT_DELIVERY_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
