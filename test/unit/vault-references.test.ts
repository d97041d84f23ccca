// Kong's vault references in a Kafka Log configuration: the env vault by Kong's naming rules (upper case, `-` as
// `_`, prefix, `#2` as _PREVIOUS, a key into a JSON secret), other vaults through a resolver or refused, references
// only in credential fields; resolved values join the secrets and appear in no error and no check-config output.
import { describe, expect, it } from 'vitest';
import { checkDocument, runCheckConfig } from '../../src/cli/check-config.js';
import { MASK } from '../../src/cli/mask.js';
import { ErrorCodes, InvalidOptionError } from '../../src/errors.js';
import { fromKongConfig } from '../../src/publisher/kong-plugin-config.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { type VaultReference, envVariableOf, parseVaultReference } from '../../src/publisher/vault-references.js';
import { captureIo } from '../support/cli-io.js';

const PASSWORD = 'vault-resolved-password-7f3a';
const USER = 'vault-resolved-user-91c2';

function plugin(authentication: Record<string, unknown>, more: Record<string, unknown> = {}) {
  return {
    name: 'kafka-log',
    config: { bootstrap_servers: [{ host: '127.0.0.1', port: 9092 }], topic: 'logs', authentication: { strategy: 'sasl', mechanism: 'PLAIN', ...authentication }, ...more },
  };
}

function refusal(run: () => unknown): InvalidOptionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}

describe('parsing a reference as Kong does', () => {
  it('vault, resource, key, query and version', () => {
    expect(parseVaultReference('{vault://env/kafka-password}')).toEqual({ reference: '{vault://env/kafka-password}', vault: 'env', resource: 'kafka-password', config: {} });
    expect(parseVaultReference('{vault://env/kafka/password?prefix=prod_#2}')).toMatchObject({ vault: 'env', resource: 'kafka', key: 'password', config: { prefix: 'prod_' }, version: 2 });
    expect(parseVaultReference('{vault://aws/a/b/c}')).toMatchObject({ vault: 'aws', resource: 'a/b', key: 'c' });
    expect(parseVaultReference('{vault://env/kafka/}')).toMatchObject({ resource: 'kafka' });
  });

  it.each([
    ['{vault://env/}', 'names no secret'],
    ['{vault:///x}', 'names no vault'],
    ['{vault://env/x#one}', 'has an invalid version'],
    ['{vault://env/%zz}', 'has a malformed %-escape'],
  ])('%s is malformed: %s', (reference, problem) => {
    expect(parseVaultReference(reference)).toContain(problem);
  });

  it('the env vault\'s variable: prefix, upper case, - as _, version 2 as _PREVIOUS', () => {
    const ref = parseVaultReference('{vault://env/kafka-password}') as VaultReference;
    expect(envVariableOf(ref, {})).toBe('KAFKA_PASSWORD');
    expect(envVariableOf(ref, { KONG_VAULT_ENV_PREFIX: 'prod-' })).toBe('PROD_KAFKA_PASSWORD');
    expect(envVariableOf(parseVaultReference('{vault://env/kafka-password?prefix=edge_}') as VaultReference, { KONG_VAULT_ENV_PREFIX: 'prod-' })).toBe('EDGE_KAFKA_PASSWORD');
    expect(envVariableOf(parseVaultReference('{vault://env/kafka-password#2}') as VaultReference, {})).toBe('KAFKA_PASSWORD_PREVIOUS');
  });
});

