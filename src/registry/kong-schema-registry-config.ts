/**
 * `fromKongSchemaRegistry`: Kong's `schema_registry` plugin configuration (snake_case, `schema_registry.confluent`)
 * mapped onto {@link RegistryOptions}, with Kong's defaults.
 *
 * @module
 */

import { InvalidOptionError } from '../errors.js';
import { OptionProblems, describeValue, isPlainObject, object, refuse } from '../options/check.js';
import {
  type KongFieldRow,
  KongTable,
  type OptionsRow,
  type OptionsTableRow,
  isPresent,
  kongRowsOf,
  optionsTableOf,
  secondsToMs,
} from '../options/kong-table.js';
import { REGISTRY_OPTIONS, type RegistryOptions, type ResolvedRegistryOptions, resolveRegistryOptions } from './registry-options.js';

/** Kong's `{ subject_name, schema_version }`. */
export interface KongSchemaSelector {
  /** Subject name. */
  subject_name: string;
  /** `latest` or a version number (Kong holds it as a string). */
  schema_version?: string | number;
  /** How Kong reads Avro request bodies; no effect in kafka-log. */
  payload_encoding?: 'avro_json' | 'simple_json';
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
  /** Audiences. */
  audience?: string[];
  /** Resource-owner user name (`password` grant). */
  username?: string;
  /** Resource-owner password (`password` grant). */
  password?: string;
  /** Confluent Cloud identity pool id. */
  identity_pool_id?: string;
  /** Confluent Cloud logical cluster id. */
  logical_cluster_id?: string;
  /** Extra token request headers: not supported (only empty). */
  token_headers?: Record<string, string>;
  /** Extra token request arguments: not supported (only empty). */
  token_post_args?: Record<string, string>;
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
  /** Kong's HTTP client settings for the token endpoint: accepted at Kong's defaults only. */
  oauth2_client?: Record<string, unknown>;
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

type Block = Readonly<Record<string, unknown>>;

function authModeOf(block: Block): unknown {
  const confluent = block.confluent;
  const authentication = isPlainObject(confluent) ? confluent.authentication : undefined;
  const mode = isPlainObject(authentication) ? authentication.mode : undefined;
  return isPresent(mode) ? mode : 'none';
}

const basicMode = (block: Block) => authModeOf(block) === 'basic';
const oauth2Mode = (block: Block) => authModeOf(block) === 'oauth2';

function schemaVersion(field: string, value: unknown): 'latest' | number {
  if (value === 'latest') return 'latest';
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  if (typeof value === 'string' && /^[1-9]\d*$/.test(value)) return Number(value);
  return refuse(field, `must be "latest" or a version number, got ${describeValue(value)}`);
}

// Kong takes a list of audiences; token endpoints take one space-separated value.
function audience(value: unknown): unknown {
  return Array.isArray(value) && value.length > 0 ? value.join(' ') : undefined;
}

const CLIENT_SETTINGS = "kafka-log's token requests use the registry's sslVerify and requestTimeoutMs";

function schemaRows(name: 'value_schema' | 'key_schema', option: 'valueSchema' | 'keySchema', meaning: string) {
  const kong = `confluent.${name}`;
  return [
    { kong, type: 'record', required: name === 'value_schema', meaning } as const,
    { kong: `${kong}.subject_name`, type: 'string', required: true, option: `${option}.subject`, meaning: `${meaning}: the subject` } as const,
    {
      kong: `${kong}.schema_version`,
      type: 'string',
      option: `${option}.version`,
      default: 'latest',
      check: (field: string, value: unknown) => void schemaVersion(field, value),
      convert: (value: unknown, _context: unknown, field: string) => schemaVersion(field, value),
      meaning: `${meaning}: \`latest\` or a version number`,
    } as const,
    {
      kong: `${kong}.payload_encoding`,
      type: 'string',
      oneOf: ['avro_json', 'simple_json'],
      default: 'avro_json',
      meaning: 'accepted, no effect: it is how Kong reads Avro request bodies; kafka-log encodes the entry itself',
    } as const,
  ] satisfies KongFieldRow[];
}

/**
 * Kong's `schema_registry` block, field by field (Kong 3.16's schema, developer.konghq.com
 * `app/_schemas/gateway/plugins/3.16/KafkaLog.json`), and the registry option (below `schemaRegistry`) each becomes.
 */
const KONG_SCHEMA_REGISTRY_ROWS: readonly OptionsRow[] = [
  { kong: 'confluent', type: 'record', meaning: 'a Confluent schema registry; `null`: none' },
  { kong: 'confluent.url', type: 'string', required: true, option: 'url', meaning: "the registry's base URL, `http://` or `https://` (no credentials in it)" },
  { kong: 'confluent.ssl_verify', type: 'boolean', default: true, option: 'sslVerify', meaning: "verify the registry's (and token endpoint's) certificate" },
  {
    kong: 'confluent.ttl',
    type: 'number',
    between: [0, 3600],
    option: 'refreshIntervalMs',
    convert: secondsToMs,
    unit: 's',
    meaning: 'how long a resolved `latest` version is trusted; 0: resolved before every encode',
  },
  { kong: 'confluent.authentication', type: 'record', alwaysPresent: true, meaning: 'how kafka-log authenticates with the registry' },
  {
    kong: 'confluent.authentication.mode',
    type: 'string',
    oneOf: ['none', 'basic', 'oauth2'],
    default: 'none',
    option: 'auth.mode',
    meaning: '`none`, `basic`, `oauth2`',
  },
  { kong: 'confluent.authentication.basic', type: 'record', meaning: 'basic credentials' },
  { kong: 'confluent.authentication.basic.username', type: 'string', required: true, option: 'auth.username', when: basicMode, meaning: 'basic user name' },
  {
    kong: 'confluent.authentication.basic.password',
    type: 'string',
    secret: true,
    required: true,
    option: 'auth.password',
    when: basicMode,
    meaning: 'basic password; never logged',
  },
  {
    kong: 'confluent.authentication.identity_pool_id',
    type: 'string',
    option: 'auth.identityPoolId',
    when: oauth2Mode,
    meaning: 'Confluent Cloud identity pool id (`oauth2`), sent as `Confluent-Identity-Pool-Id`',
  },
  {
    kong: 'confluent.authentication.logical_cluster_id',
    type: 'string',
    option: 'auth.logicalClusterId',
    when: oauth2Mode,
    meaning: 'Confluent Cloud logical cluster id (`oauth2`), sent as `target-sr-cluster`',
  },
  { kong: 'confluent.authentication.oauth2', type: 'record', meaning: 'OAuth 2 bearer tokens' },
  {
    kong: 'confluent.authentication.oauth2.token_endpoint',
    type: 'string',
    required: true,
    option: 'auth.tokenEndpoint',
    when: oauth2Mode,
    meaning: 'the token endpoint',
  },
  { kong: 'confluent.authentication.oauth2.client_id', type: 'string', option: 'auth.clientId', when: oauth2Mode, meaning: 'OAuth client id' },
  {
    kong: 'confluent.authentication.oauth2.client_secret',
    type: 'string',
    secret: true,
    option: 'auth.clientSecret',
    when: oauth2Mode,
    meaning: 'OAuth client secret; never logged',
  },
  {
    kong: 'confluent.authentication.oauth2.grant_type',
    type: 'string',
    oneOf: ['client_credentials', 'password'],
    default: 'client_credentials',
    option: 'auth.grantType',
    when: oauth2Mode,
    meaning: '`client_credentials` or `password`',
  },
  {
    kong: 'confluent.authentication.oauth2.scopes',
    type: 'array',
    items: 'string',
    default: ['openid'],
    option: 'auth.scopes',
    when: oauth2Mode,
    meaning: 'scopes asked for',
  },
  {
    kong: 'confluent.authentication.oauth2.audience',
    type: 'array',
    items: 'string',
    default: [],
    option: 'auth.audience',
    when: oauth2Mode,
    convert: audience,
    meaning: 'audiences asked for (sent space-separated)',
  },
  {
    kong: 'confluent.authentication.oauth2.username',
    type: 'string',
    option: 'auth.username',
    when: oauth2Mode,
    meaning: 'resource-owner user name (`password` grant)',
  },
  {
    kong: 'confluent.authentication.oauth2.password',
    type: 'string',
    secret: true,
    option: 'auth.password',
    when: oauth2Mode,
    meaning: 'resource-owner password (`password` grant); never logged',
  },
  {
    kong: 'confluent.authentication.oauth2.identity_pool_id',
    type: 'string',
    option: 'auth.identityPoolId',
    when: oauth2Mode,
    meaning: 'Confluent Cloud identity pool id (wins over the one beside `mode`)',
  },
  {
    kong: 'confluent.authentication.oauth2.logical_cluster_id',
    type: 'string',
    option: 'auth.logicalClusterId',
    when: oauth2Mode,
    meaning: 'Confluent Cloud logical cluster id (wins over the one beside `mode`)',
  },
  {
    kong: 'confluent.authentication.oauth2.token_headers',
    type: 'map',
    unsupported: 'extra token request headers',
    meaning: 'not supported (refused unless empty)',
  },
  {
    kong: 'confluent.authentication.oauth2.token_post_args',
    type: 'map',
    unsupported: 'extra token request arguments',
    meaning: 'not supported (refused unless empty)',
  },
  {
    kong: 'confluent.authentication.oauth2_client',
    type: 'record',
    readmeName: '`authentication.oauth2_client.*`',
    meaning: `Kong's HTTP client settings for the token endpoint: accepted at Kong's defaults only (${CLIENT_SETTINGS})`,
  },
  ...(
    [
      ['auth_method', 'string', 'client_secret_post'],
      ['client_secret_jwt_alg', 'string', 'HS512'],
      ['http_proxy', 'string', undefined],
      ['http_proxy_authorization', 'string', undefined],
      ['http_version', 'number', 1.1],
      ['https_proxy', 'string', undefined],
      ['https_proxy_authorization', 'string', undefined],
      ['keep_alive', 'boolean', true],
      ['no_proxy', 'string', undefined],
      ['ssl_verify', 'boolean', true],
      ['timeout', 'integer', 10000],
    ] as const
  ).map(
    ([name, type, kongDefault]): KongFieldRow => ({
      kong: `confluent.authentication.oauth2_client.${name}`,
      type,
      default: kongDefault,
      unsupported: `${CLIENT_SETTINGS}; only Kong's default is accepted`,
      readme: false,
      meaning: "accepted at Kong's default only",
    }),
  ),
  ...schemaRows('value_schema', 'valueSchema', 'the schema message values are written with'),
  ...schemaRows('key_schema', 'keySchema', 'the schema message keys are written with'),
  { option: 'requestTimeoutMs', meaning: 'deadline of one whole registry (or token endpoint) request: connect, headers and body, ms' },
];

/**
 * Every field of Kong's `schema_registry` block and every registry option, in the order of the README's schema
 * registry options table (generated from it): Kong's path below `schema_registry`, the option below
 * `schemaRegistry`, the default, Kong's limits.
 */
export const SCHEMA_REGISTRY_OPTIONS_TABLE: readonly OptionsTableRow[] = optionsTableOf(KONG_SCHEMA_REGISTRY_ROWS, REGISTRY_OPTIONS);

const REGISTRY_TABLE = new KongTable(kongRowsOf(KONG_SCHEMA_REGISTRY_ROWS));

/** The options of a Kong block, or `undefined` without a `confluent` registry; every problem goes to `problems`. */
function convertBlock(prefix: string, config: unknown, problems: OptionProblems): { block: Block; options: RegistryOptions } | undefined {
  if (!isPresent(config)) return undefined;
  const block = problems.check(() => object(prefix, config));
  if (block === undefined) return undefined;
  REGISTRY_TABLE.check(`${prefix}.`, block, problems);
  if (!isPresent(block.confluent)) return undefined;
  return { block, options: REGISTRY_TABLE.convert(block, undefined, `${prefix}.`, problems) as unknown as RegistryOptions };
}

/**
 * Maps Kong's `schema_registry` configuration onto {@link RegistryOptions}, with Kong's defaults. Returns
 * `undefined` when no `confluent` registry is configured. Kong's `ttl` (seconds, 0 to 3600) becomes
 * `refreshIntervalMs`. Checks Kong's schema (unknown fields, types, limits), naming Kong's fields; the result
 * still goes through `resolveRegistryOptions`.
 *
 * @throws {@link InvalidOptionError} naming every bad field (`schema_registry.confluent.*`).
 */
export function fromKongSchemaRegistry(config: KongSchemaRegistryConfig | null | undefined): RegistryOptions | undefined {
  const problems = new OptionProblems();
  const converted = convertBlock('schema_registry', config, problems);
  problems.throwIfAny();
  return converted?.options;
}

/**
 * Kong's `schema_registry` block, checked, converted and resolved at once; every problem names Kong's field,
 * below `prefix` (e.g. `schema_registry`, or `config.schema_registry`). `undefined`: no registry.
 */
export function resolveKongSchemaRegistry(config: unknown, prefix = 'schema_registry'): ResolvedRegistryOptions | undefined {
  const problems = new OptionProblems();
  const converted = convertBlock(prefix, config, problems);
  if (converted === undefined) {
    problems.throwIfAny();
    return undefined;
  }
  let resolved: ResolvedRegistryOptions | undefined;
  try {
    resolved = resolveRegistryOptions(converted.options, '');
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    for (const problem of REGISTRY_TABLE.renameProblems(error.problems, converted.block, `${prefix}.`, problems)) {
      problems.add(problem.field, problem.problem);
    }
  }
  problems.throwIfAny();
  return resolved;
}
