// A plain node:http server logging every request to Kafka in Kong's format.
//
//   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=app-logs PORT=3001 npm run example:node-http
//
// SIGTERM stops taking requests, lets open ones finish, then delivers buffered entries before exiting.
import http from 'node:http';
import { KafkaLogPublisher } from 'kafka-log';
import { withKafkaLog } from 'kafka-log/http';

const publisher = new KafkaLogPublisher({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topic: process.env.KAFKA_TOPIC ?? 'kong-log',
});

function app(req, res) {
  if (req.url === '/health') {
    res.end('ok');
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, at: new Date().toISOString() }));
}

const server = http.createServer(
  withKafkaLog(app, {
    sink: publisher,
    skip: (req) => req.url === '/health',
    route: (req) => ({ path: (req.url ?? '/').split('?')[0] }),
  }),
);
const port = Number(process.env.PORT ?? 3001);
server.listen(port, '127.0.0.1', () => console.log(`node:http example on http://127.0.0.1:${port}`));

process.once('SIGTERM', () => {
  server.close(async () => {
    await publisher.close();
    process.exit(0);
  });
  server.closeIdleConnections();
});
