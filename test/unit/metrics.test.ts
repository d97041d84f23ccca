// kafka-log/metrics over the testing kit's publisher (the real publisher, in-memory transport): a real prom-client
// registry scraped as text and a real OpenTelemetry SDK exporting to memory show exactly what stats() says, with
// every drop reason and error code labelled; registrations share a registry or meter, and clean up after themselves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, Counter as PromCounter } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildLogEntry } from '../../src/entry/build.js';
import { BodyParseError, ErrorCodes, InvalidOptionError } from '../../src/errors.js';
import {
  DEFAULT_DELIVERY_DURATION_BUCKETS,
  DELIVERY_DURATION_METRIC,
  STATS_METRICS,
  registerOpenTelemetryMetrics,
  registerPrometheusMetrics,
} from '../../src/metrics/index.js';
import { DROP_REASONS, type PublisherStats } from '../../src/publisher/stats.js';
import { createTestPublisher, exchangeFixture, type TestPublisher } from '../../src/testing/index.js';
import {
  expectedOpenTelemetry,
  expectedPrometheus,
  inMemoryOpenTelemetry,
  openTelemetryDescriptors,
  openTelemetryHistogram,
  openTelemetrySamples,
  parsePrometheusText,
  prometheusHistogram,
  sorted,
  withoutHistogram,
} from '../support/metrics.js';

