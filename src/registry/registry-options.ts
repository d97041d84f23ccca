/**
 * Schema-registry options (camelCase) and their validation. Every problem is an {@link InvalidOptionError}
 * naming the field; no message ever contains a password or client secret.
 *
 * @module
 */

import type { InvalidOptionError } from '../errors.js';
import {
  type OptionRule,
  OptionProblems,
  checkOptions,
  customOption,
  fieldPath,
  flagOption,
  httpUrl,
  integer,
  integerOption,
  object,
  oneOf,
  oneOfOption,
  optionalTextOption,
  refuse,
  secret,
  textList,
  textOption,
} from '../options/check.js';

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

/** The rules of a {@link SchemaSelector}. */
const SCHEMA_SELECTOR_OPTIONS = {
  subject: textOption(),
  version: customOption((field, value) => {
    if (value === undefined || value === 'latest') return 'latest';
    return integer(field, value, 1, 1) as SchemaSelector['version'];
  }, 'latest'),
} satisfies { readonly [K in keyof SchemaSelector]: OptionRule<unknown> };

/** Validates a {@link SchemaSelector}. `field` is its path, e.g. `schemaRegistry.valueSchema`. */
function resolveSchemaSelector(field: string, value: unknown): SchemaSelector {
  const { subject, version } = checkOptions(field, value, SCHEMA_SELECTOR_OPTIONS);
  return { subject, version };
}

const NO_AUTH_OPTIONS = { mode: customOption((_field, value) => value) } satisfies {
  readonly [K in keyof RegistryNoAuth]: OptionRule<unknown>;
};

const BASIC_AUTH_OPTIONS = {
  mode: customOption((_field, value) => value),
  username: textOption(),
  password: customOption(secret),
} satisfies { readonly [K in keyof RegistryBasicAuth]: OptionRule<unknown> };

const OAUTH2_OPTIONS = {
  mode: customOption((_field, value) => value),
  tokenEndpoint: customOption((field, value) => httpUrl(field, value, 'clientId and clientSecret')),
  clientId: textOption(),
  clientSecret: customOption(secret),
  scopes: customOption((field, value) => (value === undefined ? [...DEFAULT_OAUTH2_SCOPES] : textList(field, value)), [...DEFAULT_OAUTH2_SCOPES]),
  audience: optionalTextOption(),
  grantType: oneOfOption(['client_credentials', 'password'] as const, 'client_credentials'),
  username: optionalTextOption(),
  password: customOption((field, value) => (value === undefined ? undefined : secret(field, value))),
  identityPoolId: optionalTextOption(),
  logicalClusterId: optionalTextOption(),
} satisfies { readonly [K in keyof Required<RegistryOAuth2Auth>]: OptionRule<unknown> };

const AUTH_MODES = ['none', 'basic', 'oauth2'] as const;

function resolveAuth(field: string, value: unknown): RegistryAuth {
  if (value === undefined) return { mode: 'none' };
  const given = object(field, value).mode;
  const mode = given === undefined ? refuse(fieldPath(field, 'mode'), 'is required') : oneOf(fieldPath(field, 'mode'), given, AUTH_MODES, 'none');
  if (mode === 'none') {
    checkOptions(field, value, NO_AUTH_OPTIONS);
    return { mode };
  }
  if (mode === 'basic') {
    const { username, password } = checkOptions(field, value, BASIC_AUTH_OPTIONS);
    return { mode, username, password };
  }
  const problems = new OptionProblems();
  const checked = checkOptions(field, value, OAUTH2_OPTIONS, { problems });
  if (checked.grantType === 'password') {
    for (const key of ['username', 'password'] as const) {
      if (checked[key] === undefined && !problems.has(fieldPath(field, key))) problems.add(fieldPath(field, key), 'is required with grantType "password"');
    }
  }
  problems.throwIfAny();
  const auth: RegistryOAuth2Auth = {
    mode,
    tokenEndpoint: checked.tokenEndpoint,
    clientId: checked.clientId,
    clientSecret: checked.clientSecret,
    scopes: checked.scopes,
    grantType: checked.grantType,
  };
  for (const name of ['audience', 'identityPoolId', 'logicalClusterId'] as const) {
    if (checked[name] !== undefined) auth[name] = checked[name];
  }
  if (checked.grantType === 'password') {
    auth.username = checked.username;
    auth.password = checked.password;
  }
  return auth;
}

/** The rules of every registry option. */
export const REGISTRY_OPTIONS = {
  // Without a trailing slash: request paths are appended to it.
  url: customOption((field, value) => httpUrl(field, value, 'the authentication options').replace(/\/+$/, '')),
  auth: customOption(resolveAuth, { mode: 'none' }),
  valueSchema: customOption(resolveSchemaSelector),
  keySchema: customOption((field, value) => (value === undefined ? undefined : resolveSchemaSelector(field, value))),
  refreshIntervalMs: integerOption(DEFAULT_REGISTRY_REFRESH_INTERVAL_MS, 0),
  sslVerify: flagOption(true),
  requestTimeoutMs: integerOption(DEFAULT_REGISTRY_REQUEST_TIMEOUT_MS, 1),
} satisfies { readonly [K in keyof Required<RegistryOptions>]: OptionRule<unknown> };

/**
 * Validates registry options and applies defaults. Throws one {@link InvalidOptionError} naming every bad field,
 * with `field` as the prefix of every path (default `schemaRegistry`).
 */
export function resolveRegistryOptions(options: unknown, field = 'schemaRegistry'): ResolvedRegistryOptions {
  return checkOptions(field, options, REGISTRY_OPTIONS);
}
