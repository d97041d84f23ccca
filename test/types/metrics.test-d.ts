// The metrics API is typed by shape, so that kafka-log/metrics compiles for users without prom-client or
// @opentelemetry/api installed: these check that the real objects of both fit (the published declarations).
import { type Meter, metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expectTypeOf } from 'expect-type';
import { KafkaLogPublisher } from 'kafka-log';
import {
  type OpenTelemetryMeter,
  type PrometheusRegistry,
  type UnregisterMetrics,
  registerOpenTelemetryMetrics,
  registerPrometheusMetrics,
} from 'kafka-log/metrics';
import { createTestPublisher } from 'kafka-log/testing';
import { type OpenMetricsContentType, Registry, register } from 'prom-client';

expectTypeOf<Registry>().toMatchTypeOf<PrometheusRegistry>();
expectTypeOf<Registry<OpenMetricsContentType>>().toMatchTypeOf<PrometheusRegistry>();
expectTypeOf<Meter>().toMatchTypeOf<OpenTelemetryMeter>();

const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });
expectTypeOf(registerPrometheusMetrics(publisher, { registry: register })).toEqualTypeOf<UnregisterMetrics>();
registerPrometheusMetrics(createTestPublisher(), { registry: new Registry(), name: 'test', buckets: [0.01, 0.1, 1] });
registerOpenTelemetryMetrics(publisher, { meter: metrics.getMeter('kafka-log') });
registerOpenTelemetryMetrics(publisher, { meter: new MeterProvider().getMeter('kafka-log') });

// @ts-expect-error: a registry is required
registerPrometheusMetrics(publisher, {});
// @ts-expect-error: not a meter
registerOpenTelemetryMetrics(publisher, { meter: register });
