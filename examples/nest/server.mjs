// A NestJS 11 app (platform-express) logging every request to Kafka in Kong's format.
//
//   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=app-logs PORT=3000 npm run example:nest
//
// Plain JavaScript, so Nest's decorators are applied as calls; in TypeScript they are the usual
// `@Module(...)`, `@Controller(...)`, `@Get(...)`. SIGTERM closes the app (open requests finish), then
// delivers buffered entries before exiting.
import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KafkaLogPublisher } from 'kafka-log';
import { KafkaLogModule } from 'kafka-log/nest';

const publisher = new KafkaLogPublisher({
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  topic: process.env.KAFKA_TOPIC ?? 'kong-log',
});
publisher.on('publisher.drop', ({ reason, count }) => console.error(`kafka-log dropped ${count} entries: ${reason}`));

class UsersController {
  get(id) {
    return { id, name: 'Ada' };
  }
  create(body) {
    return { created: body };
  }
  fail() {
    throw new Error('something broke'); // Nest's exception filter answers 500; the entry says source "kong"
  }
}
Controller('users')(UsersController);
const method = (name, ...decorators) => {
  const descriptor = Object.getOwnPropertyDescriptor(UsersController.prototype, name);
  for (const decorator of decorators) decorator(UsersController.prototype, name, descriptor);
};
Param('id')(UsersController.prototype, 'get', 0);
Body()(UsersController.prototype, 'create', 0);
method('get', Get(':id'));
method('create', Post());
method('fail', Get('fail/now'));

class AppModule {}
Module({
  imports: [
    KafkaLogModule.forRoot({
      sink: publisher,
      logRequestBody: true,
      redactBodyFields: ['password'],
      service: () => ({ name: 'example-nest' }),
      consumer: (req) => (req.get('x-user') ? { username: req.get('x-user') } : undefined),
    }),
  ],
  controllers: [UsersController],
})(AppModule);

const app = await NestFactory.create(AppModule);
const port = Number(process.env.PORT ?? 3000);
await app.listen(port, '127.0.0.1');
console.log(`nest example on http://127.0.0.1:${port}`);

process.once('SIGTERM', async () => {
  await app.close();
  await publisher.close();
  process.exit(0);
});
