// Type tests of the published declarations: these import the package by its name, so they check
// dist/*.d.ts exactly as users get them (run by `npm run test:types` after the build).
import { expectTypeOf } from 'expect-type';
import {
  type BodyEncoding,
  type BodyKind,
  BodyParseError,
  type CompiledCustomFields,
  type CustomFieldError,
  type CustomFields,
  type DEFAULT_MAX_BODY_SIZE,
  DEFAULT_REDACTED_HEADERS,
  type EntryOptions,
  type HttpExchange,
  InvalidOptionError,
  type JsonSchema,
  type KafkaLogError,
  type LogEntry,
  type LoggedBody,
  type QueryMap,
  type ResolvedEntryOptions,
  type TraceIds,
  applyCustomFields,
  bodyKindOf,
  buildLogEntry,
  compileCustomFields,
  createLogEntryBuilder,
  encodeBody,
  logEntrySchema,
  mediaTypeOf,
  parseUrlEncoded,
  readTraceIds,
  serializeLogEntry,
  setSerializeValue,
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
expectTypeOf(fields).toExtend<CustomFields>();

expectTypeOf<InvalidOptionError>().toExtend<KafkaLogError>();
expectTypeOf<BodyParseError['code']>().toExtend<string>();
expectTypeOf(new InvalidOptionError('topic', 'required').field).toBeString();
expectTypeOf(logEntrySchema).toExtend<Record<string, unknown>>();

// Entry options: the closed sets and unions, resolved once with every default.
const builder = createLogEntryBuilder({ trustProxy: (address, hop) => address.startsWith('10.') && hop < 2, redactBodyFields: ['card.number'] });
expectTypeOf(builder.options).toEqualTypeOf<Readonly<ResolvedEntryOptions>>();
expectTypeOf(builder.options.redactHeaders).toEqualTypeOf<ReadonlySet<string>>();
createLogEntryBuilder({ trustProxy: true });
createLogEntryBuilder({ trustProxy: 2 });
createLogEntryBuilder({ trustProxy: ['10.0.0.0/8', 'loopback'] });
// @ts-expect-error trustProxy: a boolean, a hop count, addresses or a function
createLogEntryBuilder({ trustProxy: 'loopback' });
// @ts-expect-error unknown options are refused
createLogEntryBuilder({ logRequestBodies: true });
expectTypeOf<EntryOptions['bodyParseFailure']>().toEqualTypeOf<'skip-entry' | 'keep' | undefined>();
expectTypeOf<typeof DEFAULT_MAX_BODY_SIZE>().toEqualTypeOf<65536>();
expectTypeOf(DEFAULT_REDACTED_HEADERS).toEqualTypeOf<readonly string[]>();

// Custom fields, Kong's set_serialize_value: modes are a closed set; failures come back typed.
const compiled = compileCustomFields(fields, { expressionTimeoutMs: 50, expressionTimeoutsBeforeSwitchOff: 3 });
expectTypeOf(compiled).toEqualTypeOf<CompiledCustomFields>();
expectTypeOf(compiled.fields[0]?.kind).toEqualTypeOf<'function' | 'expression' | undefined>();
expectTypeOf(applyCustomFields(entry, compiled, { tenant: 't-1' })).toEqualTypeOf<CustomFieldError[]>();
setSerializeValue(entry, 'request.tenant', 't-1', 'add');
// @ts-expect-error modes are set, add and replace
setSerializeValue(entry, 'request.tenant', 't-1', 'upsert');
// @ts-expect-error a custom field is a function, an expression string or { value, mode }
const badField: CustomFields = { team: 42 };
// @ts-expect-error { value, mode } takes a mode of the closed set
const badMode: CustomFields = { team: { value: 'entry.source', mode: 'merge' } };
// @ts-expect-error compile options are the expression limits
compileCustomFields(fields, { timeout: 50 });
void [badField, badMode];

// A custom field lands beside Kong's fields without loosening them.
expectTypeOf(entry.tenant).toBeUnknown();
expectTypeOf(entry.latencies).toEqualTypeOf<LogEntry['latencies']>();
// @ts-expect-error Kong's fields keep their types
entry.started_at = '2024-05-01';

// Bodies and queries by Kong's rules.
const encoded = encodeBody({ bytes: new Uint8Array(2) }, 'application/json; charset=utf-8', { side: 'request', maxBodySize: 1024, maxJsonDepth: 64 });
expectTypeOf(encoded).toEqualTypeOf<BodyEncoding>();
if (encoded.ok) expectTypeOf(encoded.fields).toEqualTypeOf<LoggedBody>();
else expectTypeOf(encoded.error).toEqualTypeOf<BodyParseError>();
// @ts-expect-error the body options need the side and both limits
encodeBody({ bytes: new Uint8Array(2) }, 'text/plain', { maxBodySize: 1024 });
expectTypeOf(parseUrlEncoded('a=1&a=2&flag')).toEqualTypeOf<QueryMap>();
expectTypeOf(bodyKindOf(mediaTypeOf('Application/JSON; charset=utf-8'))).toEqualTypeOf<BodyKind>();
expectTypeOf<BodyKind>().toEqualTypeOf<'json' | 'urlencoded' | 'multipart' | 'text' | 'binary'>();
expectTypeOf(logEntrySchema).toEqualTypeOf<JsonSchema>();

// Errors thrown by the builder are the typed ones.
expectTypeOf(new BodyParseError('request', 'application/json', 'bad')).toExtend<KafkaLogError>();
