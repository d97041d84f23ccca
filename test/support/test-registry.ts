// Helpers of the registry tests: a started TEST registry, a Kong entry that exercises every open map, and the
// normalisation from what a schema-aware decoder returns back to Kong's plain entry.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { TestRegistry, TestRegistryOptions } from '../../scripts/local-registry.mjs';

/** The Avro logical type `json` of kafka-log's schema (any JSON value as JSON text), for the kafkajs client. */
class JsonText extends avsc.types.LogicalType {
  protected override _fromValue(text: string): unknown {
    return JSON.parse(text);
  }
  protected override _toValue(value: unknown): string | undefined {
    return value === null ? undefined : JSON.stringify(value);
  }
}

/** Confluent's kafkajs registry client, able to read kafka-log's Avro `json` fields: the tests' independent decoder. */
export function independentRegistryClient(url: string): SchemaRegistry {
  return new SchemaRegistry({ host: url }, { [SchemaType.AVRO]: { logicalTypes: { json: JsonText } } });
}

/** Starts the test registry (dynamic import: the script is ESM, tests may compile as CommonJS). */
export async function startRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const { startTestRegistry } = await import('../../scripts/local-registry.mjs');
  return startTestRegistry(options);
}

/** A Kong entry with every field, repeated headers, a mixed querystring, nested body_args and a custom field. */
export function richEntry(i = 0): LogEntry {
  return {
    request: {
      id: `req-${i}`,
      uri: `/api/items/${i}?tag=a&tag=b&debug&q=x`,
      url: `https://gw.example.test:8443/api/items/${i}?tag=a&tag=b&debug&q=x`,
      querystring: { tag: ['a', 'b'], debug: true, q: 'x' },
      method: 'POST',
      headers: { host: 'gw.example.test', 'x-forwarded-for': ['203.0.113.7', '10.0.0.1'], authorization: 'REDACTED' },
      size: 321,
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', client_verify: 'NONE' },
      body: '{"order":{"qty":2,"items":["x",{"deep":[true,null]}]},"note":"é"}',
      body_args: { order: { qty: 2, items: ['x', { deep: [true, null] }] }, note: 'é' },
    },
    upstream_uri: `/items/${i}`,
    upstream_status: '200',
    response: { status: 200, headers: { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] }, size: 400 },
    latencies: { request: 25, proxy: 20, kong: 4, receive: 1 },
    tries: [{ ip: '10.0.0.5', port: 8080, balancer_latency: 0, balancer_start: 1795000000001 }],
    authenticated_entity: { id: 'cred-9', consumer_id: 'c-1' },
    route: { id: 'r-1', name: 'items', paths: ['/api/items'], strip_path: false, headers: { 'x-env': ['prod'] } },
    service: { id: 's-1', name: 'items-svc', host: 'items.internal', port: 8080, protocol: 'http' },
    consumer: { id: 'c-1', username: 'ada' },
    client_ip: '203.0.113.9',
    started_at: 1795000000000 + i,
    source: 'upstream',
    workspace: 'ws-1',
    workspace_name: 'default',
    trace_id: {
      w3c: '0af7651916cd43dd8448eb211c80319c',
      b3: '8448eb211c80319c',
      jaeger: '0af7651916cd43dd8448eb211c80319c',
      ot: '8448eb211c80319c',
      datadog: '9532127138774266268',
      aws: '0af7651916cd43dd8448eb211c80319c',
      gcp: '0af7651916cd43dd8448eb211c80319c',
      instana: '0af7651916cd43dd8448eb211c80319c',
    },
    correlation_id: 'corr-7',
    tenant: { id: 't-1', tier: 'gold' },
  };
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== null && item !== undefined) out[key] = withoutNulls(item);
  return out;
}

/**
 * Back from the Avro shape to Kong's: absent optionals decode as null (dropped here, only at record level, so
 * JSON nulls inside body_args stay), `custom` is lifted to the top level, JSON-text fields parsed when a decoder
 * left them as text.
 */
export function fromAvroShape(decoded: Record<string, unknown>): Record<string, unknown> {
  const { custom, ...rest } = decoded as { custom?: Record<string, unknown> } & Record<string, unknown>;
  const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
  const request = { ...(rest.request as Record<string, unknown>) };
  const response = { ...(rest.response as Record<string, unknown>) };
  const bodyArgs = { request: request.body_args, response: response.body_args };
  const entry = withoutNulls({ ...rest, request, response }) as Record<string, unknown>;
  if (bodyArgs.request !== null && bodyArgs.request !== undefined) (entry.request as Record<string, unknown>).body_args = parse(bodyArgs.request);
  if (bodyArgs.response !== null && bodyArgs.response !== undefined) (entry.response as Record<string, unknown>).body_args = parse(bodyArgs.response);
  for (const [key, value] of Object.entries(custom ?? {})) entry[key] = parse(value);
  return entry;
}

/** Plain JSON copy (drops undefined, the way a JSON consumer sees an entry). */
export function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
