// Type tests of the published declarations: these import the package by its name, so they check
// dist/*.d.ts exactly as users get them (run by `npm run test:types` after the build).
import { expectTypeOf } from 'expect-type';
import {
  type BodyParseError,
  type CustomFields,
  type EntryOptions,
  type HttpExchange,
  InvalidOptionError,
  type KafkaLogError,
  type LogEntry,
  buildLogEntry,
  createLogEntryBuilder,
  logEntrySchema,
  readTraceIds,
  serializeLogEntry,
  type TraceIds,
} from 'kafka-log';

declare const exchange: HttpExchange;

expectTypeOf(buildLogEntry(exchange)).toEqualTypeOf<LogEntry>();
expectTypeOf(buildLogEntry).parameter(1).toEqualTypeOf<EntryOptions | undefined>();
expectTypeOf(createLogEntryBuilder({ logRequestBody: true }).build).returns.toEqualTypeOf<LogEntry>();

const entry = buildLogEntry(exchange);
expectTypeOf(entry.request.headers).toEqualTypeOf<Record<string, string | string[]>>();
expectTypeOf(entry.latencies.proxy).toBeNumber();
expectTypeOf(entry.source).toEqualTypeOf<'upstream' | 'kong'>();
expectTypeOf(entry.request.tls).toEqualTypeOf<{ version: string; cipher: string; client_verify: string } | undefined>();

expectTypeOf(entry.trace_id).toEqualTypeOf<TraceIds | undefined>();
expectTypeOf(entry.trace_id?.w3c).toEqualTypeOf<string | undefined>();
expectTypeOf(readTraceIds(['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'])).toEqualTypeOf<TraceIds | undefined>();
expectTypeOf(readTraceIds({ 'x-datadog-trace-id': '42' })).toEqualTypeOf<TraceIds | undefined>();
expectTypeOf<HttpExchange['traceIds']>().toEqualTypeOf<TraceIds | undefined>();
// @ts-expect-error trace_id is Kong's object keyed by format, not a string
entry.trace_id = '0af7651916cd43dd8448eb211c80319c';

expectTypeOf(serializeLogEntry).toBeCallableWith(entry);
expectTypeOf(serializeLogEntry).toBeCallableWith([entry, entry]);
expectTypeOf(serializeLogEntry(entry)).toBeString();

// Options are checked, not `any`.
// @ts-expect-error maxBodySize is a number
buildLogEntry(exchange, { maxBodySize: '1kb' });
// @ts-expect-error the policy is a closed set
buildLogEntry(exchange, { bodyParseFailure: 'ignore' });

const fields: CustomFields = {
  'request.tenant': (logged, context) => `${logged.request.method}:${String(context.tenant)}`,
  team: 'entry.route ? entry.route.path : undefined',
  'response.cached': { value: () => true, mode: 'add' },
};
expectTypeOf(fields).toMatchTypeOf<CustomFields>();

expectTypeOf<InvalidOptionError>().toMatchTypeOf<KafkaLogError>();
expectTypeOf<BodyParseError['code']>().toMatchTypeOf<string>();
expectTypeOf(new InvalidOptionError('topic', 'required').field).toBeString();
expectTypeOf(logEntrySchema).toMatchTypeOf<Record<string, unknown>>();
