// The entry definition (src/entry/definition.ts) is the one source of the entry's schemas: its fields must be the
// keys of the TypeScript types (checked by the type checker: npm run typecheck) and its Protobuf numbers must be
// usable (checked at run time).
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type FieldDefinition, LOG_ENTRY, type RecordDefinition } from '../../src/entry/definition.js';
import type { AuthenticatedEntity, Latencies, LogEntry, LoggedRequest, LoggedResponse, TlsInfo, TraceIds } from '../../src/entry/log-entry.js';
import { TRACE_ID_FORMATS } from '../../src/entry/trace-ids.js';

type Field<R> = R extends { readonly fields: readonly (infer F)[] } ? F : never;
type Names<R> = Field<R> extends { readonly name: infer N } ? N : never;
type OptionalNames<R> = Extract<Field<R>, { readonly optional: true }> extends { readonly name: infer N } ? N : never;
type TypeOf<R, N extends string> = Extract<Field<R>, { readonly name: N }> extends { readonly type: infer T } ? T : never;
/** The declared keys of T, without its index signature (custom fields). */
type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
type OptionalKeys<T> = { [K in KnownKeys<T>]-?: object extends Pick<T, K> ? K : never }[KnownKeys<T>];

describe('the entry definition', () => {
  it('declares the fields of the TypeScript types, optional where they are optional', () => {
    const Request = LOG_ENTRY.fields[0].type;
    expectTypeOf<Names<typeof LOG_ENTRY>>().toEqualTypeOf<KnownKeys<LogEntry>>();
    expectTypeOf<OptionalNames<typeof LOG_ENTRY>>().toEqualTypeOf<OptionalKeys<LogEntry>>();
    expectTypeOf<Names<typeof Request>>().toEqualTypeOf<KnownKeys<LoggedRequest>>();
    expectTypeOf<OptionalNames<typeof Request>>().toEqualTypeOf<OptionalKeys<LoggedRequest>>();
    expectTypeOf<Names<TypeOf<typeof Request, 'tls'>>>().toEqualTypeOf<KnownKeys<TlsInfo>>();
    type Response = TypeOf<typeof LOG_ENTRY, 'response'>;
    expectTypeOf<Names<Response>>().toEqualTypeOf<KnownKeys<LoggedResponse>>();
    expectTypeOf<OptionalNames<Response>>().toEqualTypeOf<OptionalKeys<LoggedResponse>>();
    expectTypeOf<Names<TypeOf<typeof LOG_ENTRY, 'latencies'>>>().toEqualTypeOf<KnownKeys<Latencies>>();
    type Entity = TypeOf<typeof LOG_ENTRY, 'authenticated_entity'>;
    expectTypeOf<Names<Entity>>().toEqualTypeOf<KnownKeys<AuthenticatedEntity>>();
    expectTypeOf<OptionalNames<Entity>>().toEqualTypeOf<OptionalKeys<AuthenticatedEntity>>();
    expect(Request.name).toBe('Request');
  });

  it('lists every trace id format of the TypeScript type, in the schemas too', () => {
    expectTypeOf<(typeof TRACE_ID_FORMATS)[number]>().toEqualTypeOf<keyof TraceIds>();
    const traceId = LOG_ENTRY.fields.find((field) => field.name === 'trace_id');
    expect(traceId?.type).toEqual({ kind: 'stringMap', keys: TRACE_ID_FORMATS });
  });

  const records: RecordDefinition[] = [];
  const collect = (record: RecordDefinition) => {
    records.push(record);
    for (const field of record.fields) if (typeof field.type === 'object' && field.type.kind === 'record') collect(field.type);
  };
  collect(LOG_ENTRY);

  it.each(records.map((record) => [record.name, record] as const))('%s: names and Protobuf numbers are unique, none reserved', (_, record) => {
    const fields: Pick<FieldDefinition, 'name' | 'tag'>[] = [...record.fields, ...(record.extraKeysField ? [record.extraKeysField] : [])];
    const tags = fields.map((field) => field.tag);
    expect(new Set(tags).size).toBe(tags.length);
    expect(new Set(fields.map((field) => field.name)).size).toBe(fields.length);
    for (const tag of tags) expect(Number.isInteger(tag) && tag >= 1 && tag < 19000).toBe(true);
    for (const tag of record.reservedTags ?? []) expect(tags).not.toContain(tag);
  });

  it('names each record once', () => {
    expect(new Set(records.map((record) => record.name)).size).toBe(records.length);
  });
});
