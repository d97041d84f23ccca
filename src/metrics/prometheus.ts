/**
 * The publisher's metrics in a `prom-client` registry. Counters and gauges are prom-client metrics whose
 * `collect()` reads `stats()` when the registry is scraped; the delivery histogram observes `publisher.delivered`.
 * Every publisher registered with one registry shares its metrics, told apart by the `publisher` label.
 *
 * @module
 */
import type * as PromClient from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { requireOptional } from '../optional-dependency.js';
import { PublisherEvents } from '../publisher/events.js';
import type { DeliveredEvent } from '../publisher/events.js';
import { DELIVERY_DURATION_METRIC, DEFAULT_DELIVERY_DURATION_BUCKETS, type MetricPoint, STATS_METRICS, type StatsMetric } from './catalogue.js';
import { type MetricsOptions, type MetricsSource, type UnregisterMetrics, resolveMetricsOptions, sameBuckets } from './metrics-options.js';

/**
 * What kafka-log uses of a prom-client `Registry` (its own or the global `register`). Typed by shape, so that
 * these declarations compile without prom-client installed; any prom-client `Registry` fits.
 */
export interface PrometheusRegistry {
  /** Adds a metric (prom-client calls it when a metric is created with `registers`). */
  registerMetric(metric: object): void;
  /** The metric registered under `name`, if any. */
  getSingleMetric(name: string): unknown;
  /** Removes the metric registered under `name`. */
  removeSingleMetric(name: string): void;
}

/** Options of {@link registerPrometheusMetrics}. */
export interface PrometheusMetricsOptions extends MetricsOptions {
  /** The prom-client registry to add the metrics to: `new Registry()` or prom-client's global `register`. */
  registry: PrometheusRegistry;
}

/** The name of the label that tells publishers apart. */
const PUBLISHER_LABEL = 'publisher';

type Client = typeof PromClient;
type CollectedMetric = PromClient.Counter<string> | PromClient.Gauge<string>;

/** The metrics one registry holds for every publisher registered with it. */
class RegistryMetrics {
  readonly publishers = new Map<string, MetricsSource>();
  readonly collected: CollectedMetric[];
  readonly histogram: PromClient.Histogram<string>;
  readonly buckets: readonly number[];

  constructor(client: Client, registry: PrometheusRegistry, buckets: readonly number[]) {
    // Created unregistered, then added together: nothing is left behind when a name is taken.
    const registers: PromClient.Registry[] = [];
    this.collected = STATS_METRICS.map((metric) => this.#collectedMetric(client, metric, registers));
    this.histogram = new client.Histogram({
      name: DELIVERY_DURATION_METRIC.prometheus,
      help: DELIVERY_DURATION_METRIC.description,
      labelNames: [PUBLISHER_LABEL],
      buckets: [...buckets],
      registers,
    });
    this.buckets = buckets;
    this.attach(registry);
  }

  /** Every metric of this registry. */
  get all(): Array<CollectedMetric | PromClient.Histogram<string>> {
    return [...this.collected, this.histogram];
  }

  /**
   * Adds the metrics to `registry` where missing (the first registration, or after `registry.clear()`); throws when
   * a name is held by a metric kafka-log did not register there.
   */
  attach(registry: PrometheusRegistry): void {
    const metrics = this.all;
    for (const metric of metrics) {
      const held = registry.getSingleMetric(metricName(metric));
      if (held !== undefined && held !== metric) {
        throw new InvalidOptionError(
          'registry',
          `already holds a metric named "${metricName(metric)}" that this registration did not add (other code, or another copy of kafka-log)`,
        );
      }
    }
    for (const metric of metrics) if (registry.getSingleMetric(metricName(metric)) === undefined) registry.registerMetric(metric);
  }

  /** Removes the metrics from `registry`. */
  detach(registry: PrometheusRegistry): void {
    for (const metric of this.all) if (registry.getSingleMetric(metricName(metric)) === metric) registry.removeSingleMetric(metricName(metric));
  }

  /** A counter or gauge whose `collect()` sets its values from every registered publisher's `stats()`. */
  #collectedMetric(client: Client, metric: StatsMetric, registers: PromClient.Registry[]): CollectedMetric {
    const publishers = this.publishers;
    const points = function* (): Generator<[Record<string, string>, number]> {
      for (const [name, source] of publishers) {
        for (const point of metric.read(source.stats())) yield [labelsOf(name, point), point.value];
      }
    };
    const config = { name: metric.prometheus, help: metric.description, labelNames: [PUBLISHER_LABEL, ...metric.labels], registers };
    if (metric.kind === 'counter') {
      return new client.Counter({
        ...config,
        collect(this: PromClient.Counter<string>) {
          this.reset();
          for (const [labels, value] of points()) this.inc(labels, value);
        },
      });
    }
    return new client.Gauge({
      ...config,
      collect(this: PromClient.Gauge<string>) {
        this.reset();
        for (const [labels, value] of points()) this.set(labels, value);
      },
    });
  }
}

