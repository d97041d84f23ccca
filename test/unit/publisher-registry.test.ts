// The publisher's schema-registry wiring without a broker: option validation (camelCase and Kong's block), the
// queue keeping entries (bytes estimated by their JSON), registry secrets stripped from every error, and keys
// left as routed when no key schema is set. The TEST registry serves the schemas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import { ErrorCodes, InvalidOptionError } from '../../src/errors.js';
import type { DropEvent } from '../../src/publisher/events.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { decodeWireMessage, registerKongSchemas } from '../../src/registry/index.js';
import type { ProduceRequest, Transport, TransportFactory } from '../../src/transport/transport.js';
import { richEntry, startRegistry } from '../support/test-registry.js';

let registry: TestRegistry;
const PASSWORD = 'registry-pass-7c1e';

beforeAll(async () => {
  registry = await startRegistry();
  await registerKongSchemas({ url: registry.url }, { type: 'JSON', subject: 'logs-value' });
});

afterAll(async () => {
  await registry?.close();
});

function setup(options: Partial<KafkaLogPublisherOptions>, answer: (request: ProduceRequest) => Promise<void> = async () => {}) {
  const requests: ProduceRequest[] = [];
  const transport: Transport = {
    connect: async () => {},
    produce: async (request) => {
      await answer(request);
      requests.push(request);
    },
    close: async () => {},
  };
  const factory: TransportFactory = () => transport;
  const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9'], topic: 'logs', transport: factory, logLevel: 'silent', flushTimeout: 0, ...options });
  return { publisher, requests };
}

describe('schemaRegistry option', () => {
  it('is validated at construction, naming the field (camelCase and Kong paths)', () => {
    const construct = (schemaRegistry: unknown) => () =>
      new KafkaLogPublisher({ brokers: ['127.0.0.1:9'], topic: 'logs', schemaRegistry } as KafkaLogPublisherOptions);
    expect(construct({ valueSchema: { subject: 's' } })).toThrow(expect.objectContaining({ field: 'schemaRegistry.url' }));
    expect(construct({ url: 'http://127.0.0.1:1', valueSchema: { subject: '' } })).toThrow(
      expect.objectContaining({ field: 'schemaRegistry.valueSchema.subject' }),
    );
    expect(construct({ confluent: { url: 'http://127.0.0.1:1', ttl: 9999, value_schema: { subject_name: 's' } } })).toThrow(
      expect.objectContaining({ field: 'schema_registry.confluent.ttl' }),
    );
    expect(construct({ confluent: { url: 'ftp://x', value_schema: { subject_name: 's' } } })).toThrow(InvalidOptionError);
    expect(construct('http://127.0.0.1:1')).toThrow(expect.objectContaining({ field: 'schemaRegistry' }));
  });

  it('Kong\'s block without a confluent registry means plain JSON values', async () => {
    const { publisher, requests } = setup({ schemaRegistry: { confluent: null } as unknown as KafkaLogPublisherOptions['schemaRegistry'] });
    const entry = richEntry(0);
    publisher.publish(entry);
    await publisher.close();
    expect(requests.flatMap((r) => r.records.map((m) => m.value.toString()))).toEqual([serializeLogEntry(entry)]);
  });
});

describe('with a registry', () => {
  it('queues entries (bytes estimated by their JSON), one message per entry whatever maxBatchSize, encoded at request time', async () => {
    const { publisher, requests } = setup({
      schemaRegistry: { url: registry.url, valueSchema: { subject: 'logs-value', version: 'latest' } },
      maxBatchSize: 5,
      flushTimeout: 60_000,
      maxCoalescingDelay: 60_000,
    });
    const entries = [richEntry(0), richEntry(1), richEntry(2)];
    for (const entry of entries) publisher.publish(entry, { key: Buffer.from([0xff, 0x00]) });
    expect(publisher.stats().bufferedBytes).toBe(entries.reduce((sum, e) => sum + Buffer.byteLength(serializeLogEntry(e)), 0));
    expect(requests).toHaveLength(0);
    await publisher.flush();
    await publisher.close();
    const records = requests.flatMap((r) => r.records);
    expect(records).toHaveLength(3);
    for (const [i, record] of records.entries()) {
      const wire = decodeWireMessage(record.value);
      expect(JSON.parse(Buffer.from(wire.payload).toString())).toEqual(JSON.parse(serializeLogEntry(entries[i] as never)));
      // no key schema: the routed key bytes are sent as they are
      expect(record.key).toEqual(Buffer.from([0xff, 0x00]));
    }
    expect(publisher.stats()).toMatchObject({ accepted: 3, sent: 3, bytesSent: records.reduce((s, r) => s + r.value.length, 0) });
  });

  it('strips the registry password from errors, events and logs', async () => {
    const basic = Buffer.from(`logger:${PASSWORD}`).toString('base64');
    const { publisher } = setup(
      {
        schemaRegistry: { url: registry.url, auth: { mode: 'basic', username: 'logger', password: PASSWORD }, valueSchema: { subject: 'logs-value', version: 1 } },
        logLevel: 'debug',
        maxRetryTime: 50,
      },
      async () => {
        throw new Error(`broker said no to ${PASSWORD} (Basic ${basic})`);
      },
    );
    const seen: string[] = [];
    publisher.on('publisher.drop', (event: DropEvent) => seen.push(event.error?.message ?? '', String(event.error?.cause)));
    publisher.on('publisher.log', (event) => seen.push(event.message));
    publisher.on('publisher.retry', (event) => seen.push(event.error.message));
    publisher.publish(richEntry(0));
    await publisher.flush();
    await publisher.close();
    expect(publisher.stats().dropped.total).toBe(1);
    expect(seen.join('\n')).toContain('[REDACTED]');
    expect(seen.join('\n')).not.toContain(PASSWORD);
    expect(seen.join('\n')).not.toContain(basic);
  });

  it('a subject the registry does not know drops as `registry`, not retried', async () => {
    const { publisher, requests } = setup({ schemaRegistry: { url: registry.url, valueSchema: { subject: 'missing-value', version: 'latest' } } });
    const drops: DropEvent[] = [];
    publisher.on('publisher.drop', (event) => drops.push(event));
    publisher.publish(richEntry(0));
    await publisher.flush();
    await publisher.close();
    expect(requests).toHaveLength(0);
    expect(publisher.stats()).toMatchObject({ accepted: 1, sent: 0, retried: 0, dropped: { byReason: { registry: 1 } } });
    expect(drops[0]?.error?.cause).toMatchObject({ code: ErrorCodes.REGISTRY, retriable: false });
  });
});
