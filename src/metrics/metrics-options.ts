/**
 * What both metric registrations take: the publisher, its name in the metrics, the histogram's buckets.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import type { KafkaLogPublisher } from '../publisher/publisher.js';
import type { DEFAULT_DELIVERY_DURATION_BUCKETS } from './catalogue.js';

/** What the metrics read from a publisher: its public counters and events (a `KafkaLogPublisher` or test publisher). */
export type MetricsSource = Pick<KafkaLogPublisher, 'stats' | 'on' | 'off' | 'topic'>;

/** Removes what a registration added (its series, listener and callbacks). Calling it again does nothing. */
export type UnregisterMetrics = () => void;

/** Options shared by the Prometheus and OpenTelemetry registrations. */
export interface MetricsOptions {
  /**
   * The publisher's name in the metrics: the `publisher` label (Prometheus) or `kafka_log.publisher` attribute
   * (OpenTelemetry). Default: the publisher's default topic. Two publishers registered with the same registry or
   * meter need different names.
   */
  name?: string;
  /** Bucket bounds of the delivery latency histogram, seconds, ascending. Default {@link DEFAULT_DELIVERY_DURATION_BUCKETS}. */
  buckets?: readonly number[];
}

/** Options checked, defaults applied. */
interface ResolvedMetricsOptions {
  /** See {@link MetricsOptions.name}. */
  name: string;
  /** See {@link MetricsOptions.buckets}; `undefined` when not given (the default applies to a first registration). */
  buckets: number[] | undefined;
}

/** Checks the shared options; throws {@link InvalidOptionError} naming the field. */
export function resolveMetricsOptions(publisher: MetricsSource, options: MetricsOptions): ResolvedMetricsOptions {
  if (typeof publisher?.stats !== 'function' || typeof publisher.on !== 'function' || typeof publisher.off !== 'function') {
    throw new InvalidOptionError('publisher', 'must be a KafkaLogPublisher (stats(), on() and off())');
  }
  const name = options.name ?? publisher.topic;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('name', 'must be a non-empty string');
  const buckets = options.buckets;
  if (buckets === undefined) return { name, buckets: undefined };
  if (!Array.isArray(buckets) || buckets.length === 0) throw new InvalidOptionError('buckets', 'must be a non-empty array of seconds');
  buckets.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound <= 0) {
      throw new InvalidOptionError(`buckets[${i}]`, 'must be a positive finite number of seconds');
    }
    if (i > 0 && bound <= (buckets[i - 1] as number)) throw new InvalidOptionError(`buckets[${i}]`, 'must be greater than the bound before it');
  });
  return { name, buckets: [...buckets] };
}

/** Whether two bucket lists are the same bounds. */
export function sameBuckets(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((bound, i) => bound === b[i]);
}
