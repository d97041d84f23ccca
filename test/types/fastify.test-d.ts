// `kafka-log/fastify`: a Fastify 5 plugin whose options are checked at `register`; hooks get FastifyRequest. It
// decorates nothing: the instance, request and reply keep Fastify's types.
import { expectTypeOf } from 'expect-type';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type FastifyReply, type FastifyRequest } from 'fastify';
import { KafkaLogPublisher } from 'kafka-log';
import { type KafkaLogAdapterOptions, type KafkaLogFastifyOptions, kafkaLog } from 'kafka-log/fastify';

const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });

expectTypeOf(kafkaLog).toEqualTypeOf<FastifyPluginCallback<KafkaLogFastifyOptions>>();
expectTypeOf<KafkaLogFastifyOptions>().toEqualTypeOf<KafkaLogAdapterOptions<FastifyRequest>>();

const app = Fastify();
app.register(kafkaLog, {
  sink: publisher,
  logResponseBody: true,
  skip: (request) => {
    expectTypeOf(request).toEqualTypeOf<FastifyRequest>();
    return request.url === '/health';
  },
  route: (request) => ({ path: request.routeOptions.url ?? '' }),
});
// Fastify's own register options travel alongside.
app.register(kafkaLog, { sink: publisher, prefix: '/api' });
// Options from the instance, as Fastify allows.
app.register(kafkaLog, (instance) => {
  expectTypeOf(instance).toExtend<FastifyInstance>();
  return { sink: publisher };
});

// @ts-expect-error a sink is required
app.register(kafkaLog, {});
// @ts-expect-error the sink must publish entries
app.register(kafkaLog, { sink: { write: () => undefined } });
// @ts-expect-error hooks receive FastifyRequest: it has no Koa `ctx.state`
app.register(kafkaLog, { sink: publisher, skip: (request) => request.state === undefined });

// No decorations: nothing to read from the instance, the request or the reply.
expectTypeOf<FastifyInstance>().not.toHaveProperty('kafkaLog');
expectTypeOf<FastifyRequest>().not.toHaveProperty('kafkaLog');
expectTypeOf<FastifyReply>().not.toHaveProperty('kafkaLog');
