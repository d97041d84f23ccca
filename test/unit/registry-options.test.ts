// Registry options: validation with field-named errors (never quoting secrets) and Kong's schema_registry block.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { fromKongSchemaRegistry, resolveRegistryOptions } from '../../src/registry/index.js';

function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return (error as InvalidOptionError).field;
  }
  throw new Error('expected InvalidOptionError');
}

const valueSchema = { subject: 'logs-value', version: 'latest' as const };

describe('resolveRegistryOptions', () => {
  it('applies the defaults', () => {
    expect(resolveRegistryOptions({ url: 'http://sr.test:8081/', valueSchema })).toEqual({
      url: 'http://sr.test:8081',
      auth: { mode: 'none' },
      valueSchema,
      keySchema: undefined,
      refreshIntervalMs: 300_000,
      sslVerify: true,
      requestTimeoutMs: 10_000,
    });
  });

  it('names the offending field', () => {
    expect(fieldOf(() => resolveRegistryOptions({ valueSchema }))).toBe('schemaRegistry.url');
    expect(fieldOf(() => resolveRegistryOptions({ url: 'ftp://sr.test', valueSchema }))).toBe('schemaRegistry.url');
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test' }))).toBe('schemaRegistry.valueSchema');
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema: { subject: 's', version: 0 } }))).toBe(
      'schemaRegistry.valueSchema.version',
    );
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema, keySchema: { version: 1 } }))).toBe('schemaRegistry.keySchema.subject');
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema, auth: { mode: 'kerberos' } }))).toBe('schemaRegistry.auth.mode');
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema, auth: { mode: 'basic', username: 'u' } }))).toBe(
      'schemaRegistry.auth.password',
    );
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema, refreshIntervalMs: -1 }))).toBe('schemaRegistry.refreshIntervalMs');
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema, sslVerify: 'no' }))).toBe('schemaRegistry.sslVerify');
    const oauth = { mode: 'oauth2', tokenEndpoint: 'http://idp.test/token', clientId: 'c', clientSecret: 's' };
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema, auth: { ...oauth, grantType: 'implicit' } }))).toBe(
      'schemaRegistry.auth.grantType',
    );
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://sr.test', valueSchema, auth: { ...oauth, grantType: 'password' } }))).toBe(
      'schemaRegistry.auth.username',
    );
  });

  it('refuses credentials in the URL and never quotes a secret', () => {
    expect(fieldOf(() => resolveRegistryOptions({ url: 'http://user:pa55word@sr.test', valueSchema }))).toBe('schemaRegistry.url');
    try {
      resolveRegistryOptions({ url: 'http://user:pa55word@sr.test', valueSchema });
    } catch (error) {
      expect((error as Error).message).not.toContain('pa55word');
    }
  });

  it('defaults OAuth scopes to openid and the grant to client_credentials', () => {
    const resolved = resolveRegistryOptions({
      url: 'https://sr.test',
      valueSchema,
      auth: { mode: 'oauth2', tokenEndpoint: 'https://idp.test/token', clientId: 'c', clientSecret: 's' },
    });
    expect(resolved.auth).toMatchObject({ mode: 'oauth2', scopes: ['openid'], grantType: 'client_credentials' });
  });
});

describe('fromKongSchemaRegistry', () => {
  it('maps Kong\'s schema_registry.confluent block, ttl in seconds', () => {
    const options = fromKongSchemaRegistry({
      confluent: {
        url: 'https://sr.test',
        ssl_verify: false,
        ttl: 60,
        authentication: {
          mode: 'oauth2',
          oauth2: {
            token_endpoint: 'https://idp.test/token',
            client_id: 'kong',
            client_secret: 'secret',
            grant_type: 'client_credentials',
            audience: ['sr', 'kafka'],
            identity_pool_id: 'pool-1',
            logical_cluster_id: 'lsrc-1',
          },
        },
        value_schema: { subject_name: 'logs-value', schema_version: 'latest' },
        key_schema: { subject_name: 'logs-key', schema_version: '3' },
      },
    });
    expect(options).toEqual({
      url: 'https://sr.test',
      sslVerify: false,
      refreshIntervalMs: 60_000,
      auth: {
        mode: 'oauth2',
        tokenEndpoint: 'https://idp.test/token',
        clientId: 'kong',
        clientSecret: 'secret',
        grantType: 'client_credentials',
        scopes: ['openid'],
        audience: 'sr kafka',
        identityPoolId: 'pool-1',
        logicalClusterId: 'lsrc-1',
      },
      valueSchema: { subject: 'logs-value', version: 'latest' },
      keySchema: { subject: 'logs-key', version: 3 },
    });
    expect(() => resolveRegistryOptions(options)).not.toThrow();
  });

  it('maps basic auth, gives undefined without a confluent block, and checks ttl', () => {
    expect(
      fromKongSchemaRegistry({
        confluent: { url: 'http://sr.test', authentication: { mode: 'basic', basic: { username: 'u', password: 'p' } }, value_schema: { subject_name: 'v' } },
      }),
    ).toEqual({ url: 'http://sr.test', sslVerify: true, auth: { mode: 'basic', username: 'u', password: 'p' }, valueSchema: { subject: 'v', version: 'latest' } });
    expect(fromKongSchemaRegistry({})).toBeUndefined();
    expect(fromKongSchemaRegistry(null)).toBeUndefined();
    expect(fieldOf(() => fromKongSchemaRegistry({ confluent: { url: 'http://sr.test', ttl: 7200, value_schema: { subject_name: 'v' } } }))).toBe(
      'schema_registry.confluent.ttl',
    );
    expect(fieldOf(() => fromKongSchemaRegistry({ confluent: { url: 'http://sr.test' } }))).toBe('schema_registry.confluent.value_schema');
  });
});
