// The publisher's schema-registry wiring without a broker: option validation (camelCase and Kong's block), the
// queue holding the bytes it sends (JSON until the schema is known, then the wire format), registry secrets stripped from every error, and keys
// left as routed when no key schema is set. The TEST registry serves the schemas.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestRegistry } from '../../scripts/local-registry.mjs';
import { serializeLogEntry } from '../../src/entry/serialize.js';
import { ErrorCodes, InvalidOptionError } from '../../src/errors.js';
import type { DropEvent } from '../../src/publisher/events.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
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
  it('queues the bytes it sends: JSON until the schema is known, then the wire format encoded at publish; one message per entry', async () => {
    const { publisher, requests } = setup({
      schemaRegistry: { url: registry.url, valueSchema: { subject: 'logs-value', version: 'latest' } },
      maxBatchSize: 5,
      flushTimeout: 60_000,
      maxCoalescingDelay: 60_000,
    });
    const key = Buffer.from([0xff, 0x00]);
    const entries = [richEntry(0), richEntry(1), richEntry(2), richEntry(3), richEntry(4)];
    // The schema is not resolved yet: the first entries wait as their JSON (and key), counted exactly.
    for (const entry of entries.slice(0, 3)) publisher.publish(entry, { key });
    const json = entries.slice(0, 3).reduce((sum, e) => sum + Buffer.byteLength(serializeLogEntry(e)) + key.length, 0);
    expect(publisher.stats().bufferedBytes).toBe(json);
    await publisher.connect(); // resolves the schema
    for (const entry of entries.slice(3)) publisher.publish(entry, { key });
    const buffered = publisher.stats().bufferedBytes;
    expect(requests).toHaveLength(0);
    await publisher.flush();
    await publisher.close();
    const records = requests.flatMap((r) => r.records);
    expect(records).toHaveLength(5);
    // the last two were queued as the very bytes sent
    expect(buffered - json).toBe(records.slice(3).reduce((sum, r) => sum + r.value.length + key.length, 0));
    for (const [i, record] of records.entries()) {
      const wire = decodeWireMessage(record.value);
      expect(JSON.parse(Buffer.from(wire.payload).toString())).toEqual(JSON.parse(serializeLogEntry(entries[i] as never)));
      // no key schema: the routed key bytes are sent as they are
      expect(record.key).toEqual(key);
    }
    expect(publisher.stats()).toMatchObject({ accepted: 5, sent: 5, bytesSent: records.reduce((s, r) => s + r.value.length, 0) });
  });

  it('a registry unreachable at start: entries wait within maxBytes (counted drops beyond), every step balanced', async () => {
    const size = Buffer.byteLength(serializeLogEntry(richEntry(0)));
    const { publisher, requests } = setup({
      schemaRegistry: { url: 'http://127.0.0.1:1', valueSchema: { subject: 'logs-value', version: 'latest' }, requestTimeoutMs: 500 },
      maxBytes: size * 3 + 100,
      flushTimeout: 60_000,
      maxRetryTime: 100,
      initialRetryDelay: 20,
    });
    const balanced = () => {
      const s = publisher.stats();
      return s.accepted === s.sent + s.dropped.total + s.buffered + s.inFlight;
    };
    for (let i = 0; i < 10; i++) {
      publisher.publish(richEntry(i));
      expect(balanced()).toBe(true);
      expect(publisher.stats().bufferedBytes).toBeLessThanOrEqual(size * 3 + 100);
    }
    expect(publisher.stats()).toMatchObject({ buffered: 3, dropped: { byReason: { queue_full_bytes: 7 } } });
    await publisher.flush();
    await publisher.close();
    expect(requests).toHaveLength(0);
    expect(publisher.stats()).toMatchObject({ accepted: 10, sent: 0, buffered: 0, inFlight: 0, dropped: { total: 10, byReason: { retry_time_exceeded: 3 } } });
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
