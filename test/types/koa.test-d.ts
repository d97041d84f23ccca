// `kafka-log/koa`: the middleware and its two boundaries are Koa middleware; hooks get Koa's Context.
import type { IncomingMessage } from 'node:http';
import { expectTypeOf } from 'expect-type';
import { KafkaLogPublisher } from 'kafka-log';
import { type KafkaLogAdapterOptions, type KafkaLogKoaMiddleware, type KafkaLogKoaOptions, kafkaLog } from 'kafka-log/koa';
import Koa, { type Context, type Middleware } from 'koa';

const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });

const log = kafkaLog({
  sink: publisher,
  consumer: (ctx) => {
    expectTypeOf(ctx).toEqualTypeOf<Context>();
    return { username: ctx.get('x-user') };
  },
  service: (ctx) => ({ name: String(ctx.state.service ?? 'app') }),
  skip: (ctx) => ctx.path === '/health',
  customFields: { team: 'entry.route ? entry.route.path : undefined' },
});
expectTypeOf(log).toEqualTypeOf<KafkaLogKoaMiddleware>();
expectTypeOf(log).toExtend<Middleware>();
expectTypeOf(log.errorBoundary).toEqualTypeOf<Middleware>();
expectTypeOf(log.upstreamBoundary).toEqualTypeOf<Middleware>();
expectTypeOf<KafkaLogKoaOptions>().toEqualTypeOf<KafkaLogAdapterOptions<Context>>();

const app = new Koa();
app.use(log);
app.use(async (ctx, next) => {
  try {
    await next();
  } catch {
    ctx.status = 500;
  }
});
app.use(log.errorBoundary);
app.use(async (ctx, next) => {
  if (ctx.get('authorization') === '') ctx.status = 401;
  else await next();
});
app.use(log.upstreamBoundary);

// @ts-expect-error hooks receive Koa's Context, not node's IncomingMessage (that is `ctx.req`)
kafkaLog({ sink: publisher, skip: (req: IncomingMessage) => req.aborted });
declare const otherMiddleware: Middleware;
// @ts-expect-error the boundaries are read-only
log.upstreamBoundary = otherMiddleware;
// @ts-expect-error a sink is required
kafkaLog({ customFields: {} });
