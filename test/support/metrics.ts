// Helpers of the metrics tests: parse a real Prometheus scrape and an OpenTelemetry export into samples, and say,
// written out here independently of src/metrics, which samples a stats() snapshot must give in each ecosystem.
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ErrorCodes } from '../../src/errors.js';
import { DROP_REASONS, type PublisherStats, SKIP_REASONS } from '../../src/publisher/stats.js';

/** One sample: a metric name, its labels (or attributes), its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed Prometheus text exposition: samples, and each family's TYPE. */
export interface Scrape {
  samples: Sample[];
  types: Map<string, string>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text format 0.0.4 (what `registry.metrics()` returns). */
export function parsePrometheusText(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice('# TYPE '.length).split(' ');
      types.set(name as string, type as string);
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key as string] = (value as string).replace(/\\(.)/g, '$1');
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { samples, types };
}

/** Samples in a stable order, for whole-set comparisons. */
export function sorted(samples: Sample[]): Sample[] {
  const key = (s: Sample) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
  return [...samples].sort((a, b) => key(a).localeCompare(key(b)));
}

/** The samples a scrape must show for one publisher's snapshot (the delivery histogram aside). */
export function expectedPrometheus(publisher: string, s: PublisherStats): Sample[] {
  const one = (name: string, value: number, labels: Record<string, string> = {}): Sample => ({ name, labels: { publisher, ...labels }, value });
  return [
    one('kafka_log_accepted_entries_total', s.accepted),
    one('kafka_log_entries_total', s.sent, { outcome: 'sent' }),
    ...DROP_REASONS.map((reason) => one('kafka_log_entries_total', s.dropped.byReason[reason], { outcome: 'dropped', reason })),
    ...SKIP_REASONS.map((reason) => one('kafka_log_entries_total', s.skipped.byReason[reason], { outcome: reason })),
    one('kafka_log_entries_total', s.spooled, { outcome: 'spooled' }),
    one('kafka_log_retried_entries_total', s.retried),
    one('kafka_log_sent_bytes_total', s.bytesSent),
    one('kafka_log_buffered_entries', s.buffered),
    one('kafka_log_buffered_bytes', s.bufferedBytes),
    one('kafka_log_in_flight_entries', s.inFlight),
    one('kafka_log_spool_bytes', s.spoolBytes),
    one('kafka_log_replayed_entries_total', s.replayed),
    ...Object.values(ErrorCodes).map((code) => one('kafka_log_reported_failures_total', s.reported.byCode[code] ?? 0, { code })),
  ];
}

/** The samples an OpenTelemetry export must hold for one publisher's snapshot (the delivery histogram aside). */
export function expectedOpenTelemetry(publisher: string, s: PublisherStats): Sample[] {
  const one = (name: string, value: number, labels: Record<string, string> = {}): Sample => ({ name, labels: { 'kafka_log.publisher': publisher, ...labels }, value });
  return [
    one('kafka_log.entry.accepted', s.accepted),
    one('kafka_log.entries', s.sent, { 'kafka_log.outcome': 'sent' }),
    ...DROP_REASONS.map((reason) => one('kafka_log.entries', s.dropped.byReason[reason], { 'kafka_log.outcome': 'dropped', 'kafka_log.reason': reason })),
    ...SKIP_REASONS.map((reason) => one('kafka_log.entries', s.skipped.byReason[reason], { 'kafka_log.outcome': reason })),
    one('kafka_log.entries', s.spooled, { 'kafka_log.outcome': 'spooled' }),
    one('kafka_log.entry.retried', s.retried),
    one('kafka_log.payload.sent', s.bytesSent),
    one('kafka_log.entry.buffered', s.buffered),
    one('kafka_log.buffer.usage', s.bufferedBytes),
    one('kafka_log.entry.in_flight', s.inFlight),
    one('kafka_log.spool.usage', s.spoolBytes),
    one('kafka_log.entry.replayed', s.replayed),
    ...Object.values(ErrorCodes).map((code) => one('kafka_log.failure.reported', s.reported.byCode[code] ?? 0, { 'error.type': code })),
  ];
}

/** A scrape's samples but the delivery histogram's. */
export function withoutHistogram(samples: Sample[]): Sample[] {
  return samples.filter((s) => !s.name.startsWith('kafka_log_delivery_duration_seconds'));
}

/** The delivery histogram of one publisher in a scrape: count, sum and cumulative buckets by bound. */
export function prometheusHistogram(samples: Sample[], publisher: string): { count: number; sum: number; buckets: Map<string, number> } {
  const mine = samples.filter((s) => s.labels.publisher === publisher);
  const value = (name: string) => mine.find((s) => s.name === name)?.value ?? Number.NaN;
  const buckets = new Map(mine.filter((s) => s.name === 'kafka_log_delivery_duration_seconds_bucket').map((s) => [s.labels.le as string, s.value]));
  return { count: value('kafka_log_delivery_duration_seconds_count'), sum: value('kafka_log_delivery_duration_seconds_sum'), buckets };
}

/** A meter provider whose exports land in memory; `read()` exports now and returns the newest export. */
export function inMemoryOpenTelemetry(): { provider: MeterProvider; read: () => Promise<ResourceMetrics>; shutdown: () => Promise<void> } {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exports only when asked (forceFlush), never on its own timer during a test.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    read: async () => {
      await reader.forceFlush();
      const exports = exporter.getMetrics();
      const last = exports.at(-1);
      if (last === undefined) throw new Error('no metrics exported');
      return last;
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The sums and gauges of an export as samples (the delivery histogram aside). */
export function openTelemetrySamples(metrics: ResourceMetrics): Sample[] {
  const samples: Sample[] = [];
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.dataPointType === DataPointType.HISTOGRAM) continue;
      for (const point of metric.dataPoints) {
        samples.push({ name: metric.descriptor.name, labels: point.attributes as Record<string, string>, value: point.value as number });
      }
    }
  }
  return samples;
}

/** The delivery histogram of one publisher in an export. */
export function openTelemetryHistogram(metrics: ResourceMetrics, publisher: string): { count: number; sum: number; boundaries: number[] } | undefined {
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== 'kafka_log.delivery.duration' || metric.dataPointType !== DataPointType.HISTOGRAM) continue;
      const point = metric.dataPoints.find((p) => p.attributes['kafka_log.publisher'] === publisher);
      if (point !== undefined) return { count: point.value.count, sum: point.value.sum ?? Number.NaN, boundaries: point.value.buckets.boundaries };
    }
  }
  return undefined;
}

/** Every unit and kind an export gives, by metric name: sums (monotonic or not) and histograms. */
export function openTelemetryDescriptors(metrics: ResourceMetrics): Map<string, { unit: string; type: 'sum' | 'gauge' | 'histogram' | 'other'; monotonic: boolean | undefined }> {
  const found = new Map<string, { unit: string; type: 'sum' | 'gauge' | 'histogram' | 'other'; monotonic: boolean | undefined }>();
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const unit = metric.descriptor.unit;
      if (metric.dataPointType === DataPointType.SUM) found.set(metric.descriptor.name, { unit, type: 'sum', monotonic: metric.isMonotonic });
      else if (metric.dataPointType === DataPointType.GAUGE) found.set(metric.descriptor.name, { unit, type: 'gauge', monotonic: undefined });
      else if (metric.dataPointType === DataPointType.HISTOGRAM) found.set(metric.descriptor.name, { unit, type: 'histogram', monotonic: undefined });
      else found.set(metric.descriptor.name, { unit, type: 'other', monotonic: undefined });
    }
  }
  return found;
}
