// The TEST registry (scripts/local-registry.mjs): the Confluent REST endpoints and error bodies the clients rely on.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { kongLogEntrySchema } from '../../src/registry/index.js';
import { startRegistry } from '../support/test-registry.js';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
let registry: TestRegistry;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: { 'content-type': CONTENT_TYPE, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
}

const avro = (name: string) => JSON.stringify({ type: 'record', name, fields: [{ name: 'a', type: 'string' }] });
/** Record `A` with one more field, optional (a default): a BACKWARD-compatible next version of `avro('A')`. */
const avroWithB = JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'string', default: '' }] });

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry.close();
});

describe('test registry', () => {
  it('registers: same schema again gives the same id and no new version; other subjects share the id', async () => {
    const first = await call('POST', '/subjects/t1-value/versions', { schema: avro('A') });
    expect(first).toMatchObject({ status: 200, type: CONTENT_TYPE });
    const again = await call('POST', '/subjects/t1-value/versions', { schema: ` ${avro('A')}` });
    expect(again.body.id).toBe(first.body.id);
    expect((await call('POST', '/subjects/t2-value/versions', { schema: avro('A') })).body.id).toBe(first.body.id);
    const second = await call('POST', '/subjects/t1-value/versions', { schema: avroWithB });
    expect(second.body.id).not.toBe(first.body.id);
    expect((await call('GET', '/subjects/t1-value/versions')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects/t1-value/versions/latest')).body).toMatchObject({ subject: 't1-value', version: 2, id: second.body.id });
    expect((await call('GET', '/subjects/t1-value/versions/1')).body).toEqual({ subject: 't1-value', version: 1, id: first.body.id, schema: avro('A') });
    expect((await call('GET', `/schemas/ids/${first.body.id}`)).body).toEqual({ schema: avro('A') });
    expect((await call('GET', '/subjects')).body).toEqual(expect.arrayContaining(['t1-value', 't2-value']));
    expect((await call('POST', '/subjects/t1-value', { schema: avroWithB })).body).toMatchObject({ version: 2, id: second.body.id });
  });

  it('keeps schemaType (JSON, PROTOBUF) and references, and serves Protobuf as a FileDescriptorProto on request', async () => {
    const proto = await call('POST', '/subjects/p-value/versions', { schema: kongLogEntrySchema('PROTOBUF'), schemaType: 'PROTOBUF' });
    expect((await call('GET', `/schemas/ids/${proto.body.id}`)).body).toMatchObject({ schemaType: 'PROTOBUF', schema: kongLogEntrySchema('PROTOBUF') });
    const serialized = (await call('GET', `/schemas/ids/${proto.body.id}?format=serialized`)).body.schema as string;
    expect(Buffer.from(serialized, 'base64').toString('latin1')).toContain('KongLogEntry');
    const json = await call('POST', '/subjects/j-value/versions', {
      schema: '{"type":"object"}',
      schemaType: 'JSON',
      references: [{ name: 'p.proto', subject: 'p-value', version: 1 }],
    });
    expect((await call('GET', '/subjects/j-value/versions/latest')).body).toMatchObject({
      schemaType: 'JSON',
      references: [{ name: 'p.proto', subject: 'p-value', version: 1 }],
    });
    expect(json.body.id).toEqual(expect.any(Number));
  });

  it('answers Confluent error bodies', async () => {
    expect(await call('GET', '/subjects/none/versions')).toMatchObject({ status: 404, body: { error_code: 40401 } });
    expect(await call('GET', '/subjects/t1-value/versions/9')).toMatchObject({ status: 404, body: { error_code: 40402 } });
    expect(await call('GET', '/schemas/ids/999')).toMatchObject({ status: 404, body: { error_code: 40403 } });
    expect(await call('POST', '/subjects/t1-value', { schema: avro('Z') })).toMatchObject({ status: 404, body: { error_code: 40403 } });
    expect(await call('POST', '/subjects/x/versions', { schema: '{not json' })).toMatchObject({ status: 422, body: { error_code: 42201 } });
    expect(await call('GET', '/subjects/t1-value/versions/abc')).toMatchObject({ status: 422, body: { error_code: 42202 } });
    expect(await call('PUT', '/config/t1-value', { compatibility: 'SIDEWAYS' })).toMatchObject({ status: 422, body: { error_code: 42203 } });
  });

  it('stores compatibility levels (global and per subject)', async () => {
    expect((await call('GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call('PUT', '/config/t1-value', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call('GET', '/config/t1-value')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect(await call('GET', '/config/t2-value')).toMatchObject({ status: 404, body: { error_code: 40408 } });
    expect((await call('GET', '/config/t2-value?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('refuses what its parsers refuse (422): Avro through avsc, JSON Schema through Ajv, Protobuf through protobufjs', async () => {
    for (const [schemaType, schema] of [
      ['AVRO', JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'no-such-type' }] })],
      ['JSON', JSON.stringify({ type: 'no-such-type' })],
      ['PROTOBUF', 'syntax = "proto3"; message M { strin a = 1; }'],
    ] as const) {
      const answer = await call('POST', '/subjects/invalid-value/versions', { schema, schemaType });
      expect({ schemaType, ...answer }).toMatchObject({ schemaType, status: 422, body: { error_code: 42201 } });
    }
    expect(await call('GET', '/subjects/invalid-value/versions')).toMatchObject({ status: 404 });
  });

  describe('enforces the compatibility level it reports', () => {
    const register = (subject: string, schema: string, schemaType = 'AVRO') => call('POST', `/subjects/${subject}/versions`, { schema, schemaType });
    const record = (fields: object[], name = 'A') => JSON.stringify({ type: 'record', name, fields });
    const a = { name: 'a', type: 'string' };
    const json = (schema: object) => JSON.stringify(schema);

    it('BACKWARD (the default), Avro: a field added with a default passes; without one, a changed type or a renamed record is a 409, not stored', async () => {
      expect(await register('avro-b-value', record([a]))).toMatchObject({ status: 200 });
      for (const [schema, reason] of [
        [record([a, { name: 'b', type: 'int' }]), 'no matching field for default-less A.b'],
        [record([{ name: 'a', type: 'int' }]), 'cannot read'],
        [record([a], 'Renamed'), 'no alias found for A'],
      ] as const) {
        const refused = await register('avro-b-value', schema);
        expect(refused).toMatchObject({ status: 409, body: { error_code: 409 } });
        expect(refused.body.message).toContain('incompatible with an earlier schema for subject "avro-b-value"');
        expect(refused.body.message).toContain(reason);
      }
      expect((await call('GET', '/subjects/avro-b-value/versions')).body).toEqual([1]);
      expect(await register('avro-b-value', record([a, { name: 'b', type: 'int', default: 0 }]))).toMatchObject({ status: 200 });
      // A field removed: the new reader ignores it in old data.
      expect(await register('avro-b-value', record([{ name: 'b', type: 'int', default: 0 }]))).toMatchObject({ status: 200 });
      expect((await call('GET', '/subjects/avro-b-value/versions')).body).toEqual([1, 2, 3]);
    });

    it('BACKWARD, JSON Schema: the new schema must accept every document the old one did', async () => {
      const base = { type: 'object', required: ['id'], properties: { id: { type: 'string' }, n: { type: 'integer', minimum: 0 } }, additionalProperties: false };
      expect(await register('json-b-value', json(base), 'JSON')).toMatchObject({ status: 200 });
      for (const [change, reason] of [
        [{ ...base, required: ['id', 'n'] }, '"n" became required'],
        [{ ...base, properties: { ...base.properties, id: { type: 'integer' } } }, 'type string no longer accepted'],
        [{ ...base, properties: { ...base.properties, n: { type: 'integer', minimum: 1 } } }, 'minimum raised'],
        [{ ...base, properties: { id: base.properties.id } }, 'the new schema accepts nothing here'],
        [{ ...base, properties: { ...base.properties, id: { type: 'string', enum: ['x'] } } }, 'now limited to fixed values'],
      ] as const) {
        const refused = await register('json-b-value', json(change), 'JSON');
        expect(refused).toMatchObject({ status: 409, body: { error_code: 409 } });
        expect(refused.body.message).toContain(reason);
      }
      // Widened: n may also be a string, a new optional property on a closed object, no longer closed.
      const widened = { ...base, properties: { ...base.properties, n: { type: ['integer', 'string'] }, note: { type: 'string' } }, additionalProperties: true };
      expect(await register('json-b-value', json(widened), 'JSON')).toMatchObject({ status: 200 });
      // Once open, a new property must accept anything the old schema let through as an additional one.
      const refused = await register('json-b-value', json({ ...widened, properties: { ...widened.properties, extra: { type: 'number' } } }), 'JSON');
      expect(refused).toMatchObject({ status: 409 });
      expect(refused.body.message).toContain('#/properties/extra: constrained where it accepted anything');
      // The ready-made Kong schema may always be registered again as it is (same id, no new version).
      const kong = await register('json-kong-value', kongLogEntrySchema('JSON'), 'JSON');
      expect(await register('json-kong-value', kongLogEntrySchema('JSON'), 'JSON')).toEqual(kong);
    });

    it('BACKWARD, Protobuf: a field number keeps its type; fields may be added and removed', async () => {
      const proto = (fields: string) => `syntax = "proto3"; package t; message M { ${fields} }`;
      expect(await register('proto-b-value', proto('string a = 1;'), 'PROTOBUF')).toMatchObject({ status: 200 });
      const refused = await register('proto-b-value', proto('int64 a = 1;'), 'PROTOBUF');
      expect(refused).toMatchObject({ status: 409 });
      expect(refused.body.message).toContain('.t.M field 1: string became int64');
      expect(await register('proto-b-value', proto('string a = 1; int64 b = 2;'), 'PROTOBUF')).toMatchObject({ status: 200 });
      expect(await register('proto-b-value', proto('int64 b = 2;'), 'PROTOBUF')).toMatchObject({ status: 200 });
      expect(await register('proto-b-value', 'syntax = "proto3"; package t; message Other { int64 b = 2; }', 'PROTOBUF')).toMatchObject({ status: 409 });
    });

    it('FORWARD, FULL, the transitive levels and NONE, per subject; a changed schema type is refused', async () => {
      const v1 = record([a]);
      const withRequiredB = record([a, { name: 'b', type: 'int' }]);
      // FORWARD: the old schema must read new data. A required field added is fine, a field without default removed is not.
      await call('PUT', '/config/fwd-value', { compatibility: 'FORWARD' });
      expect(await register('fwd-value', v1)).toMatchObject({ status: 200 });
      expect(await register('fwd-value', withRequiredB)).toMatchObject({ status: 200 });
      expect(await register('fwd-value', record([{ name: 'b', type: 'int' }]))).toMatchObject({ status: 409 });
      // FULL: both ways; only a field with a default may come or go.
      await call('PUT', '/config/full-value', { compatibility: 'FULL' });
      expect(await register('full-value', v1)).toMatchObject({ status: 200 });
      expect(await register('full-value', withRequiredB)).toMatchObject({ status: 409 });
      expect(await register('full-value', record([a, { name: 'b', type: 'int', default: 0 }]))).toMatchObject({ status: 200 });
      // BACKWARD checks the latest version only; BACKWARD_TRANSITIVE every one. Version 3 reads data of version 2
      // (which has b) but not of version 1 (which has no b, and version 3 gives b no default).
      for (const [level, status] of [['BACKWARD', 200], ['BACKWARD_TRANSITIVE', 409]] as const) {
        const subject = `chain-${level.toLowerCase()}-value`;
        await call('PUT', `/config/${subject}`, { compatibility: level });
        expect(await register(subject, v1)).toMatchObject({ status: 200 });
        expect(await register(subject, record([a, { name: 'b', type: 'int', default: 0 }]))).toMatchObject({ status: 200 });
        expect({ level, status: (await register(subject, withRequiredB)).status }).toEqual({ level, status });
      }
      await call('PUT', '/config/none-value', { compatibility: 'NONE' });
      expect(await register('none-value', v1)).toMatchObject({ status: 200 });
      expect(await register('none-value', record([{ name: 'x', type: 'int' }], 'Z'))).toMatchObject({ status: 200 });
      const typeChange = await register('avro-then-json-value', v1);
      expect(typeChange.status).toBe(200);
      expect(await register('avro-then-json-value', json({ type: 'object' }), 'JSON')).toMatchObject({ status: 409 });
    });

    it('the compatibility endpoint answers what a registration would', async () => {
      await register('check-value', record([a]));
      const check = (schema: string) => call('POST', '/compatibility/subjects/check-value/versions/latest?verbose=true', { schema });
      expect((await check(record([a, { name: 'b', type: 'int', default: 0 }]))).body).toEqual({ is_compatible: true, messages: [] });
      const refused = await check(record([a, { name: 'b', type: 'int' }]));
      expect(refused.body).toMatchObject({ is_compatible: false });
      expect(String((refused.body.messages as string[])[0])).toContain('default-less A.b');
      expect((await call('POST', '/compatibility/subjects/check-value/versions', { schema: record([a]) })).body).toEqual({ is_compatible: true });
    });
  });

  it('works for the kafkajs registry client (register, ids, encode/decode)', async () => {
    const client = new SchemaRegistry({ host: registry.url });
    const { id } = await client.register({ type: SchemaType.AVRO, schema: avro('K') }, { subject: 'k-value' });
    expect(await client.getLatestSchemaId('k-value')).toBe(id);
    expect(await client.decode(await client.encode(id, { a: 'x' }))).toEqual({ a: 'x' });
  });

  it('requires basic auth when configured, with a 401 error body', async () => {
    const secured = await startRegistry({ basicAuth: { username: 'u', password: 'p' } });
    try {
      const denied = await fetch(`${secured.url}/subjects`);
      expect(denied.status).toBe(401);
      expect(await denied.json()).toEqual({ error_code: 401, message: 'Unauthorized' });
      const allowed = await fetch(`${secured.url}/subjects`, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
      expect(allowed.status).toBe(200);
    } finally {
      await secured.close();
    }
  });

  it('persists to its data file: a new server on the same file keeps subjects and ids', async () => {
    const dataFile = join(mkdtempSync(join(tmpdir(), 'kafka-log-registry-')), 'data.json');
    const first = await startRegistry({ dataFile });
    const { id } = (await (
      await fetch(`${first.url}/subjects/persist-value/versions`, { method: 'POST', headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify({ schema: avro('P') }) })
    ).json()) as { id: number };
    await first.close();
    const second = await startRegistry({ dataFile });
    try {
      const latest = (await (await fetch(`${second.url}/subjects/persist-value/versions/latest`)).json()) as { id: number };
      expect(latest.id).toBe(id);
    } finally {
      await second.close();
    }
  });
});
