/**
 * The kafkajs transport: the only module that imports kafkajs. It bounds kafkajs' own retries (the publisher
 * retries on top and counts), keeps each record's partition stable across retries of the same request (so an
 * idempotent producer's retry carries the same sequence numbers to the same partitions), registers the
 * snappy/lz4/zstd codecs on demand and classifies every failure as retriable or not.
 *
 * @module
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import kafkajs, {
  CompressionTypes,
  type ISocketFactory,
  Kafka,
  type KafkaConfig,
  type LogEntry as KafkajsLogEntry,
  type Message,
  type PartitionerArgs,
  type Producer,
  type ProducerConfig,
  type SASLOptions,
  logLevel,
  Partitioners,
} from 'kafkajs';
import { type LoadableCodec, loadCodec } from './codecs.js';
import {
  type ProduceRecord,
  type ProduceRequest,
  type Transport,
  type TransportConfig,
  TransportError,
  type TransportHooks,
  type TransportLogLevel,
  socketTlsOptions,
} from './transport.js';

// Node's ESM loader sees only the named exports kafkajs' CommonJS index lets it detect; `CompressionCodecs` is not
// one of them, so a named import of it fails to link in the ESM build (dist/*.mjs). Read it off the default export.
const { CompressionCodecs } = kafkajs;

const COMPRESSION_TYPES = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

/** Registers a codec in kafkajs' global codec table (what kafkajs' codec packages do too). */
export async function registerKafkajsCodec(name: LoadableCodec): Promise<void> {
  const codec = await loadCodec(name);
  CompressionCodecs[COMPRESSION_TYPES[name]] = () => ({
    compress: (encoder: { buffer: Buffer }) => codec.compress(encoder.buffer),
    decompress: (buffer: Buffer) => codec.decompress(buffer),
  });
}

const LEVELS: Record<number, TransportLogLevel | undefined> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const KAFKAJS_LEVELS = {
  silent: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
} as const;

// kafkajs' messages carry this so the partitioner can keep keyless records of one request together.
const STICKY = Symbol('kafka-log.sticky');
type StickyMessage = Message & { [STICKY]?: { partition?: number } };
// Each record carries its kafkajs message (with the partition chosen for it) from its first attempt on, so a
// retry reuses it. A property rather than a WeakMap keyed by records: an entry per record in a WeakMap costs the
// garbage collector far more than one more property on an object that dies with it.
const MESSAGE = Symbol('kafka-log.kafkajsMessage');
type MessageHolder = ProduceRecord & { [MESSAGE]?: StickyMessage };

/**
 * Keyed records go where the Java client sends them (murmur2); keyless records of one request all go to one
 * partition, chosen round-robin per request. The choice is written back into the message, so a retry of the
 * same request sends every record to the same partition again.
 */
function createStablePartitioner() {
  const defaultPartitioner = Partitioners.DefaultPartitioner();
  let counter = Math.floor(Math.random() * 0x7fffffff);
  return ({ topic, partitionMetadata, message: plain }: PartitionerArgs): number => {
    const message = plain as StickyMessage;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    let partition: number;
    const sticky = message[STICKY];
    if (message.key !== null && message.key !== undefined) {
      partition = defaultPartitioner({ topic, partitionMetadata, message });
    } else if (sticky?.partition !== undefined) {
      partition = sticky.partition;
    } else {
      const available = partitionMetadata.filter((p) => p.leader >= 0);
      const pool = available.length > 0 ? available : partitionMetadata;
      counter = (counter + 1) & 0x7fffffff;
      partition = (pool[counter % pool.length] as { partitionId: number }).partitionId;
      if (sticky) sticky.partition = partition;
    }
    message.partition = partition;
    return partition;
  };
}

interface ScramInternals {
  SCRAM: new (
    sasl: unknown,
    host: string,
    port: number,
    logger: unknown,
    saslAuthenticate: unknown,
    digest: unknown,
  ) => { authenticate(): Promise<void>; firstMessageBare(): string };
  DIGESTS: { SHA256: unknown; SHA512: unknown };
}

/**
 * Delegation-token authentication: SCRAM whose client-first message carries the `tokenauth=true` extension
 * (RFC 5802 extensions follow the nonce). kafkajs has no such option, so its own SCRAM class is extended.
 */
