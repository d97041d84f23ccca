/**
 * Kong's vault references in a Kafka Log configuration (`{vault://env/kafka-password}`), resolved once, when the
 * configuration is read. Kong's rules (`kong/pdk/vault.lua`, `kong/vaults/env/init.lua`):
 *
 * - A reference is a whole field value `{vault://<vault>/<resource>[/<key>][?<config>][#<version>]}`. With more
 *   than one path segment the last is a key into a JSON object the secret holds (a flat object of strings).
 * - The `env` vault reads the environment variable named by the resource, upper-cased with `-` turned into `_`,
 *   after the vault's `prefix` (from the reference's `?prefix=` or `KONG_VAULT_ENV_PREFIX`); version 2 (`#2`)
 *   reads `<NAME>_PREVIOUS`. `?base64_decode=true` (or `KONG_VAULT_ENV_DECODE_BASE64=true`) decodes it.
 * - Other vaults (AWS, GCP, Azure, HashiCorp, Conjur, vault entities by prefix) are resolved by a function of the
 *   user's; without one, such a reference is refused, naming the field and the vault.
 *
 * Only the fields Kong marks referenceable take references; a reference anywhere else is refused (Kong would send
 * it as it is). A resolved value is a secret: it is never quoted in an error.
 *
 * @module
 */
import { type OptionProblems, describeValue, isPlainObject } from '../options/check.js';

/** A parsed vault reference. */
export interface VaultReference {
  /** The reference as written, `{vault://...}`. */
  readonly reference: string;
  /** The vault: a vault type (`env`, `aws`, `gcp`, `hcv`, `azure`, `conjur`) or a vault entity's prefix. */
  readonly vault: string;
  /** The secret's name in that vault. */
  readonly resource: string;
  /** The key into the secret when it is a JSON object. */
  readonly key?: string;
  /** Configuration given in the reference's query (`?prefix=...`). */
  readonly config: Readonly<Record<string, string>>;
  /** The version after `#`. */
  readonly version?: number;
}

/** Resolves references to vaults other than `env`: the secret, or `undefined` when it has none. */
export type VaultResolver = (reference: VaultReference, field: string) => string | undefined;

/** How `fromKongConfig` resolves vault references. */
export interface VaultOptions {
  /** Environment the `env` vault reads. Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Resolves references to other vaults (synchronous: fetch the secrets before reading the configuration). Without
   * it, a reference to a vault other than `env` is refused.
   */
  resolve?: VaultResolver;
}

/**
 * Kafka Log's fields that take vault references (below `config`): the SASL and OAuth credentials and the schema
 * registry's credentials.
 */
export const REFERENCEABLE_FIELDS: ReadonlySet<string> = new Set([
  'authentication.user',
  'authentication.password',
  'authentication.oauthbearer.client_id',
  'authentication.oauthbearer.client_secret',
  'schema_registry.confluent.authentication.basic.username',
  'schema_registry.confluent.authentication.basic.password',
  'schema_registry.confluent.authentication.oauth2.client_id',
  'schema_registry.confluent.authentication.oauth2.client_secret',
  'schema_registry.confluent.authentication.oauth2.username',
  'schema_registry.confluent.authentication.oauth2.password',
]);

/** Kong's test for a reference (`is_reference`): a string `{vault://...}`. */
export function isVaultReference(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('{vault://') && value.endsWith('}');
}

/** A reference's parts, or the reason it is malformed (Kong's `parse_reference`). */
export function parseVaultReference(reference: string): VaultReference | string {
  let url: URL;
  try {
    url = new URL(reference.slice(1, -1));
  } catch {
    return 'is not a valid vault reference URL';
  }
  const vault = url.host;
  if (vault === '') return 'names no vault (expected {vault://<vault>/<secret>})';
  const path = url.pathname.slice(1);
  if (path === '') return 'names no secret (expected {vault://<vault>/<secret>})';
  let version: number | undefined;
  if (url.hash !== '') {
    version = Number(url.hash.slice(1));
    if (!Number.isInteger(version)) return `has an invalid version ${describeValue(url.hash)}`;
  }
  let parts: string[];
  try {
    parts = path.split('/').map(decodeURIComponent);
  } catch {
    return 'has a malformed %-escape';
  }
  const last = parts.length > 1 ? parts.pop() : undefined;
  const resource = parts.join('/');
  if (resource === '') return 'names no secret (expected {vault://<vault>/<secret>})';
  return {
    reference,
    vault,
    resource,
    ...(last ? { key: last } : {}),
    config: Object.fromEntries(url.searchParams),
    ...(version === undefined ? {} : { version }),
  };
}

