/**
 * The publisher's options table: every field of Kong 3.16's Kafka Log plugin configuration (its type, limits and
 * default as Kong's schema declares them, and the option it becomes) and every option Kong does not have, in the
 * order of the README's options table, which is generated from it (`npm run docs:options`).
 *
 * Kong's schema: developer.konghq.com `app/_schemas/gateway/plugins/3.16/KafkaLog.json`; the `queue` record is
 * Kong's shared logging queue, `kong/tools/queue_schema.lua`.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { OptionProblems, brokerHost, describeValue, fieldPath, finiteNumber, integer, isPlainObject, object, refuseUnknownKeys } from '../options/check.js';
import { type KongFieldRow, type OptionsRow, kongRowsOf, secondsToMs } from '../options/kong-table.js';
import type { FromKongConfigExtras } from './kong-plugin-config.js';

/** One row of the publisher's options table. */
type PublisherOptionRow = OptionsRow<FromKongConfigExtras>;

// Kong's queue.concurrency_limit -1 means "no limit"; requests in flight still need a bound here.
const UNLIMITED_CONCURRENCY = 64;

const tlsOn = (block: Readonly<Record<string, unknown>>) => isPlainObject(block.security) && block.security.ssl === true;

// Kong's `bootstrap_servers`: a set of { host, port } records (Kong's `host` and `port` typedefs).
function checkServers(field: string, value: unknown): void {
  if (!Array.isArray(value)) throw new InvalidOptionError(field, `must be an array of { host, port }, got ${describeValue(value)}`);
  const problems = new OptionProblems();
  for (const [i, server] of value.entries()) {
    const at = `${field}[${i}]`;
    if (!isPlainObject(server)) {
      problems.add(at, `must be an object { host, port }, got ${describeValue(server)}`);
      continue;
    }
    refuseUnknownKeys(at, server, ['host', 'port'], problems);
    problems.check(() => brokerHost(fieldPath(at, 'host'), server.host));
    if (server.port === undefined) problems.add(fieldPath(at, 'port'), 'is required');
    else problems.check(() => integer(fieldPath(at, 'port'), server.port, 0, 0, 65535));
  }
  problems.throwIfAny();
}

function certificate(id: unknown, extras: FromKongConfigExtras, field: string): unknown[] {
  const found = typeof id === 'string' && extras.certificates !== undefined && Object.hasOwn(extras.certificates, id) ? extras.certificates[id] : undefined;
  if (found === undefined) throw new InvalidOptionError(field, 'names no certificate given in extras.certificates');
  return [found.cert, found.key];
}

