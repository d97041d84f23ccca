// A schema the registry refuses as incompatible (HTTP 409): registerKongSchemas rejects with a typed
// SchemaIncompatibleError and registers nothing, against the TEST registry enforcing the subject's compatibility
// level; and a publisher whose registry answers 409 to a lookup drops the entries as `registry`, counted.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { ErrorCodes, RegistryError, SchemaIncompatibleError } from '../../src/errors.js';
import type { DropEvent } from '../../src/publisher/events.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { registerKongSchemas } from '../../src/registry/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { caught } from '../support/caught.js';
import { richEntry, startRegistry } from '../support/test-registry.js';

let registry: TestRegistry;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.close();
});

async function post(path: string, body: unknown, method = 'POST'): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const versions = async (subject: string) => (await (await fetch(`${registry.url}/subjects/${subject}/versions`)).json()) as number[];

describe('registerKongSchemas against a subject whose earlier version the Kong schema cannot follow', () => {
  it.each([
    // Avro: the Kong record cannot read data of a record of another name (no alias).
    ['AVRO', { schema: JSON.stringify({ type: 'record', name: 'Legacy', fields: [{ name: 'line', type: 'string' }] }) }, 'no alias found'],
    // JSON Schema: the earlier version accepted any document; the Kong schema does not.
    ['JSON', { schema: JSON.stringify(true), schemaType: 'JSON' }, 'constrained where it accepted anything'],
    // Protobuf: the earlier KongLogEntry gave field 1 another type.
    [
      'PROTOBUF',
      { schema: 'syntax = "proto3"; package kafka_log.kong.v1; message KongLogEntry { int64 request = 1; }', schemaType: 'PROTOBUF' },
      'field 1: int64 became',
    ],
  ] as const)('%s: a SchemaIncompatibleError (409) naming the subject and the reason; nothing registered', async (type, earlier, reason) => {
    const subject = `legacy-${type.toLowerCase()}-value`;
    expect(await post(`/subjects/${subject}/versions`, earlier)).toMatchObject({ status: 200 });

    const error = await caught(registerKongSchemas({ url: registry.url }, { type, subject }));
    expect(error).toBeInstanceOf(SchemaIncompatibleError);
    expect(error).toMatchObject({ code: ErrorCodes.SCHEMA_INCOMPATIBLE, retriable: false, subject });
    expect(error.message).toContain(`subject "${subject}"`);
    expect(error.message).toContain(reason);
    expect(error.cause).toBeInstanceOf(RegistryError);
    expect(error.cause).toMatchObject({ status: 409, registryErrorCode: 409, retriable: false });
    expect(await versions(subject)).toEqual([1]);

    // The refusal is the subject's level at work: with NONE the same call registers a second version.
    await post(`/config/${subject}`, { compatibility: 'NONE' }, 'PUT');
    const { id } = await registerKongSchemas({ url: registry.url }, { type, subject });
    expect(id).toEqual(expect.any(Number));
    expect(await versions(subject)).toEqual([1, 2]);
  });

  it('any other refusal stays a RegistryError (the code callers already handle)', async () => {
    const error = await caught(registerKongSchemas({ url: `${registry.url}/no-such-prefix` }, { type: 'AVRO', subject: 'x-value' }));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: ErrorCodes.REGISTRY, status: 404 });
  });
});

describe('a registry answering 409 to the publisher\'s schema lookup', () => {
  it('drops the entries as `registry`, counted, with the 409 in the drop event', async () => {
    let asked = 0;
    const conflicted = http.createServer((req, res) => {
      asked += 1;
      req.resume();
      res.writeHead(409, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify({ error_code: 409, message: 'conflict' }));
    });
    await new Promise<void>((resolve) => conflicted.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(conflicted.address() as AddressInfo).port}`;
    const produced: unknown[] = [];
    const transport: Transport = { connect: async () => {}, produce: async (request) => void produced.push(request), close: async () => {} };
    const publisher = new KafkaLogPublisher({
      brokers: ['127.0.0.1:9'],
      topic: 'logs',
      transport: () => transport,
      logLevel: 'silent',
      flushTimeout: 0,
      schemaRegistry: { url, valueSchema: { subject: 'logs-value', version: 'latest' } },
    });
    const drops: DropEvent[] = [];
    publisher.on('publisher.drop', (event) => drops.push(event));
    try {
      publisher.publish(richEntry(0));
      publisher.publish(richEntry(1));
      await publisher.flush();
      await publisher.close();
      const stats = publisher.stats();
      expect(stats).toMatchObject({ accepted: 2, sent: 0, buffered: 0, inFlight: 0, dropped: { total: 2, byReason: { registry: 2 } } });
      expect(produced).toEqual([]);
      expect(asked).toBeGreaterThan(0);
      expect(drops.map((d) => d.reason)).toEqual(drops.map(() => 'registry'));
      expect(drops.reduce((sum, d) => sum + d.count, 0)).toBe(2);
      expect(drops[0]?.error?.cause).toMatchObject({ code: ErrorCodes.REGISTRY, status: 409, retriable: false });
    } finally {
      await new Promise<void>((resolve) => conflicted.close(() => resolve()));
    }
  });
});
