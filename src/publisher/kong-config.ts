/**
 * `fromKongConfig`: takes Kong 3.16's Kafka Log plugin configuration unchanged (snake_case, as in a declarative
 * config; the whole plugin object or just its `config`) and returns the publisher's camelCase options with
 * Kong's defaults applied and Kong's queue seconds turned into milliseconds. Errors name Kong's field path.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import {
  type AuthenticationOptions,
  type KafkaLogPublisherOptions,
  PUBLISHER_DEFAULTS,
  type Pem,
  resolvePublisherOptions,
} from './options.js';

/** A client certificate for Kong's `security.certificate_id` (Kong keeps it in a Certificate entity). */
export interface KongCertificate {
  /** PEM certificate. */
  cert: Pem;
  /** PEM private key. */
  key: Pem;
}

/** What Kong keeps outside the plugin config, and options that have no Kong name. */
export interface FromKongConfigExtras {
  /** Certificates by id, for `security.certificate_id`. */
  certificates?: Readonly<Record<string, KongCertificate>>;
  /** Trusted CAs for `security.ssl` (Kong uses its `lua_ssl_trusted_certificate`). Default: Node's roots. */
  ca?: Pem | Pem[];
  /** Any camelCase option to add or override (functions such as `key`, a `logger`...). */
  overrides?: Partial<KafkaLogPublisherOptions>;
}

/** One row of the Kong ↔ camelCase mapping (also the source of the README's options table). */
export interface KongOptionMapping {
  /** Kong's field path below `config`. */
  kong: string;
  /** The camelCase option path. */
  option: string;
}

/**
 * Kong field paths and the option each becomes. Used to name Kong's field when a converted value is refused.
 * Order matters only for prefixes: the longest matching `option` wins.
 */
export const KONG_OPTION_MAP: readonly KongOptionMapping[] = [
  { kong: 'bootstrap_servers', option: 'brokers' },
  { kong: 'topic', option: 'topic' },
  { kong: 'timeout', option: 'timeout' },
  { kong: 'keepalive', option: 'keepalive' },
  { kong: 'keepalive_enabled', option: 'keepaliveEnabled' },
  { kong: 'authentication', option: 'authentication' },
  { kong: 'authentication.mechanism', option: 'authentication.mechanism' },
  { kong: 'authentication.user', option: 'authentication.username' },
  { kong: 'authentication.password', option: 'authentication.password' },
  { kong: 'authentication.tokenauth', option: 'authentication.tokenAuth' },
  { kong: 'authentication.oauthbearer', option: 'authentication.oauthBearer' },
  { kong: 'authentication.oauthbearer.token_endpoint_url', option: 'authentication.oauthBearer.tokenEndpointUrl' },
  { kong: 'authentication.oauthbearer.client_id', option: 'authentication.oauthBearer.clientId' },
  { kong: 'authentication.oauthbearer.client_secret', option: 'authentication.oauthBearer.clientSecret' },
  { kong: 'authentication.oauthbearer.scopes', option: 'authentication.oauthBearer.scopes' },
  { kong: 'authentication.oauthbearer.extensions', option: 'authentication.oauthBearer.extensions' },
  {
    kong: 'authentication.oauthbearer.token_endpoint_tls_verify',
    option: 'authentication.oauthBearer.tokenEndpointTlsVerify',
  },
  { kong: 'security.ssl', option: 'tls.enabled' },
  { kong: 'security.ssl_verify', option: 'tls.verify' },
  { kong: 'security.certificate_id', option: 'tls.cert' },
  { kong: 'security.certificate_id', option: 'tls.key' },
  { kong: 'cluster_name', option: 'clientId' },
  { kong: 'compression_type', option: 'compression' },
  { kong: 'key_query_arg', option: 'keyQueryArg' },
  { kong: 'producer_request_acks', option: 'acks' },
  { kong: 'producer_request_timeout', option: 'requestTimeout' },
  { kong: 'producer_request_limits_messages_per_request', option: 'maxMessagesPerRequest' },
  { kong: 'producer_request_limits_bytes_per_request', option: 'maxBytesPerRequest' },
  { kong: 'producer_request_retries_max_attempts', option: 'maxRequestRetries' },
  { kong: 'producer_request_retries_backoff_timeout', option: 'retryBackoff' },
  { kong: 'producer_async', option: 'async' },
  { kong: 'producer_async_flush_timeout', option: 'flushTimeout' },
  { kong: 'producer_async_buffering_limits_messages_in_memory', option: 'maxBufferedMessages' },
  { kong: 'custom_fields_by_lua', option: 'customFields' },
  { kong: 'schema_registry', option: 'schemaRegistry' },
  { kong: 'queue.max_batch_size', option: 'maxBatchSize' },
  { kong: 'queue.max_coalescing_delay', option: 'maxCoalescingDelay' },
  { kong: 'queue.max_entries', option: 'maxEntries' },
  { kong: 'queue.max_bytes', option: 'maxBytes' },
  { kong: 'queue.initial_retry_delay', option: 'initialRetryDelay' },
  { kong: 'queue.max_retry_time', option: 'maxRetryTime' },
  { kong: 'queue.max_retry_delay', option: 'maxRetryDelay' },
  { kong: 'queue.concurrency_limit', option: 'concurrencyLimit' },
];

