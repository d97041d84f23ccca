/**
 * The publisher's metrics on an OpenTelemetry `Meter`. Counters and gauges are observable instruments read from
 * `stats()` in one batch callback per collection (one snapshot for all of them); the delivery histogram records
 * `publisher.delivered`. Nothing is loaded: the application's own meter does the work.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { type DeliveredEvent, PublisherEvents } from '../publisher/events.js';
import { DEFAULT_DELIVERY_DURATION_BUCKETS, DELIVERY_DURATION_METRIC, type MetricLabel, type MetricPoint, STATS_METRICS } from './catalogue.js';
import { type MetricsOptions, type MetricsSource, type UnregisterMetrics, resolveMetricsOptions, sameBuckets } from './metrics-options.js';

/** Attributes kafka-log records. */
export type OpenTelemetryAttributes = Record<string, string>;

/** Instrument options kafka-log passes (a subset of `MetricOptions` of `@opentelemetry/api`). */
export interface OpenTelemetryInstrumentOptions {
  /** The description. */
  description?: string;
  /** The unit (UCUM). */
  unit?: string;
  /** `ValueType.INT` (0) or `ValueType.DOUBLE` (1). */
  valueType?: number;
  /** Aggregation advice. */
  advice?: OpenTelemetryAdvice;
}

/** Aggregation advice (`MetricAdvice` of `@opentelemetry/api` 1.7 or later; older SDKs ignore it). */
export interface OpenTelemetryAdvice {
  /** The histogram's bucket bounds. */
  explicitBucketBoundaries?: number[];
}

/** An observable instrument, as the meter returned it. */
export type OpenTelemetryObservable = object;

/** The result a batch observable callback records into. */
export interface OpenTelemetryBatchResult {
  /** Records `value` for `observable` with `attributes`. */
  observe(observable: OpenTelemetryObservable, value: number, attributes?: OpenTelemetryAttributes): void;
}

/** A batch observable callback. */
export type OpenTelemetryBatchCallback = (result: OpenTelemetryBatchResult) => void;

/** A histogram instrument. */
export interface OpenTelemetryHistogram {
  /** Records one value. */
  record(value: number, attributes?: OpenTelemetryAttributes): void;
}

/**
 * What kafka-log uses of an OpenTelemetry `Meter` (`@opentelemetry/api` 1.3 or later). Typed by shape, so that these
 * declarations compile without `@opentelemetry/api` installed; any `Meter` fits.
 */
export interface OpenTelemetryMeter {
  /** Creates an observable counter. */
  createObservableCounter(name: string, options?: OpenTelemetryInstrumentOptions): OpenTelemetryObservable;
  /** Creates an observable UpDownCounter. */
  createObservableUpDownCounter(name: string, options?: OpenTelemetryInstrumentOptions): OpenTelemetryObservable;
  /** Creates a histogram. */
  createHistogram(name: string, options?: OpenTelemetryInstrumentOptions): OpenTelemetryHistogram;
  /** Adds a callback that observes several instruments at once. */
  addBatchObservableCallback(callback: OpenTelemetryBatchCallback, observables: OpenTelemetryObservable[]): void;
  /** Removes a callback added with `addBatchObservableCallback`. */
  removeBatchObservableCallback(callback: OpenTelemetryBatchCallback, observables: OpenTelemetryObservable[]): void;
}

/** Options of {@link registerOpenTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions extends MetricsOptions {
  /** The meter to create the instruments on, e.g. `metrics.getMeter('kafka-log')` of `@opentelemetry/api`. */
  meter: OpenTelemetryMeter;
}

/** The attribute that tells publishers apart. */
const PUBLISHER_ATTRIBUTE = 'kafka_log.publisher';

/** OpenTelemetry attribute names of the catalogue's labels (`error.type`: the semantic conventions' error class). */
const ATTRIBUTES: Readonly<Record<MetricLabel, string>> = { outcome: 'kafka_log.outcome', reason: 'kafka_log.reason', code: 'error.type' };

/** `ValueType.INT` of `@opentelemetry/api`: every metric read from `stats()` counts whole things. */
const VALUE_TYPE_INT = 0;

/** What a meter holds for the publishers registered on it: their names, and the histogram's buckets. */
interface MeterRegistrations {
  readonly names: Set<string>;
  readonly buckets: readonly number[];
}

