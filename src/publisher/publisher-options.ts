/**
 * The publisher's options in idiomatic camelCase, their defaults (Kong 3.16's, see the README's options table) and their
 * validation. Bad values raise one {@link InvalidOptionError} naming every bad field.
 *
 * @module
 */
import type { SecureContext } from 'node:tls';
import type { LogEntry } from '../entry/log-entry.js';
import {
  type CheckedOptions,
  type OptionRule,
  OptionProblems,
  brokerHost,
  checkOptions,
  customOption,
  defaultsOf,
  describeValue,
  fieldPath,
  flagOption,
  functionOption,
  hostPort,
  httpUrl,
  integer,
  integerOption,
  isPlainObject,
  nestedOption,
  oneOf,
  oneOfOption,
  optionalTextMap,
  optionalTextOption,
  refuse,
  secret,
  textList,
  textOption,
} from '../options/check.js';
import { type KongSchemaRegistryConfig, resolveKongSchemaRegistry } from '../registry/kong-schema-registry-config.js';
import { type RegistryOptions, type ResolvedRegistryOptions, resolveRegistryOptions } from '../registry/registry-options.js';
import { SPOOL_OPTIONS, type SpoolOptions, resolveSpoolOptions } from '../spool/spool-options.js';
import type { TransportFactory } from '../transport/transport.js';
import type { PublisherLogger, PublisherLogLevel } from './events.js';
import { KONG_FIELDS } from './kong-fields.js';
import type { OAuthBearerTokenProvider } from './token-provider.js';

/** SASL mechanisms the broker can be asked for. */
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';

/** Record-batch compression codecs (`zstd` is kafka-log's addition to Kong's list). */
export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Produce acknowledgements: `-1` all in-sync replicas, `0` none, `1` the leader. */
export type Acks = -1 | 0 | 1;

/** OAUTHBEARER through the OAuth 2 client-credentials grant (Kong's `authentication.oauthbearer`). */
export interface OAuthBearerClientCredentials {
  /** The token endpoint (`http:` or `https:`). */
  tokenEndpointUrl: string;
  /** The OAuth client id. */
  clientId: string;
  /** The OAuth client secret (never logged). */
  clientSecret: string;
  /** Scopes asked for, sent space-separated. */
  scopes?: string[];
  /** SASL extensions sent with the token (e.g. `logicalCluster`). */
  extensions?: Record<string, string>;
  /** Verify the token endpoint's TLS certificate. Default `true`. */
  tokenEndpointTlsVerify?: boolean;
  /** Not with the client-credentials grant: see {@link OAuthBearerProviderOptions}. */
  provider?: undefined;
}

/**
 * OAUTHBEARER with tokens from a function of yours: AWS MSK IAM, Azure Event Hubs, an in-house identity provider
 * (see the README's "Token providers").
 */
export interface OAuthBearerProviderOptions {
  /**
   * Gives a token and its lifetime; called when the current token is due for renewal (30 s before it expires, or a
   * fifth of its lifetime when shorter), one call at a time, each bounded by the `timeout` option.
   */
  provider: OAuthBearerTokenProvider;
  /** SASL extensions sent with every token; the token's own extensions win. */
  extensions?: Record<string, string>;
  /** Not with a provider. */
  tokenEndpointUrl?: undefined;
  /** Not with a provider. */
  clientId?: undefined;
  /** Not with a provider. */
  clientSecret?: undefined;
  /** Not with a provider. */
  scopes?: undefined;
  /** Not with a provider. */
  tokenEndpointTlsVerify?: undefined;
}

/** SASL OAUTHBEARER: the client-credentials grant (Kong's `authentication.oauthbearer`), or a token provider. */
export type OAuthBearerOptions = OAuthBearerClientCredentials | OAuthBearerProviderOptions;

/** SASL authentication (Kong's `authentication`, strategy `sasl`). */
export interface AuthenticationOptions {
  /** The SASL mechanism. */
  mechanism: SaslMechanism;
  /** The user (PLAIN, SCRAM), or the delegation token id with `tokenAuth`. */
  username?: string;
  /** The password, or the delegation token's HMAC with `tokenAuth` (never logged). */
  password?: string;
  /** Delegation-token authentication: SCRAM with the `tokenauth=true` extension. */
  tokenAuth?: boolean;
  /** Required with `OAUTHBEARER`. */
  oauthBearer?: OAuthBearerOptions;
}

