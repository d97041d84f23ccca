import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { KONG_OPTION_MAP, fromKongConfig } from '../../src/publisher/kong-config.js';
import { PUBLISHER_DEFAULTS, resolvePublisherOptions } from '../../src/publisher/options.js';

const fixture = JSON.parse(readFileSync(path.resolve('test/fixtures/kong-config/full-3.16.json'), 'utf8'));
const certificates = { '6f3e8a52-8d34-4c4e-9d1a-0b1c2d3e4f50': { cert: 'CERT PEM', key: 'KEY PEM' } };
const minimal = { bootstrap_servers: [{ host: 'localhost', port: 9092 }], topic: 'logs' };

function refusal(config: unknown, extras = {}): InvalidOptionError {
  try {
    fromKongConfig(config, extras);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}

describe('fromKongConfig', () => {
  it('converts a full Kong 3.16 plugin object, every field', () => {
    const options = fromKongConfig(fixture, { certificates });
    expect(options).toMatchObject({
      brokers: [
        { host: '127.0.0.1', port: 9092 },
        { host: 'kafka-2.internal', port: 9093 },
      ],
      topic: 'kong-logs',
      timeout: 15000,
      keepalive: 30000,
      keepaliveEnabled: true,
      authentication: { mechanism: 'SCRAM-SHA-512', username: 'logger', password: 'logger-password', tokenAuth: false },
      tls: { enabled: true, verify: true, cert: 'CERT PEM', key: 'KEY PEM' },
      clientId: 'edge-gateway',
      compression: 'lz4',
      keyQueryArg: 'tenant',
      acks: -1,
      requestTimeout: 3000,
      maxMessagesPerRequest: 500,
      maxBytesPerRequest: 2097152,
      maxRequestRetries: 5,
      retryBackoff: 250,
      async: false,
      flushTimeout: 500,
      maxBufferedMessages: 20000,
      customFields: { 'service.tier': "return 'gold'", 'request.headers.cookie': 'return nil' },
      schemaRegistry: fixture.config.schema_registry,
      maxBatchSize: 10,
      maxCoalescingDelay: 500,
      maxEntries: 5000,
      maxBytes: 4194304,
      initialRetryDelay: 20,
      maxRetryTime: 30000,
      maxRetryDelay: 5000,
      concurrencyLimit: 1,
    });
    // and the publisher accepts what it returns
    expect(resolvePublisherOptions(options).brokers).toEqual(['127.0.0.1:9092', 'kafka-2.internal:9093']);
  });

  it('applies Kong defaults to a minimal config (config alone, no plugin wrapper)', () => {
    const options = fromKongConfig(minimal);
    const d = PUBLISHER_DEFAULTS;
    expect(options).toMatchObject({
      timeout: 10000,
      keepalive: 60000,
      keepaliveEnabled: false,
      compression: 'none',
      acks: 1,
      requestTimeout: 2000,
      maxMessagesPerRequest: 200,
      maxBytesPerRequest: 1048576,
      maxRequestRetries: 10,
      retryBackoff: 100,
      async: true,
      flushTimeout: 1000,
      maxBufferedMessages: 50000,
      maxBatchSize: 1,
      maxCoalescingDelay: 1000,
      maxEntries: 10000,
      initialRetryDelay: 10,
      maxRetryTime: 60000,
      maxRetryDelay: 60000,
      concurrencyLimit: d.concurrencyLimit,
    });
    expect(options.authentication).toBeUndefined();
    expect(options.tls).toBeUndefined();
  });

  it('treats nulls as unset, new_kafka_async_producer as a no-op and accepts zstd', () => {
    const options = fromKongConfig({
      ...minimal,
      key_query_arg: null,
      cluster_name: null,
      authentication: { strategy: null, mechanism: null, user: null, password: null, tokenauth: null, oauthbearer: null },
      security: { ssl: null, ssl_verify: true, certificate_id: null },
      new_kafka_async_producer: true,
      compression_type: 'zstd',
      queue: { concurrency_limit: -1 },
    });
    expect(options.keyQueryArg).toBeUndefined();
    expect(options.authentication).toBeUndefined();
    expect(options.tls).toBeUndefined();
    expect(options.compression).toBe('zstd');
    expect(options.concurrencyLimit).toBe(64);
  });

  it('converts OAUTHBEARER settings', () => {
    const options = fromKongConfig({
      ...minimal,
      authentication: {
        strategy: 'sasl',
        mechanism: 'OAUTHBEARER',
        oauthbearer: {
          token_endpoint_url: 'https://idp.invalid/token',
          client_id: 'id',
          client_secret: 'secret',
          scopes: ['kafka'],
          extensions: { logicalCluster: 'lkc-1' },
        },
      },
    });
    expect(options.authentication).toEqual({
      mechanism: 'OAUTHBEARER',
      oauthBearer: {
        tokenEndpointUrl: 'https://idp.invalid/token',
        clientId: 'id',
        clientSecret: 'secret',
        scopes: ['kafka'],
        extensions: { logicalCluster: 'lkc-1' },
        tokenEndpointTlsVerify: true,
      },
    });
  });

  it.each([
    [{ ...fixture, name: 'http-log' }, 'name'],
    [{ config: { ...fixture.config, topic: undefined } }, 'config.topic'],
    [{ topic: 'x' }, 'bootstrap_servers'],
    [{ ...minimal, bootstrap_servers: [{ host: 'h', port: 70000 }] }, 'bootstrap_servers[0].port'],
    [{ ...minimal, producer_request_acks: 2 }, 'producer_request_acks'],
    [{ ...minimal, compression_type: 'brotli' }, 'compression_type'],
    [{ ...minimal, timeout: 'soon' }, 'timeout'],
    [{ ...minimal, producer_async: 'yes' }, 'producer_async'],
    [{ ...minimal, producer_request_limits_messages_per_request: 0 }, 'producer_request_limits_messages_per_request'],
    [{ ...minimal, unknown_option: 1 }, 'unknown_option'],
    [{ ...minimal, security: { ssl: true, ssl_verify: 'no' } }, 'security.ssl_verify'],
    [{ ...minimal, security: { ssl: true, certificate_id: 'nope' } }, 'security.certificate_id'],
    [{ ...minimal, security: { tls: true } }, 'security.tls'],
    [{ ...minimal, authentication: { strategy: 'basic', mechanism: 'PLAIN' } }, 'authentication.strategy'],
    [{ ...minimal, authentication: { strategy: 'sasl' } }, 'authentication.mechanism'],
    [{ ...minimal, authentication: { strategy: 'sasl', mechanism: 'GSSAPI' } }, 'authentication.mechanism'],
    [{ ...minimal, authentication: { strategy: 'sasl', mechanism: 'PLAIN', password: 'p' } }, 'authentication.user'],
    [
      { ...minimal, authentication: { strategy: 'sasl', mechanism: 'OAUTHBEARER', oauthbearer: { client_id: 'a' } } },
      'authentication.oauthbearer.token_endpoint_url',
    ],
    [{ ...minimal, custom_fields_by_lua: { a: 1 } }, 'custom_fields_by_lua.a'],
    [{ ...minimal, queue: { max_coalescing_delay: -1 } }, 'queue.max_coalescing_delay'],
    [{ ...minimal, queue: { max_batch_size: 0 } }, 'queue.max_batch_size'],
    [{ ...minimal, queue: { flush: 1 } }, 'queue.flush'],
  ])('rejects bad config #%# with a field-named error', (config, field) => {
    const error = refusal(config, { certificates });
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('prefixes paths with config. when given the plugin object', () => {
    const error = refusal({ name: 'kafka-log', config: { ...minimal, producer_request_acks: 5 } });
    expect(error.field).toBe('config.producer_request_acks');
  });

  it('never echoes a password in an error', () => {
    const error = refusal({ ...minimal, authentication: { strategy: 'sasl', mechanism: 'PLAIN', user: 'u', password: 7 } });
    expect(error.field).toBe('authentication.password');
    expect(error.message).not.toContain('7');
  });

  it('lets overrides add functions and keeps their camelCase names in errors', () => {
    const key = () => 'k';
    expect(fromKongConfig(minimal, { overrides: { key } }).key).toBe(key);
    const error = refusal(minimal, { overrides: { flushTimeout: -5 } });
    expect(error.field).toBe('flushTimeout');
  });

  it('maps every Kong field of the fixture', () => {
    const mapped = new Set(KONG_OPTION_MAP.map((row) => row.kong.split('.')[0]));
    for (const field of Object.keys(fixture.config)) {
      if (field === 'new_kafka_async_producer' || field === 'security' || field === 'queue') continue;
      expect(mapped.has(field), field).toBe(true);
    }
  });
});