describe('fromKongConfig with vault references', () => {
  it('resolves env references in the credential fields once, and adds the values to the secrets', () => {
    const env = { KAFKA_USER: USER, KAFKA_PASSWORD: PASSWORD };
    const options = fromKongConfig(plugin({ user: '{vault://env/kafka-user}', password: '{vault://env/kafka-password}' }), { vault: { env } });
    expect(options.authentication).toMatchObject({ mechanism: 'PLAIN', username: USER, password: PASSWORD });
    expect(options.secrets).toEqual([USER, PASSWORD]);
  });

  it('a key into a JSON secret, a prefix, version 2, base64', () => {
    const env = {
      KAFKA_CREDS: JSON.stringify({ user: USER, password: PASSWORD }),
      EDGE_KAFKA_PASSWORD: 'edge-password-1',
      KAFKA_PASSWORD_PREVIOUS: 'old-password-1',
      KAFKA_B64: Buffer.from('b64-password-1').toString('base64'),
    };
    const resolve = (password: string) => fromKongConfig(plugin({ user: 'u', password }), { vault: { env } }).authentication;
    expect(fromKongConfig(plugin({ user: '{vault://env/kafka-creds/user}', password: '{vault://env/kafka-creds/password}' }), { vault: { env } }).authentication).toMatchObject({ username: USER, password: PASSWORD });
    expect(resolve('{vault://env/kafka-password?prefix=edge-}')).toMatchObject({ password: 'edge-password-1' });
    expect(resolve('{vault://env/kafka-password#2}')).toMatchObject({ password: 'old-password-1' });
    expect(resolve('{vault://env/kafka-b64?base64_decode=true}')).toMatchObject({ password: 'b64-password-1' });
  });

  it('an unset variable is an InvalidOptionError naming the field, the variable and the reference', () => {
    const error = refusal(() => fromKongConfig(plugin({ user: 'u', password: '{vault://env/kafka-password}' }), { vault: { env: {} } }));
    expect(error.code).toBe(ErrorCodes.INVALID_OPTION);
    expect(error.problems).toEqual([
      { field: 'config.authentication.password', problem: 'is a vault reference to environment variable KAFKA_PASSWORD, which is not set ({vault://env/kafka-password})' },
    ]);
  });

  it('a JSON secret without the key, or not JSON, is refused without quoting it', () => {
    const env = { KAFKA_CREDS: JSON.stringify({ user: USER, password: PASSWORD }), NOT_JSON: `password=${PASSWORD}` };
    const missing = refusal(() => fromKongConfig(plugin({ user: 'u', password: '{vault://env/kafka-creds/pass}' }), { vault: { env } }));
    expect(missing.problem).toBe('is a vault reference to key "pass" of environment variable KAFKA_CREDS, which has no such key ({vault://env/kafka-creds/pass})');
    const notJson = refusal(() => fromKongConfig(plugin({ user: 'u', password: '{vault://env/not-json/password}' }), { vault: { env } }));
    expect(notJson.problem).toContain('NOT_JSON, which does not hold JSON');
    for (const error of [missing, notJson]) expect(`${error.message} ${error.stack}`).not.toContain(PASSWORD);
  });

  it('other vaults: refused by name without a resolver; with one, resolved and added to the secrets', () => {
    const reference = '{vault://aws/kafka/password?region=eu-west-1}';
    const refused = refusal(() => fromKongConfig(plugin({ user: 'u', password: reference }), { vault: { env: {} } }));
    expect(refused.field).toBe('config.authentication.password');
    expect(refused.problem).toContain('is a reference to the "aws" vault, which kafka-log does not read: only "env" is built in; pass vault.resolve');
    const asked: Array<[VaultReference, string]> = [];
    const options = fromKongConfig(plugin({ user: 'u', password: reference }), {
      vault: {
        resolve: (ref, field) => {
          asked.push([ref, field]);
          return PASSWORD;
        },
      },
    });
    expect(options.authentication).toMatchObject({ password: PASSWORD });
    expect(options.secrets).toEqual([PASSWORD]);
    expect(asked).toEqual([[{ reference, vault: 'aws', resource: 'kafka', key: 'password', config: { region: 'eu-west-1' } }, 'config.authentication.password']]);
    const unknown = refusal(() => fromKongConfig(plugin({ user: 'u', password: reference }), { vault: { resolve: () => undefined } }));
    expect(unknown.problem).toContain('its resolver found no secret "kafka"');
  });

  it('the schema registry\'s credentials take references too', () => {
    const config = plugin(
      { user: 'u', password: 'p' },
      {
        schema_registry: {
          confluent: {
            url: 'http://127.0.0.1:8081',
            value_schema: { subject_name: 'v' },
            authentication: { mode: 'basic', basic: { username: 'registry', password: '{vault://env/registry-password}' } },
          },
        },
      },
    );
    const options = fromKongConfig(config, { vault: { env: { REGISTRY_PASSWORD: PASSWORD } } });
    expect(JSON.stringify(options.schemaRegistry)).toContain(PASSWORD);
    expect(options.secrets).toEqual([PASSWORD]);
  });

  it('a reference in a field Kong does not resolve is refused', () => {
    const error = refusal(() => fromKongConfig({ ...plugin({ user: 'u', password: 'p' }), config: { ...plugin({ user: 'u', password: 'p' }).config, topic: '{vault://env/topic}' } }));
    expect(error.problems).toEqual([{ field: 'config.topic', problem: 'holds a vault reference, but Kong resolves references only in credential fields; give the value itself' }]);
  });

  it('a resolved value never shows in a problem of the same configuration (a resolver\'s message quoting it)', () => {
    const error = refusal(() =>
      fromKongConfig(plugin({ user: '{vault://env/kafka-user}', password: '{vault://aws/kafka/password}' }), {
        vault: {
          env: { KAFKA_USER: USER },
          resolve: () => {
            throw new Error(`access denied for ${USER}`);
          },
        },
      }),
    );
    expect(error.problems).toEqual([
      { field: 'config.authentication.password', problem: 'is a reference to the "aws" vault, and its resolver threw: access denied for [REDACTED] ({vault://aws/kafka/password})' },
    ]);
    expect(`${error.message} ${error.stack}`).not.toContain(USER);
  });

  it('the publisher built from it scrubs the resolved values from its errors', async () => {
    const options = fromKongConfig(plugin({ user: '{vault://env/kafka-user}', password: '{vault://env/kafka-password}' }), {
      vault: { env: { KAFKA_USER: USER, KAFKA_PASSWORD: PASSWORD } },
      overrides: {
        logger: false,
        transport: () => {
          throw new Error(`the client refused ${USER}:${PASSWORD}`);
        },
      },
    });
    const publisher = new KafkaLogPublisher(options);
    const error = (await publisher.connect().catch((e: unknown) => e)) as Error;
    await publisher.close();
    expect(error).toBeInstanceOf(Error);
    const said = `${error.message} ${error.stack} ${String((error as { cause?: unknown }).cause)}`;
    expect(said).not.toContain(PASSWORD);
    expect(said).not.toContain(USER);
  });
});

