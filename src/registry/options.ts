/**
 * Schema-registry options (camelCase) and their validation. Every problem is an {@link InvalidOptionError}
 * naming the field; no message ever contains a password or client secret.
 *
 * @module
 */

import { InvalidOptionError } from '../errors.js';

/** No authentication. */
export interface RegistryNoAuth {
  /** `none`. */
  mode: 'none';
}

/** HTTP basic authentication (Confluent Cloud: API key and secret). */
export interface RegistryBasicAuth {
  /** `basic`. */
  mode: 'basic';
  /** User name (or API key). */
  username: string;
  /** Password (or API secret). Never logged. */
  password: string;
}

/** OAuth 2 bearer tokens, fetched from `tokenEndpoint` and renewed before they expire. */
export interface RegistryOAuth2Auth {
  /** `oauth2`. */
  mode: 'oauth2';
  /** The token endpoint URL. */
  tokenEndpoint: string;
  /** OAuth client id. */
  clientId: string;
  /** OAuth client secret. Never logged. */
  clientSecret: string;
  /** Scopes asked for. Default `['openid']` (Kong's default). */
  scopes?: string[];
  /** Audience asked for, when the identity provider needs one. */
  audience?: string;
  /** Grant: `client_credentials` (default) or `password` (then `username` and `password` are required). */
  grantType?: 'client_credentials' | 'password';
  /** Resource-owner user name, for the `password` grant. */
  username?: string;
  /** Resource-owner password, for the `password` grant. Never logged. */
  password?: string;
  /** Confluent Cloud identity pool id, sent as the `Confluent-Identity-Pool-Id` header. */
  identityPoolId?: string;
  /** Confluent Cloud Schema Registry logical cluster id, sent as the `target-sr-cluster` header. */
  logicalClusterId?: string;
}

/** How kafka-log authenticates with the registry. */
export type RegistryAuth = RegistryNoAuth | RegistryBasicAuth | RegistryOAuth2Auth;

/** Which registered schema to write with: a subject and a version number or `latest`. */
export interface SchemaSelector {
  /** The subject, e.g. `<topic>-value`. */
  subject: string;
  /** A version number, or `latest` (re-resolved every `refreshIntervalMs` and after an encode failure). */
  version: 'latest' | number;
}

/** Options of the schema-registry encoder. */
export interface RegistryOptions {
  /** Base URL of the Confluent-compatible registry, `http://` or `https://`. */
  url: string;
  /** Authentication; default `{ mode: 'none' }`. */
  auth?: RegistryAuth;
  /** The schema message values are written with. */
  valueSchema: SchemaSelector;
  /** The schema message keys are written with; absent: keys stay plain strings. */
  keySchema?: SchemaSelector;
  /**
   * How long a resolved `latest` version is trusted, ms (Kong's `ttl`, in seconds there). Default 300000. When it
   * is older, the next encode resolves it again in the background and keeps using the known id meanwhile; 0
   * resolves it before every encode, as Kong's `ttl = 0` does. Pinned version numbers are never resolved again.
   */
  refreshIntervalMs?: number;
  /** Verify the registry's (and token endpoint's) TLS certificate. Default true. */
  sslVerify?: boolean;
  /** Deadline of one registry request, ms. Default 10000. */
  requestTimeoutMs?: number;
}

/** {@link RegistryOptions} with every default applied. */
export interface ResolvedRegistryOptions {
  /** Base URL, without a trailing slash. */
  url: string;
  /** Authentication. */
  auth: RegistryAuth;
  /** Value schema. */
  valueSchema: SchemaSelector;
  /** Key schema, when keys are encoded too. */
  keySchema: SchemaSelector | undefined;
  /** How long a resolved `latest` is trusted, ms; 0: resolved before every encode. */
  refreshIntervalMs: number;
  /** TLS verification. */
  sslVerify: boolean;
  /** Request deadline, ms. */
  requestTimeoutMs: number;
}

/** Default refresh interval of `latest` schema versions, ms. */
export const DEFAULT_REGISTRY_REFRESH_INTERVAL_MS = 300_000;
/** Default deadline of one registry request, ms. */
export const DEFAULT_REGISTRY_REQUEST_TIMEOUT_MS = 10_000;
/** Kong's default OAuth scopes. */
export const DEFAULT_OAUTH2_SCOPES: readonly string[] = ['openid'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(field, 'must be a non-empty string');
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : requireString(value, field);
}

function requireHttpUrl(value: unknown, field: string): string {
  const text = requireString(value, field);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new InvalidOptionError(field, 'must be an absolute http:// or https:// URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new InvalidOptionError(field, 'must be an absolute http:// or https:// URL');
  // Credentials in the URL would leak into errors; the auth option is the place for them.
  if (parsed.username || parsed.password) throw new InvalidOptionError(field, 'must not contain credentials; use auth');
  return text.replace(/\/+$/, '');
}

function nonNegativeInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new InvalidOptionError(field, 'must be a non-negative integer');
  return value;
}