/** PEM material: the text itself (not a file path), or several of them. */
export type Pem = string | Buffer;

/** TLS to the brokers (Kong's `security`). */
export interface TlsOptions {
  /** TLS on. Default `true` when a `tls` object is given. */
  enabled?: boolean;
  /** Verify the broker's certificate (Kong's `ssl_verify`). Default `true`. */
  verify?: boolean;
  /** Trusted CA certificates (PEM). Default: Node's bundled roots. */
  ca?: Pem | Pem[];
  /** Client certificate for mTLS (PEM). */
  cert?: Pem;
  /** Client private key for mTLS (PEM). */
  key?: Pem;
  /** A ready secure context (replaces `ca`, `cert`, `key`). */
  secureContext?: SecureContext;
  /** Server name sent in SNI and checked against the certificate. Default: the broker's host. */
  servername?: string;
}

/** What the caller may say about one entry when publishing it. */
export interface PublishMeta {
  /** Message key; overrides `keyQueryArg` and `key`. `null` for no key. */
  key?: string | Buffer | null;
  /** Topic; must be in `allowedTopics` when that list is given. */
  topic?: string;
  /** Extra headers of this entry's message. */
  headers?: Record<string, string | Buffer>;
}

/** Chooses the message key of an entry: `undefined`/`null` for none. */
export type KeySelector = (entry: LogEntry) => string | Buffer | null | undefined;

/** Chooses the topic of an entry: `undefined` for the default topic. */
export type TopicSelector = (entry: LogEntry) => string | undefined;

/** Computes message headers for an entry. */
export type HeadersSelector = (entry: LogEntry) => Record<string, string | Buffer> | undefined;

/** A broker address as Kong writes it. */
export interface BrokerAddress {
  /** Host name or IP address. */
  host: string;
  /** Port. */
  port: number;
}

