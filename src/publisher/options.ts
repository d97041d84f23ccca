/**
 * The publisher's options in idiomatic camelCase, their defaults (Kong 3.16's, see the README's options table) and their
 * validation. Every bad value raises an {@link InvalidOptionError} naming the field.
 *
 * @module
 */
import type { SecureContext } from 'node:tls';
import type { LogEntry } from '../entry/log-entry.js';
import { InvalidOptionError } from '../errors.js';
import { type KongSchemaRegistryConfig, fromKongSchemaRegistry } from '../registry/kong-config.js';
import { type RegistryOptions, type ResolvedRegistryOptions, resolveRegistryOptions } from '../registry/options.js';
import type { TransportFactory } from '../transport/transport.js';
import type { PublisherLogger, PublisherLogLevel } from './events.js';

/** SASL mechanisms the broker can be asked for. */
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';

/** Record-batch compression codecs (`zstd` is kafka-log's addition to Kong's list). */
export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Produce acknowledgements: `-1` all in-sync replicas, `0` none, `1` the leader. */
export type Acks = -1 | 0 | 1;

/** OAUTHBEARER through the OAuth 2 client-credentials grant (Kong's `authentication.oauthbearer`). */
export interface OAuthBearerOptions {
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
}

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
  /** Where the publisher's (and the Kafka client's) log lines go, secrets stripped. Default: none. */
  logger?: PublisherLogger;
  /** Least level passed to `logger` and the `publisher.log` event. Default `warn`. */
  logLevel?: PublisherLogLevel;
  /**
   * The Kafka client: `kafkajs` (default), `platformatic` (@platformatic/kafka, an optional peer dependency:
   * `npm install @platformatic/kafka`), or a factory (tests, other clients). Only the chosen one is loaded.
   */
  transport?: 'kafkajs' | 'platformatic' | TransportFactory;
}

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

/** Options after validation, defaults applied. */
export interface ResolvedPublisherOptions {
  /** `host:port` strings. */
  brokers: string[];
  /** The default topic. */
  topic: string;
  /** Client id. */
  clientId: string;
  /** Socket timeout, ms. */
  timeout: number;
  /** Keep-alive idle time, ms. */
  keepalive: number;
  /** Keep-alive on. */
  keepaliveEnabled: boolean;
  /** SASL, when used. */
  authentication: AuthenticationOptions | undefined;
  /** TLS, when on. */
  tls: ResolvedTls | undefined;
  /** Compression codec. */
  compression: CompressionType;
  /** Key query argument. */
  keyQueryArg: string | undefined;
  /** Key function. */
  key: KeySelector | undefined;
  /** Topic function. */
  selectTopic: TopicSelector | undefined;
  /** Topic query argument. */
  topicQueryArg: string | undefined;
  /** Allowed topics (undefined: any topic a function gives). */
  allowedTopics: ReadonlySet<string> | undefined;
  /** Message headers. */
  messageHeaders: Record<string, string | Buffer> | HeadersSelector | undefined;
  /** Acks. */
  acks: Acks;
  /** Produce request timeout, ms. */
  requestTimeout: number;
  /** Messages per request. */
  maxMessagesPerRequest: number;
  /** Bytes per request. */
  maxBytesPerRequest: number;
  /** Client retries per request. */
  maxRequestRetries: number;
  /** Client retry backoff, ms. */
  retryBackoff: number;
  /** Async mode. */
  async: boolean;
  /** Flush timeout, ms. */
  flushTimeout: number;
  /** Most buffered messages. */
  maxBufferedMessages: number;
  /** Entries per message. */
  maxBatchSize: number;
  /** Coalescing delay, ms. */
  maxCoalescingDelay: number;
  /** Most buffered entries. */
  maxEntries: number;
  /** Most buffered bytes. */
  maxBytes: number;
  /** First retry delay, ms. */
  initialRetryDelay: number;
  /** Retry time budget, ms. */
  maxRetryTime: number;
  /** Longest retry delay, ms. */
  maxRetryDelay: number;
  /** Requests in flight. */
  concurrencyLimit: number;
  /** Idempotent producer. */
  idempotent: boolean;
  /** Custom fields (carried). */
  customFields: Record<string, string> | undefined;
  /** The schema registry option as given. */
  schemaRegistry: RegistryOptions | KongSchemaRegistryConfig | undefined;
  /** The schema registry, validated (camelCase, defaults applied); `undefined`: plain JSON values. */
  registry: ResolvedRegistryOptions | undefined;
  /** Logger. */
  logger: PublisherLogger | undefined;
  /** Log level. */
  logLevel: PublisherLogLevel;
  /** Transport choice. */
  transport: 'kafkajs' | 'platformatic' | TransportFactory;
}