const TOP_FIELDS = new Set([
  'bootstrap_servers',
  'topic',
  'timeout',
  'keepalive',
  'keepalive_enabled',
  'authentication',
  'security',
  'cluster_name',
  'compression_type',
  'key_query_arg',
  'producer_request_acks',
  'producer_request_timeout',
  'producer_request_limits_messages_per_request',
  'producer_request_limits_bytes_per_request',
  'producer_request_retries_max_attempts',
  'producer_request_retries_backoff_timeout',
  'producer_async',
  'producer_async_flush_timeout',
  'producer_async_buffering_limits_messages_in_memory',
  'new_kafka_async_producer',
  'custom_fields_by_lua',
  'schema_registry',
  'queue',
]);
const AUTH_FIELDS = new Set(['strategy', 'mechanism', 'user', 'password', 'tokenauth', 'oauthbearer']);
const OAUTH_FIELDS = new Set([
  'token_endpoint_url',
  'client_id',
  'client_secret',
  'scopes',
  'extensions',
  'token_endpoint_tls_verify',
]);
const SECURITY_FIELDS = new Set(['ssl', 'ssl_verify', 'certificate_id']);
// Kong's shared logging queue; the delays are in seconds there.
const QUEUE_FIELDS = new Set([
  'max_batch_size',
  'max_coalescing_delay',
  'max_entries',
  'max_bytes',
  'initial_retry_delay',
  'max_retry_time',
  'max_retry_delay',
  'concurrency_limit',
]);
const QUEUE_SECONDS = new Set(['max_coalescing_delay', 'initial_retry_delay', 'max_retry_time', 'max_retry_delay']);
// Kong's queue.concurrency_limit -1 means "no limit"; requests in flight still need a bound here.
const UNLIMITED_CONCURRENCY = 64;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Declarative configs spell unset fields as null.
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function record(path: string, value: unknown, allowed: ReadonlySet<string>): Json | undefined {
  if (!present(value)) return undefined;
  if (!isObject(value)) throw new InvalidOptionError(path, 'must be an object');
  for (const name of Object.keys(value)) {
    if (!allowed.has(name)) throw new InvalidOptionError(`${path}.${name}`, 'unknown field');
  }
  return value;
}

function set(target: Json, name: string, value: unknown): void {
  if (present(value)) target[name] = value;
}

function seconds(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(path, 'must be a non-negative number of seconds');
  }
  return Math.round(value * 1000);
}

function kongPathOf(field: string, prefix: string): string {
  let best: KongOptionMapping | undefined;
  for (const row of KONG_OPTION_MAP) {
    const matches = field === row.option || field.startsWith(`${row.option}.`) || field.startsWith(`${row.option}[`);
    if (matches && (!best || row.option.length > best.option.length)) best = row;
  }
  if (!best) return `${prefix}${field}`;
  return `${prefix}${best.kong}${field.slice(best.option.length)}`;
}

