// Type tests of the published declarations of filters, sampling, body conditions and request ids: each option's
// functions receive the adapter's own request type, requestIdOf takes what each framework's handlers have.
import type { IncomingMessage } from 'node:http';
import { expectTypeOf } from 'expect-type';
import type { Request } from 'express';
import type { FastifyRequest } from 'fastify';
import {
  type CustomFieldError,
  type HttpExchange,
  KafkaLogPublisher,
  type LogEntry,
  type PublisherStats,
  SKIP_REASONS,
  type SkipReason,
  createLogEntryBuilder,
} from 'kafka-log';
import { type KafkaLogExpressOptions, requestIdOf as expressRequestIdOf } from 'kafka-log/express';
import { type KafkaLogFastifyOptions, requestIdOf as fastifyRequestIdOf } from 'kafka-log/fastify';
import { type KafkaLogHttpOptions, requestIdOf as httpRequestIdOf } from 'kafka-log/http';
import { type KafkaLogKoaOptions, requestIdOf as koaRequestIdOf } from 'kafka-log/koa';
import { type LogOutcome, createTestAdapter, createTestPublisher } from 'kafka-log/testing';
import type { Context } from 'koa';

const sink = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });

export const express: KafkaLogExpressOptions = {
  sink,
  filter: (entry, req) => {
    expectTypeOf(entry).toEqualTypeOf<Readonly<LogEntry>>();
    expectTypeOf(req).toEqualTypeOf<Request>();
    return entry.response.status >= 500;
  },
  sampleRate: (entry) => (entry.response.status >= 500 ? 1 : 0.01),
  logRequestBody: (entry, req) => entry.response.status >= 400 && req.method === 'POST',
  logResponseBody: true,
  generateRequestId: (req) => req.get('x-amzn-trace-id') ?? 'none',
  echoRequestIdHeader: 'X-Request-Id',
};
export const koa: KafkaLogKoaOptions = {
  sink,
  filter: (_entry, ctx) => {
    expectTypeOf(ctx).toEqualTypeOf<Context>();
    return true;
  },
  sampleRate: 0.1,
};
export const fastify: KafkaLogFastifyOptions = { sink, generateRequestId: (request) => request.id, echoRequestIdHeader: false };
export const http: KafkaLogHttpOptions = { sink, logResponseBody: (_entry, req) => req.url !== '/health' };
// @ts-expect-error: a share is a number (or a function giving one)
export const share: KafkaLogHttpOptions = { sink, sampleRate: '1%' };
// @ts-expect-error: a filter answers with a boolean
export const filter: KafkaLogHttpOptions = { sink, filter: () => 'yes' };

expectTypeOf(expressRequestIdOf).toBeCallableWith({} as Request);
expectTypeOf(expressRequestIdOf).returns.toEqualTypeOf<string | undefined>();
expectTypeOf(koaRequestIdOf).toBeCallableWith({} as Context);
expectTypeOf(fastifyRequestIdOf).toBeCallableWith({} as FastifyRequest);
expectTypeOf(httpRequestIdOf).toBeCallableWith({} as IncomingMessage);

expectTypeOf<PublisherStats['skipped']['byReason']>().toEqualTypeOf<Record<SkipReason, number>>();
expectTypeOf(SKIP_REASONS).toEqualTypeOf<readonly SkipReason[]>();
expectTypeOf(sink.skipped).toBeCallableWith('sampled_out', 1);

declare const exchange: HttpExchange;
const builder = createLogEntryBuilder<{ admin: boolean }>({ logRequestBody: (_entry, request) => request.admin });
expectTypeOf(builder.build).toBeCallableWith(exchange, { admin: true });
expectTypeOf(builder.addBodies(builder.buildWithoutBodies(exchange), exchange, { admin: false })).toEqualTypeOf<readonly CustomFieldError[]>();

const adapter = createTestAdapter({ sink: createTestPublisher(), filter: (entry) => entry.response.status >= 500 });
expectTypeOf(adapter.log(exchange)).toEqualTypeOf<LogOutcome>();
expectTypeOf<LogOutcome>().toEqualTypeOf<'published' | 'filtered' | 'sampled_out' | 'not_sent'>();
