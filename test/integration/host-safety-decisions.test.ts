// Hostile decision options cannot crash the application: filter, sampleRate, body conditions, the request id
// generator and a sink's skipped() that throw unprintable values or return (rejected) promises. The app
// (host-safety-decisions-app.mjs, the built package) runs as a child process with Node's default
// unhandled-rejection mode (no flags), behind kafka-log/http, publishing to the real local broker; the entries are
// read back from Kafka.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { type RunningChildApp, startChildApp } from './child-app.js';
import { createTopics, readTopic, uniqueTopic } from './publisher-support.js';

const kafka = inject('kafka');
const ROOT = path.resolve(__dirname, '..', '..');
const APP = path.join(__dirname, 'host-safety-decisions-app.mjs');
const REQUESTS = 6;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Report {
  stats: PublisherStats;
  announced: Array<{ field: string; message: string }>;
}

function startApp(topic: string): Promise<RunningChildApp> {
  return startChildApp(APP, { KAFKA_BROKERS: kafka.brokers.join(','), KAFKA_TOPIC: topic });
}

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'http.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
});

describe('hostile decision options in a child process with default unhandled-rejection handling', () => {
  it('never end the process; what fails is reported, the entry published (fail open), the counts add up', async () => {
    const topic = uniqueTopic('host-safety-decisions');
    await createTopics(kafka.brokers, [topic]);
    const app = await startApp(topic);
    try {
      for (const name of ['open', 'skip', 'async']) {
        for (let i = 0; i < REQUESTS; i++) {
          const response = await fetch(`http://127.0.0.1:${app.port}/${name}/${i}`, { method: 'POST', body: '{"secret":"body"}', headers: { 'content-type': 'application/json' } });
          const { id } = (await response.json()) as { id: string };
          expect(id).toMatch(UUID);
          // The echoed header carries the id the application read (the generator's promise gave way to a UUID).
          if (name === 'open') expect(response.headers.get('x-request-id')).toBe(id);
        }
      }
      const messages = await readTopic({ brokers: kafka.brokers }, topic, 2 * REQUESTS, { timeoutMs: 60_000 });
      // Late unhandled rejections, if any, would end the process about now.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(app.exited()).toBeUndefined();

      const entries = messages.map((message) => JSON.parse(message.value) as LogEntry);
      expect(entries.map((entry) => entry.request.uri.split('/')[1]).sort()).toEqual([...Array(REQUESTS).fill('async'), ...Array(REQUESTS).fill('open')]);
      for (const entry of entries) {
        expect(entry.request.id).toMatch(UUID);
        expect(entry.request).not.toHaveProperty('body');
        expect(entry.response).not.toHaveProperty('body');
      }

      const report = (await (await fetch(`http://127.0.0.1:${app.port}/__report`)).json()) as Report;
      const { stats } = report;
      expect(stats.accepted).toBe(3 * REQUESTS);
      expect(stats.sent).toBe(2 * REQUESTS);
      expect(stats.skipped).toEqual({ total: REQUESTS, byReason: { filtered: REQUESTS, sampled_out: 0 } });
      expect(stats.accepted).toBe(stats.sent + stats.dropped.total + stats.skipped.total + stats.buffered + stats.inFlight);
      // /open: filter, sampleRate, both body conditions and the generator fail on every entry (values thrown as
      // causes that cannot even be inspected included); /async: filter and sampleRate answer with promises; /skip:
      // the sink's skipped() rejects (a sink failure, reported as such).
      expect(stats.reported).toEqual({
        total: 8 * REQUESTS,
        byCode: { KAFKA_LOG_ERR_CUSTOM_FIELD: 7 * REQUESTS, KAFKA_LOG_ERR_SERIALIZE: REQUESTS },
      });
      // The options' failures are announced once each per adapter, the repeats counted only.
      const fields = report.announced.flatMap(({ field }) => (field === undefined ? [] : [field]));
      expect(fields.sort()).toEqual(
        ['filter', 'filter', 'generateRequestId', 'logRequestBody', 'logResponseBody', 'sampleRate', 'sampleRate'].sort(),
      );
      expect(report.announced.map(({ message }) => message)).toContain(
        'custom field "sampleRate": the sampleRate function threw: [a value that cannot be printed]; the entry is kept',
      );
    } finally {
      app.child.kill('SIGTERM');
      await new Promise((resolve) => (app.exited() ? resolve(undefined) : app.child.once('exit', resolve)));
    }
    expect(app.exited()).toEqual({ code: 0, signal: null });
    const lines = app.stderr().split('\n').filter((line) => line !== '');
    expect(lines.filter((line) => !line.startsWith('kafka-log '))).toEqual([]);
    expect(lines.length).toBeLessThanOrEqual(7);
  });
});
