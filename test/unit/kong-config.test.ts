import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { ruleAt } from '../../src/options/check.js';
import { KONG_OPTION_MAP, PUBLISHER_OPTIONS_TABLE, fromKongConfig } from '../../src/publisher/kong-plugin-config.js';
import { PUBLISHER_DEFAULTS, PUBLISHER_OPTIONS, resolvePublisherOptions } from '../../src/publisher/publisher-options.js';

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

describe('fromKongConfig: Kong\'s schema', () => {
  function problemsOf(config: unknown, extras = {}): Array<{ field: string; problem: string }> {
    return [...refusal(config, extras).problems];
  }

  it('reports every problem at once, each by Kong\'s name, with the nearest field for a typo', () => {
    const problems = problemsOf({
      name: 'kafka-log',
      config: { bootstrap_servers: [{ host: 'h' }], topik: 'logs', producer_request_acks: 2, queue: { max_batch_size: 0 } },
    });
    expect(problems).toEqual([
      { field: 'config.topik', problem: 'unknown option; did you mean "topic"?' },
      { field: 'config.bootstrap_servers[0].port', problem: 'is required' },
      { field: 'config.topic', problem: 'is required' },
      { field: 'config.producer_request_acks', problem: 'must be one of -1, 0, 1, got 2' },
      { field: 'config.queue.max_batch_size', problem: 'must be an integer from 1 to 1000000, got 0' },
    ]);
    const error = refusal({ ...minimal, topik: 'x' });
    expect(error.field).toBe('topik');
    expect(error.problem).toBe('unknown option; did you mean "topic"?');
    expect(error.message).toBe('invalid option "topik": unknown option; did you mean "topic"?');
  });

  it.each([
    [{ queue: { max_batch_size: 1_000_001 } }, 'queue.max_batch_size', 'must be an integer from 1 to 1000000, got 1000001'],
    [{ queue: { max_entries: 0 } }, 'queue.max_entries', 'must be an integer from 1 to 1000000, got 0'],
    [{ queue: { max_coalescing_delay: 3601 } }, 'queue.max_coalescing_delay', 'must be a number from 0 to 3600, got 3601'],
    [{ queue: { initial_retry_delay: 0 } }, 'queue.initial_retry_delay', 'must be a number from 0.001 to 1000000, got 0'],
    [{ queue: { max_retry_delay: 0 } }, 'queue.max_retry_delay', 'must be a number from 0.001 to 1000000, got 0'],
    [{ queue: { max_retry_time: -1 } }, 'queue.max_retry_time', 'must be a number >= 0, got -1'],
    [{ queue: { concurrency_limit: 4 } }, 'queue.concurrency_limit', 'must be one of 1, -1, got 4'],
    [{ topic: '' }, 'topic', 'must be a non-empty string, got ""'],
    [{ cluster_name: '' }, 'cluster_name', 'must be a non-empty string, got ""'],
    [{ authentication: { strategy: 'sasl', mechanism: 'GSSAPI' } }, 'authentication.mechanism', 'must be one of "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", got "GSSAPI"'],
    [{ bootstrap_servers: [{ host: 'h', port: 9092, tls: true }] }, 'bootstrap_servers[0].tls', 'unknown option'],
    [{ custom_fields_by_lua: { region: '' } }, 'custom_fields_by_lua.region', 'must be a non-empty string, got ""'],
  ])('enforces Kong\'s limits #%#, naming Kong\'s field', (change, field, problem) => {
    expect(problemsOf({ ...minimal, ...change })).toEqual([{ field, problem }]);
  });

  it('takes Kong\'s bounds themselves', () => {
    const options = fromKongConfig({
      ...minimal,
      queue: { max_batch_size: 1_000_000, max_coalescing_delay: 3600, initial_retry_delay: 0.001, max_retry_delay: 0.001, max_entries: 1 },
    });
    expect(options).toMatchObject({ maxBatchSize: 1_000_000, maxCoalescingDelay: 3_600_000, initialRetryDelay: 1, maxRetryDelay: 1, maxEntries: 1 });
  });

  it('checks the schema_registry block by Kong\'s names: typos, limits, and Kong fields kafka-log does not support', () => {
    const registry = (confluent: Record<string, unknown>) => ({
      ...minimal,
      schema_registry: { confluent: { url: 'http://127.0.0.1:8081', value_schema: { subject_name: 'v' }, ...confluent } },
    });
    expect(problemsOf(registry({ ssl_verfy: false }))).toEqual([
      { field: 'schema_registry.confluent.ssl_verfy', problem: 'unknown option; did you mean "ssl_verify"?' },
    ]);
    expect(problemsOf(registry({ url: 'http://user:secret@127.0.0.1:8081' }))[0]?.field).toBe('schema_registry.confluent.url');
    expect(refusal(registry({ url: 'http://user:secret@127.0.0.1:8081' })).message).not.toContain('secret@');
    const oauth2 = (more: Record<string, unknown>) =>
      registry({ authentication: { mode: 'oauth2', oauth2: { token_endpoint: 'http://127.0.0.1:1/token', client_id: 'c', client_secret: 's', ...more } } });
    expect(problemsOf(oauth2({ token_headers: { 'x-a': 'b' } }))).toEqual([
      { field: 'schema_registry.confluent.authentication.oauth2.token_headers', problem: 'is not supported by kafka-log: extra token request headers' },
    ]);
    expect(() => fromKongConfig(oauth2({ token_headers: {}, token_post_args: null }))).not.toThrow();
    const client = (settings: Record<string, unknown>) =>
      registry({
        authentication: {
          mode: 'oauth2',
          oauth2: { token_endpoint: 'http://127.0.0.1:1/token', client_id: 'c', client_secret: 's' },
          oauth2_client: settings,
        },
      });
    expect(() => fromKongConfig(client({ auth_method: 'client_secret_post', http_version: 1.1, keep_alive: true, timeout: 10000 }))).not.toThrow();
    expect(problemsOf(client({ auth_method: 'client_secret_jwt' }))[0]?.field).toBe('schema_registry.confluent.authentication.oauth2_client.auth_method');
    // a missing client id is kafka-log's rule, named by Kong's field
    expect(problemsOf(registry({ authentication: { mode: 'oauth2', oauth2: { token_endpoint: 'http://127.0.0.1:1/t', client_secret: 's' } } }))).toEqual([
      { field: 'schema_registry.confluent.authentication.oauth2.client_id', problem: 'is required' },
    ]);
  });

  it('names only Kong fields for a Kong configuration (camelCase only for overrides)', () => {
    const configs: unknown[] = [
      { ...minimal, bootstrap_servers: [{ host: 'kafka://h', port: 1 }] },
      { ...minimal, security: { ssl: true, certificate_id: 'nope' } },
      { ...minimal, authentication: { strategy: 'sasl', mechanism: 'OAUTHBEARER' } },
      { ...minimal, authentication: { strategy: 'sasl', mechanism: 'OAUTHBEARER', oauthbearer: { token_endpoint_url: 'ftp://x', client_id: 'a', client_secret: 'b' } } },
      { ...minimal, queue: { initial_retry_delay: 5, max_retry_delay: 1 } },
      { ...minimal, producer_request_limits_bytes_per_request: 10 },
    ];
    const kongNames = new Set(KONG_OPTION_MAP.map((row) => row.kong.split('.')[0]));
    for (const config of configs) {
      for (const { field } of problemsOf({ name: 'kafka-log', config })) {
        expect(field.startsWith('config.'), field).toBe(true);
        expect(kongNames.has(field.slice('config.'.length).split(/[.[]/)[0] ?? ''), field).toBe(true);
      }
    }
  });

  it('maps every row of the options table onto a real option, and lists every publisher option', () => {
    for (const row of PUBLISHER_OPTIONS_TABLE) {
      for (const option of row.option?.split(' + ') ?? []) expect(ruleAt(PUBLISHER_OPTIONS, option), option).toBeDefined();
    }
    const listed = new Set(PUBLISHER_OPTIONS_TABLE.map((row) => row.option?.split('.')[0]));
    for (const option of Object.keys(PUBLISHER_OPTIONS)) expect(listed.has(option), option).toBe(true);
  });

  it('applies Kong\'s defaults from the table, which agree with the publisher\'s own (maxBytes aside: Kong has none)', () => {
    const options = fromKongConfig(minimal) as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(PUBLISHER_DEFAULTS)) {
      if (name in options) expect(options[name], name).toEqual(value);
    }
    expect(options.maxBytes).toBeUndefined();
  });
});