/** Options of {@link KafkaLogPublisher}; see the README's options table for every option's Kong name and default. */
export interface KafkaLogPublisherOptions {
  /** Bootstrap brokers, `"host:port"` or `{ host, port }` (Kong's `bootstrap_servers`). */
  brokers: ReadonlyArray<string | BrokerAddress>;
  /** The default topic. */
  topic: string;
  /** The producer's client id (Kong's `cluster_name`). Default: `kafka-log-<random>`. */
  clientId?: string;
  /** Socket (connect and authentication) timeout, ms. Default 10000. */
  timeout?: number;
  /** Idle time of a kept connection, ms. Default 60000. */
  keepalive?: number;
  /** Enable TCP keep-alive probes on broker sockets. Default `false`. */
  keepaliveEnabled?: boolean;
  /** SASL authentication. */
  authentication?: AuthenticationOptions;
  /** TLS: `true` for defaults, or the details. */
  tls?: boolean | TlsOptions;
  /** Compression codec. Default `none`. */
  compression?: CompressionType;
  /** Name of the query argument whose value becomes the message key (Kong's `key_query_arg`). */
  keyQueryArg?: string;
  /** Message key of an entry (used when `keyQueryArg` gives none). */
  key?: KeySelector;
  /** Topic of an entry (must be in `allowedTopics` when that list is given). */
  selectTopic?: TopicSelector;
  /** Name of the query argument naming the topic; only topics of `allowedTopics` are used. */
  topicQueryArg?: string;
  /** Topics an entry may choose. Required with `topicQueryArg`. */
  allowedTopics?: readonly string[];
  /** Headers of every message: a static map, or a function of the entry. */
  messageHeaders?: Record<string, string | Buffer> | HeadersSelector;
  /** Produce acks. Default 1 (`-1` with `idempotent`). */
  acks?: Acks;
  /** Time the broker may take to answer a produce request, ms. Default 2000. */
  requestTimeout?: number;
  /** Messages in one produce request. Default 200. */
  maxMessagesPerRequest?: number;
  /** Bytes in one produce request. Default 1048576. */
  maxBytesPerRequest?: number;
  /** The client's own retries of one produce request. Default 10. */
  maxRequestRetries?: number;
  /** Backoff between the client's own retries, ms. Default 100. */
  retryBackoff?: number;
  /** `true`: publish in the background; `false`: `publish` returns a promise settled on delivery. Default `true`. */
  async?: boolean;
  /** Longest time a ready message waits for a fuller request, ms. Default 1000. */
  flushTimeout?: number;
  /** Most messages buffered (Kong's `producer_async_buffering_limits_messages_in_memory`). Default 50000. */
  maxBufferedMessages?: number;
  /** Entries per message; above 1 a message is a JSON array. Default 1. */
  maxBatchSize?: number;
  /** Longest time an incomplete message waits for more entries, ms. Default 1000. */
  maxCoalescingDelay?: number;
  /** Most entries buffered. Default 10000. */
  maxEntries?: number;
  /**
   * Most bytes buffered (message values as sent, keys, headers); more entries are dropped (`queue_full_bytes`).
   * Default 33554432 (32 MiB): see the README's "Buffer sizing".
   */
  maxBytes?: number;
  /** First delay before retrying a failed request, ms (doubles each time). Default 10. */
  initialRetryDelay?: number;
  /** Time after which a failing request's entries are dropped, ms. Default 60000. */
  maxRetryTime?: number;
  /** Longest delay between retries, ms. Default 60000. */
  maxRetryDelay?: number;
  /** Produce requests in flight at once. Default 1. */
  concurrencyLimit?: number;
  /** Idempotent producer: no duplicates on retry (acks -1, one request in flight per broker). Default `false`. */
  idempotent?: boolean;
  /** Custom fields as JavaScript expression strings (Kong's `custom_fields_by_lua`), carried for adapters. */
  customFields?: Record<string, string>;
  /**
   * Serialize through a Confluent schema registry: {@link RegistryOptions}, or Kong's `schema_registry` block
   * (`{ confluent: { ... } }`; `confluent` absent or null: no registry). Values (and keys, with a key schema) are
   * encoded in the Confluent wire format when their request goes out; every entry is its own message, whatever
   * `maxBatchSize` says. Secrets in it are stripped from every error, event and log line.
   */
  schemaRegistry?: RegistryOptions | KongSchemaRegistryConfig;
  /**
   * Where the publisher's log lines go, secrets stripped: pino, `console`, or any {@link PublisherLogger} (called
   * as `logger.warn(fields, message)`, or `logger.warn(message)` when a line has no fields). Default: short lines
   * on stderr (`kafka-log warn: ...`). `false`: none (the `publisher.log` event still fires).
   */
  logger?: PublisherLogger | false;
  /**
   * Least level written to `logger` and the `publisher.log` event. Default `info`: drops, an unreachable Kafka and
   * its recovery; nothing while all is well. The Kafka client's own lines come at `debug`. `silent`: none.
   */
  logLevel?: PublisherLogLevel;
  /**
   * More values to remove from every error, event and log line, besides the credentials kafka-log is given (for
   * instance what a token provider signs with). `fromKongConfig` puts here the values Kong vault references
   * resolved to. Values shorter than 3 characters are not treated as secrets.
   */
  secrets?: readonly string[];
  /**
   * The Kafka client: `kafkajs` (default), `platformatic` (@platformatic/kafka, an optional peer dependency:
   * `npm install @platformatic/kafka`), or a factory (tests, other clients). Only the chosen one is loaded.
   */
  transport?: 'kafkajs' | 'platformatic' | TransportFactory;
  /**
   * A local spool: entries that would be dropped for a full buffer (`queue_full_*`), an exhausted retry time
   * (`retry_time_exceeded`) or the close deadline (`close_timeout`) are written to files in `spool.directory`
   * instead, counted as `spooled`, and sent later by `kafka-log replay DIR` or, with `spool.replay`, by the
   * publisher itself once Kafka answers. See the README's "Spool and replay".
   */
  spool?: SpoolOptions;
}

const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
const COMPRESSIONS: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const ACKS: readonly Acks[] = [-1, 0, 1];
const LOG_LEVELS: readonly PublisherLogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];

// Secrets are never quoted: a wrong item is named by its index only.
function secretList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) refuse(field, `must be an array of strings, got ${typeof value === 'string' ? 'a string' : describeValue(value)}`);
  return value.map((item: unknown, i) => (typeof item === 'string' ? item : refuse(`${field}[${i}]`, 'must be a string')));
}