/** Kong's defaults, in camelCase and milliseconds. */
export const PUBLISHER_DEFAULTS = {
  /** Socket timeout, ms. */
  timeout: 10_000,
  /** Keep-alive idle time, ms. */
  keepalive: 60_000,
  /** TCP keep-alive off. */
  keepaliveEnabled: false,
  /** No compression. */
  compression: 'none',
  /** The leader acknowledges. */
  acks: 1,
  /** Produce request timeout, ms. */
  requestTimeout: 2000,
  /** Messages per request. */
  maxMessagesPerRequest: 200,
  /** Bytes per request. */
  maxBytesPerRequest: 1_048_576,
  /** The client's own retries of a request. */
  maxRequestRetries: 10,
  /** Backoff of the client's own retries, ms. */
  retryBackoff: 100,
  /** Background delivery. */
  async: true,
  /** Longest wait for a fuller request, ms. */
  flushTimeout: 1000,
  /** Most buffered messages. */
  maxBufferedMessages: 50_000,
  /** Entries per message. */
  maxBatchSize: 1,
  /** Longest wait of an incomplete message, ms. */
  maxCoalescingDelay: 1000,
  /** Most buffered entries. */
  maxEntries: 10_000,
  /** Most buffered bytes (32 MiB): above `maxEntries` entries of up to 3.3 KB, so it binds once bodies are logged. */
  maxBytes: 33_554_432,
  /** First retry delay, ms. */
  initialRetryDelay: 10,
  /** Retry time budget, ms. */
  maxRetryTime: 60_000,
  /** Longest retry delay, ms. */
  maxRetryDelay: 60_000,
  /** Requests in flight. */
  concurrencyLimit: 1,
  /** Plain producer. */
  idempotent: false,
  /** Warnings and errors are logged. */
  logLevel: 'warn',
} as const;

const MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
const COMPRESSIONS: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const LOG_LEVELS: readonly PublisherLogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integer(field: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(field, `must be an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function boolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(field, `must be a boolean, got ${describe(value)}`);
  return value;
}

function nonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(field, `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

// Secrets are checked without ever quoting the value.
function secret(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(field, 'must be a non-empty string');
  return value;
}

function optionalString(field: string, value: unknown): string | undefined {
  return value === undefined ? undefined : nonEmptyString(field, value);
}

function optionalFunction<T>(field: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(field, 'must be a function');
  return value as T;
}

function oneOf<T>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionError(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

// Values are echoed in messages only when they are short scalars: option objects may hold secrets.
function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : 'a long string';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function stringMap(field: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new InvalidOptionError(field, 'must be an object of strings');
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new InvalidOptionError(`${field}.${name}`, 'must be a string');
  }
  return value as Record<string, string>;
}

function brokerList(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError('brokers', 'must be a non-empty array of "host:port" strings or { host, port }');
  }
  return value.map((broker: unknown, i) => {
    const field = `brokers[${i}]`;
    if (typeof broker === 'string') {
      const match = /^(.+):(\d{1,5})$/.exec(broker);
      if (!match || Number(match[2]) > 65535) throw new InvalidOptionError(field, `must be "host:port", got ${describe(broker)}`);
      return broker;
    }
    if (isObject(broker)) {
      const host = nonEmptyString(`${field}.host`, broker.host);
      const port = integer(`${field}.port`, broker.port, Number.NaN, 0, 65535);
      return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    }
    throw new InvalidOptionError(field, 'must be "host:port" or { host, port }');
  });
}

function pem(field: string, value: unknown): Pem | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  throw new InvalidOptionError(field, 'must be PEM text (string or Buffer)');
}

function resolveTls(value: unknown): ResolvedTls | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { verify: true };
  if (!isObject(value)) throw new InvalidOptionError('tls', 'must be a boolean or an object');
  if (!boolean('tls.enabled', value.enabled, true)) return undefined;
  const tls: ResolvedTls = { verify: boolean('tls.verify', value.verify, true) };
  if (value.ca !== undefined) {
    tls.ca = Array.isArray(value.ca)
      ? value.ca.map((item: unknown, i) => pem(`tls.ca[${i}]`, item) as Pem)
      : (pem('tls.ca', value.ca) as Pem);
  }
  const cert = pem('tls.cert', value.cert);
  const key = pem('tls.key', value.key);
  if ((cert === undefined) !== (key === undefined)) {
    throw new InvalidOptionError(cert === undefined ? 'tls.cert' : 'tls.key', 'a client certificate needs both cert and key');
  }
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  if (value.secureContext !== undefined) {
    if (!isObject(value.secureContext) || !('context' in value.secureContext)) {
      throw new InvalidOptionError('tls.secureContext', 'must be a tls.SecureContext (tls.createSecureContext())');
    }
    tls.secureContext = value.secureContext as unknown as SecureContext;
  }
  const servername = optionalString('tls.servername', value.servername);
  if (servername !== undefined) tls.servername = servername;
  return tls;
}

