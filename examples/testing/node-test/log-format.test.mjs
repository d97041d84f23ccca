// A team's unit test of its log format with node's own test runner (`node --test`): the same options its
// adapter gets in production (redaction and custom fields), through the real publisher into memory.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { buildTestEntry, createTestPublisher, exchangeFixture, validateLogEntry } from 'kafka-log/testing';

const logFormat = {
  redactHeaders: ['authorization', 'cookie'],
  customFields: {
    'service.team': () => 'checkout',
    'request.tenant': (entry) => entry.request.querystring.tenant,
    'request.headers.user-agent': () => undefined,
    latency_class: "entry.latencies.request > 500 ? 'slow' : 'ok'",
  },
};

const publisher = createTestPublisher({ topic: 'checkout-access-logs', keyQueryArg: 'tenant', maxBatchSize: 10 });
// The publisher's timers are real: close it so the test process can exit.
after(() => publisher.close());

test('a batch of two requests is one message holding a JSON array', async () => {
  for (const status of [200, 503]) {
    publisher.publish(buildTestEntry(exchangeFixture({ request: { uri: '/orders?tenant=acme' }, response: { status } }), logFormat));
  }
  await publisher.flush();

  const messages = publisher.messages();
  assert.equal(messages.length, 1);
  assert.equal(messages[0].key.toString(), 'acme');
  assert.ok(messages[0].value.toString().startsWith('[{"request":'));

  const entries = publisher.entries();
  assert.deepEqual(
    entries.map((e) => e.response.status),
    [200, 503],
  );
  assert.deepEqual(entries[1].request.headers, {
    host: 'orders.internal:8080',
    accept: 'application/json',
    authorization: 'REDACTED',
    'x-request-id': '5f1c3a9e-0b7d-4c1e-9a2b-6f3d8e7c1a20',
  });
  assert.deepEqual(entries[1].service, { team: 'checkout' });
  assert.equal(entries[1].request.tenant, 'acme');
  assert.equal(entries[1].latency_class, 'ok');
  for (const entry of entries) assert.deepEqual(validateLogEntry(entry), { valid: true, errors: [] });
});