function optionalTextList(field: string, value: unknown): string[] | undefined {
  return value === undefined ? undefined : textList(field, value);
}

const OAUTH_BEARER_OPTIONS = {
  tokenEndpointUrl: customOption((field, value) => (value === undefined ? undefined : httpUrl(field, value, 'clientId and clientSecret'))),
  clientId: optionalTextOption(),
  clientSecret: customOption((field, value) => (value === undefined ? undefined : secret(field, value))),
  scopes: customOption(optionalTextList),
  extensions: customOption(optionalTextMap),
  tokenEndpointTlsVerify: flagOption(true),
  provider: functionOption<OAuthBearerTokenProvider>(),
} satisfies { readonly [K in keyof Required<OAuthBearerOptions>]: OptionRule<unknown> };

/** The options of the client-credentials grant, which a token provider replaces. */
const CLIENT_CREDENTIALS = ['tokenEndpointUrl', 'clientId', 'clientSecret', 'scopes', 'tokenEndpointTlsVerify'] as const;

function resolveOAuthBearer(field: string, value: unknown): OAuthBearerOptions {
  if (value === undefined) refuse(field, 'is required with mechanism OAUTHBEARER');
  const problems = new OptionProblems();
  const checked = checkOptions(field, value, OAUTH_BEARER_OPTIONS, { problems, aliases: kongAliases('authentication.oauthBearer') });
  const given = isPlainObject(value) ? CLIENT_CREDENTIALS.filter((name) => value[name] !== undefined) : [];
  const at = (name: string) => fieldPath(field, name);
  if (checked.provider !== undefined) {
    if (given.length > 0) {
      problems.add(
        at('provider'),
        `replaces the client-credentials grant: give either provider or tokenEndpointUrl, clientId and clientSecret, not both (${given.join(', ')} given too)`,
      );
    }
    problems.throwIfAny();
    return checked.extensions === undefined ? { provider: checked.provider } : { provider: checked.provider, extensions: checked.extensions };
  }
  // A provider that is not a function says so alone: the grant's fields were not what was meant.
  if (problems.has(at('provider'))) problems.throwIfAny();
  // With none of the grant's fields given, the other way is worth a word.
  const required = given.length === 0 ? 'is required (or give provider, a function that returns tokens)' : 'is required';
  for (const name of ['tokenEndpointUrl', 'clientId', 'clientSecret'] as const) {
    if (checked[name] === undefined && !problems.has(at(name))) problems.add(at(name), required);
  }
  problems.throwIfAny();
  const result: OAuthBearerClientCredentials = {
    tokenEndpointUrl: checked.tokenEndpointUrl as string,
    clientId: checked.clientId as string,
    clientSecret: checked.clientSecret as string,
    tokenEndpointTlsVerify: checked.tokenEndpointTlsVerify,
  };
  if (checked.scopes !== undefined) result.scopes = checked.scopes;
  if (checked.extensions !== undefined) result.extensions = checked.extensions;
  return result;
}

const AUTHENTICATION_OPTIONS = {
  mechanism: customOption((field, value) => (value === undefined ? refuse(field, 'is required') : oneOf(field, value, MECHANISMS, 'PLAIN'))),
  username: optionalTextOption(),
  password: customOption((field, value) => (value === undefined ? undefined : secret(field, value))),
  tokenAuth: flagOption(false),
  oauthBearer: nestedOption(OAUTH_BEARER_OPTIONS, (_field, value) => value),
} satisfies { readonly [K in keyof Required<AuthenticationOptions>]: OptionRule<unknown> };

function resolveAuthentication(field: string, value: unknown): AuthenticationOptions | undefined {
  if (value === undefined) return undefined;
  const problems = new OptionProblems();
  const checked = checkOptions(field, value, AUTHENTICATION_OPTIONS, { problems, aliases: kongAliases('authentication') });
  const at = (name: string) => fieldPath(field, name);
  if (checked.mechanism === 'OAUTHBEARER') {
    const oauthBearer = problems.check(() => resolveOAuthBearer(at('oauthBearer'), checked.oauthBearer));
    problems.throwIfAny();
    return { mechanism: 'OAUTHBEARER', oauthBearer: oauthBearer as OAuthBearerOptions };
  }
  // Which other fields are needed depends on the mechanism.
  if (problems.has(at('mechanism'))) problems.throwIfAny();
  if (checked.tokenAuth && checked.mechanism === 'PLAIN') problems.add(at('tokenAuth'), 'delegation tokens need a SCRAM mechanism');
  if (checked.username === undefined && !problems.has(at('username'))) problems.add(at('username'), 'is required');
  if (checked.password === undefined && !problems.has(at('password'))) problems.add(at('password'), 'is required');
  problems.throwIfAny();
  return { mechanism: checked.mechanism, username: checked.username, password: checked.password, tokenAuth: checked.tokenAuth };
}

