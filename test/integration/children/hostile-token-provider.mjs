// OAUTHBEARER token providers that misbehave every way a function can, against the broker's OAUTHBEARER listener,
// run with Node's default unhandled-rejection mode: the process must neither crash nor hang, and every entry must
// be accounted for. One JSON line per provider on stdout, then `{ "done": true }`.
//
// Environment: KAFKA_SASL_BROKERS, KAFKA_TOPIC, TRANSPORT (kafkajs | platformatic).
import { KafkaLogPublisher } from 'kafka-log';
import { buildTestEntry, exchangeFixture } from 'kafka-log/testing';

const env = process.env;
const jwt = () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none' })}.${b64({ sub: 'admin', iat: now, exp: now + 3600 })}.`;
};
const hostile = {
  throwsSync: () => {
    throw new Error('thrown synchronously');
  },
  rejectsWithNothing: () => Promise.reject(undefined),
  rejectsWithAHostileObject: () =>
    Promise.reject({
      get message() {
        throw new Error('no message');
      },
      toString() {
        throw new Error('no string');
      },
    }),
  hangs: () => new Promise(() => undefined),
  returnsNull: async () => null,
  returnsATokenOfTheWrongShape: async () => ({ token: jwt(), expires: 3600 }),
  returnsABearerPrefixedValue: async () => ({ value: `Bearer ${jwt()}`, lifetimeMs: 3_600_000 }),
  returnsAnExpiryTimeAsLifetime: async () => ({ value: jwt(), lifetimeMs: Date.now() + 3_600_000 }),
  returnsAThenableThatThrows: () => ({
    // biome-ignore lint/suspicious/noThenProperty: a thenable whose then throws is the hostile case.
    then() {
      throw new Error('then threw');
    },
  }),
  fine: async () => ({ value: jwt(), lifetimeMs: 3_600_000, principal: 'admin' }),
};

for (const [name, provider] of Object.entries(hostile)) {
  const publisher = new KafkaLogPublisher({
    brokers: env.KAFKA_SASL_BROKERS.split(','),
    topic: env.KAFKA_TOPIC,
    transport: env.TRANSPORT ?? 'kafkajs',
    timeout: 500,
    maxRetryTime: 1500,
    initialRetryDelay: 50,
    flushTimeout: 0,
    logger: false,
    authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { provider } },
  });
  const connect = await publisher.connect().then(
    () => ({ ok: true }),
    (error) => ({ ok: false, code: error.code, retriable: error.retriable, message: error.message }),
  );
  for (let i = 0; i < 3; i++) publisher.publish(buildTestEntry(exchangeFixture({ requestId: `${name}-${i}` })));
  await publisher.flush();
  await publisher.close({ timeoutMs: 2000 });
  process.stdout.write(`${JSON.stringify({ name, connect, stats: publisher.stats() })}\n`);
}
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
