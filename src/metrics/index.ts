/**
 * `kafka-log/metrics`: the publisher's counters, gauges and delivery latency in Prometheus (`prom-client`) or
 * OpenTelemetry (`@opentelemetry/api`), both optional peers. Values are read from `stats()` when the metrics are
 * collected; nothing runs on the publish path.
 *
 * @packageDocumentation
 */

export {
  DEFAULT_DELIVERY_DURATION_BUCKETS,
  DELIVERY_DURATION_METRIC,
  STATS_METRICS,
  type MetricLabel,
  type MetricPoint,
  type StatsMetric,
} from './catalogue.js';
export type { MetricsOptions, MetricsSource, UnregisterMetrics } from './metrics-options.js';
export { registerPrometheusMetrics, type PrometheusMetricsOptions, type PrometheusRegistry } from './prometheus.js';
export {
  registerOpenTelemetryMetrics,
  type OpenTelemetryAdvice,
  type OpenTelemetryAttributes,
  type OpenTelemetryBatchCallback,
  type OpenTelemetryBatchResult,
  type OpenTelemetryHistogram,
  type OpenTelemetryInstrumentOptions,
  type OpenTelemetryMeter,
  type OpenTelemetryMetricsOptions,
  type OpenTelemetryObservable,
} from './opentelemetry.js';