function pem(field: string, value: unknown): Pem | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  refuse(field, 'must be PEM text (a string or Buffer)');
}

function pemList(field: string, value: unknown): Pem | Pem[] | undefined {
  return Array.isArray(value) ? value.map((item: unknown, i) => pem(`${field}[${i}]`, item) as Pem) : pem(field, value);
}

function secureContext(field: string, value: unknown): SecureContext | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value) || !('context' in value)) refuse(field, 'must be a tls.SecureContext (from tls.createSecureContext())');
  return value as unknown as SecureContext;
}

const TLS_OPTIONS = {
  enabled: flagOption(true),
  verify: flagOption(true),
  ca: customOption(pemList),
  cert: customOption(pem),
  key: customOption(pem),
  secureContext: customOption(secureContext),
  servername: optionalTextOption(),
} satisfies { readonly [K in keyof Required<TlsOptions>]: OptionRule<unknown> };

/** TLS options after validation. */
export interface ResolvedTls {
  /** Verify the broker's certificate. */
  verify: boolean;
  /** Trusted CAs. */
  ca?: Pem | Pem[];
  /** Client certificate. */
  cert?: Pem;
  /** Client key. */
  key?: Pem;
  /** A ready secure context. */
  secureContext?: SecureContext;
  /** SNI name. */
  servername?: string;
}

function resolveTls(field: string, value: unknown): ResolvedTls | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { verify: true };
  if (!isPlainObject(value)) refuse(field, `must be true, false or an object, got ${describeValue(value)}`);
  const checked = checkOptions(field, value, TLS_OPTIONS, { aliases: kongAliases('tls') });
  if (!checked.enabled) return undefined;
  if ((checked.cert === undefined) !== (checked.key === undefined)) {
    refuse(fieldPath(field, checked.cert === undefined ? 'cert' : 'key'), 'a client certificate needs both cert and key');
  }
  const tls: ResolvedTls = { verify: checked.verify };
  for (const name of ['ca', 'cert', 'key', 'secureContext', 'servername'] as const) {
    if (checked[name] !== undefined) Object.assign(tls, { [name]: checked[name] });
  }
  return tls;
}

const BROKER_ADDRESS_OPTIONS = {
  host: customOption(brokerHost),
  port: customOption((field, value) => (value === undefined ? refuse(field, 'is required') : integer(field, value, 0, 0, 65535))),
} satisfies { readonly [K in keyof BrokerAddress]: OptionRule<unknown> };

function brokerAddress(field: string, value: unknown): string {
  if (typeof value === 'string') return hostPort(field, value);
  if (!isPlainObject(value)) refuse(field, `must be "host:port" or { host, port }, got ${describeValue(value)}`);
  const { host, port } = checkOptions(field, value, BROKER_ADDRESS_OPTIONS);
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  hostPort(fieldPath(field, 'host'), address);
  return address;
}

function brokerList(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    refuse(field, `must be a non-empty array of "host:port" strings or { host, port } objects, got ${describeValue(value)}`);
  }
  const problems = new OptionProblems();
  const brokers = value.map((broker: unknown, i) => problems.check(() => brokerAddress(`${field}[${i}]`, broker)) ?? '');
  problems.throwIfAny();
  return brokers;
}

function messageHeaders(field: string, value: unknown): Record<string, string | Buffer> | HeadersSelector | undefined {
  if (value === undefined || typeof value === 'function') return value as HeadersSelector | undefined;
  if (!isPlainObject(value)) refuse(field, `must be an object or a function, got ${describeValue(value)}`);
  const problems = new OptionProblems();
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string' && !Buffer.isBuffer(item)) problems.add(fieldPath(field, name), 'must be a string or Buffer');
  }
  problems.throwIfAny();
  return { ...(value as Record<string, string | Buffer>) };
}

