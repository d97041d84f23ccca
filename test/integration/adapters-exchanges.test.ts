// The exchanges every adapter logs, end to end: one table of scenarios run over every framework's app
// (adapters-exchange-apps.ts) and every transport. Real apps on 127.0.0.1, real requests, entries published by
// real KafkaLogPublishers to the local broker and read back with a kafkajs consumer.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { abandonedExchange, headerBlockOf, rawExchange } from '../unit/adapters-support.js';
import type { AnyAdapterOptions, HttpsOptions } from './adapters-apps.js';
import {
  BINARY_PAYLOAD,
  type ExchangeFramework,
  FRAMEWORK_EXCHANGES,
  type FrameworkFacts,
  SCENARIOS,
  STREAM_CHUNKS,
  type Scenario,
  consumerFromParams,
} from './adapters-exchange-apps.js';
import { type BrokerSink, describeEachTransport, expectJsonExchangeEntry, expectPlausible, sendJsonExchange } from './adapters-support.js';

const FRAMEWORKS = Object.keys(FRAMEWORK_EXCHANGES) as ExchangeFramework[];

/** What a scenario's exchange gets to work with. */
interface ScenarioContext {
  framework: ExchangeFramework;
  facts: FrameworkFacts;
  /** Starts the framework's app of this scenario, logging to the scenario's topic. */
  serve(options?: Omit<AnyAdapterOptions, 'sink'>, tls?: HttpsOptions): Promise<{ port: number; sink: BrokerSink }>;
  /** The first `count` entries published to the scenario's topic. */
  entries(count: number): Promise<LogEntry[]>;
}

interface ScenarioRow {
  scenario: Scenario;
  title: string;
  exchange(context: ScenarioContext): Promise<void>;
}

