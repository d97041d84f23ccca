// `kafka-log/testing`: the test publisher (the real publisher over memory), fixtures, entries built as adapters
// build them, and schema validation.
import { expectTypeOf } from 'expect-type';
import { type HttpExchange, type KafkaLogPublisher, type KafkaLogPublisherOptions, type LogEntry, type TransportConfig, buildLogEntry } from 'kafka-log';
import {
  type DeepPartial,
  FIXTURE_STARTED_AT,
  type LogEntryValidation,
  type RecordedMessage,
  type SimulatedFailure,
  type TEST_PUBLISHER_DEFAULT_TOPIC,
  TestPublisher,
  type TestPublisherOptions,
  buildTestEntry,
  createTestPublisher,
  exchangeFixture,
  validateLogEntry,
} from 'kafka-log/testing';

// The test publisher is a KafkaLogPublisher: it goes wherever one is expected (adapters' `sink` included).
const publisher = createTestPublisher({ topic: 'access-logs', maxBatchSize: 10, compression: 'gzip' });
expectTypeOf(publisher).toEqualTypeOf<TestPublisher>();
expectTypeOf(publisher).toExtend<KafkaLogPublisher>();
expectTypeOf(createTestPublisher()).toEqualTypeOf<TestPublisher>();
expectTypeOf(new TestPublisher({ brokers: ['kafka:9092'] })).toEqualTypeOf<TestPublisher>();
expectTypeOf(publisher.messages()).toEqualTypeOf<RecordedMessage[]>();
expectTypeOf(publisher.entries()).toEqualTypeOf<LogEntry[]>();
expectTypeOf(publisher.stats().dropped.total).toBeNumber();
expectTypeOf(publisher.transportConfig).toEqualTypeOf<Readonly<TransportConfig> | undefined>();
expectTypeOf(publisher.failedAttempts).toBeNumber();

const message = publisher.messages()[0];
if (message !== undefined) {
  expectTypeOf(message.value).toEqualTypeOf<Buffer>();
  expectTypeOf(message.key).toEqualTypeOf<Buffer | null>();
  expectTypeOf(message.headers).toEqualTypeOf<Readonly<Record<string, Buffer>>>();
  expectTypeOf(message.acks).toEqualTypeOf<-1 | 0 | 1>();
  // @ts-expect-error a recorded message is read-only
  message.topic = 'other';
}

// Failures on demand; chainable.
expectTypeOf(publisher.failNext(2).pause().resume()).toEqualTypeOf<TestPublisher>();
publisher.failNext(1, { retriable: false, kind: 'message_too_large', message: 'too big' });
expectTypeOf<SimulatedFailure['kind']>().toEqualTypeOf<'authentication' | 'broker' | 'timeout' | 'missing_dependency' | 'message_too_large' | undefined>();
// @ts-expect-error the kind is the transport's classification
publisher.failNext(1, { kind: 'disk_full' });

// The publisher's options, with brokers and topic optional and no transport (memory is the transport).
expectTypeOf<TestPublisherOptions['brokers']>().toEqualTypeOf<KafkaLogPublisherOptions['brokers'] | undefined>();
expectTypeOf<TestPublisherOptions['topic']>().toEqualTypeOf<string | undefined>();
expectTypeOf<TestPublisherOptions['maxBytes']>().toEqualTypeOf<KafkaLogPublisherOptions['maxBytes']>();
// @ts-expect-error the transport is the in-memory one
createTestPublisher({ transport: 'kafkajs' });
// @ts-expect-error the publisher's own options are checked as ever
createTestPublisher({ maxBatchSize: '10' });
expectTypeOf<typeof TEST_PUBLISHER_DEFAULT_TOPIC>().toEqualTypeOf<'kafka-log'>();

// Fixtures: deep-merged overrides, checked against the exchange's types.
expectTypeOf(exchangeFixture()).toEqualTypeOf<HttpExchange>();
expectTypeOf(exchangeFixture).parameter(0).toEqualTypeOf<DeepPartial<HttpExchange> | undefined>();
const exchange = exchangeFixture({
  request: { method: 'POST', headers: ['content-type', 'application/json'], body: { bytes: new TextEncoder().encode('{"a":1}') } },
  response: { status: 503 },
  timings: { upstream: 3 },
  route: undefined,
});
expectTypeOf(FIXTURE_STARTED_AT).toBeNumber();
// @ts-expect-error a status is a number
exchangeFixture({ response: { status: '503' } });
// @ts-expect-error the scheme is http or https
exchangeFixture({ request: { scheme: 'ftp' } });
// @ts-expect-error body bytes are bytes
exchangeFixture({ request: { body: { bytes: '{"a":1}' } } });

// Entries as an adapter would build them, custom fields applied.
expectTypeOf(buildTestEntry(exchange)).toEqualTypeOf<LogEntry>();
buildTestEntry(exchange, {
  logRequestBody: true,
  customFields: { 'request.tenant': (entry, context) => `${entry.request.method}:${String(context.tenant)}` },
  context: { tenant: 't-1' },
});
// @ts-expect-error custom fields are functions, expression strings or { value, mode }
buildTestEntry(exchange, { customFields: { team: 42 } });

// Validation against the entry's JSON Schema takes anything (a parsed Kafka message, say).
expectTypeOf(validateLogEntry(buildLogEntry(exchange))).toEqualTypeOf<LogEntryValidation>();
expectTypeOf(validateLogEntry).parameter(0).toBeUnknown();
expectTypeOf<LogEntryValidation>().toEqualTypeOf<{ valid: boolean; errors: string[] }>();