/** Validates a {@link SchemaSelector}. `field` is its path, e.g. `schemaRegistry.valueSchema`. */
export function resolveSchemaSelector(value: unknown, field: string): SchemaSelector {
  if (!isRecord(value)) throw new InvalidOptionError(field, 'must be an object { subject, version }');
  const subject = requireString(value.subject, `${field}.subject`);
  const version = value.version ?? 'latest';
  if (version !== 'latest' && !(typeof version === 'number' && Number.isInteger(version) && version >= 1))
    throw new InvalidOptionError(`${field}.version`, 'must be "latest" or a version number >= 1');
  return { subject, version };
}

function resolveAuth(value: unknown, field: string): RegistryAuth {
  if (value === undefined) return { mode: 'none' };
  if (!isRecord(value)) throw new InvalidOptionError(field, 'must be an object with a mode');
  switch (value.mode) {
    case 'none':
      return { mode: 'none' };
    case 'basic':
      return {
        mode: 'basic',
        username: requireString(value.username, `${field}.username`),
        password: requireString(value.password, `${field}.password`),
      };
    case 'oauth2':
      return resolveOAuth2(value, field);
    default:
      throw new InvalidOptionError(`${field}.mode`, 'must be "none", "basic" or "oauth2"');
  }
}

function resolveOAuth2(value: Record<string, unknown>, field: string): RegistryOAuth2Auth {
  const grantType = value.grantType ?? 'client_credentials';
  if (grantType !== 'client_credentials' && grantType !== 'password')
    throw new InvalidOptionError(`${field}.grantType`, 'must be "client_credentials" or "password"');
  const scopes = value.scopes ?? DEFAULT_OAUTH2_SCOPES;
  if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== 'string' || scope.length === 0))
    throw new InvalidOptionError(`${field}.scopes`, 'must be an array of non-empty strings');
  const auth: RegistryOAuth2Auth = {
    mode: 'oauth2',
    tokenEndpoint: requireHttpUrl(value.tokenEndpoint, `${field}.tokenEndpoint`),
    clientId: requireString(value.clientId, `${field}.clientId`),
    clientSecret: requireString(value.clientSecret, `${field}.clientSecret`),
    scopes: [...(scopes as string[])],
    grantType,
  };
  const audience = optionalString(value.audience, `${field}.audience`);
  if (audience !== undefined) auth.audience = audience;
  const identityPoolId = optionalString(value.identityPoolId, `${field}.identityPoolId`);
  if (identityPoolId !== undefined) auth.identityPoolId = identityPoolId;
  const logicalClusterId = optionalString(value.logicalClusterId, `${field}.logicalClusterId`);
  if (logicalClusterId !== undefined) auth.logicalClusterId = logicalClusterId;
  if (grantType === 'password') {
    auth.username = requireString(value.username, `${field}.username`);
    auth.password = requireString(value.password, `${field}.password`);
  }
  return auth;
}

/**
 * Validates registry options and applies defaults. Throws {@link InvalidOptionError} naming the field, with
 * `field` as the prefix of every path (default `schemaRegistry`).
 */
export function resolveRegistryOptions(options: unknown, field = 'schemaRegistry'): ResolvedRegistryOptions {
  if (!isRecord(options)) throw new InvalidOptionError(field, 'must be an object');
  const sslVerify = options.sslVerify ?? true;
  if (typeof sslVerify !== 'boolean') throw new InvalidOptionError(`${field}.sslVerify`, 'must be a boolean');
  const requestTimeoutMs = nonNegativeInteger(options.requestTimeoutMs, `${field}.requestTimeoutMs`, DEFAULT_REGISTRY_REQUEST_TIMEOUT_MS);
  if (requestTimeoutMs === 0) throw new InvalidOptionError(`${field}.requestTimeoutMs`, 'must be at least 1');
  return {
    url: requireHttpUrl(options.url, `${field}.url`),
    auth: resolveAuth(options.auth, `${field}.auth`),
    valueSchema: resolveSchemaSelector(options.valueSchema, `${field}.valueSchema`),
    keySchema: options.keySchema === undefined ? undefined : resolveSchemaSelector(options.keySchema, `${field}.keySchema`),
    refreshIntervalMs: nonNegativeInteger(options.refreshIntervalMs, `${field}.refreshIntervalMs`, DEFAULT_REGISTRY_REFRESH_INTERVAL_MS),
    sslVerify,
    requestTimeoutMs,
  };
}