const get = (port: number, path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}${path}`, { headers });

/** {@link expectPlausible}, plus the UUID the adapter generates for a request that sent no id. */
function expectPlausibleWithGeneratedId(entry: LogEntry, port: number): void {
  expectPlausible(entry, port);
  expect(entry.request.id).toMatch(/^[0-9a-f-]{36}$/);
}

const SCENARIO_TABLE: ScenarioRow[] = [
  {
    scenario: 'json',
    title: "logs a JSON request read by the framework's own parser under a router prefix, field by field",
    async exchange({ framework, serve, entries }) {
      const { port, sink } = await serve({ logRequestBody: true, logResponseBody: true, consumer: consumerFromParams });
      await sendJsonExchange(port, `req-${framework}-1`);
      const [entry] = (await entries(1)) as [LogEntry];
      expectJsonExchangeEntry(entry, port, { requestId: `req-${framework}-1`, responseBodyLogged: true });
      expect(sink.errors).toEqual([]);
    },
  },
  {
    scenario: 'urlencoded',
    title: "logs a urlencoded form read by the framework's own parser, redacted, with a generated request id",
    async exchange({ facts, serve, entries }) {
      const { port } = await serve({ logRequestBody: true, redactBodyFields: ['password'] });
      const response = await fetch(`http://127.0.0.1:${port}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'user=ada&password=s3cret&remember',
      });
      expect(await response.text()).toBe('hello ada');
      const [entry] = (await entries(1)) as [LogEntry];
      expectPlausibleWithGeneratedId(entry, port);
      expect(entry.request.body_args).toEqual({ user: 'ada', password: 'REDACTED', remember: true });
      expect(entry.request.body).not.toContain('s3cret');
      expect(entry.route).toEqual({ path: '/login' });
      expect(entry.response.status).toBe(facts.postStatus);
      expect(entry.source).toBe('upstream');
    },
  },
  {
    scenario: 'multipart',
    title: 'logs a multipart upload the app reads, with files described',
    async exchange({ serve, entries }) {
      const { port } = await serve({ logRequestBody: true });
      const file = Buffer.alloc(20_000, 0xab);
      const form = new FormData();
      form.append('title', 'holiday');
      form.append('photo', new Blob([file], { type: 'image/png' }), 'beach.png');
      const response = await fetch(`http://127.0.0.1:${port}/upload`, { method: 'POST', body: form });
      expect(await response.json()).toEqual({ title: 'holiday', photo: file.length });
      const [entry] = (await entries(1)) as [LogEntry];
      expectPlausibleWithGeneratedId(entry, port);
      expect(entry.request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      expect(entry.request.body_args).toEqual({ title: 'holiday', photo: { filename: 'beach.png', content_type: 'image/png', size: file.length } });
      expect(entry.request.size).toBeGreaterThan(file.length);
      expect(entry.route).toEqual({ path: '/upload' });
      expect(entry.source).toBe('upstream');
    },
  },
  {
    scenario: 'binary',
    title: 'logs a binary download with its body and the exact bytes on the wire',
    async exchange({ serve, entries }) {
      const { port } = await serve({ logResponseBody: true });
      const raw = await rawExchange(port, 'GET /files/data.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      expect(raw.subarray(raw.length - BINARY_PAYLOAD.length)).toEqual(BINARY_PAYLOAD);
      const [entry] = (await entries(1)) as [LogEntry];
      expect(entry.response.size).toBe(raw.length);
      expect(entry.response.body_base64).toBe(true);
      expect(Buffer.from(entry.response.body as string, 'base64')).toEqual(BINARY_PAYLOAD);
      expect(entry.response.headers['content-length']).toBe(String(BINARY_PAYLOAD.length));
      expect(entry.request.url).toBe(`http://127.0.0.1:${port}/files/data.bin`);
      expect(entry.route).toEqual({ path: '/files/:name' });
      expect(entry.source).toBe('upstream');
    },
  },
  {
    scenario: 'stream',
    title: 'logs a streaming response written in chunks over time',
    async exchange({ facts, serve, entries }) {
      const { port } = await serve({ logResponseBody: true });
      const raw = await rawExchange(port, 'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      const [entry] = (await entries(1)) as [LogEntry];
      expect(headerBlockOf(raw)).toContain('Transfer-Encoding: chunked');
      expect(entry.response.size).toBe(raw.length);
      expect(entry.response.status).toBe(200);
      // text/event-stream is not one of the plain-text types: its body is logged in base64.
      const base64 = facts.streamType === 'text/event-stream';
      expect(entry.response.body_base64 === true).toBe(base64);
      const body = entry.response.body as string;
      expect(base64 ? Buffer.from(body, 'base64').toString() : body).toBe(STREAM_CHUNKS.join(''));
      expect(entry.latencies.request).toBeGreaterThanOrEqual(90);
      // proxy is the time to the first byte, well before the stream ended.
      expect(entry.latencies.proxy).toBeLessThan(entry.latencies.request);
      expect(entry.source).toBe('upstream');
    },
  },
  {
    scenario: 'errors',
    title: "marks thrown errors, rejected promises and the framework's own failures as source kong",
    async exchange({ facts, serve, entries }) {
      const { port } = await serve();
      const failures = [{ path: '/throws', status: 500, handlerRan: true }, { path: '/rejects', status: 500, handlerRan: true }, ...facts.failures];
      const paths = [...failures.map((failure) => failure.path), '/ok'];
      const statuses: number[] = [];
      for (const path of paths) statuses.push((await get(port, path)).status);
      expect(statuses).toEqual([...failures.map((failure) => failure.status), 200]);
      const byPath = new Map((await entries(paths.length)).map((entry) => [entry.request.uri, entry]));
      for (const { path, status, handlerRan } of failures) {
        const entry = byPath.get(path) as LogEntry;
        expect(entry.response.status).toBe(status);
        expect(entry.source).toBe('kong');
        expect(entry.route).toEqual({ path });
        if (handlerRan) expect(entry.latencies.proxy).toBeGreaterThanOrEqual(0);
        else expect(entry.latencies.proxy).toBe(-1);
      }
      // The app's own error handler answered the rejection with JSON.
      expect(byPath.get('/rejects')?.response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(byPath.get('/ok')?.source).toBe('upstream');
      expect(byPath.get('/ok')?.response.status).toBe(200);
    },
  },
  {
    scenario: 'early',
    title: 'marks an early exit (a middleware, a guard inside the route) and a 404 as source kong, with no upstream time',
    async exchange({ facts, serve, entries }) {
      const { port } = await serve();
      const good = { authorization: 'Bearer good' };
      expect((await get(port, '/private', { authorization: 'Bearer bad' })).status).toBe(401);
      expect((await get(port, '/private', good)).status).toBe(200);
      expect((await get(port, '/missing', good)).status).toBe(404);
      if (facts.guardsAdmin) {
        expect((await get(port, '/admin/stats', good)).status).toBe(403);
        expect((await get(port, '/admin/stats', { ...good, 'x-admin': 'yes' })).status).toBe(200);
      }
      const logged = await entries(facts.guardsAdmin ? 5 : 3);
      const [denied, allowed, missing, refused, admitted] = logged as [LogEntry, LogEntry, LogEntry, LogEntry?, LogEntry?];
      expect(denied.response.status).toBe(401);
      expect(denied.source).toBe('kong');
      expect(denied.latencies.proxy).toBe(-1);
      if (facts.earlyExitRouted) expect(denied.route).toEqual({ path: '/private' });
      else expect(denied).not.toHaveProperty('route');
      expect(denied.request.headers.authorization).toBe('REDACTED');
      expect(allowed.source).toBe('upstream');
      expect(allowed.route).toEqual({ path: '/private' });
      expect(missing.response.status).toBe(404);
      expect(missing.source).toBe('kong');
      expect(missing).not.toHaveProperty('route');
      if (facts.guardsAdmin) {
        // The route matched before its guard refused: the route is known, the handler never ran.
        expect(refused?.response.status).toBe(403);
        expect(refused?.source).toBe('kong');
        expect(refused?.latencies.proxy).toBe(-1);
        expect(refused?.route).toEqual({ path: '/admin/stats' });
        expect(admitted?.source).toBe('upstream');
        expect(admitted?.route).toEqual({ path: '/admin/stats' });
      }
    },
  },
  {
    scenario: 'aborted',
    title: 'logs an aborted request as 499',
    async exchange({ serve, entries }) {
      const { port } = await serve();
      await abandonedExchange(port, 'GET /slow?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 50);
      const [entry] = (await entries(1)) as [LogEntry];
      expect(entry.response.status).toBe(499);
      expect(entry.request.uri).toBe('/slow?x=1');
      expect(entry.route).toEqual({ path: '/slow' });
    },
  },
  {
    scenario: 'tls',
    title: 'records TLS facts over HTTPS with a client certificate',
    async exchange({ serve, entries }) {
      const { tls } = inject('kafka');
      const server = { key: readFileSync(tls.key), cert: readFileSync(tls.cert), ca: readFileSync(tls.ca), requestCert: true, rejectUnauthorized: true };
      const { port } = await serve({}, server);
      const raw = await rawExchange(port, 'GET /secure HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', {
        ca: readFileSync(tls.ca),
        cert: readFileSync(tls.clientCert),
        key: readFileSync(tls.clientKey),
        checkServerIdentity: () => undefined,
      });
      expect(raw.toString()).toMatch(/hi$/);
      const [entry] = (await entries(1)) as [LogEntry];
      expect(entry.request.url).toBe(`https://127.0.0.1:${port}/secure`);
      expect(entry.request.tls?.version).toBe('TLSv1.3');
      expect(entry.request.tls?.cipher).toMatch(/^TLS_[A-Z0-9_]+$/);
      expect(entry.request.tls?.client_verify).toBe('SUCCESS');
      expect(entry.response.size).toBe(raw.length);
      expect(entry.source).toBe('upstream');
    },
  },
];

describeEachTransport(
  'adapters through the local broker (%s)',
  FRAMEWORKS.flatMap((framework) => SCENARIOS.map((scenario) => `${framework}-${scenario}`)),
  ({ harness, track }) => {
    describe.each(FRAMEWORKS)('kafka-log/%s', (framework) => {
      const { facts, apps } = FRAMEWORK_EXCHANGES[framework];
      for (const { scenario, title, exchange } of SCENARIO_TABLE) {
        it(title, () =>
          exchange({
            framework,
            facts,
            async serve(options = {}, tls = undefined) {
              const sink = harness().sink(`${framework}-${scenario}`);
              const app = track(await apps[scenario]({ sink, ...options }, tls));
              return { port: app.port, sink };
            },
            entries: (count) => harness().entries(`${framework}-${scenario}`, count),
          }),
        );
      }
    });
  },
);
