// trace_id in Kong's shape end to end: an Express app logs through a real KafkaLogPublisher to the local broker,
// the entries are read back with kafkajs and checked against the shipped JSON Schema: tracing headers of several
// formats, and the active OpenTelemetry span of an app traced with the real SDK.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import Ajv from 'ajv';
import express from 'express';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { loadOpenTelemetry } from '../../src/capture/active-span.js';
import { kafkaLog } from '../../src/adapters/express.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { close, listen } from '../unit/adapters-support.js';
import { type BrokerHarness, brokerHarness, expectPlausible } from './adapters-support.js';

const TOPICS = ['headers', 'span'] as const;
const shipped = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'kong-log-entry.schema.json'), 'utf8'));
const conforms = new Ajv({ strict: false, allErrors: true }).compile(shipped);

let harness: BrokerHarness;
const servers: http.Server[] = [];
const manager = new AsyncLocalStorageContextManager();

beforeAll(async () => {
  harness = await brokerHarness(inject('kafka'), TOPICS);
  context.setGlobalContextManager(manager.enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  await loadOpenTelemetry(() => undefined);
});
afterAll(async () => {
  await Promise.all(servers.map(close));
  await harness?.close();
  trace.disable();
  context.disable();
});

async function serve(topic: (typeof TOPICS)[number], wrap: (app: express.Express) => http.RequestListener = (app) => app) {
  const sink = harness.sink(topic);
  const app = express();
  app.use(kafkaLog({ sink }));
  app.get('/orders/:id', (_req, res) => {
    res.json({ ok: true });
  });
  const server = http.createServer(wrap(app));
  servers.push(server);
  return { port: await listen(server), sink };
}

function expectShipped(entry: LogEntry): void {
  expect(conforms(entry), JSON.stringify(conforms.errors)).toBe(true);
}

it('writes one trace id per tracing format the request carries, each as Kong writes it, read back from Kafka', async () => {
  const { port, sink } = await serve('headers');
  await fetch(`http://127.0.0.1:${port}/orders/1`, {
    headers: {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'x-datadog-trace-id': '11803532876627986230',
      b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
      'x-amzn-trace-id': 'Root=1-4BF92F35-77B34DA6A3CE929D0E0E4736;Sampled=1',
    },
  });
  await fetch(`http://127.0.0.1:${port}/orders/2`, { headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' } });
  const [first, second] = (await harness.entries('headers', 2)) as [LogEntry, LogEntry];
  expect(first.trace_id).toEqual({
    w3c: '4bf92f3577b34da6a3ce929d0e0e4736',
    b3: '4bf92f3577b34da6a3ce929d0e0e4736',
    datadog: '11803532876627986230',
    aws: '4bf92f3577b34da6a3ce929d0e0e4736',
  });
  expect(second).not.toHaveProperty('trace_id');
  for (const entry of [first, second]) {
    expectPlausible(entry, port);
    expectShipped(entry);
  }
  expect(sink.errors).toEqual([]);
});

it('fills w3c from the active OpenTelemetry span of a traced app, read back from Kafka', async () => {
  const traceIds: string[] = [];
  const { port, sink } = await serve('span', (app) => (req, res) =>
    trace.getTracer('kafka-log-test').startActiveSpan('GET', (span) => {
      traceIds.push(span.spanContext().traceId);
      res.on('close', () => span.end());
      app(req, res);
    }),
  );
  await fetch(`http://127.0.0.1:${port}/orders/3`);
  const [entry] = (await harness.entries('span', 1)) as [LogEntry];
  expect(traceIds[0]).toMatch(/^[0-9a-f]{32}$/);
  expect(entry.trace_id).toEqual({ w3c: traceIds[0] });
  expectPlausible(entry, port);
  expectShipped(entry);
  expect(sink.errors).toEqual([]);
});
