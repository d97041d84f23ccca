// Hostile listeners cannot take the host down: a child process (the built package, Node's default
// unhandled-rejection mode, the real local broker) registers throwing, rejecting and throwing-`once` listeners on
// every event name of two publishers, one delivering to the broker and one facing a refused port. The process
// must end by itself with exit code 0, every entry must arrive (read back from the topic), every `once` listener
// must have run exactly once, and the failures must be reported in a few rate-limited lines, not a flood.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { runChild } from './children.js';
import { createTopics, readTopic, uniqueTopic } from './publisher-support.js';

const kafka = inject('kafka');
const ROOT = path.resolve(__dirname, '..', '..');
const EVENTS = [
  'publisher.connect',
  'publisher.disconnect',
  'publisher.drop',
  'publisher.dropped_records',
  'publisher.retry',
  'publisher.delivery_failure',
  'publisher.delivered',
  'publisher.log',
  'publisher.reported',
];

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'testing.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

describe('throwing and rejecting listeners on every event', () => {
  it('the process survives on its own, entries arrive, once listeners run once, failures are reported rate-limited', async () => {
    const topic = uniqueTopic('host-safety-listeners');
    await createTopics(kafka.brokers, [topic]);
    const runId = `hs-${Date.now()}`;
    const entries = 50;
    const run = runChild('host-safety-listeners.mjs', { KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: topic, ENTRIES: String(entries), RUN_ID: runId });
    const { code, signal } = await run.exit;
    const stderr = run.stderr.map((l) => l.text).join('\n');
    console.log(`host-safety-listeners stderr (${run.stderr.length} lines):\n${stderr}`);

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stderr).not.toMatch(/Unhandled|unhandled|RangeError|Maximum call stack|triggerUncaughtException/);
    const result = run.stdout[0] as {
      liveOnce: Record<string, number>;
      downOnce: Record<string, number>;
      live: PublisherStats;
      down: PublisherStats;
    };
    // Two `once` listeners per event: each ran once for every event that fired at least once.
    expect(result.liveOnce).toEqual(
      Object.fromEntries(
        EVENTS.map((name) => [name, ['publisher.connect', 'publisher.disconnect', 'publisher.drop', 'publisher.delivered', 'publisher.log', 'publisher.reported'].includes(name) ? 2 : 0]),
      ),
    );
    expect(result.downOnce).toEqual(
      Object.fromEntries(EVENTS.map((name) => [name, ['publisher.drop', 'publisher.dropped_records', 'publisher.retry', 'publisher.delivery_failure', 'publisher.log'].includes(name) ? 2 : 0])),
    );
    // Everything accepted is accounted for; the live publisher delivered every entry despite its listeners.
    expect(result.live).toMatchObject({ sent: entries, buffered: 0, inFlight: 0 });
    expect(result.live.accepted).toBe(result.live.sent + result.live.dropped.total);
    // After close: the first publish and the ones its drop listener made, nested up to the emitter's bound.
    expect(result.live.dropped.byReason.closed).toBeGreaterThan(1);
    expect(result.live.dropped.byReason.closed).toBeLessThanOrEqual(9);
    expect(result.down).toMatchObject({ accepted: 3, sent: 0, dropped: { total: 3, byReason: { retry_time_exceeded: 3 } } });

    // Rate-limited: one line per event and publisher at most (plus the close-time counts), not one per throw.
    const failureLines = run.stderr.filter((l) => /listener/.test(l.text));
    expect(failureLines.length).toBeGreaterThanOrEqual(10);
    expect(failureLines.length).toBeLessThanOrEqual(2 * 2 * EVENTS.length);
    expect(stderr).toContain('kafka-log error: a "publisher.delivered" listener threw: Error: sync listener of publisher.delivered');
    expect(stderr).toContain('kafka-log error: a "publisher.connect" listener');

    const messages = await readTopic({ brokers: kafka.brokers }, topic, entries, { timeoutMs: 30_000 });
    const ids = messages.map((m) => (JSON.parse(m.value) as { request: { id: string } }).request.id).sort();
    expect(ids).toEqual(Array.from({ length: entries }, (_, i) => `${runId}-${i}`).sort());
  }, 90_000);
});