const meters = new WeakMap<OpenTelemetryMeter, MeterRegistrations>();

/** A point's attributes: the publisher's name and the point's labels under their OpenTelemetry names. */
function attributesOf(publisher: string, point: MetricPoint): OpenTelemetryAttributes {
  const attributes: OpenTelemetryAttributes = { [PUBLISHER_ATTRIBUTE]: publisher };
  for (const [label, value] of Object.entries(point.labels) as Array<[MetricLabel, string]>) attributes[ATTRIBUTES[label]] = value;
  return attributes;
}

/**
 * Registers the publisher's metrics on an OpenTelemetry meter (`@opentelemetry/api` is an optional peer; pass your
 * own `Meter`). Counters and gauges are observable instruments read from one `stats()` snapshot per collection, so
 * an export matches `stats()` exactly; the delivery histogram records `publisher.delivered`. Nothing runs on the
 * publish path. See the README's "Metrics" section for the names and attributes.
 *
 * Several publishers can share a meter under different names (the `kafka_log.publisher` attribute); registering a
 * name twice on one meter throws. The histogram's bucket advice is fixed by the meter's first registration.
 *
 * @returns a function that removes this publisher's callback and listener (an SDK keeps the series it exported).
 * @throws `InvalidOptionError` (of `kafka-log`) for a bad option or a taken name.
 */
export function registerOpenTelemetryMetrics(publisher: MetricsSource, options: OpenTelemetryMetricsOptions): UnregisterMetrics {
  const { name, buckets } = resolveMetricsOptions(publisher, options);
  const meter = options.meter;
  const methods = [
    'createObservableCounter',
    'createObservableUpDownCounter',
    'createHistogram',
    'addBatchObservableCallback',
    'removeBatchObservableCallback',
  ] as const;
  if (methods.some((method) => typeof meter?.[method] !== 'function')) {
    throw new InvalidOptionError('meter', 'must be an OpenTelemetry Meter of @opentelemetry/api 1.3 or later (metrics.getMeter(name))');
  }
  let registrations = meters.get(meter);
  if (registrations === undefined) {
    registrations = { names: new Set(), buckets: buckets ?? DEFAULT_DELIVERY_DURATION_BUCKETS };
    meters.set(meter, registrations);
  } else if (buckets !== undefined && !sameBuckets(buckets, registrations.buckets)) {
    throw new InvalidOptionError('buckets', `this meter's delivery histogram already has the buckets [${registrations.buckets.join(', ')}]`);
  }
  if (registrations.names.has(name)) {
    throw new InvalidOptionError('name', `a publisher named "${name}" is already registered on this meter: give each publisher its own name`);
  }

  // A meter hands out the same instrument for the same name: every publisher on it shares the instruments.
  const observed = STATS_METRICS.map((metric) => {
    const instrumentOptions = { description: metric.description, unit: metric.unit, valueType: VALUE_TYPE_INT };
    const instrument =
      metric.kind === 'counter'
        ? meter.createObservableCounter(metric.openTelemetry, instrumentOptions)
        : meter.createObservableUpDownCounter(metric.openTelemetry, instrumentOptions);
    return { metric, instrument };
  });
  const instruments = observed.map(({ instrument }) => instrument);
  const histogram = meter.createHistogram(DELIVERY_DURATION_METRIC.openTelemetry, {
    description: DELIVERY_DURATION_METRIC.description,
    unit: DELIVERY_DURATION_METRIC.unit,
    advice: { explicitBucketBoundaries: [...registrations.buckets] },
  });

  const observe: OpenTelemetryBatchCallback = (result) => {
    const stats = publisher.stats();
    for (const { metric, instrument } of observed) {
      for (const point of metric.read(stats)) result.observe(instrument, point.value, attributesOf(name, point));
    }
  };
  const histogramAttributes = { [PUBLISHER_ATTRIBUTE]: name };
  const onDelivered = (event: DeliveredEvent): void => histogram.record(event.durationMs / 1000, histogramAttributes);

  meter.addBatchObservableCallback(observe, instruments);
  publisher.on(PublisherEvents.DELIVERED, onDelivered);
  registrations.names.add(name);

  const names = registrations.names;
  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    publisher.off(PublisherEvents.DELIVERED, onDelivered);
    meter.removeBatchObservableCallback(observe, instruments);
    names.delete(name);
  };
}