async function tokenAuthProvider(sasl: { mechanism: string; username: string; password: string }) {
  // A variable specifier: kafkajs' internal module has no types, and bundlers must leave it alone.
  const internal = 'kafkajs/src/broker/saslAuthenticator/scram.js';
  const mod = (await import(internal)) as ScramInternals | { default: ScramInternals };
  const { SCRAM, DIGESTS } = 'SCRAM' in mod ? mod : mod.default;
  class TokenScram extends SCRAM {
    override firstMessageBare(): string {
      return `${super.firstMessageBare()},tokenauth=true`;
    }
  }
  const digest = sasl.mechanism === 'SCRAM-SHA-512' ? DIGESTS.SHA512 : DIGESTS.SHA256;
  return ({
    host,
    port,
    logger,
    saslAuthenticate,
  }: {
    host: string;
    port: number;
    logger: unknown;
    saslAuthenticate: unknown;
  }) => ({
    authenticate: () => new TokenScram(sasl, host, port, logger, saslAuthenticate, digest).authenticate(),
  });
}

async function saslOptions(config: TransportConfig): Promise<SASLOptions | undefined> {
  const sasl = config.sasl;
  if (!sasl) return undefined;
  if (sasl.mechanism === 'OAUTHBEARER') {
    const provider = sasl.oauthBearerToken;
    if (!provider) throw new TransportError('authentication', 'OAUTHBEARER needs a token provider', false);
    return { mechanism: 'oauthbearer', oauthBearerProvider: provider };
  }
  const username = sasl.username ?? '';
  const password = sasl.password ?? '';
  if (sasl.tokenAuth) {
    const authenticationProvider = await tokenAuthProvider({ mechanism: sasl.mechanism, username, password });
    return { mechanism: sasl.mechanism, authenticationProvider } as unknown as SASLOptions;
  }
  if (sasl.mechanism === 'PLAIN') return { mechanism: 'plain', username, password };
  if (sasl.mechanism === 'SCRAM-SHA-256') return { mechanism: 'scram-sha-256', username, password };
  return { mechanism: 'scram-sha-512', username, password };
}

function socketFactory(keepAliveMs: number | undefined): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(keepAliveMs !== undefined, keepAliveMs ?? 0);
    return socket;
  };
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;
const AUTH_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
const TRANSIENT = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
]);
const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

interface KafkajsErrorLike {
  name?: string;
  message?: string;
  retriable?: boolean;
  type?: string;
  code?: string | number;
  cause?: unknown;
  originalError?: unknown;
}

// kafkajs wraps: NumberOfRetriesExceeded → the last attempt's error → (for connections) the socket error.
function errorChain(error: unknown): KafkajsErrorLike[] {
  const chain: KafkajsErrorLike[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && chain.length < 8) {
    const e = current as KafkajsErrorLike;
    chain.push(e);
    current = e.originalError ?? e.cause;
  }
  return chain;
}

/** Classifies a kafkajs failure. Messages are kafkajs' own, which carry no credentials. */
export function classifyKafkajsError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const chain = errorChain(error);
  const message = chain.map((e) => e.message).find((m) => m) ?? String(error);
  for (const e of chain) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || (e.type !== undefined && AUTH_TYPES.has(e.type))) {
      return new TransportError('authentication', `authentication failed: ${e.message}`, false);
    }
    if (typeof e.code === 'string' && TLS_CODES.test(e.code)) {
      return new TransportError('authentication', `TLS handshake failed: ${e.message}`, false);
    }
    if (e.type !== undefined && TOO_LARGE_TYPES.has(e.type)) {
      return new TransportError('message_too_large', `the broker refused the batch: ${e.message}`, false);
    }
  }
  const timeout = chain.some((e) => e.name === 'KafkaJSRequestTimeoutError' || e.name === 'KafkaJSTimeout');
  // kafkajs wraps a transient cause (connection refused, leader moving) in non-retriable envelopes once its own
  // bounded retries are spent: the request is worth retrying later when anything in the chain was transient.
  const retriable = timeout || chain.some((e) => e.retriable === true || (e.name !== undefined && TRANSIENT.has(e.name)));
  return new TransportError(timeout ? 'timeout' : 'broker', message, retriable);
}

/** The kafkajs transport. */
export class KafkajsTransport implements Transport {
  readonly #config: TransportConfig;
  readonly #hooks: TransportHooks;
  #producer: Producer | undefined;
  #connecting: Promise<void> | undefined;
  readonly #compression: CompressionTypes;

  /** Use {@link createKafkajsTransport}. */
  constructor(config: TransportConfig, hooks: TransportHooks) {
    this.#config = config;
    this.#hooks = hooks;
    this.#compression = COMPRESSION_TYPES[config.compression];
  }

