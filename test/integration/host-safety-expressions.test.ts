// Hostile custom-field expressions cannot crash, stall or pollute the application that logs with kafka-log.
// The app (host-safety-expressions-app.mjs, the built package) runs as a child process with Node's default
// unhandled-rejection mode (no flags), behind kafka-log/http, publishing to the real local broker; the entries
// are read back from Kafka. Each configuration below is one adapter; every one also has a harmless expression
// (`good`) and a function field (`fn`).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { type RunningChildApp, startChildApp } from './child-app.js';
import { createTopics, readTopic, uniqueTopic } from './publisher-support.js';

const kafka = inject('kafka');
const ROOT = path.resolve(__dirname, '..', '..');
const APP = path.join(__dirname, 'host-safety-expressions-app.mjs');
const LIMIT_MS = 50;
const SWITCH_OFF_AFTER = 3;
const REQUESTS = 8;
/**
 * A bound, not a benchmark: a stuck expression costs one limit, or the hard limit plus a fresh engine when
 * QuickJS could not interrupt it. The margin is wide so a loaded machine cannot fail the test; without the
 * limits most of these expressions never end.
 */
const BOUND_MS = LIMIT_MS + 1500;
/** A header on every request that makes the regular expressions below backtrack for 2^40 steps. */
const HOSTILE_HEADER = `${'a'.repeat(40)}!`;

/** Fields that fail fast on every entry, or that succeed without harm: none of them may time out. */
const FAST = {
  unreturnedAsync: '[1].map(async (x) => x.y.z).length',
  unreturnedReject: "(Promise.reject(new Error('x')), 1)",
  thenThrows: "(Promise.resolve().then(() => { throw new Error('later') }), 2)",
  returnedReject: "Promise.reject(new Error('x'))",
  stash: '(globalThis.stash = (globalThis.stash || 0) + 1)',
  stashSeen: 'typeof globalThis.stash',
  constructorEscape: "constructor.constructor('return process')()",
  entryEscape: "entry.constructor.constructor('return process')()",
  thisEscape: "this.constructor.constructor('return process')()",
  callee: 'arguments.callee',
  objectPrototype: '(Object.prototype.polluted = 1)',
  arrayPrototype: '(Array.prototype.push = null)',
  literalPrototype: "(({}).__proto__.polluted = 'x')",
  symbolRegistry: "Symbol.for('kafka-log')",
  proxyTrap: "new Proxy({}, { ownKeys() { throw new Error('trap') } })",
  thrownGetter: '(() => { throw { get code() { for (;;) {} }, toString() { for (;;) {} } } })()',
  repeat1e9: "'x'.repeat(1e9)",
  repeat5e8: "'x'.repeat(5e8)",
  hugeArrayLength: 'new Array(2 ** 32)',
  recursion: '(function f() { return f() + 1; })()',
};
/** What the fast fields write (the others fail and are left out). */
const FAST_VALUES = { unreturnedAsync: 1, unreturnedReject: 1, thenThrows: 2, stashSeen: 'undefined' };

/** Fields that never end (each alone in its configuration, so an entry holds at most one of them). */
const STUCK = {
  loop: '(() => { while (true) {} })()',
  nestedQuantifier: "/^(a+)+$/.test(entry.request.headers['x-hostile'] ?? '')",
  alternation: "/^(a|a)*$/.test(entry.request.headers['x-hostile'] ?? '')",
  slowGetterOnThrownError: "(() => { throw Object.defineProperty(new Error('x'), 'message', { get() { for (;;) {} } }) })()",
  nativeIndexOf: 'Array.prototype.indexOf.call({ length: 1e15 }, 1)',
  nativeReverse: 'Array.prototype.reverse.call({ length: 1e15 })',
  promiseFlood: '(() => { const f = () => { Promise.resolve().then(f); Promise.resolve().then(f); }; f(); return 1; })()',
};

/**
 * Fields that fail on every entry, by running out of memory or by timing out, depending on how fast the machine
 * fills memory (each alone in its configuration).
 */
const HEAVY = {
  hugeArrayFill: 'new Array(1e9).fill(0).length',
  hugeStringJoin: "Array.from({ length: 1e6 }, () => 'x'.repeat(100)).join('')",
};

const CONFIGS: Record<string, Record<string, string>> = {
  fast: FAST,
  ...Object.fromEntries(Object.entries({ ...STUCK, ...HEAVY }).map(([key, expression]) => [key, { [key]: expression }])),
};

interface Report {
  entryMs: Record<string, number[]>;
  fields: Record<string, Record<string, { evaluations: number; switchedOff: boolean }>>;
  announced: Array<{ field: string; message: string }>;
  stats: PublisherStats;
  hostGlobals: Record<string, string>;
}

function startApp(topic: string): Promise<RunningChildApp> {
  return startChildApp(APP, {
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_TOPIC: topic,
    CONFIGS: JSON.stringify(CONFIGS),
    LIMIT_MS: String(LIMIT_MS),
    SWITCH_OFF_AFTER: String(SWITCH_OFF_AFTER),
  });
}

