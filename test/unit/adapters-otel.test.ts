// trace_id.w3c from the application's active OpenTelemetry span, with the real @opentelemetry/api, the SDK's
// tracer and its AsyncLocalStorage context manager: each server runs its framework inside an active span, as
// @opentelemetry/instrumentation-http does. Entries are recorded by a sink.
import http from 'node:http';
import { type Span, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOpenTelemetry } from '../../src/capture/active-span.js';
import { kafkaLog as expressLog } from '../../src/adapters/express.js';
import { kafkaLog as fastifyLog } from '../../src/adapters/fastify.js';
import { withKafkaLog } from '../../src/adapters/http.js';
import { kafkaLog as koaLog } from '../../src/adapters/koa.js';
import type { KafkaLogAdapterOptions } from '../../src/capture/adapter-options.js';
import { type RecordingSink, close, listen, recordingSink } from './adapters-support.js';

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const tracer = () => trace.getTracer('kafka-log-test');
/** The trace ids of the spans the servers started, in request order. */
let spans: Span[] = [];

/** Runs every request inside an active server span, ended when the response closes. */
function inSpan(listener: Listener): Listener {
  return (req, res) =>
    tracer().startActiveSpan(`${req.method} ${req.url}`, (span) => {
      spans.push(span);
      res.on('close', () => span.end());
      listener(req, res);
    });
}

type Options = Omit<KafkaLogAdapterOptions<unknown>, 'sink'>;
const FRAMEWORKS: Record<string, (sink: RecordingSink, options: Options, traced: boolean) => Promise<http.Server>> = {
  'node:http': async (sink, options, traced) => {
    const app = withKafkaLog((_req, res) => res.end('ok'), { sink, ...options });
    return http.createServer(traced ? inSpan(app) : app);
  },
  express: async (sink, options, traced) => {
    const app = express();
    app.use(expressLog({ sink, ...options }));
    app.get('/{*path}', (_req, res) => {
      res.send('ok');
    });
    return http.createServer(traced ? inSpan(app) : app);
  },
  koa: async (sink, options, traced) => {
    const app = new Koa();
    app.use(koaLog({ sink, ...options }));
    app.use((ctx) => {
      ctx.body = 'ok';
    });
    const callback = app.callback();
    return http.createServer(traced ? inSpan(callback) : callback);
  },
  fastify: async (sink, options, traced) => {
    let server: http.Server | undefined;
    const app = Fastify({
      serverFactory: (handler) => {
        server = http.createServer(traced ? inSpan(handler) : handler);
        return server;
      },
    });
    await app.register(fastifyLog, { sink, ...options });
    app.get('/*', async () => 'ok');
    await app.ready();
    return server as http.Server;
  },
};

const servers: http.Server[] = [];
async function serve(framework: string, options: Options = {}, traced = true): Promise<{ sink: RecordingSink; port: number }> {
  const sink = recordingSink();
  const server = await (FRAMEWORKS[framework] as (typeof FRAMEWORKS)[string])(sink, options, traced);
  servers.push(server);
  return { sink, port: await listen(server) };
}

const manager = new AsyncLocalStorageContextManager();
beforeAll(async () => {
  context.setGlobalContextManager(manager.enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  await loadOpenTelemetry(() => undefined);
});
afterAll(() => {
  trace.disable();
  context.disable();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
  spans = [];
});

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe.each(Object.keys(FRAMEWORKS))('%s: trace_id.w3c from the active span', (framework) => {
  it('fills w3c from the active span when the request sent no tracing header', async () => {
    const { sink, port } = await serve(framework);
    await fetch(`http://127.0.0.1:${port}/a`);
    const entry = await sink.next();
    const traceId = spans[0]?.spanContext().traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(entry.trace_id).toEqual({ w3c: traceId });
    expect(sink.errors).toEqual([]);
  });

  it('the span wins over a traceparent of another trace; the other formats stay', async () => {
    const { sink, port } = await serve(framework);
    await fetch(`http://127.0.0.1:${port}/b`, { headers: { traceparent: TRACEPARENT, 'x-datadog-trace-id': '42' } });
    const entry = await sink.next();
    expect(entry.trace_id).toEqual({ w3c: spans[0]?.spanContext().traceId, datadog: '42' });
    expect(Object.keys(entry.trace_id ?? {})).toEqual(['w3c', 'datadog']);
  });

  it('without an active span, the headers alone', async () => {
    const { sink, port } = await serve(framework, {}, false);
    await fetch(`http://127.0.0.1:${port}/c`, { headers: { traceparent: TRACEPARENT } });
    await fetch(`http://127.0.0.1:${port}/d`);
    expect((await sink.next()).trace_id).toEqual({ w3c: '0af7651916cd43dd8448eb211c80319c' });
    expect(await sink.next()).not.toHaveProperty('trace_id');
  });

  it('writes no trace_id with traceparent: false, span or not', async () => {
    const { sink, port } = await serve(framework, { traceparent: false });
    await fetch(`http://127.0.0.1:${port}/e`, { headers: { traceparent: TRACEPARENT } });
    expect(await sink.next()).not.toHaveProperty('trace_id');
  });
});

describe('a broken OpenTelemetry context manager', () => {
  it('costs the request nothing but its span id', async () => {
    context.disable();
    context.setGlobalContextManager({
      active: () => {
        throw new Error('broken context manager');
      },
      with: (_context, fn, thisArg, ...args) => fn.apply(thisArg, args),
      bind: (_context, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    });
    try {
      const { sink, port } = await serve('express', {}, false);
      const response = await fetch(`http://127.0.0.1:${port}/f`, { headers: { traceparent: TRACEPARENT } });
      expect(response.status).toBe(200);
      expect((await sink.next()).trace_id).toEqual({ w3c: '0af7651916cd43dd8448eb211c80319c' });
      expect(sink.errors).toEqual([]);
    } finally {
      context.disable();
      context.setGlobalContextManager(manager.enable());
    }
  });
});