const cleanups: Array<() => unknown> = [];
function publisher(options: Parameters<typeof createTestPublisher>[0] = {}): TestPublisher {
  const p = createTestPublisher({ flushTimeout: 1, ...options });
  cleanups.push(() => p.close({ timeoutMs: 100 }));
  return p;
}
function otel() {
  const o = inMemoryOpenTelemetry();
  cleanups.push(o.shutdown);
  return o;
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const entry = () => buildLogEntry(exchangeFixture());

/** Drives a publisher through every kind of event the metrics count: drops of several reasons, retries, a report. */
async function eventful(p: TestPublisher, durations: number[]): Promise<void> {
  p.on('publisher.delivered', (e) => durations.push(e.durationMs));
  p.pause();
  for (let i = 0; i < 10; i++) p.publish(entry());
  p.resume();
  await p.flush();
  p.failNext(1, { retriable: false });
  p.publish(entry());
  await p.flush();
  p.failNext(2);
  p.publish(entry());
  await p.flush();
  p.reportError(new BodyParseError('request', 'application/json', 'unexpected end of input'));
  await p.close();
  p.publish(entry());
}

/** The counts `eventful` must have produced, so that the comparisons below compare something. */
function expectEventful(s: PublisherStats, deliveries: number): void {
  // How many of the burst the queue refuses depends on when the first request takes its entries.
  expect(s.dropped.byReason.queue_full_entries).toBeGreaterThan(0);
  expect(s.dropped.byReason).toMatchObject({ non_retriable: 1, closed: 1 });
  expect(s).toMatchObject({ accepted: 13, sent: 13 - s.dropped.total, retried: 2, reported: { byCode: { [ErrorCodes.BODY_PARSE]: 1 } } });
  expect(s.bytesSent).toBeGreaterThan(0);
  expect(deliveries).toBeGreaterThan(0);
}

describe('registerPrometheusMetrics with a real prom-client registry', () => {
  it('a scrape shows exactly stats(): every series, every drop reason and error code labelled, with TYPEs', async () => {
    const p = publisher({ maxEntries: 3, topic: 'access' });
    const registry = new Registry();
    cleanups.push(registerPrometheusMetrics(p, { registry }));
    const durations: number[] = [];
    await eventful(p, durations);
    const stats = p.stats();
    expectEventful(stats, durations.length);

    const scrape = parsePrometheusText(await registry.metrics());
    expect(sorted(withoutHistogram(scrape.samples))).toEqual(sorted(expectedPrometheus('access', stats)));
    expect(Object.fromEntries(scrape.types)).toEqual({
      kafka_log_accepted_entries_total: 'counter',
      kafka_log_entries_total: 'counter',
      kafka_log_retried_entries_total: 'counter',
      kafka_log_sent_bytes_total: 'counter',
      kafka_log_buffered_entries: 'gauge',
      kafka_log_buffered_bytes: 'gauge',
      kafka_log_in_flight_entries: 'gauge',
      kafka_log_spool_bytes: 'gauge',
      kafka_log_replayed_entries_total: 'counter',
      kafka_log_reported_failures_total: 'counter',
      kafka_log_delivery_duration_seconds: 'histogram',
    });
    const histogram = prometheusHistogram(scrape.samples, 'access');
    expect(histogram.count).toBe(durations.length);
    expect(histogram.sum).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 1000, 6);
    expect([...histogram.buckets.keys()]).toEqual([...DEFAULT_DELIVERY_DURATION_BUCKETS.map(String), '+Inf']);
    expect(histogram.buckets.get('+Inf')).toBe(durations.length);
  });

  it('reads stats() at scrape time: pending entries show while the broker holds them, and nothing is counted on publish', async () => {
    const p = publisher({ topic: 'live' });
    const registry = new Registry();
    const stats = vi.spyOn(p, 'stats');
    cleanups.push(registerPrometheusMetrics(p, { registry }));
    p.pause();
    for (let i = 0; i < 5; i++) p.publish(entry());
    expect(stats).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(p.stats().inFlight).toBeGreaterThan(0));
    stats.mockClear();
    const scrape = parsePrometheusText(await registry.metrics());
    const snapshots = stats.mock.results.map((r) => r.value as PublisherStats);
    expect(snapshots.length).toBeGreaterThan(0);
    for (const snapshot of snapshots) expect(snapshot).toEqual(snapshots[0]);
    const seen = snapshots[0] as PublisherStats;
    expect(seen.buffered + seen.inFlight).toBe(5);
    expect(sorted(withoutHistogram(scrape.samples))).toEqual(sorted(expectedPrometheus('live', seen)));
    p.resume();
    await p.flush();
    const after = parsePrometheusText(await registry.metrics());
    expect(after.samples.find((s) => s.name === 'kafka_log_entries_total' && s.labels.outcome === 'sent')?.value).toBe(5);
    expect(after.samples.find((s) => s.name === 'kafka_log_in_flight_entries')?.value).toBe(0);
  });

  it('two publishers share one registry under their names; each unregisters alone; the last takes the metrics away', async () => {
    const a = publisher({ topic: 'a' });
    const b = publisher({ topic: 'b' });
    const registry = new Registry();
    const unregisterA = registerPrometheusMetrics(a, { registry });
    const unregisterB = registerPrometheusMetrics(b, { registry, name: 'second' });
    const deliveries = { a: 0, b: 0 };
    a.on('publisher.delivered', () => deliveries.a++);
    b.on('publisher.delivered', () => deliveries.b++);
    a.publish(entry());
    a.publish(entry());
    b.publish(entry());
    await Promise.all([a.flush(), b.flush()]);
    const both = parsePrometheusText(await registry.metrics()).samples;
    expect(sorted(withoutHistogram(both))).toEqual(sorted([...expectedPrometheus('a', a.stats()), ...expectedPrometheus('second', b.stats())]));
    expect(deliveries.a).toBeGreaterThan(0);
    expect(prometheusHistogram(both, 'a').count).toBe(deliveries.a);
    expect(prometheusHistogram(both, 'second').count).toBe(deliveries.b);

    unregisterA();
    unregisterA();
    const onlyB = parsePrometheusText(await registry.metrics()).samples;
    expect(onlyB.filter((s) => s.labels.publisher === 'a')).toEqual([]);
    expect(sorted(withoutHistogram(onlyB))).toEqual(sorted(expectedPrometheus('second', b.stats())));
    unregisterB();
    expect(registry.getMetricsAsArray()).toEqual([]);

    // And again, after everything was taken away.
    cleanups.push(registerPrometheusMetrics(a, { registry }));
    expect(sorted(withoutHistogram(parsePrometheusText(await registry.metrics()).samples))).toEqual(sorted(expectedPrometheus('a', a.stats())));
  });

  it('one publisher in two registries; a listener only while registered', async () => {
    const p = publisher({ topic: 'twice' });
    const on = vi.spyOn(p, 'on');
    const off = vi.spyOn(p, 'off');
    const first = new Registry();
    const second = new Registry();
    const unregisterFirst = registerPrometheusMetrics(p, { registry: first });
    cleanups.push(registerPrometheusMetrics(p, { registry: second }));
    p.publish(entry());
    await p.flush();
    for (const registry of [first, second]) {
      expect(prometheusHistogram(parsePrometheusText(await registry.metrics()).samples, 'twice').count).toBe(1);
    }
    unregisterFirst();
    expect(off).toHaveBeenCalledTimes(1);
    expect(off.mock.calls[0]).toEqual(on.mock.calls[0]);
    p.publish(entry());
    await p.flush();
    expect(prometheusHistogram(parsePrometheusText(await second.metrics()).samples, 'twice').count).toBe(2);
  });

  it('a name registered twice with one registry throws, naming the option', () => {
    const registry = new Registry();
    cleanups.push(registerPrometheusMetrics(publisher({ topic: 'same' }), { registry }));
    const error = (() => {
      try {
        registerPrometheusMetrics(publisher({ topic: 'same' }), { registry });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ field: 'name', code: ErrorCodes.INVALID_OPTION });
    expect((error as Error).message).toContain('"same" is already registered');
  });

  it('a metric name held by other code throws and leaves nothing behind', async () => {
    const registry = new Registry();
    new PromCounter({ name: 'kafka_log_sent_bytes_total', help: 'not ours', registers: [registry] });
    expect(() => registerPrometheusMetrics(publisher(), { registry })).toThrow(
      expect.objectContaining({ field: 'registry', message: expect.stringContaining('"kafka_log_sent_bytes_total"') }),
    );
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['kafka_log_sent_bytes_total']);
  });

  it('comes back after registry.clear() at the next registration', async () => {
    const registry = new Registry();
    const p = publisher({ topic: 'x' });
    cleanups.push(registerPrometheusMetrics(p, { registry }));
    registry.clear();
    cleanups.push(registerPrometheusMetrics(publisher({ topic: 'y' }), { registry }));
    const publishers = new Set(parsePrometheusText(await registry.metrics()).samples.map((s) => s.labels.publisher));
    expect(publishers).toEqual(new Set(['x', 'y']));
  });

  it('takes custom buckets; a second registration with other buckets throws', async () => {
    const registry = new Registry();
    const p = publisher({ topic: 'b' });
    cleanups.push(registerPrometheusMetrics(p, { registry, buckets: [0.001, 1] }));
    p.publish(entry());
    await p.flush();
    expect([...prometheusHistogram(parsePrometheusText(await registry.metrics()).samples, 'b').buckets.keys()]).toEqual(['0.001', '1', '+Inf']);
    cleanups.push(registerPrometheusMetrics(publisher(), { registry, name: 'same-buckets', buckets: [0.001, 1] }));
    cleanups.push(registerPrometheusMetrics(publisher(), { registry, name: 'default-buckets' }));
    expect(() => registerPrometheusMetrics(publisher(), { registry, name: 'other', buckets: [1, 2] })).toThrow(
      expect.objectContaining({ field: 'buckets', message: expect.stringContaining('[0.001, 1]') }),
    );
  });

  it.each([
    [{ buckets: [] }, 'buckets'],
    [{ buckets: [0.1, 0.1] }, 'buckets[1]'],
    [{ buckets: [0, 1] }, 'buckets[0]'],
    [{ buckets: [1, Number.NaN] }, 'buckets[1]'],
    [{ name: '' }, 'name'],
  ])('rejects %j with an error naming %s', (options, field) => {
    expect(() => registerPrometheusMetrics(publisher(), { registry: new Registry(), ...options })).toThrow(expect.objectContaining({ field }));
  });

  it('rejects what is not a registry or not a publisher', () => {
    const p = publisher();
    expect(() => registerPrometheusMetrics(p, { registry: {} as never })).toThrow(expect.objectContaining({ field: 'registry' }));
    expect(() => registerPrometheusMetrics({} as never, { registry: new Registry() })).toThrow(expect.objectContaining({ field: 'publisher' }));
  });
});