/** A metric's name (prom-client keeps it on the instance; its declarations do not say so). */
function metricName(metric: object): string {
  return (metric as { name: string }).name;
}

/** A point's Prometheus labels: the publisher's name and the point's own labels, under the same names. */
function labelsOf(publisher: string, point: MetricPoint): Record<string, string> {
  return { [PUBLISHER_LABEL]: publisher, ...point.labels };
}

const registries = new WeakMap<PrometheusRegistry, RegistryMetrics>();

/**
 * Registers the publisher's metrics with a prom-client registry (prom-client is an optional peer:
 * `npm install prom-client`). Counters and gauges read `stats()` at scrape time, so a scrape matches `stats()`
 * exactly; the delivery histogram observes `publisher.delivered`. Nothing runs on the publish path. See the
 * README's "Metrics" section for the names and labels.
 *
 * Several publishers can share a registry under different names (the `publisher` label); registering a name
 * twice with one registry throws. The histogram's buckets are fixed by the registry's first registration.
 *
 * @returns a function that removes this publisher's series and listener, and the metrics once no publisher is left.
 * @throws `InvalidOptionError` (of `kafka-log`) for a bad option, a taken name or metric name; a `KAFKA_LOG_ERR_MISSING_DEPENDENCY`
 *   error when prom-client is not installed.
 */
export function registerPrometheusMetrics(publisher: MetricsSource, options: PrometheusMetricsOptions): UnregisterMetrics {
  const { name, buckets } = resolveMetricsOptions(publisher, options);
  const registry = options.registry;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function' || typeof registry.removeSingleMetric !== 'function') {
    throw new InvalidOptionError('registry', 'must be a prom-client Registry (new Registry(), or the global register)');
  }
  let metrics = registries.get(registry);
  if (metrics === undefined) {
    const client = requireOptional<Client>('prom-client', 'Prometheus metrics');
    metrics = new RegistryMetrics(client, registry, buckets ?? DEFAULT_DELIVERY_DURATION_BUCKETS);
    registries.set(registry, metrics);
  } else {
    if (buckets !== undefined && !sameBuckets(buckets, metrics.buckets)) {
      throw new InvalidOptionError('buckets', `this registry's delivery histogram already has the buckets [${metrics.buckets.join(', ')}]`);
    }
    metrics.attach(registry);
  }
  if (metrics.publishers.has(name)) {
    throw new InvalidOptionError('name', `a publisher named "${name}" is already registered with this registry: give each publisher its own name`);
  }

  const shared = metrics;
  const histogram = shared.histogram;
  const labels = { [PUBLISHER_LABEL]: name };
  const onDelivered = (event: DeliveredEvent): void => histogram.observe(labels, event.durationMs / 1000);
  shared.publishers.set(name, publisher);
  histogram.zero(labels);
  publisher.on(PublisherEvents.DELIVERED, onDelivered);

  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    publisher.off(PublisherEvents.DELIVERED, onDelivered);
    shared.publishers.delete(name);
    histogram.remove(labels);
    if (shared.publishers.size === 0) {
      shared.detach(registry);
      registries.delete(registry);
    }
  };
}
