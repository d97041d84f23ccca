// A team's unit test of its log format with Jest, in plain CommonJS (no transpiler): `require('kafka-log/testing')`
// loads the built CommonJS kit. The same options the adapter gets in production, through the real publisher.
const { buildTestEntry, createTestPublisher, exchangeFixture, validateLogEntry } = require('kafka-log/testing');

const logFormat = {
  redactHeaders: ['authorization', 'cookie'],
  customFields: {
    'service.team': () => 'checkout',
    'request.tenant': (entry) => entry.request.querystring.tenant,
    'request.headers.user-agent': () => undefined,
  },
};

let publisher;
beforeEach(() => {
  publisher = createTestPublisher({ topic: 'checkout-access-logs', keyQueryArg: 'tenant' });
});
afterEach(() => publisher.close());

test('the cookie is redacted and the tenant is the key', async () => {
  const exchange = exchangeFixture({
    request: { uri: '/orders/42?tenant=globex', headers: ['Host', 'orders.internal:8080', 'Cookie', 'sid=s3cr3t'] },
  });
  publisher.publish(buildTestEntry(exchange, logFormat));
  await publisher.flush();

  const [message] = publisher.messages();
  expect(message.key.toString()).toBe('globex');
  const [entry] = publisher.entries();
  expect(entry.request.headers).toEqual({ host: 'orders.internal:8080', cookie: 'REDACTED' });
  expect(entry.request.tenant).toBe('globex');
  expect(entry.service).toEqual({ team: 'checkout' });
  expect(validateLogEntry(entry)).toEqual({ valid: true, errors: [] });
});

test('retries a broker hiccup and delivers once', async () => {
  publisher.failNext(2, { retriable: true });
  publisher.publish(buildTestEntry(exchangeFixture(), logFormat));
  await publisher.flush();
  expect(publisher.messages()).toHaveLength(1);
  expect(publisher.stats()).toMatchObject({ sent: 1, retried: 2 });
});