/** The publisher's options table (see the module's description). */
export const PUBLISHER_OPTION_ROWS: readonly PublisherOptionRow[] = [
  {
    kong: 'bootstrap_servers',
    type: 'array',
    required: true,
    check: checkServers,
    option: 'brokers',
    meaning: 'bootstrap brokers: Kong\'s `{ host, port }` list, or `"host:port"` strings (IPv6 in brackets: `"[::1]:9092"`)',
  },
  { kong: 'topic', type: 'string', required: true, option: 'topic', meaning: 'the default topic' },
  { kong: 'timeout', type: 'integer', default: 10_000, option: 'timeout', meaning: 'socket timeout (connect and authentication), ms' },
  { kong: 'keepalive', type: 'integer', default: 60_000, option: 'keepalive', meaning: 'idle time before TCP keep-alive probes start, ms' },
  {
    kong: 'keepalive_enabled',
    type: 'boolean',
    default: false,
    option: 'keepaliveEnabled',
    meaning: 'TCP keep-alive on broker sockets (connections are always reused)',
  },
  { kong: 'authentication', type: 'record', meaning: 'SASL authentication' },
  { kong: 'authentication.strategy', type: 'string', oneOf: ['sasl'], meaning: 'only `sasl`; `authentication` is used when it is set' },
  {
    kong: 'authentication.mechanism',
    type: 'string',
    oneOf: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'],
    option: 'authentication.mechanism',
    meaning: '`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, `OAUTHBEARER`',
  },
  { kong: 'authentication.user', type: 'string', option: 'authentication.username', meaning: 'SASL user (the token id with `tokenauth`)' },
  {
    kong: 'authentication.password',
    type: 'string',
    secret: true,
    option: 'authentication.password',
    meaning: 'SASL password (the token HMAC with `tokenauth`); never logged',
  },
  {
    kong: 'authentication.tokenauth',
    type: 'boolean',
    option: 'authentication.tokenAuth',
    meaning: 'delegation-token authentication: SCRAM with the `tokenauth=true` extension',
  },
  { kong: 'authentication.oauthbearer', type: 'record', meaning: 'SASL OAUTHBEARER' },
  {
    kong: 'authentication.oauthbearer.token_endpoint_url',
    type: 'string',
    option: 'authentication.oauthBearer.tokenEndpointUrl',
    meaning: 'OAuth 2 token endpoint (client-credentials grant)',
  },
  { kong: 'authentication.oauthbearer.client_id', type: 'string', option: 'authentication.oauthBearer.clientId', meaning: 'OAuth client id' },
  {
    kong: 'authentication.oauthbearer.client_secret',
    type: 'string',
    secret: true,
    option: 'authentication.oauthBearer.clientSecret',
    meaning: 'OAuth client secret; never logged',
  },
  {
    kong: 'authentication.oauthbearer.scopes',
    type: 'array',
    items: 'string',
    option: 'authentication.oauthBearer.scopes',
    meaning: 'scopes asked for (sent space-separated)',
  },
  {
    kong: 'authentication.oauthbearer.extensions',
    type: 'map',
    option: 'authentication.oauthBearer.extensions',
    meaning: 'SASL extensions sent with the token',
  },
  {
    kong: 'authentication.oauthbearer.token_endpoint_tls_verify',
    type: 'boolean',
    default: true,
    option: 'authentication.oauthBearer.tokenEndpointTlsVerify',
    meaning: "verify the token endpoint's certificate",
  },
  {
    option: 'authentication.oauthBearer.provider',
    meaning:
      '`() => Promise<{ value, lifetimeMs, principal?, extensions? }>` instead of the client-credentials grant (AWS MSK IAM, Azure, your own identity ' +
        'provider); see [Token providers](#token-providers)',
  },
  { kong: 'security', type: 'record', meaning: 'TLS to the brokers' },
  {
    kong: 'security.ssl',
    type: 'boolean',
    option: 'tls.enabled',
    defaultText: 'off',
    meaning: 'TLS to the brokers (`tls: true` for defaults)',
  },
  {
    kong: 'security.ssl_verify',
    type: 'boolean',
    default: true,
    option: 'tls.verify',
    when: tlsOn,
    meaning: "verify the broker's certificate",
  },
  {
    kong: 'security.certificate_id',
    type: 'string',
    option: ['tls.cert', 'tls.key'],
    when: tlsOn,
    convert: certificate,
    meaning: 'client certificate for mTLS (or `tls.secureContext`); `fromKongConfig` looks the id up in `extras.certificates`',
  },
  {
    option: 'tls.ca',
    kongNote: "- (Kong's `lua_ssl_trusted_certificate`)",
    defaultText: "Node's roots",
    meaning: 'trusted CAs, PEM text (`extras.ca` in `fromKongConfig`)',
  },
  { option: 'tls.secureContext', meaning: 'a ready `tls.SecureContext` (replaces `ca`, `cert`, `key`)' },
  { option: 'tls.servername', defaultText: "the broker's host", meaning: 'server name sent in SNI and checked against the certificate' },
  { kong: 'cluster_name', type: 'string', option: 'clientId', defaultText: '`kafka-log-<random>`', meaning: "the producer's client id" },
  {
    kong: 'compression_type',
    type: 'string',
    // Kong's list, and zstd (kafka-log's addition).
    oneOf: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
    default: 'none',
    option: 'compression',
    meaning:
      '`gzip`, `snappy`, `lz4`, `none`, and `zstd` (kafka-log\'s addition); snappy/lz4/zstd need the optional packages `snappyjs`, `lz4js`, ' +
        '`@bokuweb/zstd-wasm` (zstd uses `node:zlib` where Node has it)',
  },
  {
    kong: 'key_query_arg',
    type: 'string',
    option: 'keyQueryArg',
    meaning: 'query argument whose value becomes the message key (first value when repeated)',
  },
  {
    kong: 'producer_request_acks',
    type: 'integer',
    oneOf: [-1, 0, 1],
    default: 1,
    option: 'acks',
    defaultText: '`1` (`-1` with `idempotent`)',
    meaning: '`-1` all in-sync replicas, `0` none, `1` the leader',
  },
  {
    kong: 'producer_request_timeout',
    type: 'integer',
    default: 2000,
    option: 'requestTimeout',
    meaning: 'time the broker may take to answer a produce request, ms',
  },
  {
    kong: 'producer_request_limits_messages_per_request',
    type: 'integer',
    default: 200,
    option: 'maxMessagesPerRequest',
    meaning: 'messages in one produce request',
  },
  {
    kong: 'producer_request_limits_bytes_per_request',
    type: 'integer',
    default: 1_048_576,
    option: 'maxBytesPerRequest',
    meaning: 'bytes in one produce request; a bigger message is dropped as `message_too_large`',
  },
  {
    kong: 'producer_request_retries_max_attempts',
    type: 'integer',
    default: 10,
    option: 'maxRequestRetries',
    meaning: "the Kafka client's own retries of one request (the queue retries on top)",
  },
  {
    kong: 'producer_request_retries_backoff_timeout',
    type: 'integer',
    default: 100,
    option: 'retryBackoff',
    meaning: "backoff between the client's own retries, ms",
  },
  {
    kong: 'producer_async',
    type: 'boolean',
    default: true,
    option: 'async',
    meaning: '`false`: `publish` returns a promise settled on delivery and requests go out at once',
  },
  {
    kong: 'producer_async_flush_timeout',
    type: 'integer',
    default: 1000,
    option: 'flushTimeout',
    meaning: 'longest time a ready message waits for a fuller request, ms',
  },
  {
    kong: 'producer_async_buffering_limits_messages_in_memory',
    type: 'integer',
    default: 50_000,
    option: 'maxBufferedMessages',
    meaning: 'most messages buffered; more are dropped (`queue_full_messages`)',
  },
  {
    kong: 'new_kafka_async_producer',
    type: 'boolean',
    default: false,
    meaning: "accepted, no effect: kafka-log's producer always batches across requests",
  },
  {
    kong: 'custom_fields_by_lua',
    type: 'map',
    option: 'customFields',
    meaning:
      'dotted key → JavaScript expression string, carried for the adapters; Lua is not run: rewrite each value in JavaScript (`kafka-log check-config` ' +
        'compiles them)',
  },
  {
    kong: 'schema_registry',
    type: 'record',
    // Checked (and named) by the registry's own table when the publisher resolves it.
    check: (field, value) => void object(field, value),
    option: 'schemaRegistry',
    meaning:
      'serialize through a Confluent schema registry: Kong\'s block (`{ confluent: { ... } }`, `confluent` null: none) or `RegistryOptions`; see [Schema ' +
        'registry options](#schema-registry-options)',
  },
  { kong: 'queue', type: 'record', alwaysPresent: true, meaning: "Kong's shared logging queue" },
  {
    kong: 'queue.max_batch_size',
    type: 'integer',
    between: [1, 1_000_000],
    default: 1,
    option: 'maxBatchSize',
    meaning: 'entries per message; above 1 a message holds a JSON array',
  },
  {
    kong: 'queue.max_coalescing_delay',
    type: 'number',
    between: [0, 3600],
    default: 1,
    unit: 's',
    convert: secondsToMs,
    option: 'maxCoalescingDelay',
    meaning: 'longest wait of an incomplete message for more entries',
  },
  {
    kong: 'queue.max_entries',
    type: 'integer',
    between: [1, 1_000_000],
    default: 10_000,
    option: 'maxEntries',
    meaning: 'most entries buffered; more are dropped (`queue_full_entries`)',
  },
  {
    kong: 'queue.max_bytes',
    type: 'integer',
    option: 'maxBytes',
    meaning: 'most bytes buffered (message values as sent, keys, headers); more are dropped (`queue_full_bytes`); see [Buffer sizing](#buffer-sizing)',
  },
  {
    kong: 'queue.initial_retry_delay',
    type: 'number',
    between: [0.001, 1_000_000],
    default: 0.01,
    unit: 's',
    convert: secondsToMs,
    option: 'initialRetryDelay',
    meaning: 'first delay before retrying a failed request; doubles, ±20% jitter',
  },
  {
    kong: 'queue.max_retry_time',
    type: 'number',
    // Kong has no bound; a negative time means nothing here.
    check: (field, value) => void finiteNumber(field, value, 0, 0),
    default: 60,
    unit: 's',
    convert: secondsToMs,
    option: 'maxRetryTime',
    meaning: 'a request failing longer is dropped (`retry_time_exceeded`)',
  },
  {
    kong: 'queue.max_retry_delay',
    type: 'number',
    between: [0.001, 1_000_000],
    default: 60,
    unit: 's',
    convert: secondsToMs,
    option: 'maxRetryDelay',
    meaning: 'longest delay between retries',
  },
  {
    kong: 'queue.concurrency_limit',
    type: 'integer',
    oneOf: [1, -1],
    default: 1,
    convert: (value) => (value === -1 ? UNLIMITED_CONCURRENCY : value),
    option: 'concurrencyLimit',
    meaning: `produce requests in flight (\`-1\`, Kong's "no limit", becomes ${UNLIMITED_CONCURRENCY})`,
  },
  { option: 'idempotent', meaning: 'idempotent producer (acks `-1`, one request in flight): retries never duplicate' },
  { option: 'key', meaning: '`(entry) => key` when `keyQueryArg` gives none' },
  { option: 'selectTopic', meaning: '`(entry) => topic`; checked against `allowedTopics` when given' },
  { option: 'topicQueryArg', meaning: 'query argument naming the topic; needs `allowedTopics`' },
  { option: 'allowedTopics', meaning: 'topics an entry may choose; others are dropped (`topic_not_allowed`)' },
  { option: 'messageHeaders', meaning: 'headers of every message: a map, or `(entry) => headers`' },
  { option: 'logger', defaultText: 'stderr', meaning: "where the publisher's log lines go, secrets stripped: pino, `console` or any logger; `false`: none" },
  { option: 'logLevel', meaning: 'least level passed to `logger` and the `publisher.log` event' },
  {
    option: 'secrets',
    meaning: 'more values removed from every error, event and log line (`fromKongConfig` adds the values of vault references); see [Vault ' +
      'references](#vault-references)',
  },
  {
    option: 'transport',
    meaning:
      "the Kafka client: `'kafkajs'`, `'platformatic'` (@platformatic/kafka, an optional peer) or a factory (tests, other clients); see " +
        "[Transports](#transports)",
  },
  {
    option: 'spool.directory',
    meaning:
      'a local spool: entries that would be dropped for a full buffer, an exhausted retry time or the close deadline are written to files here instead ' +
        '(`spooled`); one publisher per directory; see [Spool and replay](#spool-and-replay)',
  },
  { option: 'spool.maxBytes', meaning: 'most bytes of spool files in the directory: a hard cap, past it entries are dropped with their reason' },
  { option: 'spool.maxFileBytes', meaning: 'size at which a spool file is synced, sealed and the next one started' },
  {
    option: 'spool.replay',
    meaning: 'replay the spool in the background once Kafka answers (one request at a time, live traffic first); `false`: `kafka-log replay DIR`',
  },
];

/** The rows that are fields of Kong's configuration. */
export const KONG_FIELDS: readonly KongFieldRow<FromKongConfigExtras>[] = kongRowsOf(PUBLISHER_OPTION_ROWS);
