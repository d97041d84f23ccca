/**
 * `fromKongSchemaRegistry`: Kong's `schema_registry` plugin configuration (snake_case, `schema_registry.confluent`)
 * mapped onto {@link RegistryOptions}, with Kong's defaults.
 *
 * @module
 */

import { InvalidOptionError } from '../errors.js';
import type { RegistryAuth, RegistryOptions, SchemaSelector } from './options.js';

/** Kong's `{ subject_name, schema_version }`. */
export interface KongSchemaSelector {
  /** Subject name. */
  subject_name: string;
  /** `latest` or a version number (Kong may hold it as a string). */
  schema_version?: string | number;
}

/** Kong's `authentication.oauth2` block. */
export interface KongRegistryOAuth2 {
  /** Token endpoint URL. */
  token_endpoint?: string;
  /** OAuth client id. */
  client_id?: string;
  /** OAuth client secret. */
  client_secret?: string;
  /** `client_credentials` (default) or `password`. */
  grant_type?: 'client_credentials' | 'password';
  /** Scopes; default `['openid']`. */
  scopes?: string[];
  /** Audience(s). */
  audience?: string | string[];
  /** Resource-owner user name (`password` grant). */
  username?: string;
  /** Resource-owner password (`password` grant). */
  password?: string;
  /** Confluent Cloud identity pool id. */
  identity_pool_id?: string;
  /** Confluent Cloud logical cluster id. */
  logical_cluster_id?: string;
}

/** Kong's `schema_registry.confluent.authentication`. */
export interface KongRegistryAuthentication {
  /** `none`, `basic` or `oauth2`. */
  mode?: 'none' | 'basic' | 'oauth2';
  /** Basic credentials. */
  basic?: KongRegistryBasic;
  /** OAuth 2 client settings. */
  oauth2?: KongRegistryOAuth2;
  /** Confluent Cloud identity pool id (also accepted inside `oauth2`). */
  identity_pool_id?: string;
  /** Confluent Cloud logical cluster id (also accepted inside `oauth2`). */
  logical_cluster_id?: string;
}

/** Kong's `authentication.basic` block. */
export interface KongRegistryBasic {
  /** User name. */
  username?: string;
  /** Password. */
  password?: string;
}

/** Kong's `schema_registry.confluent` block. */
export interface KongConfluentRegistry {
  /** Registry URL. */
  url?: string;
  /** Verify the registry's TLS certificate; default true. */
  ssl_verify?: boolean;
  /** Cache time of resolved schemas, seconds (0 to 3600). */
  ttl?: number;
  /** Authentication. */
  authentication?: KongRegistryAuthentication;
  /** Schema of message values. */
  value_schema?: KongSchemaSelector;
  /** Schema of message keys. */
  key_schema?: KongSchemaSelector;
}

/** Kong's `schema_registry` option: `{ confluent: { url, ssl_verify, ttl, authentication, value_schema, key_schema } }`. */
export interface KongSchemaRegistryConfig {
  /** The Confluent registry settings. */
  confluent?: KongConfluentRegistry;
}

const FIELD = 'schema_registry.confluent';

function selector(value: KongSchemaSelector | undefined, field: string): SchemaSelector | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw new InvalidOptionError(field, 'must be an object { subject_name, schema_version }');
  const raw = value.schema_version ?? 'latest';
  let version: SchemaSelector['version'];
  if (raw === 'latest') version = 'latest';
  else if (typeof raw === 'number') version = raw;
  else if (typeof raw === 'string' && /^\d+$/.test(raw)) version = Number(raw);
  else throw new InvalidOptionError(`${field}.schema_version`, 'must be "latest" or a version number');
  return { subject: value.subject_name, version };
}

function auth(value: KongRegistryAuthentication | undefined): RegistryAuth {
  const field = `${FIELD}.authentication`;
  const mode = value?.mode ?? 'none';
  if (mode === 'none') return { mode: 'none' };
  if (mode === 'basic') return { mode: 'basic', username: value?.basic?.username ?? '', password: value?.basic?.password ?? '' };
  if (mode !== 'oauth2') throw new InvalidOptionError(`${field}.mode`, 'must be "none", "basic" or "oauth2"');
  const oauth2 = value?.oauth2 ?? {};
  const mapped: RegistryAuth = {
    mode: 'oauth2',
    tokenEndpoint: oauth2.token_endpoint ?? '',
    clientId: oauth2.client_id ?? '',
    clientSecret: oauth2.client_secret ?? '',
    grantType: oauth2.grant_type ?? 'client_credentials',
    scopes: oauth2.scopes ?? ['openid'],
  };
  // Kong takes a list of audiences; token endpoints take one space-separated value.
  const audience = Array.isArray(oauth2.audience) ? oauth2.audience.join(' ') : oauth2.audience;
  if (audience) mapped.audience = audience;
  if (oauth2.username !== undefined) mapped.username = oauth2.username;
  if (oauth2.password !== undefined) mapped.password = oauth2.password;
  const identityPoolId = oauth2.identity_pool_id ?? value?.identity_pool_id;
  if (identityPoolId) mapped.identityPoolId = identityPoolId;
  const logicalClusterId = oauth2.logical_cluster_id ?? value?.logical_cluster_id;
  if (logicalClusterId) mapped.logicalClusterId = logicalClusterId;
  return mapped;
}

/**
 * Maps Kong's `schema_registry` configuration onto {@link RegistryOptions}. Returns `undefined` when no
 * `confluent` registry is configured. Kong's `ttl` (seconds, 0 to 3600) becomes `refreshIntervalMs`. The result
 * still goes through `resolveRegistryOptions`, which reports missing fields by their camelCase names.
 */
export function fromKongSchemaRegistry(config: KongSchemaRegistryConfig | null | undefined): RegistryOptions | undefined {
  const confluent = config?.confluent;
  if (confluent === undefined || confluent === null) return undefined;
  if (confluent.ttl !== undefined && !(Number.isInteger(confluent.ttl) && confluent.ttl >= 0 && confluent.ttl <= 3600))
    throw new InvalidOptionError(`${FIELD}.ttl`, 'must be an integer number of seconds between 0 and 3600');
  const valueSchema = selector(confluent.value_schema, `${FIELD}.value_schema`);
  if (valueSchema === undefined) throw new InvalidOptionError(`${FIELD}.value_schema`, 'is required');
  const options: RegistryOptions = {
    url: confluent.url ?? '',
    auth: auth(confluent.authentication),
    valueSchema,
    sslVerify: confluent.ssl_verify ?? true,
  };
  const keySchema = selector(confluent.key_schema, `${FIELD}.key_schema`);
  if (keySchema !== undefined) options.keySchema = keySchema;
  if (confluent.ttl !== undefined) options.refreshIntervalMs = confluent.ttl * 1000;
  return options;
}
