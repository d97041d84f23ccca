// The same public surface through `import` (the .d.mts declarations ES module users get): each subpath resolves
// and its main entry points keep their types. The .ts files beside this one check the `require` declarations.
import { expectTypeOf } from 'expect-type';
import { ErrorCodes, KafkaLogPublisher, type LogEntry, type PublisherStats, buildLogEntry, fromKongConfig } from 'kafka-log';
import type { RequestHandler } from 'express';
import type { FastifyPluginCallback } from 'fastify';
import { type KafkaLogMiddleware, kafkaLog as expressLog } from 'kafka-log/express';
import { type KafkaLogFastifyOptions, kafkaLog as fastifyLog } from 'kafka-log/fastify';
import { type GatewayCapture, type NodeRequestListener, getExchangeCapture, withKafkaLog } from 'kafka-log/http';
import { type KafkaLogKoaMiddleware, kafkaLog as koaLog } from 'kafka-log/koa';
import { type UnregisterMetrics, registerPrometheusMetrics } from 'kafka-log/metrics';
import { KafkaLogModule } from 'kafka-log/nest';
import { type TestPublisher, createTestPublisher, exchangeFixture, validateLogEntry } from 'kafka-log/testing';
import type { IncomingMessage } from 'node:http';
import type { DynamicModule } from '@nestjs/common';

const publisher = new KafkaLogPublisher(fromKongConfig({ bootstrap_servers: ['127.0.0.1:9092'], topic: 'logs' }));
expectTypeOf(publisher.stats()).toEqualTypeOf<PublisherStats>();
expectTypeOf(ErrorCodes.CLOSED).toEqualTypeOf<'KAFKA_LOG_ERR_CLOSED'>();
publisher.on('publisher.drop', (event) => expectTypeOf(event.count).toBeNumber());
// @ts-expect-error the event map is the same as for `require`
publisher.on('publisher.dropped', () => undefined);

const testPublisher = createTestPublisher();
expectTypeOf(testPublisher).toEqualTypeOf<TestPublisher>();
const entry = buildLogEntry(exchangeFixture({ response: { status: 201 } }));
expectTypeOf(entry).toEqualTypeOf<LogEntry>();
expectTypeOf(validateLogEntry(entry).valid).toBeBoolean();

expectTypeOf(withKafkaLog((_req, res) => res.end(), { sink: testPublisher })).toEqualTypeOf<NodeRequestListener>();
declare const request: IncomingMessage;
expectTypeOf(getExchangeCapture(request)).toEqualTypeOf<GatewayCapture | undefined>();
expectTypeOf(expressLog({ sink: publisher })).toEqualTypeOf<KafkaLogMiddleware>();
expectTypeOf(expressLog({ sink: publisher })).toExtend<RequestHandler>();
expectTypeOf(koaLog({ sink: publisher })).toEqualTypeOf<KafkaLogKoaMiddleware>();
expectTypeOf(fastifyLog).toEqualTypeOf<FastifyPluginCallback<KafkaLogFastifyOptions>>();
expectTypeOf(KafkaLogModule.forRoot({ sink: publisher })).toEqualTypeOf<DynamicModule>();
declare const registry: Parameters<typeof registerPrometheusMetrics>[1]['registry'];
expectTypeOf(registerPrometheusMetrics(publisher, { registry })).toEqualTypeOf<UnregisterMetrics>();
// @ts-expect-error options are checked as for `require`
expressLog({ sink: publisher, logBodies: true });