// Kong's block is recognised by its `confluent` key; its errors name Kong's fields (`schema_registry.confluent.*`).
function schemaRegistry(field: string, value: unknown): ResolvedRegistryOptions | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) refuse(field, `must be an object, got ${describeValue(value)}`);
  if ('confluent' in value) return resolveKongSchemaRegistry(value, 'schema_registry');
  return resolveRegistryOptions(value, field);
}

const LOGGER_METHODS = ['error', 'warn', 'info', 'debug'] as const;

// `undefined` is the default logger (stderr), `false` none.
function logger(field: string, value: unknown): PublisherLogger | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'object' || value === null || LOGGER_METHODS.some((m) => typeof (value as Record<string, unknown>)[m] !== 'function')) {
    refuse(field, `must be false or have error, warn, info and debug methods (pino and console do), got ${describeValue(value)}`);
  }
  return value as PublisherLogger;
}

function transport(field: string, value: unknown): 'kafkajs' | 'platformatic' | TransportFactory {
  if (value === undefined) return 'kafkajs';
  if (value !== 'kafkajs' && value !== 'platformatic' && typeof value !== 'function') {
    refuse(field, `must be "kafkajs", "platformatic" or a transport factory function, got ${describeValue(value)}`);
  }
  return value as 'kafkajs' | 'platformatic' | TransportFactory;
}

/**
 * Every publisher option: how it is checked and its default (Kong 3.16's, in camelCase and milliseconds). A new
 * option is one line here, one property of {@link KafkaLogPublisherOptions}, and one row of the Kong table
 * (`kong-fields.ts`) for the README.
 */
export const PUBLISHER_OPTIONS = {
  brokers: customOption(brokerList),
  topic: textOption(),
  clientId: optionalTextOption(),
  timeout: integerOption(10_000, 1),
  keepalive: integerOption(60_000, 0),
  keepaliveEnabled: flagOption(false),
  authentication: nestedOption(AUTHENTICATION_OPTIONS, resolveAuthentication),
  tls: nestedOption(TLS_OPTIONS, resolveTls),
  compression: oneOfOption(COMPRESSIONS, 'none'),
  keyQueryArg: optionalTextOption(),
  key: functionOption<KeySelector>(),
  selectTopic: functionOption<TopicSelector>(),
  topicQueryArg: optionalTextOption(),
  allowedTopics: customOption((field, value) => (value === undefined ? undefined : new Set(textList(field, value)))),
  messageHeaders: customOption(messageHeaders),
  // The default depends on `idempotent` (-1 with it); resolvePublisherOptions decides when absent.
  acks: customOption<Acks | undefined, Acks>((field, value) => (value === undefined ? undefined : oneOf(field, value, ACKS, 1)), 1),
  requestTimeout: integerOption(2000, 1),
  maxMessagesPerRequest: integerOption(200, 1),
  maxBytesPerRequest: integerOption(1_048_576, 1024),
  maxRequestRetries: integerOption(10, 0, 1000),
  retryBackoff: integerOption(100, 0),
  async: flagOption(true),
  flushTimeout: integerOption(1000, 0),
  maxBufferedMessages: integerOption(50_000, 1),
  maxBatchSize: integerOption(1, 1),
  maxCoalescingDelay: integerOption(1000, 0),
  maxEntries: integerOption(10_000, 1),
  // 32 MiB: above `maxEntries` entries of up to 3.3 KB, so it binds once bodies are logged (README "Buffer sizing").
  maxBytes: integerOption(33_554_432, 1),
  initialRetryDelay: integerOption(10, 0),
  maxRetryTime: integerOption(60_000, 0),
  maxRetryDelay: integerOption(60_000, 0),
  concurrencyLimit: integerOption(1, 1, 1000),
  idempotent: flagOption(false),
  customFields: customOption(optionalTextMap),
  schemaRegistry: customOption(schemaRegistry),
  logger: customOption(logger),
  logLevel: oneOfOption(LOG_LEVELS, 'info'),
  secrets: customOption((field, value) => (value === undefined ? undefined : secretList(field, value))),
  transport: customOption(transport, 'kafkajs'),
  spool: nestedOption(SPOOL_OPTIONS, resolveSpoolOptions),
} satisfies { readonly [K in keyof Required<KafkaLogPublisherOptions>]: OptionRule<unknown> };