function convertAuthentication(path: string, value: unknown): AuthenticationOptions | undefined {
  const auth = record(path, value, AUTH_FIELDS);
  if (!auth || !present(auth.strategy)) {
    if (auth && (present(auth.mechanism) || present(auth.user))) {
      throw new InvalidOptionError(`${path}.strategy`, 'must be "sasl" when a mechanism or user is given');
    }
    return undefined;
  }
  if (auth.strategy !== 'sasl') throw new InvalidOptionError(`${path}.strategy`, 'must be "sasl"');
  if (!present(auth.mechanism)) throw new InvalidOptionError(`${path}.mechanism`, 'is required with strategy "sasl"');
  const out: Json = { mechanism: auth.mechanism };
  set(out, 'username', auth.user);
  set(out, 'password', auth.password);
  set(out, 'tokenAuth', auth.tokenauth);
  const oauth = record(`${path}.oauthbearer`, auth.oauthbearer, OAUTH_FIELDS);
  if (oauth) {
    const o: Json = {};
    set(o, 'tokenEndpointUrl', oauth.token_endpoint_url);
    set(o, 'clientId', oauth.client_id);
    set(o, 'clientSecret', oauth.client_secret);
    set(o, 'scopes', oauth.scopes);
    set(o, 'extensions', oauth.extensions);
    o.tokenEndpointTlsVerify = present(oauth.token_endpoint_tls_verify) ? oauth.token_endpoint_tls_verify : true;
    out.oauthBearer = o;
  }
  return out as unknown as AuthenticationOptions;
}

function convertSecurity(path: string, value: unknown, extras: FromKongConfigExtras): Json | undefined {
  const security = record(path, value, SECURITY_FIELDS);
  if (security?.ssl !== true) {
    if (security && present(security.ssl) && typeof security.ssl !== 'boolean') {
      throw new InvalidOptionError(`${path}.ssl`, 'must be a boolean');
    }
    return undefined;
  }
  const tls: Json = { enabled: true, verify: present(security.ssl_verify) ? security.ssl_verify : true };
  if (extras.ca !== undefined) tls.ca = extras.ca;
  if (present(security.certificate_id)) {
    const id = security.certificate_id;
    const certificate = typeof id === 'string' ? extras.certificates?.[id] : undefined;
    if (!certificate) {
      throw new InvalidOptionError(`${path}.certificate_id`, 'names no certificate given in extras.certificates');
    }
    tls.cert = certificate.cert;
    tls.key = certificate.key;
  }
  return tls;
}

function convertQueue(path: string, value: unknown, out: Json): void {
  const queue = record(path, value, QUEUE_FIELDS);
  if (!queue) return;
  const names: Record<string, string> = {
    max_batch_size: 'maxBatchSize',
    max_coalescing_delay: 'maxCoalescingDelay',
    max_entries: 'maxEntries',
    max_bytes: 'maxBytes',
    initial_retry_delay: 'initialRetryDelay',
    max_retry_time: 'maxRetryTime',
    max_retry_delay: 'maxRetryDelay',
    concurrency_limit: 'concurrencyLimit',
  };
  for (const [kong, option] of Object.entries(names)) {
    const v = queue[kong];
    if (!present(v)) continue;
    if (QUEUE_SECONDS.has(kong)) out[option] = seconds(`${path}.${kong}`, v);
    else if (kong === 'concurrency_limit' && v === -1) out[option] = UNLIMITED_CONCURRENCY;
    else out[option] = v;
  }
}

/**
 * Converts Kong 3.16's Kafka Log plugin configuration (the plugin object with its `config`, or the `config`
 * alone, snake_case and unchanged) into {@link KafkaLogPublisherOptions}, defaults applied. `queue` (Kong's
 * shared logging queue: `max_batch_size`, delays in seconds...) is accepted too. `new_kafka_async_producer` is
 * accepted and has no effect: kafka-log's single producer already batches across requests.
 *
 * @throws {@link InvalidOptionError} whose `field` is Kong's path (e.g. `config.security.ssl_verify`).
 */