/** The environment variable the `env` vault reads for `ref` (Kong's rule; see the module's description). */
export function envVariableOf(ref: VaultReference, env: Readonly<Record<string, string | undefined>>): string {
  const prefix = ref.config.prefix ?? env.KONG_VAULT_ENV_PREFIX ?? '';
  const name = `${prefix}${ref.resource}`.replace(/-/g, '_').toUpperCase();
  return ref.version === 2 ? `${name}_PREVIOUS` : name;
}

/** The value of `ref` in the environment, or the reason there is none. */
function fromEnv(ref: VaultReference, env: Readonly<Record<string, string | undefined>>): { value: string } | { problem: string } {
  const variable = envVariableOf(ref, env);
  let value = env[variable];
  if (value === undefined) return { problem: `is a vault reference to environment variable ${variable}, which is not set` };
  const decode = ref.config.base64_decode ?? env.KONG_VAULT_ENV_DECODE_BASE64;
  if (decode === 'true') value = Buffer.from(value, 'base64').toString('utf8');
  return ref.key === undefined ? { value } : fromJson(value, ref.key, `environment variable ${variable}`);
}

/** `key` of the flat JSON object `secret` (Kong's `extract_key_from_json_string`). */
function fromJson(secret: string, key: string, where: string): { value: string } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    return { problem: `is a vault reference to key "${key}" of ${where}, which does not hold JSON` };
  }
  if (!isPlainObject(parsed)) return { problem: `is a vault reference to key "${key}" of ${where}, which does not hold a JSON object` };
  const value = parsed[key];
  if (value === undefined) return { problem: `is a vault reference to key "${key}" of ${where}, which has no such key` };
  if (typeof value !== 'string') return { problem: `is a vault reference to key "${key}" of ${where}, whose value is a ${typeof value}, not a string` };
  return { value };
}

function fromResolver(ref: VaultReference, field: string, resolve: VaultResolver | undefined): { value: string } | { problem: string } {
  if (resolve === undefined) {
    return { problem: `is a reference to the "${ref.vault}" vault, which kafka-log does not read: only "env" is built in; pass vault.resolve to ` +
      `fromKongConfig for others` };
  }
  let value: unknown;
  try {
    value = resolve(ref, field);
  } catch (error) {
    return { problem: `is a reference to the "${ref.vault}" vault, and its resolver threw: ${error instanceof Error ? error.message : describeValue(error)}` };
  }
  if (value === undefined) return { problem: `is a reference to the "${ref.vault}" vault, and its resolver found no secret ${describeValue(ref.resource)}` };
  if (typeof value !== 'string') return { problem: `is a reference to the "${ref.vault}" vault, and its resolver returned ${typeof value}, not a string` };
  return { value };
}

/** What {@link resolveVaultReferences} gives: the configuration with references replaced, and the values it put in. */
export interface ResolvedReferences {
  readonly block: Record<string, unknown>;
  readonly secrets: readonly string[];
}

/**
 * A copy of Kong's `config` block with the vault references of referenceable fields replaced by their values;
 * problems (unset variables, other vaults, references in other fields) are added under Kong's field names.
 */
export function resolveVaultReferences(block: Record<string, unknown>, prefix: string, options: VaultOptions, problems: OptionProblems): ResolvedReferences {
  const env = options.env ?? process.env;
  const secrets: string[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`));
    if (isPlainObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, walk(item, path === '' ? name : `${path}.${name}`)]));
    }
    if (!isVaultReference(value)) return value;
    const field = `${prefix}${path}`;
    if (!REFERENCEABLE_FIELDS.has(path)) {
      problems.add(field, 'holds a vault reference, but Kong resolves references only in credential fields; give the value itself');
      return value;
    }
    const ref = parseVaultReference(value);
    if (typeof ref === 'string') {
      problems.add(field, `${ref}: ${value}`);
      return value;
    }
    const found = ref.vault === 'env' ? fromEnv(ref, env) : fromResolver(ref, field, options.resolve);
    if ('problem' in found) {
      problems.add(field, `${found.problem} (${value})`);
      return value;
    }
    secrets.push(found.value);
    return found.value;
  };
  return { block: walk(block, '') as Record<string, unknown>, secrets };
}