/**
 * `defaults` typed by the options they are the defaults of: the published declarations then list the defaulted
 * options with their public types, and name no option rule.
 */
function asOptionDefaults<D extends object>(
  defaults: D,
): { readonly [K in keyof KafkaLogPublisherOptions as K extends keyof D ? K : never]-?: Exclude<KafkaLogPublisherOptions[K], undefined> } {
  return defaults as never;
}

/** Every publisher option that has a default, with it (Kong 3.16's, in camelCase and milliseconds); see {@link KafkaLogPublisherOptions}. */
export const PUBLISHER_DEFAULTS = asOptionDefaults(defaultsOf(PUBLISHER_OPTIONS));

type CheckedPublisherOptions = CheckedOptions<typeof PUBLISHER_OPTIONS>;

/** Options after validation, defaults applied. */
export interface ResolvedPublisherOptions extends Omit<CheckedPublisherOptions, 'acks' | 'clientId' | 'schemaRegistry'> {
  /** Acks: as given, or -1 with `idempotent`, 1 otherwise. */
  acks: Acks;
  /** Client id: as given, or `kafka-log-<random>`. */
  clientId: string;
  /** The schema registry option as given. */
  schemaRegistry: RegistryOptions | KongSchemaRegistryConfig | undefined;
  /** The schema registry, validated (camelCase, defaults applied); `undefined`: plain JSON values. */
  registry: ResolvedRegistryOptions | undefined;
}

function randomClientId(): string {
  return `kafka-log-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Kong's names of options, by the options object they belong to (`''`: the top), for the hint when one is used as
 * an option: `bootstrap_servers` → `brokers`, `authentication.user` → `authentication.username`.
 */
const KONG_ALIASES = new Map<string, Record<string, string>>();
for (const row of KONG_FIELDS) {
  if (typeof row.option !== 'string') continue;
  const dot = row.option.lastIndexOf('.');
  const parent = dot === -1 ? '' : row.option.slice(0, dot);
  const name = row.kong.slice(row.kong.lastIndexOf('.') + 1);
  if (name === row.option.slice(dot + 1)) continue;
  const aliases = KONG_ALIASES.get(parent) ?? {};
  aliases[name] = `"${name}" is Kong's name: the option is "${row.option.slice(dot + 1)}" (fromKongConfig takes Kong's configuration)`;
  KONG_ALIASES.set(parent, aliases);
}

function kongAliases(parent: string): Readonly<Record<string, string>> | undefined {
  return KONG_ALIASES.get(parent);
}

/**
 * Validates options and applies the defaults.
 *
 * @throws {@link InvalidOptionError} naming every bad field.
 */
export function resolvePublisherOptions(options: KafkaLogPublisherOptions): ResolvedPublisherOptions {
  const problems = new OptionProblems();
  const o = checkOptions('', options, PUBLISHER_OPTIONS, { problems, aliases: kongAliases('') });
  const rule = (field: keyof KafkaLogPublisherOptions, holds: boolean, problem: string) => {
    if (!holds && !problems.has(field)) problems.add(field, problem);
  };
  if (o.idempotent) {
    rule('acks', o.acks === undefined || o.acks === -1, 'must be -1 with idempotent: true');
    // kafkajs hands out sequence numbers when a request is sent and takes them back when it fails: a second
    // request sent meanwhile would reuse them and be taken by the broker for a duplicate. One at a time is safe.
    rule('concurrencyLimit', o.concurrencyLimit === 1, 'must be 1 with idempotent: true');
  }
  const topicPicked = o.topicQueryArg === undefined || o.allowedTopics !== undefined;
  rule('allowedTopics', topicPicked, 'is required with topicQueryArg (a query argument must not pick any topic)');
  rule('initialRetryDelay', !(o.initialRetryDelay > o.maxRetryDelay), 'must not exceed the longest retry delay (maxRetryDelay)');
  problems.throwIfAny();
  return {
    ...o,
    acks: o.acks ?? (o.idempotent ? -1 : 1),
    clientId: o.clientId ?? randomClientId(),
    schemaRegistry: options.schemaRegistry,
    registry: o.schemaRegistry,
  };
}