describe('registerOpenTelemetryMetrics with a real SDK exporting to memory', () => {
  it('an export shows exactly stats(): names, units, kinds (counters monotonic, gauges not), attributes, the histogram', async () => {
    const p = publisher({ maxEntries: 3, topic: 'access' });
    const { provider, read } = otel();
    cleanups.push(registerOpenTelemetryMetrics(p, { meter: provider.getMeter('kafka-log') }));
    const durations: number[] = [];
    await eventful(p, durations);
    const stats = p.stats();
    expectEventful(stats, durations.length);

    const exported = await read();
    expect(sorted(openTelemetrySamples(exported))).toEqual(sorted(expectedOpenTelemetry('access', stats)));
    expect(Object.fromEntries(openTelemetryDescriptors(exported))).toEqual({
      'kafka_log.entry.accepted': { unit: '{entry}', type: 'sum', monotonic: true },
      'kafka_log.entries': { unit: '{entry}', type: 'sum', monotonic: true },
      'kafka_log.entry.retried': { unit: '{entry}', type: 'sum', monotonic: true },
      'kafka_log.payload.sent': { unit: 'By', type: 'sum', monotonic: true },
      'kafka_log.entry.buffered': { unit: '{entry}', type: 'sum', monotonic: false },
      'kafka_log.buffer.usage': { unit: 'By', type: 'sum', monotonic: false },
      'kafka_log.entry.in_flight': { unit: '{entry}', type: 'sum', monotonic: false },
      'kafka_log.spool.usage': { unit: 'By', type: 'sum', monotonic: false },
      'kafka_log.entry.replayed': { unit: '{entry}', type: 'sum', monotonic: true },
      'kafka_log.failure.reported': { unit: '{failure}', type: 'sum', monotonic: true },
      'kafka_log.delivery.duration': { unit: 's', type: 'histogram', monotonic: undefined },
    });
    const histogram = openTelemetryHistogram(exported, 'access');
    expect(histogram?.count).toBe(durations.length);
    expect(histogram?.sum).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 1000, 6);
    expect(histogram?.boundaries).toEqual(DEFAULT_DELIVERY_DURATION_BUCKETS);
  });

  it('reads one stats() snapshot per collection, none on publish', async () => {
    const p = publisher({ topic: 'live' });
    const { provider, read } = otel();
    const stats = vi.spyOn(p, 'stats');
    cleanups.push(registerOpenTelemetryMetrics(p, { meter: provider.getMeter('kafka-log') }));
    p.pause();
    for (let i = 0; i < 5; i++) p.publish(entry());
    expect(stats).not.toHaveBeenCalled();
    const exported = await read();
    expect(stats).toHaveBeenCalledTimes(1);
    const seen = stats.mock.results[0]?.value as PublisherStats;
    expect(seen.buffered + seen.inFlight).toBe(5);
    expect(sorted(openTelemetrySamples(exported))).toEqual(sorted(expectedOpenTelemetry('live', seen)));
    p.resume();
  });

  it('two publishers share a meter under their names; unregistering stops the callback and the listener', async () => {
    const a = publisher({ topic: 'a' });
    const b = publisher({ topic: 'b' });
    const { provider, read } = otel();
    const meter = provider.getMeter('kafka-log');
    const unregisterA = registerOpenTelemetryMetrics(a, { meter });
    cleanups.push(registerOpenTelemetryMetrics(b, { meter, name: 'second' }));
    a.publish(entry());
    b.publish(entry());
    await Promise.all([a.flush(), b.flush()]);
    const both = await read();
    expect(sorted(openTelemetrySamples(both))).toEqual(sorted([...expectedOpenTelemetry('a', a.stats()), ...expectedOpenTelemetry('second', b.stats())]));
    expect(openTelemetryHistogram(both, 'a')?.count).toBe(1);
    expect(openTelemetryHistogram(both, 'second')?.count).toBe(1);

    const aStats = vi.spyOn(a, 'stats');
    unregisterA();
    a.publish(entry());
    await a.flush();
    const later = await read();
    expect(aStats).not.toHaveBeenCalled();
    // The SDK keeps exporting what it last recorded for a; b is read afresh.
    expect(openTelemetryHistogram(later, 'a')?.count).toBe(1);
    expect(openTelemetrySamples(later).filter((s) => s.labels['kafka_log.publisher'] === 'second')).toEqual(expectedOpenTelemetry('second', b.stats()));
  });

  it('a name registered twice on one meter throws; other buckets on the same meter throw', () => {
    const { provider } = otel();
    const meter = provider.getMeter('kafka-log');
    cleanups.push(registerOpenTelemetryMetrics(publisher({ topic: 'same' }), { meter, buckets: [0.5, 5] }));
    expect(() => registerOpenTelemetryMetrics(publisher({ topic: 'same' }), { meter })).toThrow(expect.objectContaining({ field: 'name' }));
    expect(() => registerOpenTelemetryMetrics(publisher({ topic: 'other' }), { meter, buckets: [1] })).toThrow(expect.objectContaining({ field: 'buckets' }));
  });

  it('takes custom buckets as the histogram advice', async () => {
    const p = publisher({ topic: 'b' });
    const { provider, read } = otel();
    cleanups.push(registerOpenTelemetryMetrics(p, { meter: provider.getMeter('kafka-log'), buckets: [0.001, 1] }));
    p.publish(entry());
    await p.flush();
    expect(openTelemetryHistogram(await read(), 'b')?.boundaries).toEqual([0.001, 1]);
  });

  it('rejects what is not a meter', () => {
    expect(() => registerOpenTelemetryMetrics(publisher(), { meter: new Registry() as never })).toThrow(expect.objectContaining({ field: 'meter' }));
  });
});

