// `kafka-log/http`: withKafkaLog keeps the listener's type (its two overloads), hooks receive node's request, and
// gateways annotate an exchange through GatewayCapture, not through the capture engine.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { expectTypeOf } from 'expect-type';
import express from 'express';
import { KafkaLogPublisher, type AuthenticatedEntity, type ExchangeUpstream, type JsonObject, type ResponseSource } from 'kafka-log';
import {
  type CLIENT_CLOSED_REQUEST,
  type GatewayCapture,
  type KafkaLogAdapterOptions,
  type KafkaLogHttpOptions,
  type LogSink,
  type NodeRequestListener,
  getExchangeCapture,
  withKafkaLog,
} from 'kafka-log/http';

const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });

// node's listener in, node's listener out: http.createServer takes it.
const listener = withKafkaLog((req, res) => {
  expectTypeOf(req).toEqualTypeOf<IncomingMessage>();
  expectTypeOf(res).toEqualTypeOf<ServerResponse>();
  res.end();
}, { sink: publisher });
expectTypeOf(listener).toEqualTypeOf<NodeRequestListener>();
http.createServer(listener);

// An Express app takes node's request and response, so it comes back as node's listener; a listener typed with
// narrower request/response types keeps its own type.
const wrappedApp = withKafkaLog(express(), { sink: publisher });
expectTypeOf(wrappedApp).toEqualTypeOf<NodeRequestListener>();
http.createServer(wrappedApp);
type TaggedRequest = IncomingMessage & { tenant: string };
const tagged = (request: TaggedRequest, response: ServerResponse) => response.end(request.tenant);
expectTypeOf(withKafkaLog(tagged, { sink: publisher })).toEqualTypeOf<typeof tagged>();

// @ts-expect-error a listener, not a server
withKafkaLog(http.createServer(), { sink: publisher });
// @ts-expect-error options are required: at least a sink
withKafkaLog(listener);

// The options: every adapter's, with node's IncomingMessage in the hooks.
expectTypeOf<KafkaLogHttpOptions>().toEqualTypeOf<KafkaLogAdapterOptions<IncomingMessage>>();
const options: KafkaLogHttpOptions = {
  sink: { publish: () => undefined, reportError: (error) => void error.code },
  logRequestBody: true,
  maxBodySize: 8192,
  redactHeaders: ['x-api-key'],
  requestIdHeader: false,
  correlationIdHeader: 'kong-request-id',
  consumer: (request) => ({ id: String(request.headers['x-user'] ?? '') }),
  authenticatedEntity: () => ({ id: 'cred-1', consumer_id: 'u-1' }),
  publishMeta: (entry, request) => ({ key: entry.request.id, topic: request.method === 'POST' ? 'writes' : undefined }),
  skip: (request) => request.url === '/health',
  customFields: { 'request.tenant': (entry, context) => `${entry.request.method}:${String(context.request)}` },
};
void options;
expectTypeOf(publisher).toExtend<LogSink>();
// @ts-expect-error a sink is required
const noSink: KafkaLogHttpOptions = { logRequestBody: true };
// @ts-expect-error a sink publishes entries
const notASink: KafkaLogHttpOptions = { sink: { send: () => undefined } };
// @ts-expect-error the consumer is Kong's consumer object (JSON), not a string
const badConsumer: KafkaLogHttpOptions = { sink: publisher, consumer: () => 'u-1' };
// @ts-expect-error unknown options are refused
const typo: KafkaLogHttpOptions = { sink: publisher, logRequestBodies: true };
// @ts-expect-error skip decides with a boolean
const badSkip: KafkaLogHttpOptions = { sink: publisher, skip: () => 'yes' };
void [noSink, notASink, badConsumer, typo, badSkip];

// Gateways: the narrow face of a capture.
declare const req: IncomingMessage;
declare const res: ServerResponse;
const capture = getExchangeCapture(req);
expectTypeOf(capture).toEqualTypeOf<GatewayCapture | undefined>();
expectTypeOf(getExchangeCapture(res)).toEqualTypeOf<GatewayCapture | undefined>();
if (capture !== undefined) {
  capture.upstream = { uri: '/internal/items?a=1', status: 201, tries: [{ ip: '10.0.0.2', port: 8080, balancer_latency: 0 }] };
  capture.upstreamLatency = 12.4;
  capture.source = 'kong';
  capture.route = { path: '/items' };
  capture.service = { name: 'catalog' };
  capture.consumer = undefined;
  capture.authenticatedEntity = { id: 'cred-1' };
  capture.clearUpstream();
  // @ts-expect-error who answered: upstream or kong
  capture.source = 'gateway';
  // @ts-expect-error an upstream is at least its URI
  capture.upstream = { status: 502 };
}
expectTypeOf<GatewayCapture['upstream']>().toEqualTypeOf<ExchangeUpstream | undefined>();
expectTypeOf<GatewayCapture['upstreamLatency']>().toEqualTypeOf<number | undefined>();
expectTypeOf<GatewayCapture['source']>().toEqualTypeOf<ResponseSource | undefined>();
expectTypeOf<GatewayCapture['route']>().toEqualTypeOf<JsonObject | undefined>();
expectTypeOf<GatewayCapture['authenticatedEntity']>().toEqualTypeOf<AuthenticatedEntity | undefined>();
expectTypeOf<GatewayCapture['clearUpstream']>().toEqualTypeOf<() => void>();
// Nothing of the capture engine is published: no timings, taps, context or settling.
expectTypeOf<GatewayCapture>().not.toHaveProperty('settle');
expectTypeOf<GatewayCapture>().not.toHaveProperty('onRequestChunk');
expectTypeOf<GatewayCapture>().not.toHaveProperty('toExchange');
expectTypeOf<GatewayCapture>().not.toHaveProperty('context');
expectTypeOf<GatewayCapture>().not.toHaveProperty('handlerStartTime');
// @ts-expect-error getExchangeCapture takes no type argument
getExchangeCapture<TaggedRequest>(req);

expectTypeOf<typeof CLIENT_CLOSED_REQUEST>().toEqualTypeOf<499>();
