// A publisher configured from the environment, as an app would start it: `await publisher.connect()` (when
// CONNECT=1), one entry published with `async: false` (waited for up to 5 s), close. Prints one JSON line on stdout with what the app
// saw; kafka-log's own lines go to stderr (its default logger).
//
// Environment: KAFKA_BROKERS, KAFKA_TOPIC, TRANSPORT (kafkajs | platformatic), COMPRESSION, REQUEST_ID, CONNECT.
import { KafkaLogPublisher } from 'kafka-log';
import { buildTestEntry, exchangeFixture } from 'kafka-log/testing';

const env = process.env;
const out = {};
const publisher = new KafkaLogPublisher({
  brokers: env.KAFKA_BROKERS.split(','),
  topic: env.KAFKA_TOPIC,
  transport: env.TRANSPORT ?? 'kafkajs',
  compression: env.COMPRESSION ?? 'none',
  async: false,
});
const started = Date.now();
if (env.CONNECT === '1') {
  await publisher.connect().then(
    () => {
      out.connect = { ok: true };
    },
    (error) => {
      out.connect = { ok: false, code: error.code, retriable: error.retriable, message: error.message, ms: Date.now() - started };
    },
  );
}
const entry = buildTestEntry(exchangeFixture({ requestId: env.REQUEST_ID ?? 'none' }));
const outcome = publisher.publish(entry).then(
  () => {
    out.publish = { ok: true };
  },
  (error) => {
    out.publish = { ok: false, code: error.code, reason: error.reason, message: error.message, causeCode: error.cause?.code };
  },
);
// Delivered or dropped within 5 s; otherwise (Kafka unreachable: retried for maxRetryTime) close() drops it.
await Promise.race([outcome, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
await publisher.close({ timeoutMs: 2000 });
await outcome;
out.stats = publisher.stats();
process.stdout.write(`${JSON.stringify(out)}\n`);