function resolveOAuth(value: unknown): OAuthBearerOptions {
  const field = 'authentication.oauthBearer';
  if (!isObject(value)) throw new InvalidOptionError(field, 'is required with mechanism OAUTHBEARER');
  const url = nonEmptyString(`${field}.tokenEndpointUrl`, value.tokenEndpointUrl);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidOptionError(`${field}.tokenEndpointUrl`, 'must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidOptionError(`${field}.tokenEndpointUrl`, 'must be an http: or https: URL');
  }
  const scopes = value.scopes;
  if (scopes !== undefined && (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))) {
    throw new InvalidOptionError(`${field}.scopes`, 'must be an array of strings');
  }
  const result: OAuthBearerOptions = {
    tokenEndpointUrl: url,
    clientId: nonEmptyString(`${field}.clientId`, value.clientId),
    clientSecret: secret(`${field}.clientSecret`, value.clientSecret),
    tokenEndpointTlsVerify: boolean(`${field}.tokenEndpointTlsVerify`, value.tokenEndpointTlsVerify, true),
  };
  if (scopes !== undefined) result.scopes = [...(scopes as string[])];
  const extensions = stringMap(`${field}.extensions`, value.extensions);
  if (extensions !== undefined) result.extensions = { ...extensions };
  return result;
}

function resolveAuthentication(value: unknown): AuthenticationOptions | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new InvalidOptionError('authentication', 'must be an object');
  const mechanism = oneOf<SaslMechanism>('authentication.mechanism', value.mechanism, MECHANISMS, 'PLAIN');
  if (value.mechanism === undefined) throw new InvalidOptionError('authentication.mechanism', 'is required');
  const tokenAuth = boolean('authentication.tokenAuth', value.tokenAuth, false);
  if (mechanism === 'OAUTHBEARER') {
    return { mechanism, oauthBearer: resolveOAuth(value.oauthBearer) };
  }
  if (tokenAuth && mechanism === 'PLAIN') {
    throw new InvalidOptionError('authentication.tokenAuth', 'delegation tokens need a SCRAM mechanism');
  }
  return {
    mechanism,
    username: nonEmptyString('authentication.username', value.username),
    password: secret('authentication.password', value.password),
    tokenAuth,
  };
}

function resolveHeaders(value: unknown): ResolvedPublisherOptions['messageHeaders'] {
  if (value === undefined || typeof value === 'function') return value as HeadersSelector | undefined;
  if (!isObject(value)) throw new InvalidOptionError('messageHeaders', 'must be an object or a function');
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string' && !Buffer.isBuffer(item)) {
      throw new InvalidOptionError(`messageHeaders.${name}`, 'must be a string or Buffer');
    }
  }
  return { ...(value as Record<string, string | Buffer>) };
}

// Kong's block is recognised by its `confluent` key; its errors name Kong's fields (`schema_registry.confluent.*`).
function resolveSchemaRegistry(value: unknown): ResolvedRegistryOptions | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new InvalidOptionError('schemaRegistry', 'must be an object');
  if (!('confluent' in value)) return resolveRegistryOptions(value);
  const camel = fromKongSchemaRegistry(value as KongSchemaRegistryConfig);
  return camel === undefined ? undefined : resolveRegistryOptions(camel, 'schemaRegistry.confluent');
}

