// The registry encoder against the TEST registry (in-process HTTP): every schema type written in the Confluent
// wire format and read back with the kafkajs registry client's own decode, caching, refresh, errors.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { ErrorCodes, RegistryError, SchemaMismatchError } from '../../src/errors.js';
import { parseProtobufSchema } from '../../src/registry/protobuf.js';
import { createRegistryEncoder, decodeWireMessage, registerKongSchemas, type RegistryEncoder } from '../../src/registry/index.js';
import { caught } from '../support/caught.js';
import { asJson, fromAvroShape, richEntry, startRegistry, independentRegistryClient } from '../support/test-registry.js';

/**
 * The JSON logical type, for the kafkajs client's Avro reader (without it, body_args and custom values stay JSON
 * text). It refuses null so that, with the client's unwrapped unions, `["null", json]` stays unambiguous.
 */

let registry: TestRegistry;
let kafkajsRegistry: SchemaRegistry;
const encoders: RegistryEncoder[] = [];

function encoderFor(subject: string, extra: Partial<Parameters<typeof createRegistryEncoder>[0]> = {}, hooks = {}) {
  const encoder = createRegistryEncoder({ url: registry.url, valueSchema: { subject, version: 'latest' }, ...extra }, hooks);
  encoders.push(encoder);
  return encoder;
}


beforeAll(async () => {
  registry = await startRegistry();
  kafkajsRegistry = independentRegistryClient(registry.url);
  await registerKongSchemas({ url: registry.url }, { type: 'AVRO', subject: 'avro-value' });
  await registerKongSchemas({ url: registry.url }, { type: 'JSON', subject: 'json-value' });
  await registerKongSchemas({ url: registry.url }, { type: 'PROTOBUF', subject: 'proto-value' });
});

afterEach(async () => {
  await Promise.all(encoders.splice(0).map((encoder) => encoder.close()));
});

afterAll(async () => {
  await registry.close();
});

describe('Avro', () => {
  it('writes magic 0 + schema id + Avro, and the kafkajs client decodes the same entry', async () => {
    const encoder = encoderFor('avro-value');
    const info = await encoder.ready();
    const bytes = await encoder.encodeValue(richEntry(1));
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(info.value.id);
    expect(info.value.schemaType).toBe('AVRO');
    const decoded = await kafkajsRegistry.decode(bytes);
    expect(fromAvroShape(asJson(decoded))).toEqual(asJson(richEntry(1)));
  });

  it('fits headers (string or array), querystring (string, boolean, array) and open maps into unions', async () => {
    const encoder = encoderFor('avro-value');
    const entry = richEntry(2);
    const decoded = asJson(await kafkajsRegistry.decode(await encoder.encodeValue(entry)));
    expect(decoded.request.querystring).toEqual({ tag: ['a', 'b'], debug: true, q: 'x' });
    expect(decoded.request.headers['x-forwarded-for']).toEqual(['203.0.113.7', '10.0.0.1']);
    expect(decoded.route).toEqual(entry.route);
    expect(decoded.custom).toEqual({ tenant: { id: 't-1', tier: 'gold' } });
  });

  it('names the failing path of a value that fits no branch: SCHEMA_MISMATCH, not retriable', async () => {
    const encoder = encoderFor('avro-value');
    const entry = richEntry(3);
    (entry.response as unknown as Record<string, unknown>).status = '200';
    const error = await caught(encoder.encodeValue(entry));
    expect(error).toBeInstanceOf(SchemaMismatchError);
    expect(error.code).toBe(ErrorCodes.SCHEMA_MISMATCH);
    expect(error.retriable).toBe(false);
    expect((error as SchemaMismatchError).path).toBe('response.status');

    const nested = richEntry(3);
    nested.request.headers['x-bad'] = 5 as unknown as string;
    expect(((await caught(encoder.encodeValue(nested))) as SchemaMismatchError).path).toBe('request.headers.x-bad');

    const missing = richEntry(3) as Partial<LogEntry>;
    delete missing.client_ip;
    expect(((await caught(encoder.encodeValue(missing as LogEntry))) as SchemaMismatchError).path).toBe('client_ip');
  });

  it('drops keys a nested record does not declare and reports their path', async () => {
    const dropped: string[] = [];
    const encoder = encoderFor('avro-value', {}, { onDroppedField: (path: string) => dropped.push(path) });
    const entry = richEntry(4);
    (entry.request as unknown as Record<string, unknown>).x_debug = 'yes';
    const decoded = asJson(await kafkajsRegistry.decode(await encoder.encodeValue(entry)));
    expect(dropped).toEqual(['request.x_debug']);
    expect(decoded.request.x_debug).toBeUndefined();
  });
});

