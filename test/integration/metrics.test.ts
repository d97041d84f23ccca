// kafka-log/metrics while a publisher sends to the real local broker: a real prom-client registry scraped as text
// and a real OpenTelemetry SDK exporting to memory show what stats() said at that moment, drops labelled by reason,
// the delivery histogram counting every acknowledged request; what they call sent is what the topic holds.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, inject, it, vi } from 'vitest';
import { registerOpenTelemetryMetrics, registerPrometheusMetrics } from '../../src/metrics/index.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import {
  expectedOpenTelemetry,
  expectedPrometheus,
  inMemoryOpenTelemetry,
  openTelemetryHistogram,
  openTelemetrySamples,
  parsePrometheusText,
  prometheusHistogram,
  sorted,
  withoutHistogram,
} from '../support/metrics.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const brokers = inject('kafka').brokers;

describe.each(TRANSPORTS)('metrics of a publisher over %s against the local broker', (transport) => {
  it('a Prometheus scrape and an OpenTelemetry export match stats() while the publisher runs, and at the end', async () => {
    const topic = uniqueTopic('metrics');
    await createTopics(brokers, [topic], 2);
    // A queue smaller than each burst: some entries of every burst are dropped for it.
    const publisher = new KafkaLogPublisher({ transport, brokers, topic, flushTimeout: 5, maxEntries: 300 });
    const registry = new Registry();
    const otel = inMemoryOpenTelemetry();
    const unregisterPrometheus = registerPrometheusMetrics(publisher, { registry });
    const unregisterOpenTelemetry = registerOpenTelemetryMetrics(publisher, { meter: otel.provider.getMeter('kafka-log') });
    const delivered: number[] = [];
    publisher.on('publisher.delivered', (event) => delivered.push(event.durationMs));
    const stats = vi.spyOn(publisher, 'stats');
    /** The snapshots stats() gave the metrics since the last call: one moment's, all equal. */
    const snapshotsTaken = (): PublisherStats => {
      const taken = stats.mock.results.map((result) => result.value as PublisherStats);
      stats.mockClear();
      expect(taken.length).toBeGreaterThan(0);
      for (const snapshot of taken) expect(snapshot).toEqual(taken[0]);
      return taken[0] as PublisherStats;
    };

    try {
      let pendingSeen = 0;
      for (let round = 0; round < 6; round++) {
        for (let i = 0; i < 500; i++) publisher.publish(realisticEntry(round * 500 + i));
        await sleep(round * 10);

        stats.mockClear();
        const scraping = registry.metrics();
        const deliveredAtScrape = delivered.length;
        const scrape = parsePrometheusText(await scraping);
        const scraped = snapshotsTaken();
        expect(sorted(withoutHistogram(scrape.samples))).toEqual(sorted(expectedPrometheus(topic, scraped)));
        expect(prometheusHistogram(scrape.samples, topic).count).toBe(deliveredAtScrape);
        if (scraped.buffered + scraped.inFlight > 0) pendingSeen++;

        const exported = await otel.read();
        const read = snapshotsTaken();
        expect(sorted(openTelemetrySamples(exported))).toEqual(sorted(expectedOpenTelemetry(topic, read)));
      }
      // Read right after a burst, the metrics saw entries on their way (not only a settled publisher).
      expect(pendingSeen).toBeGreaterThan(0);

      await publisher.close();
      publisher.publish(realisticEntry(-1));
      const final = publisher.stats();
      expect(final.dropped.byReason.queue_full_entries).toBeGreaterThan(0);
      expect(final.dropped.byReason.closed).toBe(1);
      expect(final.accepted).toBe(3001);
      expect(final.sent + final.dropped.total).toBe(final.accepted);
      expect(final.sent).toBeGreaterThan(0);

      const scrape = parsePrometheusText(await registry.metrics()).samples;
      expect(sorted(withoutHistogram(scrape))).toEqual(sorted(expectedPrometheus(topic, final)));
      const exported = await otel.read();
      expect(sorted(openTelemetrySamples(exported))).toEqual(sorted(expectedOpenTelemetry(topic, final)));

      const seconds = delivered.reduce((a, b) => a + b, 0) / 1000;
      expect(delivered.length).toBeGreaterThan(0);
      expect(prometheusHistogram(scrape, topic)).toMatchObject({ count: delivered.length, sum: expect.closeTo(seconds, 6) });
      expect(openTelemetryHistogram(exported, topic)).toMatchObject({ count: delivered.length, sum: expect.closeTo(seconds, 6) });

      // What the metrics call sent is on the topic, each entry once.
      const messages = await readTopic({ brokers }, topic, final.sent);
      expect(messages).toHaveLength(final.sent);
      expect(new Set(messages.map((m) => m.value)).size).toBe(final.sent);
    } finally {
      unregisterPrometheus();
      unregisterOpenTelemetry();
      await publisher.close();
      await otel.shutdown();
    }
  });
});

describe('the built kafka-log/metrics', () => {
  const root = join(__dirname, '..', '..');
  const run = (args: string[]) => JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 })) as unknown;
  // After the imports: a scrape, as users do it.
  const scrape = `
    const publisher = createTestPublisher({ topic: 'built' });
    const registry = new Registry();
    registerPrometheusMetrics(publisher, { registry });
    const text = await registry.metrics();
    await publisher.close();
    console.log(JSON.stringify(text.split('\\n').find((line) => line.startsWith('kafka_log_accepted_entries_total'))));`;

  it('as CommonJS loads no optional peer until a registry is registered', () => {
    const loaded = run(['-e', "require('kafka-log'); require('kafka-log/metrics'); console.log(JSON.stringify(Object.keys(require.cache)))"]);
    expect((loaded as string[]).filter((m) => /prom-client|@opentelemetry/.test(m))).toEqual([]);
    const line = run([
      '-e',
      `const { createTestPublisher } = require('kafka-log/testing'); const { registerPrometheusMetrics } = require('kafka-log/metrics'); const { Registry } = require('prom-client'); (async () => {${scrape}})();`,
    ]);
    expect(line).toBe('kafka_log_accepted_entries_total{publisher="built"} 0');
  });

  it('as ES module finds prom-client from the package too', () => {
    const line = run([
      '--input-type=module',
      '-e',
      `import { createTestPublisher } from 'kafka-log/testing'; import { registerPrometheusMetrics } from 'kafka-log/metrics'; import { Registry } from 'prom-client';${scrape}`,
    ]);
    expect(line).toBe('kafka_log_accepted_entries_total{publisher="built"} 0');
  });
});
