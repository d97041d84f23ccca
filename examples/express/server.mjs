// An Express 5 app logging every request to Kafka in Kong's format.
//
//   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=app-logs PORT=3000 npm run example:express
//
// SIGTERM stops taking requests, lets open ones finish, then delivers buffered entries before exiting.
import http from 'node:http';
import express from 'express';
import { KafkaLogPublisher } from 'kafka-log';
import { kafkaLog } from 'kafka-log/express';

const publisher = new KafkaLogPublisher({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topic: process.env.KAFKA_TOPIC ?? 'kong-log',
});
publisher.on('publisher.drop', ({ reason, count }) => console.error(`kafka-log dropped ${count} entries: ${reason}`));

const log = kafkaLog({
  sink: publisher,
  logRequestBody: true,
  redactBodyFields: ['password'],
  service: () => ({ name: 'example-express' }),
  consumer: (req) => (req.get('x-user') ? { username: req.get('x-user') } : undefined),
});

const app = express();
app.use(log); // first: it must see every request, including those a later middleware answers
app.use(express.json());
app.get('/health', (_req, res) => res.send('ok'));
app.get('/users/:id', (req, res) => res.json({ id: req.params.id, name: 'Ada' }));
app.post('/users', (req, res) => res.status(201).json({ created: req.body }));
app.get('/fail', () => {
  throw new Error('something broke');
});
app.use(log.errorHandler); // after the routes: errors are logged with source "kong"
app.use((error, _req, res, _next) => res.status(500).json({ error: error.message }));

const server = http.createServer(app);
const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => console.log(`express example on http://127.0.0.1:${port}`));

process.once('SIGTERM', () => {
  server.close(async () => {
    await publisher.close();
    process.exit(0);
  });
  server.closeIdleConnections();
});
