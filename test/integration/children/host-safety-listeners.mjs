// Hostile listeners on every event of two publishers, in a process with Node's default unhandled-rejection mode
// (an unhandled rejection or an uncaught exception ends it with exit code 1):
//
// - on every event name: a listener that throws, an async listener that rejects, one that returns a promise
//   rejecting with an unprintable value, one that throws an object whose toString throws, and two `once`
//   listeners (one throwing, one async and rejecting) that count their calls;
// - a publisher.drop listener that publishes again (after close, each publish is a new drop).
//
// Publisher "live" talks to the real broker (connect, delivered, log, reported, drop, disconnect); publisher
// "down" talks to a refused port (retry, delivery_failure, drop, log). Prints one JSON line with the `once` counts
// and the stats, then lets the process end on its own.
//
// Environment: KAFKA_BROKERS, KAFKA_TOPIC, ENTRIES (default 50), RUN_ID.
import { KafkaLogError, KafkaLogPublisher, PublisherEvents } from 'kafka-log';
import { buildTestEntry, exchangeFixture } from 'kafka-log/testing';

const env = process.env;
const entries = Number(env.ENTRIES ?? 50);
const names = Object.values(PublisherEvents);

function hostile(publisher) {
  const once = Object.fromEntries(names.map((name) => [name, 0]));
  for (const name of names) {
    publisher.on(name, () => {
      throw new Error(`sync listener of ${name}`);
    });
    publisher.on(name, async () => {
      throw new Error(`async listener of ${name}`);
    });
    publisher.on(name, () => Promise.reject(Object.create(null)));
    publisher.on(name, () => {
      throw {
        toString() {
          throw new Error('cannot even be printed');
        },
      };
    });
    publisher.once(name, () => {
      once[name] += 1;
      throw new Error(`once listener of ${name}`);
    });
    publisher.once(name, async () => {
      once[name] += 1;
      throw new Error(`async once listener of ${name}`);
    });
  }
  return once;
}

const live = new KafkaLogPublisher({ brokers: env.KAFKA_BROKERS.split(','), topic: env.KAFKA_TOPIC, flushTimeout: 20 });
const liveOnce = hostile(live);
live.on(PublisherEvents.DROP, () => live.publish(buildTestEntry(exchangeFixture({ requestId: 'republished' }))));

const down = new KafkaLogPublisher({
  brokers: ['127.0.0.1:1'],
  topic: env.KAFKA_TOPIC,
  flushTimeout: 0,
  timeout: 500,
  initialRetryDelay: 10,
  maxRetryDelay: 50,
  maxRetryTime: 400,
});
const downOnce = hostile(down);

await live.connect();
for (let i = 0; i < entries; i++) live.publish(buildTestEntry(exchangeFixture({ requestId: `${env.RUN_ID}-${i}` })));
live.reportError(new KafkaLogError('KAFKA_LOG_ERR_CUSTOM_FIELD', 'custom field "x": reported by the test'));
for (let i = 0; i < 3; i++) down.publish(buildTestEntry(exchangeFixture({ requestId: `down-${i}` })));
await live.flush();
await down.flush();
await live.close();
await down.close();
live.publish(buildTestEntry(exchangeFixture({ requestId: 'after-close' })));

process.stdout.write(`${JSON.stringify({ liveOnce, downOnce, live: live.stats(), down: down.stats() })}\n`);
// No process.exit: the process must end by itself, with nothing left pending and nothing unhandled.
