// What the host-safety child apps share: one JSON line per event on stdout, a publisher to the broker and topic
// of their environment (KAFKA_BROKERS, KAFKA_TOPIC) that keeps its `publisher.reported` announcements, and a
// SIGTERM that closes server and publisher and exits 0. Uses the built package.
import http from 'node:http';
import { KafkaLogPublisher } from 'kafka-log';

/** Writes one JSON line to stdout (the test reads `{"event":"listening","port":N}` from it). */
export const out = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);

/** The publisher of the environment's broker and topic, and the list of its announced failures. */
export function publisherFromEnv() {
  const publisher = new KafkaLogPublisher({
    brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
    topic: process.env.KAFKA_TOPIC ?? '',
    flushTimeout: 100,
    maxCoalescingDelay: 100,
  });
  const announced = [];
  publisher.on('publisher.reported', ({ error }) => announced.push({ field: error.field, message: error.message.slice(0, 300) }));
  return { publisher, announced };
}

/**
 * Serves `/<name>/...` with `handlers[name]` (404 for other names) and `/__report` with `report()` as JSON (not
 * logged); `beforeHandle(req, res)` runs before each handler. Listens on 127.0.0.1 (then says so on stdout);
 * SIGTERM closes the server and the publisher, then exits 0.
 */
export function serveHandlers(handlers, report, publisher, beforeHandle = () => undefined) {
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').split('/')[1] ?? '';
    if (name === '__report') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(report()));
      return;
    }
    const handler = handlers[name];
    if (handler === undefined) {
      res.statusCode = 404;
      res.end();
      return;
    }
    beforeHandle(req, res);
    handler(req, res);
  });
  serve(server, publisher);
}

function serve(server, publisher) {
  server.listen(0, '127.0.0.1', () => out({ event: 'listening', port: server.address().port }));
  process.on('SIGTERM', () => {
    server.close();
    publisher.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  });
}