  /** Connects once; a failed attempt is forgotten so the next call tries again. */
  connect(): Promise<void> {
    this.#connecting ??= this.#connect().catch((error: unknown) => {
      this.#connecting = undefined;
      const producer = this.#producer;
      this.#producer = undefined;
      return producer
        ?.disconnect()
        .catch(() => undefined)
        .then(() => {
          throw classifyKafkajsError(error);
        });
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const config = this.#config;
    if (config.compression !== 'none' && config.compression !== 'gzip') {
      await registerKafkajsCodec(config.compression);
    }
    const hooks = this.#hooks;
    const kafkaConfig: KafkaConfig = {
      clientId: config.clientId,
      brokers: [...config.brokers],
      connectionTimeout: config.connectionTimeout,
      authenticationTimeout: config.connectionTimeout,
      // The broker answers within `timeout` (requestTimeout) plus network time.
      requestTimeout: config.requestTimeout + 5000,
      enforceRequestTimeout: true,
      // The cluster's own retrier (connect, metadata) runs INSIDE the producer's: kept to one retry so the
      // nesting does not multiply into minutes that the publisher's maxRetryTime cannot see.
      retry: { retries: 1, initialRetryTime: Math.max(1, config.retryBackoff), maxRetryTime: Math.max(1, config.retryBackoff), multiplier: 1, factor: 0 },
      socketFactory: socketFactory(config.keepAliveMs),
      logLevel: KAFKAJS_LEVELS[config.logLevel],
      logCreator: () => (entry: KafkajsLogEntry) => {
        const level = LEVELS[entry.level];
        if (!level) return;
        const { message, timestamp: _t, logger: _l, ...extra } = entry.log;
        hooks.log(level, `kafkajs.${entry.namespace}`, String(message), extra);
      },
    };
    if (config.tls) {
      kafkaConfig.ssl = socketTlsOptions(config.tls);
    }
    const sasl = await saslOptions(config);
    if (sasl) kafkaConfig.sasl = sasl;
    const producerConfig: ProducerConfig = {
      createPartitioner: createStablePartitioner,
      retry: this.#retry(),
      idempotent: config.idempotent,
      allowAutoTopicCreation: true,
    };
    if (config.idempotent) producerConfig.maxInFlightRequests = 1;
    const producer = new Kafka(kafkaConfig).producer(producerConfig);
    this.#producer = producer;
    await producer.connect();
  }

  // kafkajs retries a request a bounded number of times at a steady backoff (Kong's
  // producer_request_retries_*); an idempotent producer insists on at least one retry.
  #retry(): KafkaConfig['retry'] {
    const config = this.#config;
    const retries = config.idempotent ? Math.max(1, config.maxRequestRetries) : config.maxRequestRetries;
    return {
      retries,
      initialRetryTime: Math.max(1, config.retryBackoff),
      maxRetryTime: Math.max(1, config.retryBackoff),
      multiplier: 1,
      factor: 0,
    };
  }

  async produce(request: ProduceRequest): Promise<void> {
    await this.connect();
    const producer = this.#producer;
    if (!producer) throw new TransportError('broker', 'the transport is closed', false);
    const sticky = {};
    const byTopic = new Map<string, StickyMessage[]>();
    for (const record of request.records) {
      let message = (record as MessageHolder)[MESSAGE];
      if (!message) {
        message = { key: record.key, value: record.value, [STICKY]: sticky };
        if (record.partition !== undefined) message.partition = record.partition;
        if (record.headers !== undefined) message.headers = { ...record.headers };
        if (Object.isExtensible(record)) (record as MessageHolder)[MESSAGE] = message;
      }
      let list = byTopic.get(record.topic);
      if (!list) {
        list = [];
        byTopic.set(record.topic, list);
      }
      list.push(message);
    }
    try {
      await producer.sendBatch({
        topicMessages: Array.from(byTopic, ([topic, messages]) => ({ topic, messages })),
        acks: this.#config.acks,
        timeout: this.#config.requestTimeout,
        compression: this.#compression,
      });
    } catch (error) {
      throw classifyKafkajsError(error);
    }
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    this.#connecting = undefined;
    if (producer) await producer.disconnect().catch(() => undefined);
  }
}

/** The kafkajs {@link TransportFactory}. */
export function createKafkajsTransport(config: TransportConfig, hooks: TransportHooks): Transport {
  return new KafkajsTransport(config, hooks);
}