describe('JSON Schema', () => {
  it('writes magic 0 + schema id + JSON text, and the kafkajs client decodes the same entry', async () => {
    const encoder = encoderFor('json-value');
    const bytes = await encoder.encodeValue(richEntry(5));
    const { schemaId, payload } = decodeWireMessage(bytes);
    expect(schemaId).toBe((await encoder.ready()).value.id);
    expect(JSON.parse(payload.toString('utf8'))).toEqual(asJson(richEntry(5)));
    expect(await kafkajsRegistry.decode(bytes)).toEqual(asJson(richEntry(5)));
  });

  it('names the failing path', async () => {
    const encoder = encoderFor('json-value');
    const entry = richEntry(6);
    entry.request.querystring.bad = { nested: 1 } as unknown as string;
    const error = await caught(encoder.encodeValue(entry));
    expect(error.code).toBe(ErrorCodes.SCHEMA_MISMATCH);
    expect((error as SchemaMismatchError).path).toBe('request.querystring.bad');
    const noSource = richEntry(6) as Partial<LogEntry>;
    delete noSource.source;
    expect(((await caught(encoder.encodeValue(noSource as LogEntry))) as SchemaMismatchError).path).toBe('source');
  });
});

describe('Protobuf', () => {
  it('writes magic 0 + schema id + message index [0] (one zero byte) + the KongLogEntry message', async () => {
    const encoder = encoderFor('proto-value');
    const bytes = await encoder.encodeValue(richEntry(7));
    const wire = decodeWireMessage(bytes, true);
    expect(wire.messageIndexes).toEqual([0]);
    expect(bytes[5]).toBe(0);
    const { message } = await parseProtobufSchema((await registry_schema('proto-value')).schema);
    const object = message.toObject(message.decode(wire.payload), { longs: Number, defaults: false, oneofs: false });
    expect(object.request.method).toBe('POST');
    expect(object.response.status).toBe(200);
    expect(object.started_at).toBe(richEntry(7).started_at);
    expect(object.request.headers.fields['x-forwarded-for'].listValue.values.map((v: { stringValue: string }) => v.stringValue)).toEqual([
      '203.0.113.7',
      '10.0.0.1',
    ]);
    expect(object.custom.fields.tenant.structValue.fields.tier.stringValue).toBe('gold');
  });

  it('names the failing path', async () => {
    const encoder = encoderFor('proto-value');
    const entry = richEntry(9);
    (entry.latencies as unknown as Record<string, unknown>).proxy = 'slow';
    const error = await caught(encoder.encodeValue(entry));
    expect(error.code).toBe(ErrorCodes.SCHEMA_MISMATCH);
    expect((error as SchemaMismatchError).path).toBe('latencies.proxy');
  });
});

async function registry_schema(subject: string): Promise<{ schema: string; id: number }> {
  const response = await fetch(`${registry.url}/subjects/${subject}/versions/latest`);
  return (await response.json()) as { schema: string; id: number };
}