export function fromKongConfig(config: unknown, extras: FromKongConfigExtras = {}): KafkaLogPublisherOptions {
  let prefix = '';
  let c: unknown = config;
  if (isObject(config) && isObject(config.config)) {
    if (present(config.name) && config.name !== 'kafka-log') {
      throw new InvalidOptionError('name', `must be "kafka-log", got ${JSON.stringify(config.name)}`);
    }
    prefix = 'config.';
    c = config.config;
  }
  if (!isObject(c)) throw new InvalidOptionError('config', 'must be an object');
  const root = c;
  const at = (name: string) => `${prefix}${name}`;
  for (const name of Object.keys(root)) {
    if (!TOP_FIELDS.has(name)) throw new InvalidOptionError(at(name), 'unknown field');
  }
  if (!present(root.topic)) throw new InvalidOptionError(at('topic'), 'is required');
  if (!present(root.bootstrap_servers)) throw new InvalidOptionError(at('bootstrap_servers'), 'is required');
  if (present(root.new_kafka_async_producer) && typeof root.new_kafka_async_producer !== 'boolean') {
    throw new InvalidOptionError(at('new_kafka_async_producer'), 'must be a boolean');
  }
  const d = PUBLISHER_DEFAULTS;
  const out: Json = {
    brokers: root.bootstrap_servers,
    topic: root.topic,
    timeout: d.timeout,
    keepalive: d.keepalive,
    keepaliveEnabled: d.keepaliveEnabled,
    compression: d.compression,
    acks: d.acks,
    requestTimeout: d.requestTimeout,
    maxMessagesPerRequest: d.maxMessagesPerRequest,
    maxBytesPerRequest: d.maxBytesPerRequest,
    maxRequestRetries: d.maxRequestRetries,
    retryBackoff: d.retryBackoff,
    async: d.async,
    flushTimeout: d.flushTimeout,
    maxBufferedMessages: d.maxBufferedMessages,
    maxBatchSize: d.maxBatchSize,
    maxCoalescingDelay: d.maxCoalescingDelay,
    maxEntries: d.maxEntries,
    // Kong's max_bytes is unset by default (and counts only string entries, which Kafka Log's are not).
    maxBytes: d.maxBytes,
    initialRetryDelay: d.initialRetryDelay,
    maxRetryTime: d.maxRetryTime,
    maxRetryDelay: d.maxRetryDelay,
    concurrencyLimit: d.concurrencyLimit,
  };
  set(out, 'timeout', root.timeout);
  set(out, 'keepalive', root.keepalive);
  set(out, 'keepaliveEnabled', root.keepalive_enabled);
  set(out, 'clientId', root.cluster_name);
  set(out, 'compression', root.compression_type);
  set(out, 'keyQueryArg', root.key_query_arg);
  set(out, 'acks', root.producer_request_acks);
  set(out, 'requestTimeout', root.producer_request_timeout);
  set(out, 'maxMessagesPerRequest', root.producer_request_limits_messages_per_request);
  set(out, 'maxBytesPerRequest', root.producer_request_limits_bytes_per_request);
  set(out, 'maxRequestRetries', root.producer_request_retries_max_attempts);
  set(out, 'retryBackoff', root.producer_request_retries_backoff_timeout);
  set(out, 'async', root.producer_async);
  set(out, 'flushTimeout', root.producer_async_flush_timeout);
  set(out, 'maxBufferedMessages', root.producer_async_buffering_limits_messages_in_memory);
  set(out, 'customFields', root.custom_fields_by_lua);
  set(out, 'schemaRegistry', root.schema_registry);
  const authentication = convertAuthentication(at('authentication'), root.authentication);
  if (authentication) out.authentication = authentication;
  const tls = convertSecurity(at('security'), root.security, extras);
  if (tls) out.tls = tls;
  convertQueue(at('queue'), root.queue, out);
  const options = { ...(out as unknown as KafkaLogPublisherOptions), ...extras.overrides };
  try {
    resolvePublisherOptions(options);
  } catch (error) {
    const top = error instanceof InvalidOptionError ? (error.field.split(/[.[]/)[0] ?? '') : '';
    // A refused override keeps its camelCase name: it did not come from Kong's config.
    if (error instanceof InvalidOptionError && !(extras.overrides && top in extras.overrides)) {
      const problem = error.message.replace(/^invalid option "[^"]*": /, '');
      throw new InvalidOptionError(kongPathOf(error.field, prefix), problem);
    }
    throw error;
  }
  return options;
}
