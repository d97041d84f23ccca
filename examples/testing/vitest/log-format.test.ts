// A team's unit test of its log format: the same options its adapter gets in production (redaction and custom
// fields), run on a realistic exchange, through the real publisher into memory. It asserts the exact message
// Kafka would receive: no broker, no network.
import { buildTestEntry, createTestPublisher, exchangeFixture, validateLogEntry } from 'kafka-log/testing';
import { afterEach, expect, it } from 'vitest';

// In the service this object is also given to the adapter, e.g. withKafkaLog(handler, { ...logFormat, sink }).
const logFormat = {
  redactHeaders: ['authorization', 'cookie'],
  customFields: {
    'service.team': () => 'checkout',
    'request.tenant': (entry: { request: { querystring: Record<string, unknown> } }) => entry.request.querystring.tenant,
    'request.headers.user-agent': () => undefined, // a field returning undefined is removed
    latency_class: "entry.latencies.request > 500 ? 'slow' : 'ok'", // an expression string, as in a config file
  },
};

const publisher = createTestPublisher({ topic: 'checkout-access-logs', keyQueryArg: 'tenant' });
afterEach(() => publisher.clear());

it('sends the exact entry Kafka should receive', async () => {
  const exchange = exchangeFixture({
    request: {
      method: 'POST',
      uri: '/orders?tenant=acme',
      headers: ['Host', 'orders.internal:8080', 'Authorization', 'Bearer abc', 'Cookie', 'sid=s3cr3t', 'User-Agent', 'checkout-web/3.2.0'],
    },
    response: { status: 201, headers: ['Content-Type', 'application/json'], body: undefined },
    route: { path: '/orders' },
  });

  publisher.publish(buildTestEntry(exchange, logFormat));
  await publisher.flush();

  const [message] = publisher.messages();
  expect(message?.topic).toBe('checkout-access-logs');
  expect(message?.key?.toString()).toBe('acme');
  expect(publisher.entries()).toEqual([
    {
      request: {
        id: '5f1c3a9e-0b7d-4c1e-9a2b-6f3d8e7c1a20',
        uri: '/orders?tenant=acme',
        url: 'http://orders.internal:8080/orders?tenant=acme',
        querystring: { tenant: 'acme' },
        method: 'POST',
        headers: { host: 'orders.internal:8080', authorization: 'REDACTED', cookie: 'REDACTED' },
        size: 144,
        tenant: 'acme',
      },
      upstream_uri: '',
      upstream_status: '',
      response: { status: 201, headers: { 'content-type': 'application/json' }, size: 49 },
      latencies: { request: 12, proxy: 9, kong: 3, receive: 0 },
      client_ip: '10.1.2.3',
      started_at: 1714564800000,
      source: 'upstream',
      route: { path: '/orders' },
      service: { team: 'checkout' },
      latency_class: 'ok',
    },
  ]);
  expect(validateLogEntry(publisher.entries()[0])).toEqual({ valid: true, errors: [] });
});

it('counts a drop when the broker refuses the batch', async () => {
  publisher.failNext(1, { retriable: false });
  publisher.publish(buildTestEntry(exchangeFixture(), logFormat));
  await publisher.flush();
  expect(publisher.messages()).toEqual([]);
  expect(publisher.stats().dropped.byReason.non_retriable).toBe(1);
});