describe('keys', () => {
  it('encodes keys with the key schema, or as plain UTF-8 without one', async () => {
    const response = await fetch(`${registry.url}/subjects/keys-key/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: '"string"' }),
    });
    const { id } = (await response.json()) as { id: number };
    const encoder = encoderFor('avro-value', { keySchema: { subject: 'keys-key', version: 1 } });
    const key = await encoder.encodeKey('route-items');
    expect(key.readInt32BE(1)).toBe(id);
    expect(await kafkajsRegistry.decode(key)).toBe('route-items');
    expect((await encoderFor('avro-value').encodeKey('plain')).toString()).toBe('plain');
  });
});

describe('resolution, caching and refresh', () => {
  it('resolves a subject version once and caches it', async () => {
    const encoder = encoderFor('json-value');
    const before = registry.requests.length;
    for (let i = 0; i < 5; i++) await encoder.encodeValue(richEntry(i));
    expect(registry.requests.slice(before).map((r) => r.path)).toEqual(['/subjects/json-value/versions/latest']);
  });

  it('re-resolves latest after refreshIntervalMs, in the background, and picks up a new version', async () => {
    let now = 0;
    await registerKongSchemas({ url: registry.url }, { type: 'JSON', subject: 'evolving-value' });
    const encoder = encoderFor('evolving-value', { refreshIntervalMs: 1000 }, { now: () => now });
    const first = decodeWireMessage(await encoder.encodeValue(richEntry(1))).schemaId;
    const v2 = JSON.stringify({ type: 'object', title: 'v2', additionalProperties: true });
    const registered = await fetch(`${registry.url}/subjects/evolving-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: v2, schemaType: 'JSON' }),
    });
    const { id: second } = (await registered.json()) as { id: number };
    now = 500;
    expect(decodeWireMessage(await encoder.encodeValue(richEntry(2))).schemaId).toBe(first);
    now = 1500;
    // Stale: this encode still uses the known id while the refresh runs.
    expect(decodeWireMessage(await encoder.encodeValue(richEntry(3))).schemaId).toBe(first);
    // The refresh (a request and a schema compile) lands shortly; no encode waits for it.
    let latest = first;
    for (let tries = 0; tries < 100 && latest !== second; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      latest = decodeWireMessage(await encoder.encodeValue(richEntry(4))).schemaId;
    }
    expect(latest).toBe(second);
  });

  it('re-resolves latest after an entry failed to fit, and uses the newer schema when it fits', async () => {
    const strict = JSON.stringify({ type: 'object', required: ['ticket'], properties: { ticket: { type: 'string' } } });
    const post = (schema: string) =>
      fetch(`${registry.url}/subjects/strict-value/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema, schemaType: 'JSON' }),
      }).then((r) => r.json() as Promise<{ id: number }>);
    await post(strict);
    const encoder = encoderFor('strict-value');
    expect(((await caught(encoder.encodeValue(richEntry(1)))) as SchemaMismatchError).path).toBe('ticket');
    const relaxed = await post(JSON.stringify({ type: 'object' }));
    expect(decodeWireMessage(await encoder.encodeValue(richEntry(1))).schemaId).toBe(relaxed.id);
  });
});

describe('errors', () => {
  it('a registry that cannot be reached gives retriable REGISTRY errors; a resolved encoder keeps encoding', async () => {
    const outage = await startRegistry();
    await registerKongSchemas({ url: outage.url }, { type: 'AVRO', subject: 'o-value' });
    const warm = createRegistryEncoder({ url: outage.url, valueSchema: { subject: 'o-value', version: 'latest' } });
    const cold = createRegistryEncoder({ url: outage.url, valueSchema: { subject: 'o-value', version: 'latest' } });
    encoders.push(warm, cold);
    await warm.encodeValue(richEntry(1));
    await outage.stop();
    const error = await caught(cold.encodeValue(richEntry(1)));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.code).toBe(ErrorCodes.REGISTRY);
    expect(error.retriable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    await expect(warm.encodeValue(richEntry(2))).resolves.toBeInstanceOf(Buffer);
    await outage.start();
    await expect(cold.encodeValue(richEntry(3))).resolves.toBeInstanceOf(Buffer);
    await outage.close();
  });

  it('an unknown subject is a non-retriable REGISTRY error with Confluent error code 40401', async () => {
    const error = (await caught(encoderFor('missing-value').encodeValue(richEntry(1)))) as RegistryError;
    expect(error.code).toBe(ErrorCodes.REGISTRY);
    expect(error.retriable).toBe(false);
    expect(error.status).toBe(404);
    expect(error.registryErrorCode).toBe(40401);
  });
});

describe('authentication', () => {
  it('basic: works with the right password; a wrong one is a non-retriable 401 that never shows the password', async () => {
    const secured = await startRegistry({ basicAuth: { username: 'sr-user', password: 's3cret-Pa55' } });
    await registerKongSchemas({ url: secured.url, auth: { mode: 'basic', username: 'sr-user', password: 's3cret-Pa55' } }, { type: 'JSON', subject: 'b-value' });
    const good = createRegistryEncoder({ url: secured.url, auth: { mode: 'basic', username: 'sr-user', password: 's3cret-Pa55' }, valueSchema: { subject: 'b-value', version: 'latest' } });
    const bad = createRegistryEncoder({ url: secured.url, auth: { mode: 'basic', username: 'sr-user', password: 'wrong-Pa55' }, valueSchema: { subject: 'b-value', version: 'latest' } });
    encoders.push(good, bad);
    await expect(good.encodeValue(richEntry(1))).resolves.toBeInstanceOf(Buffer);
    const error = (await caught(bad.encodeValue(richEntry(1)))) as RegistryError;
    expect(error.status).toBe(401);
    expect(error.retriable).toBe(false);
    expect(`${error.message} ${JSON.stringify(error)} ${String(error.cause)}`).not.toContain('wrong-Pa55');
    await secured.close();
  });

  it('oauth2: fetches a client-credentials token and sends the Confluent Cloud headers; a bad secret never shows', async () => {
    const secured = await startRegistry({ oauth2: { clientId: 'kl-client', clientSecret: 'cl1ent-S3cret' }, confluentCloudHeaders: true });
    const auth = {
      mode: 'oauth2' as const,
      tokenEndpoint: `${secured.url}/oauth/token`,
      clientId: 'kl-client',
      clientSecret: 'cl1ent-S3cret',
      identityPoolId: 'pool-1',
      logicalClusterId: 'lsrc-1',
    };
    await registerKongSchemas({ url: secured.url, auth }, { type: 'PROTOBUF', subject: 'o-value' });
    const encoder = createRegistryEncoder({ url: secured.url, auth, valueSchema: { subject: 'o-value', version: 'latest' } });
    const bad = createRegistryEncoder({ url: secured.url, auth: { ...auth, clientSecret: 'n0t-the-S3cret' }, valueSchema: { subject: 'o-value', version: 'latest' } });
    encoders.push(encoder, bad);
    await expect(encoder.encodeValue(richEntry(1))).resolves.toBeInstanceOf(Buffer);
    const error = (await caught(bad.encodeValue(richEntry(1)))) as RegistryError;
    expect(error.code).toBe(ErrorCodes.REGISTRY);
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('invalid_client');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('n0t-the-S3cret');
    await secured.close();
  });
});
