// A Koa 3 app with @koa/router logging every request to Kafka in Kong's format.
//
//   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=app-logs PORT=3000 npm run example:koa
//
// SIGTERM stops taking requests, lets open ones finish, then delivers buffered entries before exiting.
import http from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import { KafkaLogPublisher } from 'kafka-log';
import { kafkaLog } from 'kafka-log/koa';

const publisher = new KafkaLogPublisher({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topic: process.env.KAFKA_TOPIC ?? 'kong-log',
});
publisher.on('publisher.drop', ({ reason, count }) => console.error(`kafka-log dropped ${count} entries: ${reason}`));

const log = kafkaLog({
  sink: publisher,
  logRequestBody: true,
  redactBodyFields: ['password'],
  service: () => ({ name: 'example-koa' }),
  consumer: (ctx) => (ctx.get('x-user') ? { username: ctx.get('x-user') } : undefined),
});

const app = new Koa();
app.use(log); // first: it must see every request, including those a later middleware answers
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    ctx.status = error.status ?? 500;
    ctx.body = { error: error.message };
  }
});
app.use(log.errorBoundary); // right after the error handler: errors it catches are logged with source "kong"
app.use(bodyParser());

const router = new Router();
router.get('/health', (ctx) => {
  ctx.body = 'ok';
});
router.get('/users/:id', (ctx) => {
  ctx.body = { id: ctx.params.id, name: 'Ada' };
});
router.post('/users', (ctx) => {
  ctx.status = 201;
  ctx.body = { created: ctx.request.body };
});
router.get('/fail', () => {
  throw new Error('something broke');
});
app.use(router.routes());
app.use(router.allowedMethods());

const server = http.createServer(app.callback());
const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => console.log(`koa example on http://127.0.0.1:${port}`));

process.once('SIGTERM', () => {
  server.close(async () => {
    await publisher.close();
    process.exit(0);
  });
  server.closeIdleConnections();
});
