// An app as the README's node:http quick start writes it, with the broker address wrong. It publishes ENTRIES
// entries at start (no request needed), prints {"event":"ready"} on stdout, and on SIGTERM closes the publisher
// with the default 10 s deadline, prints {"event":"exit","stats":...} and exits 0.
// With CONNECT=1 it runs `await publisher.connect()` first, as the quick starts do: a bad address fails at boot.
import { KafkaLogPublisher } from 'kafka-log';
import { buildTestEntry, exchangeFixture } from 'kafka-log/testing';

const env = process.env;
const publisher = new KafkaLogPublisher({ brokers: env.KAFKA_BROKERS.split(','), topic: 'app-logs' });
if (env.CONNECT === '1') await publisher.connect();
for (let i = 0; i < Number(env.ENTRIES ?? 5); i++) publisher.publish(buildTestEntry(exchangeFixture()));
process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
const keepAlive = setInterval(() => undefined, 1000);
process.once('SIGTERM', async () => {
  clearInterval(keepAlive);
  await publisher.close();
  process.stdout.write(`${JSON.stringify({ event: 'exit', stats: publisher.stats() })}\n`);
  process.exit(0);
});
