// The gateway example end to end: client -> gateway (kafka-log/http) -> upstream, entries through the local
// broker, with the upstream facts the gateway measured.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGateway } from '../../examples/gateway/gateway.mjs';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { close, listen, sleep } from '../unit/adapters-support.js';
import { type BrokerHarness, brokerHarness } from './adapters-support.js';
import { TRANSPORTS } from './transports.js';

let harness: BrokerHarness;
const servers: http.Server[] = [];

// The servers of every transport's suite, closed once at the end of the file.
afterAll(async () => {
  await Promise.all(servers.map(close));
});

// One suite per transport: the same exchanges, published by each Kafka client.
describe.each(TRANSPORTS)('examples/gateway (%s)', (transport) => {
  beforeAll(async () => {
    harness = await brokerHarness(inject('kafka'), ['gateway', 'gateway-down'], transport);
  });
  afterAll(() => harness?.close());

  it('logs upstream_uri, upstream_status and the measured upstream time', async () => {
    const seenUpstream: Array<{ url: string | undefined; forwardedFor: unknown; body: string }> = [];
    const upstream = http.createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seenUpstream.push({ url: req.url, forwardedFor: req.headers['x-forwarded-for'], body });
      await sleep(80);
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ created: true }));
    });
    servers.push(upstream);
    const upstreamPort = await listen(upstream);

    const sink = harness.sink('gateway');
    const gateway = createGateway({ upstream: `http://127.0.0.1:${upstreamPort}/internal`, stripPrefix: '/shop', sink, logRequestBody: true });
    servers.push(gateway);
    const port = await listen(gateway);

    const response = await fetch(`http://127.0.0.1:${port}/shop/orders?id=5`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"item":"book"}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(await response.json()).toEqual({ created: true });
    expect(seenUpstream).toEqual([{ url: '/internal/orders?id=5', forwardedFor: '127.0.0.1', body: '{"item":"book"}' }]);

    const [entry] = (await harness.entries('gateway', 1)) as [LogEntry];
    expect(entry.request.uri).toBe('/shop/orders?id=5');
    expect(entry.request.url).toBe(`http://127.0.0.1:${port}/shop/orders?id=5`);
    expect(entry.request.body_args).toEqual({ item: 'book' });
    expect(entry.upstream_uri).toBe('/internal/orders?id=5');
    expect(entry.upstream_status).toBe('201');
    expect(entry.response.status).toBe(201);
    expect(entry.response.headers['x-upstream']).toBe('yes');
    expect(entry.source).toBe('upstream');
    expect(entry.latencies.proxy).toBeGreaterThanOrEqual(75);
    expect(entry.latencies.request).toBeGreaterThanOrEqual(entry.latencies.proxy);
    expect(entry.latencies.kong).toBeGreaterThanOrEqual(0);
    expect(entry.latencies.kong).toBeLessThan(entry.latencies.request);
    expect(sink.errors).toEqual([]);
  });

  it('answers 502 itself when the upstream is down: source kong, no upstream time', async () => {
    const dead = http.createServer();
    const deadPort = await listen(dead);
    await close(dead);
    const sink = harness.sink('gateway-down');
    const gateway = createGateway({ upstream: `http://127.0.0.1:${deadPort}`, sink });
    servers.push(gateway);
    const port = await listen(gateway);

    const response = await fetch(`http://127.0.0.1:${port}/anything`);
    expect(response.status).toBe(502);
    const [entry] = (await harness.entries('gateway-down', 1)) as [LogEntry];
    expect(entry.response.status).toBe(502);
    expect(entry.source).toBe('kong');
    expect(entry.upstream_uri).toBe('/anything');
    expect(entry.upstream_status).toBe('');
    expect(entry.latencies.proxy).toBe(-1);
  });
});
