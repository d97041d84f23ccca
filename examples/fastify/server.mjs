// A Fastify 5 app logging every request to Kafka in Kong's format.
//
//   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=app-logs PORT=3000 npm run example:fastify
//
// SIGTERM stops taking requests, lets open ones finish, then delivers buffered entries before exiting.
import Fastify from 'fastify';
import { KafkaLogPublisher } from 'kafka-log';
import { kafkaLog } from 'kafka-log/fastify';

const publisher = new KafkaLogPublisher({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topic: process.env.KAFKA_TOPIC ?? 'kong-log',
});
publisher.on('publisher.drop', ({ reason, count }) => console.error(`kafka-log dropped ${count} entries: ${reason}`));

const app = Fastify();
// First: its hooks apply to the routes and plugins registered after it, in every encapsulated context.
await app.register(kafkaLog, {
  sink: publisher,
  logRequestBody: true,
  redactBodyFields: ['password'],
  service: () => ({ name: 'example-fastify' }),
  consumer: (request) => (request.headers['x-user'] ? { username: String(request.headers['x-user']) } : undefined),
});

app.get('/health', async () => 'ok');
app.get('/users/:id', async (request) => ({ id: request.params.id, name: 'Ada' }));
app.post('/users', async (request, reply) => reply.code(201).send({ created: request.body }));
app.get('/fail', async () => {
  throw new Error('something broke'); // Fastify's error handler answers 500; the entry says source "kong"
});

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: '127.0.0.1' });
console.log(`fastify example on http://127.0.0.1:${port}`);

process.once('SIGTERM', async () => {
  await app.close(); // stops taking requests, waits for open ones
  await publisher.close();
  process.exit(0);
});