function randomClientId(): string {
  return `kafka-log-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Validates options and applies the defaults.
 *
 * @throws {@link InvalidOptionError} naming the first bad field.
 */
export function resolvePublisherOptions(options: KafkaLogPublisherOptions): ResolvedPublisherOptions {
  if (!isObject(options)) throw new InvalidOptionError('options', 'must be an object');
  const o = options as unknown as Record<string, unknown>;
  const d = PUBLISHER_DEFAULTS;
  const idempotent = boolean('idempotent', o.idempotent, d.idempotent);
  const acks = oneOf<Acks>('acks', o.acks, [-1, 0, 1], idempotent ? -1 : d.acks);
  if (idempotent && acks !== -1) throw new InvalidOptionError('acks', 'must be -1 with idempotent: true');
  const concurrencyLimit = integer('concurrencyLimit', o.concurrencyLimit, d.concurrencyLimit, 1, 1000);
  // kafkajs hands out sequence numbers when a request is sent and takes them back when it fails: a second
  // request sent meanwhile would reuse them and be taken by the broker for a duplicate. One at a time is safe.
  if (idempotent && concurrencyLimit !== 1) throw new InvalidOptionError('concurrencyLimit', 'must be 1 with idempotent: true');
  const topicQueryArg = optionalString('topicQueryArg', o.topicQueryArg);
  let allowedTopics: Set<string> | undefined;
  if (o.allowedTopics !== undefined) {
    if (!Array.isArray(o.allowedTopics)) throw new InvalidOptionError('allowedTopics', 'must be an array of topic names');
    allowedTopics = new Set(o.allowedTopics.map((t: unknown, i) => nonEmptyString(`allowedTopics[${i}]`, t)));
  }
  if (topicQueryArg !== undefined && allowedTopics === undefined) {
    throw new InvalidOptionError('allowedTopics', 'is required with topicQueryArg (a query argument must not pick any topic)');
  }
  const maxBytes = o.maxBytes === undefined ? d.maxBytes : integer('maxBytes', o.maxBytes, 0, 1);
  const maxRetryDelay = integer('maxRetryDelay', o.maxRetryDelay, d.maxRetryDelay, 0);
  const initialRetryDelay = integer('initialRetryDelay', o.initialRetryDelay, d.initialRetryDelay, 0);
  if (initialRetryDelay > maxRetryDelay) {
    throw new InvalidOptionError('initialRetryDelay', 'must not exceed maxRetryDelay');
  }
  const customFields = stringMap('customFields', o.customFields);
  const registry = resolveSchemaRegistry(o.schemaRegistry);
  const transport = o.transport ?? 'kafkajs';
  if (transport !== 'kafkajs' && transport !== 'platformatic' && typeof transport !== 'function') {
    throw new InvalidOptionError('transport', 'must be "kafkajs", "platformatic" or a transport factory function');
  }
  const logger = o.logger;
  if (logger !== undefined && (!isObject(logger) || typeof logger.warn !== 'function' || typeof logger.error !== 'function')) {
    throw new InvalidOptionError('logger', 'must have error, warn, info and debug methods');
  }
  return {
    brokers: brokerList(o.brokers),
    topic: nonEmptyString('topic', o.topic),
    clientId: optionalString('clientId', o.clientId) ?? randomClientId(),
    timeout: integer('timeout', o.timeout, d.timeout, 1),
    keepalive: integer('keepalive', o.keepalive, d.keepalive, 0),
    keepaliveEnabled: boolean('keepaliveEnabled', o.keepaliveEnabled, d.keepaliveEnabled),
    authentication: resolveAuthentication(o.authentication),
    tls: resolveTls(o.tls),
    compression: oneOf<CompressionType>('compression', o.compression, COMPRESSIONS, d.compression),
    keyQueryArg: optionalString('keyQueryArg', o.keyQueryArg),
    key: optionalFunction<KeySelector>('key', o.key),
    selectTopic: optionalFunction<TopicSelector>('selectTopic', o.selectTopic),
    topicQueryArg,
    allowedTopics,
    messageHeaders: resolveHeaders(o.messageHeaders),
    acks,
    requestTimeout: integer('requestTimeout', o.requestTimeout, d.requestTimeout, 1),
    maxMessagesPerRequest: integer('maxMessagesPerRequest', o.maxMessagesPerRequest, d.maxMessagesPerRequest, 1),
    maxBytesPerRequest: integer('maxBytesPerRequest', o.maxBytesPerRequest, d.maxBytesPerRequest, 1024),
    maxRequestRetries: integer('maxRequestRetries', o.maxRequestRetries, d.maxRequestRetries, 0, 1000),
    retryBackoff: integer('retryBackoff', o.retryBackoff, d.retryBackoff, 0),
    async: boolean('async', o.async, d.async),
    flushTimeout: integer('flushTimeout', o.flushTimeout, d.flushTimeout, 0),
    maxBufferedMessages: integer('maxBufferedMessages', o.maxBufferedMessages, d.maxBufferedMessages, 1),
    maxBatchSize: integer('maxBatchSize', o.maxBatchSize, d.maxBatchSize, 1),
    maxCoalescingDelay: integer('maxCoalescingDelay', o.maxCoalescingDelay, d.maxCoalescingDelay, 0),
    maxEntries: integer('maxEntries', o.maxEntries, d.maxEntries, 1),
    maxBytes,
    initialRetryDelay,
    maxRetryTime: integer('maxRetryTime', o.maxRetryTime, d.maxRetryTime, 0),
    maxRetryDelay,
    concurrencyLimit,
    idempotent,
    customFields: customFields === undefined ? undefined : { ...customFields },
    schemaRegistry: o.schemaRegistry as RegistryOptions | KongSchemaRegistryConfig | undefined,
    registry,
    logger: logger as PublisherLogger | undefined,
    logLevel: oneOf<PublisherLogLevel>('logLevel', o.logLevel, LOG_LEVELS, d.logLevel),
    transport: transport as 'kafkajs' | 'platformatic' | TransportFactory,
  };
}