describe('check-config with vault references', () => {
  const document = { _format_version: '3.0', plugins: [plugin({ user: '{vault://env/kafka-user}', password: '{vault://env/kafka-password}' })] };

  it('resolves them and masks what they resolved to, the user name too', () => {
    const [check] = checkDocument(document, { env: { KAFKA_USER: USER, KAFKA_PASSWORD: PASSWORD } });
    expect(check?.valid).toBe(true);
    expect(check?.options).toMatchObject({ authentication: { username: MASK, password: MASK } });
    expect(JSON.stringify(check)).not.toContain(PASSWORD);
    expect(JSON.stringify(check)).not.toContain(USER);
  });

  it('names the field and the unset variable', async () => {
    const [check] = checkDocument(document, { env: { KAFKA_USER: USER } });
    expect(check).toMatchObject({ valid: false, field: 'config.authentication.password' });
    expect(check?.problems?.[0]?.problem).toContain('environment variable KAFKA_PASSWORD, which is not set');
    expect(JSON.stringify(check)).not.toContain(USER);
  });

  it('reads process.env from the command line', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'kafka-log-vault-')), 'kong.json');
    writeFileSync(file, JSON.stringify(document));
    const before = { user: process.env.KAFKA_USER, password: process.env.KAFKA_PASSWORD };
    process.env.KAFKA_USER = USER;
    process.env.KAFKA_PASSWORD = PASSWORD;
    try {
      const io = captureIo();
      expect(await runCheckConfig(['--json', file], io)).toBe(0);
      expect(`${io.out()} ${io.err()}`).not.toContain(PASSWORD);
      expect(`${io.out()} ${io.err()}`).not.toContain(USER);
      delete process.env.KAFKA_PASSWORD;
      const failed = captureIo();
      expect(await runCheckConfig([file], failed)).toBe(1);
      expect(failed.out()).toContain('invalid option "config.authentication.password": is a vault reference to environment variable KAFKA_PASSWORD, which is not set');
    } finally {
      for (const [name, value] of [['KAFKA_USER', before.user], ['KAFKA_PASSWORD', before.password]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