describe('the metric catalogue', () => {
  const all = [...STATS_METRICS, { ...DELIVERY_DURATION_METRIC, kind: 'histogram' }];

  it('names follow each ecosystem: Prometheus snake_case with _total on counters only; OpenTelemetry dotted, no total', () => {
    for (const metric of all) {
      expect(metric.prometheus).toMatch(/^kafka_log_[a-z]+(_[a-z]+)*$/);
      expect(metric.prometheus.endsWith('_total')).toBe(metric.kind === 'counter');
      expect(metric.openTelemetry).toMatch(/^kafka_log(\.[a-z]+(_[a-z]+)*)+$/);
      expect(metric.openTelemetry).not.toMatch(/total|count$/);
    }
    expect(new Set(all.map((m) => m.prometheus)).size).toBe(all.length);
    expect(new Set(all.map((m) => m.openTelemetry)).size).toBe(all.length);
  });

  it('every drop reason is an outcome label value', async () => {
    const p = publisher({ topic: 't' });
    const registry = new Registry();
    cleanups.push(registerPrometheusMetrics(p, { registry }));
    const reasons = parsePrometheusText(await registry.metrics())
      .samples.filter((s) => s.name === 'kafka_log_entries_total' && s.labels.outcome === 'dropped')
      .map((s) => s.labels.reason);
    expect(reasons).toEqual([...DROP_REASONS]);
  });

  it('the README names every metric in both ecosystems', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const missing = all.flatMap((m) => [m.prometheus, m.openTelemetry]).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