async function get(port: number, url: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${url}`, { headers: { 'x-hostile': HOSTILE_HEADER } });
  return response.text();
}

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'http.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

describe('hostile custom-field expressions in a child process with default unhandled-rejection handling', () => {
  it('never end the process, stay within their limits, are switched off when stuck, and leave the rest of every entry', async () => {
    const topic = uniqueTopic('host-safety-expressions');
    await createTopics(kafka.brokers, [topic]);
    const app = await startApp(topic);
    try {
      for (const name of Object.keys(CONFIGS)) {
        for (let i = 0; i < REQUESTS; i++) expect(await get(app.port, `/${name}/${i}`)).toBe('ok');
      }
      // Late unhandled rejections, if any, would end the process about now.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const report = JSON.parse(await get(app.port, '/__report')) as Report;
      expect(app.exited()).toBeUndefined();
      const slowest = Object.fromEntries(Object.entries(report.entryMs).map(([name, times]) => [name, Math.round(Math.max(...times))]));
      console.log(`host-safety-expressions ${JSON.stringify({ limitMs: LIMIT_MS, slowestEntryMs: slowest, announced: report.announced.length, reported: report.stats.reported })}`);

      // Every request's entry was handed to the publisher, none took longer than the bound.
      for (const name of Object.keys(CONFIGS)) {
        expect(report.entryMs[name], name).toHaveLength(REQUESTS);
        for (const ms of report.entryMs[name]!) expect(ms, name).toBeLessThan(BOUND_MS);
      }

      // Stuck expressions: switched off after SWITCH_OFF_AFTER time-outs, then never run again.
      for (const key of Object.keys(STUCK)) {
        expect(report.fields[key]![key], key).toEqual({ evaluations: SWITCH_OFF_AFTER, switchedOff: true });
        expect(report.fields[key]!.good).toEqual({ evaluations: REQUESTS, switchedOff: false });
      }
      // Fast failures stay on (they cost nothing to speak of) and run on every entry.
      for (const key of Object.keys(FAST)) expect(report.fields.fast![key], key).toEqual({ evaluations: REQUESTS, switchedOff: false });
      // Heavy ones run on every entry, unless they timed out SWITCH_OFF_AFTER times in a row.
      for (const key of Object.keys(HEAVY)) {
        const { evaluations, switchedOff } = report.fields[key]![key]!;
        if (switchedOff) expect(evaluations, key).toBeGreaterThanOrEqual(SWITCH_OFF_AFTER);
        else expect(evaluations, key).toBe(REQUESTS);
      }

      // Nothing reached the host's globals.
      expect(report.hostGlobals).toEqual({ stash: 'undefined', polluted: 'undefined', arrayPush: 'function' });

      // Every failure is counted; each failing field is announced once, a stuck one also when it is switched off.
      const failingFast = Object.keys(FAST).filter((key) => !(key in FAST_VALUES));
      const heavyFailures = Object.keys(HEAVY).reduce((sum, key) => sum + report.fields[key]![key]!.evaluations, 0);
      const failures = failingFast.length * REQUESTS + Object.keys(STUCK).length * SWITCH_OFF_AFTER + heavyFailures;
      expect(report.stats.reported).toEqual({ total: failures, byCode: { KAFKA_LOG_ERR_CUSTOM_FIELD: failures } });
      const announcedPerField = new Map<string, string[]>();
      for (const { field, message } of report.announced) announcedPerField.set(field, [...(announcedPerField.get(field) ?? []), message]);
      expect([...announcedPerField.keys()].sort()).toEqual([...failingFast, ...Object.keys(STUCK), ...Object.keys(HEAVY)].sort());
      for (const key of failingFast) expect(announcedPerField.get(key), key).toHaveLength(1);
      for (const key of Object.keys(HEAVY)) expect(announcedPerField.get(key)!.length, key).toBe(report.fields[key]![key]!.switchedOff ? 2 : 1);
      for (const key of Object.keys(STUCK)) {
        const messages = announcedPerField.get(key)!;
        expect(messages, key).toHaveLength(2);
        expect(messages[0], key).toContain(`timed out (limit ${LIMIT_MS} ms)`);
        expect(messages[1], key).toContain('switched off until the application restarts');
      }

      // The entries all arrived, with the harmless fields and without the failing ones.
      const messages = await readTopic({ brokers: kafka.brokers }, topic, Object.keys(CONFIGS).length * REQUESTS, { timeoutMs: 60_000 });
      const entries = messages.map((message) => JSON.parse(message.value) as Record<string, unknown> & { request: { uri: string } });
      expect(entries).toHaveLength(Object.keys(CONFIGS).length * REQUESTS);
      for (const entry of entries) {
        expect(entry.good).toBe(entry.request.uri);
        expect(entry.fn).toBe('ok');
        const config = entry.request.uri.split('/')[1]!;
        if (config === 'fast') {
          expect(entry).toMatchObject(FAST_VALUES);
          for (const key of failingFast) expect(entry, key).not.toHaveProperty(key);
        } else {
          expect(entry, config).not.toHaveProperty(config);
        }
      }
      expect(app.exited()).toBeUndefined();
      // stderr holds kafka-log's own (rate-limited) lines about the failing fields and nothing else: no stack, no crash.
      const stderrLines = app.stderr().split('\n').filter((line) => line !== '');
      for (const line of stderrLines) expect(line).toMatch(/^kafka-log (error|warn|info): custom field "/);
      expect(stderrLines.length).toBeLessThanOrEqual(report.announced.length);
    } finally {
      app.child.kill('SIGTERM');
    }
  }, 180_000);
});
