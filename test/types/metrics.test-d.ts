// The metrics API is typed by shape, so that kafka-log/metrics compiles for users without prom-client or
// @opentelemetry/api installed: these check that the real objects of both fit (the published declarations).
import { type Meter, metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expectTypeOf } from 'expect-type';
import { KafkaLogPublisher } from 'kafka-log';
import {
  DEFAULT_DELIVERY_DURATION_BUCKETS,
  DELIVERY_DURATION_METRIC,
  type MetricLabel,
  type MetricPoint,
  type MetricsSource,
  type OpenTelemetryMeter,
  type PrometheusRegistry,
  STATS_METRICS,
  type StatsMetric,
  type UnregisterMetrics,
  registerOpenTelemetryMetrics,
  registerPrometheusMetrics,
} from 'kafka-log/metrics';
import { createTestPublisher } from 'kafka-log/testing';
import { type OpenMetricsContentType, Registry, register } from 'prom-client';

expectTypeOf<Registry>().toExtend<PrometheusRegistry>();
expectTypeOf<Registry<OpenMetricsContentType>>().toExtend<PrometheusRegistry>();
expectTypeOf<Meter>().toExtend<OpenTelemetryMeter>();

const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });
expectTypeOf(registerPrometheusMetrics(publisher, { registry: register })).toEqualTypeOf<UnregisterMetrics>();
registerPrometheusMetrics(createTestPublisher(), { registry: new Registry(), name: 'test', buckets: [0.01, 0.1, 1] });
registerOpenTelemetryMetrics(publisher, { meter: metrics.getMeter('kafka-log') });
registerOpenTelemetryMetrics(publisher, { meter: new MeterProvider().getMeter('kafka-log') });

// @ts-expect-error: a registry is required
registerPrometheusMetrics(publisher, {});
// @ts-expect-error: not a meter
registerOpenTelemetryMetrics(publisher, { meter: register });
// @ts-expect-error: buckets are numbers (seconds)
registerPrometheusMetrics(publisher, { registry: register, buckets: ['0.1'] });
// @ts-expect-error: the options are name, buckets and the registry
registerPrometheusMetrics(publisher, { registry: register, prefix: 'app_' });

// What a registration reads: a publisher's stats and delivery events (the test publisher is one).
expectTypeOf<typeof publisher>().toExtend<MetricsSource>();
expectTypeOf(createTestPublisher()).toExtend<MetricsSource>();
// @ts-expect-error: stats alone are not enough (the delivery histogram listens to events)
registerPrometheusMetrics({ stats: () => publisher.stats(), topic: 'logs' }, { registry: register });

// The catalogue the registrations are made from, for users who export the stats themselves.
expectTypeOf(STATS_METRICS).toEqualTypeOf<readonly StatsMetric[]>();
const [metric] = STATS_METRICS;
if (metric !== undefined) {
  expectTypeOf(metric.read(publisher.stats())).toEqualTypeOf<MetricPoint[]>();
  expectTypeOf(metric.kind).toEqualTypeOf<'counter' | 'gauge'>();
  expectTypeOf(metric.labels).toEqualTypeOf<readonly MetricLabel[]>();
}
expectTypeOf<MetricLabel>().toEqualTypeOf<'outcome' | 'reason' | 'code'>();
expectTypeOf<MetricPoint['labels']>().toEqualTypeOf<Readonly<Partial<Record<MetricLabel, string>>>>();
expectTypeOf(DELIVERY_DURATION_METRIC.prometheus).toEqualTypeOf<'kafka_log_delivery_duration_seconds'>();
expectTypeOf(DEFAULT_DELIVERY_DURATION_BUCKETS).toEqualTypeOf<readonly number[]>();
