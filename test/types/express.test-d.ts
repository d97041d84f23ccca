// `kafka-log/express`: the middleware and its error handler fit Express 5's own types; hooks get Express's Request.
import { expectTypeOf } from 'expect-type';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { KafkaLogPublisher } from 'kafka-log';
import { type KafkaLogAdapterOptions, type KafkaLogExpressOptions, type KafkaLogMiddleware, kafkaLog } from 'kafka-log/express';

const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });

const log = kafkaLog({
  sink: publisher,
  logRequestBody: true,
  trustProxy: ['loopback'],
  route: (req) => (req.route === undefined ? undefined : { path: String(req.route.path) }),
  consumer: (req) => {
    expectTypeOf(req).toEqualTypeOf<Request>();
    return { id: req.get('x-user') ?? 'anonymous' };
  },
  publishMeta: (entry, req) => ({ key: req.ip ?? null, headers: { route: entry.route === undefined ? '' : JSON.stringify(entry.route) } }),
  skip: (req) => req.path === '/health',
});
expectTypeOf(log).toEqualTypeOf<KafkaLogMiddleware>();
expectTypeOf(log).toExtend<RequestHandler>();
expectTypeOf(log.errorHandler).toEqualTypeOf<ErrorRequestHandler>();
expectTypeOf<KafkaLogExpressOptions>().toEqualTypeOf<KafkaLogAdapterOptions<Request>>();

const app = express();
app.use(log);
app.get('/users/:id', (req, res) => void res.json({ id: req.params.id }));
app.use(log.errorHandler);
const router = express.Router();
router.use(log);

// @ts-expect-error the options are required
kafkaLog();
// @ts-expect-error hooks receive Express's Request, not Koa's context
kafkaLog({ sink: publisher, skip: (ctx: { path: string; state: Record<string, unknown> }) => ctx.state.skip === true });
declare const otherHandler: ErrorRequestHandler;
// @ts-expect-error the error handler is read-only
log.errorHandler = otherHandler;
// @ts-expect-error unknown options are refused
kafkaLog({ sink: publisher, logBodies: true });
// @ts-expect-error trustProxy: a boolean, a hop count, addresses or a function
kafkaLog({ sink: publisher, trustProxy: 'loopback' });
