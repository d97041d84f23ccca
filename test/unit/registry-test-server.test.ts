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
    const second = await call('POST', '/subjects/t1-value/versions', { schema: avro('B') });
    expect(second.body.id).not.toBe(first.body.id);
    expect((await call('GET', '/subjects/t1-value/versions')).body).toEqual([1, 2]);
    expect((await call('GET', '/subjects/t1-value/versions/latest')).body).toMatchObject({ subject: 't1-value', version: 2, id: second.body.id });
    expect((await call('GET', '/subjects/t1-value/versions/1')).body).toEqual({ subject: 't1-value', version: 1, id: first.body.id, schema: avro('A') });
    expect((await call('GET', `/schemas/ids/${first.body.id}`)).body).toEqual({ schema: avro('A') });
    expect((await call('GET', '/subjects')).body).toEqual(expect.arrayContaining(['t1-value', 't2-value']));
    expect((await call('POST', '/subjects/t1-value', { schema: avro('B') })).body).toMatchObject({ version: 2, id: second.body.id });
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
