// Adapter end-to-end helpers: one KafkaLogPublisher per topic on the real local broker, over the transport under
// test, and one kafkajs consumer per harness that reads every topic back (one group join instead of one per test).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import kafkajs from 'kafkajs';
import type { KafkaInfo } from '../../scripts/local-kafka.mjs';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { KafkaLogError } from '../../src/errors.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { LogSink } from '../../src/capture/sink.js';
import { TRANSPORTS, type TransportName } from './transports.js';
import { createTopics } from './publisher-support.js';

const { Kafka, logLevel } = kafkajs;

/** A sink that publishes through a real publisher and keeps adapter-side errors for assertions. */
export interface BrokerSink extends LogSink {
  readonly publisher: KafkaLogPublisher;
  readonly topic: string;
  readonly errors: KafkaLogError[];
}

export interface BrokerHarness {
  /** A sink publishing to the named topic of this file. */
  sink(name: string): BrokerSink;
  /** Waits until `count` entries arrived on the named topic (flushing its publisher first) and returns them. */
  entries(name: string, count: number, timeoutMs?: number): Promise<LogEntry[]>;
  /** Closes publishers, consumer and admin. */
  close(): Promise<void>;
}

/**
 * Creates one topic per name, starts a consumer reading all of them from the beginning; the publishers use
 * `transport`. Topics are fresh per harness, so one file can run a harness per transport.
 */
