// The schema-registry API of `kafka-log`: the encoder, the ready-made schemas, the Confluent wire format.
import { expectTypeOf } from 'expect-type';
import {
  type CONFLUENT_MAGIC_BYTE,
  DEFAULT_OAUTH2_SCOPES,
  type DEFAULT_REGISTRY_REFRESH_INTERVAL_MS,
  type LogEntry,
  type MessageEncoder,
  type RegisteredKongSchema,
  type RegistryEncoder,
  type ResolvedRegistryOptions,
  type ResolvedSchemas,
  type SchemaType,
  type WireMessage,
  createRegistryEncoder,
  decodeWireMessage,
  encodeWireMessage,
  kongLogEntrySchema,
  registerKongSchemas,
  resolveRegistryOptions,
  topicSubject,
} from 'kafka-log';

declare const entry: LogEntry;
const url = 'http://127.0.0.1:8081';

const encoder = createRegistryEncoder({ url, valueSchema: { subject: 'logs-value', version: 'latest' } }, { onDroppedField: (path) => void path });
expectTypeOf(encoder).toEqualTypeOf<RegistryEncoder>();
expectTypeOf(encoder).toExtend<MessageEncoder>();
// Kong's block is accepted as it is.
createRegistryEncoder({ confluent: { url, value_schema: { subject_name: 'logs-value' } } });

// One entry is one message value (with a schema every entry is its own message).
expectTypeOf(encoder.encodeValue(entry)).toEqualTypeOf<Promise<Buffer>>();
expectTypeOf(encoder.encodeKey('tenant-1')).toEqualTypeOf<Promise<Buffer>>();
expectTypeOf(encoder.encodeValueNow(entry)).toEqualTypeOf<Buffer | undefined>();
expectTypeOf(encoder.ready()).toEqualTypeOf<Promise<ResolvedSchemas>>();
expectTypeOf<ResolvedSchemas['key']>().toEqualTypeOf<ResolvedSchemas['value'] | undefined>();
expectTypeOf<ResolvedSchemas['value']['schemaType']>().toEqualTypeOf<SchemaType>();
// @ts-expect-error no batches: one entry per value
encoder.encodeValue([entry]);
// @ts-expect-error the batch flag is gone
encoder.encodeValue(entry, false);
// @ts-expect-error hooks are onDroppedField and now
createRegistryEncoder({ url, valueSchema: { subject: 's', version: 1 } }, { onError: () => undefined });

expectTypeOf<SchemaType>().toEqualTypeOf<'AVRO' | 'JSON' | 'PROTOBUF'>();
expectTypeOf(kongLogEntrySchema('AVRO')).toBeString();
// @ts-expect-error the registry's type names, upper-case
kongLogEntrySchema('avro');

// Registering needs no value schema; the subject follows Confluent's TopicNameStrategy.
expectTypeOf(registerKongSchemas({ url }, { type: 'PROTOBUF', subject: topicSubject('logs') })).toEqualTypeOf<Promise<RegisteredKongSchema>>();
registerKongSchemas({ url, auth: { mode: 'basic', username: 'k', password: 's' } }, { type: 'JSON', subject: topicSubject('logs', 'key') });
// @ts-expect-error values or keys
topicSubject('logs', 'headers');
// @ts-expect-error a subject is required
registerKongSchemas({ url }, { type: 'AVRO' });

// Resolved options: every default applied.
const resolved = resolveRegistryOptions({ url, valueSchema: { subject: 's', version: 2 } });
expectTypeOf(resolved).toEqualTypeOf<ResolvedRegistryOptions>();
expectTypeOf(resolved.refreshIntervalMs).toBeNumber();
expectTypeOf(resolved.keySchema).toEqualTypeOf<ResolvedRegistryOptions['valueSchema'] | undefined>();
expectTypeOf<typeof DEFAULT_REGISTRY_REFRESH_INTERVAL_MS>().toEqualTypeOf<300000>();
expectTypeOf(DEFAULT_OAUTH2_SCOPES).toEqualTypeOf<readonly string[]>();

// The wire format.
expectTypeOf<typeof CONFLUENT_MAGIC_BYTE>().toEqualTypeOf<0>();
expectTypeOf(encodeWireMessage(42, new Uint8Array(3), [0])).toEqualTypeOf<Buffer>();
const framed: WireMessage = decodeWireMessage(Buffer.alloc(6), true);
expectTypeOf(framed.messageIndexes).toEqualTypeOf<number[] | undefined>();
// @ts-expect-error the schema id is a number
encodeWireMessage('42', new Uint8Array(3));