export async function brokerHarness(
  kafka: KafkaInfo,
  names: readonly string[],
  transport: TransportName = 'kafkajs',
): Promise<BrokerHarness> {
  const run = randomUUID().slice(0, 8);
  const topicOf = new Map(names.map((name) => [name, `adapters-${name}-${transport}-${run}`]));
  const client = new Kafka({ clientId: `adapters-test-${run}`, brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  await createTopics(kafka.brokers, [...topicOf.values()]);

  const received = new Map<string, LogEntry[]>([...topicOf.values()].map((topic) => [topic, []]));
  const consumer = client.consumer({ groupId: `adapters-test-${run}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topicOf.values()], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const value = message.value?.toString('utf8') ?? 'null';
      const parsed = JSON.parse(value) as LogEntry | LogEntry[];
      received.get(topic)?.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    },
  });

  const publishers = new Map<string, KafkaLogPublisher>();
  const topic = (name: string): string => {
    const found = topicOf.get(name);
    if (found === undefined) throw new Error(`unknown topic name ${name}`);
    return found;
  };

  return {
    sink(name) {
      const errors: KafkaLogError[] = [];
      const publisher = new KafkaLogPublisher({
        brokers: kafka.brokers,
        topic: topic(name),
        transport,
        maxCoalescingDelay: 5,
        flushTimeout: 20,
        logLevel: 'silent',
      });
      publishers.set(name, publisher);
      return {
        publisher,
        topic: topic(name),
        errors,
        publish: (entry, meta) => publisher.publish(entry, meta),
        reportError: (error) => errors.push(error),
        skipped: (reason, count) => publisher.skipped(reason, count),
      };
    },
    async entries(name, count, timeoutMs = 20_000) {
      const list = received.get(topic(name)) as LogEntry[];
      const deadline = Date.now() + timeoutMs;
      while (list.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${list.length} of ${count} entries arrived on ${name}`);
        // Entries are published when a response closes, which may be after the client saw the response.
        await publishers.get(name)?.flush();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return list.slice(0, count);
    },
    async close() {
      await Promise.all([...publishers.values()].map((publisher) => publisher.close()));
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}

/** An app or server a suite closes at the end of its file. */
interface Closable {
  close(): Promise<unknown>;
}

/** What {@link describeEachTransport} hands each transport's suite. */
export interface TransportSuite {
  /** The broker harness of the running transport's suite (created before its tests run). */
  harness(): BrokerHarness;
  /** Keeps `app` to be closed once the file's suites are done, and returns it. */
  track<T extends Closable>(app: T): T;
}

/**
 * One suite per transport (`describe.each(TRANSPORTS)`, `title` with `%s` for the transport): the same exchanges,
 * published by each Kafka client, each suite with a fresh {@link brokerHarness} of `topics`. What `track` keeps is
 * closed once at the end of the file.
 */
export function describeEachTransport(title: string, topics: readonly string[], body: (suite: TransportSuite) => void): void {
  const running: Closable[] = [];
  afterAll(async () => {
    await Promise.all(running.map((app) => app.close()));
  });
  describe.each(TRANSPORTS)(title, (transport) => {
    let harness: BrokerHarness | undefined;
    beforeAll(async () => {
      harness = await brokerHarness(inject('kafka'), topics, transport);
    });
    afterAll(() => harness?.close());
    body({
      harness: () => harness as BrokerHarness,
      track(app) {
        running.push(app);
        return app;
      },
    });
  });
}

/** The W3C trace context every adapter suite sends, and the trace id the entry must carry. */
export const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

/** Facts every entry of a local exchange must hold, whatever the framework. */
export function expectPlausible(entry: LogEntry, port: number): void {
  expect(entry.client_ip).toBe('127.0.0.1');
  expect(entry.request.url.startsWith(`http://127.0.0.1:${port}/`)).toBe(true);
  for (const value of Object.values(entry.latencies)) expect(value).toBeGreaterThanOrEqual(-1);
  expect(entry.latencies.request).toBeGreaterThanOrEqual(0);
  expect(entry.latencies.kong).toBeGreaterThanOrEqual(0);
  expect(entry.latencies.receive).toBeGreaterThanOrEqual(0);
  expect(entry.latencies.receive).toBeLessThanOrEqual(entry.latencies.request + 1);
  expect(entry.request.size).toBeGreaterThan(entry.request.uri.length);
  expect(entry.response.size).toBeGreaterThan(0);
  expect(Math.abs(entry.started_at - Date.now())).toBeLessThan(60_000);
}

/** The JSON body of the exchange every adapter suite sends first ({@link sendJsonExchange}). */
const JSON_EXCHANGE_BODY = { name: 'Ada', roles: ['admin', 'dev'], nested: { n: 1 } };

/**
 * Sends `POST /api/users/42?debug&tag=a&tag=b` with a JSON body, a custom header, a traceparent and, when given,
 * a request id; the app must answer 201 with `{ id, received }`.
 */
export async function sendJsonExchange(port: number, requestId?: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/api/users/42?debug&tag=a&tag=b`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-custom': 'yes',
      ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
      traceparent: TRACEPARENT,
    },
    body: JSON.stringify(JSON_EXCHANGE_BODY),
  });
  expect(response.status).toBe(201);
  expect(await response.json()).toEqual({ id: '42', received: JSON_EXCHANGE_BODY });
}

/** Field by field, the entry of {@link sendJsonExchange} (route `/api/users/:id`, consumer `{ id: '42' }`). */
export function expectJsonExchangeEntry(
  entry: LogEntry,
  port: number,
  expected: { requestId?: string; responseBodyLogged: boolean },
): void {
  expectPlausible(entry, port);
  if (expected.requestId !== undefined) expect(entry.request.id).toBe(expected.requestId);
  expect(entry.request.method).toBe('POST');
  expect(entry.request.uri).toBe('/api/users/42?debug&tag=a&tag=b');
  expect(entry.request.url).toBe(`http://127.0.0.1:${port}/api/users/42?debug&tag=a&tag=b`);
  expect(entry.request.querystring).toEqual({ debug: true, tag: ['a', 'b'] });
  expect(entry.request.headers['content-type']).toBe('application/json');
  expect(entry.request.headers['x-custom']).toBe('yes');
  expect(entry.request.body).toBe(JSON.stringify(JSON_EXCHANGE_BODY));
  expect(entry.request.body_args).toEqual(JSON_EXCHANGE_BODY);
  expect(entry.response.status).toBe(201);
  expect(entry.response.headers['content-type']).toBe('application/json; charset=utf-8');
  if (expected.responseBodyLogged) {
    expect(JSON.parse(entry.response.body as string)).toEqual({ id: '42', received: JSON_EXCHANGE_BODY });
  }
  expect(entry.route).toEqual({ path: '/api/users/:id' });
  expect(entry.consumer).toEqual({ id: '42' });
  expect(entry.source).toBe('upstream');
  expect(entry.latencies.proxy).toBeGreaterThanOrEqual(0);
  expect(entry.trace_id).toEqual({ w3c: TRACE_ID });
}

type Class = new (...args: never[]) => object;
/** A method decorator as Nest's decorators are typed when applied by hand. */
export type MethodDecoratorLike = (target: object, key: string, descriptor: PropertyDescriptor) => unknown;
type ParameterDecoratorLike = (target: object, key: string, index: number) => unknown;

/**
 * Applies method decorators and parameter decorators (`[index, decorator]`) to `Class.prototype[key]`, as compiled
 * decorators would (the project's tsconfig has no experimentalDecorators).
 */
export function decorate(target: Class, key: string, methods: MethodDecoratorLike[], parameters: Array<[number, ParameterDecoratorLike]> = []): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, key) as PropertyDescriptor;
  for (const [index, decorator] of parameters) decorator(target.prototype, key, index);
  for (const decorator of [...methods].reverse()) decorator(target.prototype, key, descriptor);
}
