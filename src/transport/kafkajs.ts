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
  type PartitionMetadata,
  type PartitionerArgs,
  type Producer,
  type ProducerConfig,
  type SASLOptions,
  logLevel,
  Partitioners,
} from 'kafkajs';
import { KafkaLogError } from '../errors.js';
import { type LoadableCodec, loadCodec } from './compression-codecs.js';
import { OWN_MESSAGE, batchMessage, installProduceEncoder, produceEncoderProblem } from './kafkajs-produce-encoder.js';
import { quietKafkajsRequestQueue } from './kafkajs-request-queue.js';
import { isTlsErrorCode, kafkaErrorKind } from './kafka-errors.js';
import { oauthBearerAuthenticator } from './oauthbearer.js';
import { UncertainBatches, lostProducerState, producerRenewedError } from './producer-sequences.js';
import {
  type ProduceRecord,
  type ProduceRequest,
  RecordSlot,
  type Transport,
  type TransportConfig,
  TransportError,
  type TransportHooks,
  type TransportLogLevel,
  socketTlsOptions,
  transportErrorOf,
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

// kafkajs' messages carry this so the partitioner can keep keyless records of one request together; it also
// marks them as the transport's own, for kafka-log's Produce request encoder.
const STICKY = OWN_MESSAGE;
type StickyMessage = Message & { [STICKY]?: { partition?: number } };
// Each record carries its kafkajs message (with the partition chosen for it) from its first attempt on.
const recordMessages = new RecordSlot<StickyMessage>('kafka-log.kafkajsMessage');

/**
 * Keyed records go where the Java client sends them (murmur2); keyless records of one request all go to one
 * partition per topic, chosen round-robin per request. The choice is written back into the message, so a retry
 * sends every record to the same partition again. The partitions kafkajs shows the partitioner are kept, so the
 * transport can also fix a record's partition itself, before sending (see {@link StablePartitions.assign}).
 */
class StablePartitions {
  readonly #metadata = new Map<string, PartitionMetadata[]>();
  readonly #byKey = Partitioners.DefaultPartitioner();
  #counter = Math.floor(Math.random() * 0x7fffffff);

  /** kafkajs' `createPartitioner`. */
  readonly createPartitioner = () => ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    this.#metadata.set(topic, partitionMetadata);
    return this.#choose(topic, partitionMetadata, message as StickyMessage);
  };

  /** Fixes `message.partition` from the partitions seen so far; `false` when the topic's are not known yet. */
  assign(topic: string, message: StickyMessage): boolean {
    if (message.partition !== undefined && message.partition !== null) return true;
    const metadata = this.#metadata.get(topic);
    if (metadata === undefined || metadata.length === 0) return false;
    this.#choose(topic, metadata, message);
    return true;
  }

  #choose(topic: string, partitionMetadata: PartitionMetadata[], message: StickyMessage): number {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    let partition: number;
    const sticky = message[STICKY];
    if (message.key !== null && message.key !== undefined) {
      partition = this.#byKey({ topic, partitionMetadata, message });
    } else if (sticky?.partition !== undefined) {
      partition = sticky.partition;
    } else {
      const available = partitionMetadata.filter((p) => p.leader >= 0);
      const pool = available.length > 0 ? available : partitionMetadata;
      this.#counter = (this.#counter + 1) & 0x7fffffff;
      partition = (pool[this.#counter % pool.length] as { partitionId: number }).partitionId;
      if (sticky) sticky.partition = partition;
    }
    message.partition = partition;
    return partition;
  }
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
    return { mechanism: 'oauthbearer', authenticationProvider: oauthBearerAuthenticator(provider) } as unknown as SASLOptions;
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
/** kafkajs' words for a broker whose handshake (ApiVersions) never completed. */
const NO_HANDSHAKE = 'Broker not connected';

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

/**
 * The Kafka error of a failure that says the broker no longer accepts the producer's id, epoch or sequence numbers
 * (see {@link lostProducerState}), or `undefined`.
 */
export function kafkajsLostProducerState(error: unknown): string | undefined {
  for (const e of errorChain(error)) if (typeof e.type === 'string' && lostProducerState(e.type)) return e.type;
  return undefined;
}

/** Classifies a kafkajs failure. Messages are kafkajs' own, which carry no credentials. */
export function classifyKafkajsError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const chain = errorChain(error);
  // A token provider's failure reaches kafkajs as is (or wrapped): it keeps its own meaning.
  for (const e of chain) if (e instanceof KafkaLogError) return transportErrorOf(e);
  const message = chain.map((e) => e.message).find((m) => m) ?? String(error);
  for (const e of chain) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || kafkaErrorKind(e.type) === 'authentication') {
      return new TransportError('authentication', `authentication failed: ${e.message}`, false);
    }
    if (isTlsErrorCode(e.code)) {
      return new TransportError('authentication', `TLS handshake failed: ${e.message}`, false);
    }
    if (kafkaErrorKind(e.type) === 'message_too_large') {
      return new TransportError('message_too_large', `the broker refused the batch: ${e.message}`, false);
    }
  }
  if (chain.some((e) => e.message === NO_HANDSHAKE)) {
    return new TransportError('timeout', 'the broker accepted the connection but never answered the Kafka handshake (ApiVersions): is it a Kafka listener ' +
      'of this protocol (plaintext or TLS)?', true);
  }
  const timeout = chain.some((e) => e.name === 'KafkaJSRequestTimeoutError' || e.name === 'KafkaJSTimeout');
  // kafkajs wraps a transient cause (connection refused, leader moving) in non-retriable envelopes once its own
  // bounded retries are spent: the request is worth retrying later when anything in the chain was transient.
  const retriable = timeout || chain.some((e) => e.retriable === true || (e.name !== undefined && TRANSIENT.has(e.name)));
  return new TransportError(timeout ? 'timeout' : 'broker', message, retriable);
}

/** One produce call of kafkajs: the records of one topic-partition (or one record whose partition is not known yet). */
interface PartitionBatch {
  topic: string;
  records: ProduceRecord[];
  messages: StickyMessage[];
}

/** The batch's topic-partition, once its partition is fixed. */
function partitionOf(batch: PartitionBatch): string | undefined {
  const partition = batch.messages[0]?.partition;
  return partition === undefined || partition === null ? undefined : `${batch.topic}\u0000${partition}`;
}

/** The kafkajs transport. */
export class KafkajsTransport implements Transport {
  readonly #config: TransportConfig;
  readonly #hooks: TransportHooks;
  #producer: Producer | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;
  readonly #acknowledged = new WeakSet<ProduceRecord>();
  readonly #partitions = new StablePartitions();
  /** Every broker socket open, with the `host:port` it connects to (kafkajs' name of the broker). */
  readonly #sockets = new Map<net.Socket, string>();
  #destroyed = false;
  readonly #compression: CompressionTypes;
  /** Whether a partition batch goes to kafkajs as one message that kafka-log's encoder expands (see batchMessage). */
  #batchMessages = false;
  /** An idempotent producer's partitions whose last batch failed (see producer-sequences.ts). */
  readonly #uncertain = new UncertainBatches<ProduceRecord>();
  /** Produce calls under way per producer: one replaced for a new producer id disconnects once its calls end. */
  readonly #calls = new Map<Producer, number>();
  readonly #retired = new WeakSet<Producer>();

  /** Use {@link createKafkajsTransport}. */
  constructor(config: TransportConfig, hooks: TransportHooks) {
    this.#config = config;
    this.#hooks = hooks;
    this.#compression = COMPRESSION_TYPES[config.compression];
  }

  /** The client's error with the publisher's secrets removed (a broker may quote the credentials it was sent). */
  #clean(error: unknown): unknown {
    return this.#config.secrets ? this.#config.secrets.cleanError(error) : error;
  }

  /**
   * Connects once; a failed attempt is forgotten so the next call tries again. Every failure rejects with its
   * real cause, whether it happened before the producer existed (a codec or SASL module that cannot load) or after.
   */
  connect(): Promise<void> {
    this.#connecting ??= this.#connect().catch((error: unknown) => {
      this.#connecting = undefined;
      throw classifyKafkajsError(this.#clean(error));
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    this.#assertOpen();
    const config = this.#config;
    if (config.compression !== 'none' && config.compression !== 'gzip') {
      await registerKafkajsCodec(config.compression);
    }
    // Uncompressed requests of this transport's messages are encoded by kafka-log (kafkajs' encoder otherwise),
    // installed while the producer connects: a broker that cannot be reached is reported without waiting for it.
    const installing = installProduceEncoder();
    const quieting = quietKafkajsRequestQueue();
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
      socketFactory: this.#socketFactory(),
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
      createPartitioner: this.#partitions.createPartitioner,
      retry: this.#retry(),
      idempotent: config.idempotent,
      allowAutoTopicCreation: true,
    };
    if (config.idempotent) producerConfig.maxInFlightRequests = 1;
    // In place before the first answer arms kafkajs' timer (a module kafkajs has loaded already: no wait).
    const notQuieted = await quieting;
    if (notQuieted !== undefined) {
      hooks.log('debug', 'kafka-log.transport', `kafkajs' idle request-queue timer could not be stopped (${notQuieted})`);
    }
    // close() may have come while a codec or SASL module loaded: no producer (and no socket) after it.
    this.#assertOpen();
    const producer = new Kafka(kafkaConfig).producer(producerConfig);
    this.#producer = producer;
    producer.on(producer.events.REQUEST_TIMEOUT, ({ payload }) => this.#replaceConnections(payload.broker));
    try {
      await producer.connect();
      this.#assertOpen();
      // kafkajs resolves connect() when its ApiVersions request timed out on a socket that stays open (a port that
      // accepts connections but does not speak Kafka); a metadata request for no topic proves the broker answers.
      await producer.sendBatch({ topicMessages: [], acks: this.#config.acks });
    } catch (error) {
      // This attempt's producer, whoever holds it now: kafkajs may have opened a socket even after close().
      if (this.#producer === producer) this.#producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    // Before connect() resolves, so before any record is produced. Never rejects.
    const ownEncoder = await installing;
    if (!ownEncoder) {
      const why = produceEncoderProblem() ?? 'unknown cause';
      this.#hooks.log('debug', 'kafka-log.transport', `kafka-log's Produce request encoder could not be installed (${why}): kafkajs encodes every request`);
    }
    // An idempotent producer numbers messages, so each record must be one to kafkajs.
    this.#batchMessages = ownEncoder && !config.idempotent && config.compression === 'none';
  }

  /** Every broker socket goes through here, so `destroy()` can release them all; none is made once destroyed. */
  #socketFactory(): ISocketFactory {
    const keepAliveMs = this.#config.keepAliveMs;
    return ({ host, port, ssl, onConnect }) => {
      if (this.#destroyed) throw new Error('the transport is closed');
      const socket = ssl
        ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
        : net.connect({ host, port }, onConnect);
      socket.setKeepAlive(keepAliveMs !== undefined, keepAliveMs ?? 0);
      this.#sockets.set(socket, `${host}:${port}`);
      socket.once('close', () => this.#sockets.delete(socket));
      // kafkajs listens too; this one makes sure `destroy()`'s error can never go unhandled.
      socket.on('error', () => undefined);
      return socket;
    };
  }

  /**
   * A request to `broker` got no answer within the request timeout: its connections end, so the next attempt (kafkajs'
   * own retry, or the publisher's) opens a new one and refreshes metadata, as the Java client does (its
   * `request.timeout.ms`). kafkajs itself keeps a connection whose requests time out, and a socket frozen by a
   * network partition never recovers nor closes by itself: every retry would wait on it again. Runs inside kafkajs'
   * timeout check (an event emitted synchronously): nothing here may throw.
   */
  #replaceConnections(broker: string): void {
    try {
      let ended = 0;
      // With an error, as in `destroy()`: kafkajs fails the connection's other requests and marks it disconnected.
      const error = new Error(`no answer from ${broker} within the request timeout`);
      for (const [socket, address] of this.#sockets) {
        if (address !== broker) continue;
        socket.destroy(error);
        this.#sockets.delete(socket);
        ended += 1;
      }
      if (ended > 0) this.#hooks.log('warn', 'kafkajs.connection', `${error.message}: closed ${ended} connection(s), the next attempt reconnects`, { broker });
    } catch {
      // A failing log hook: the sockets are ended already.
    }
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

  #assertOpen(): void {
    if (this.#closed) throw new TransportError('broker', 'the transport is closed', false);
  }

  /**
   * Sends each topic-partition's records as a produce call of its own. kafkajs reports a produce request with
   * one refused partition as a failure of the whole request, although the broker wrote the other partitions:
   * one call per partition tells which records are written, so none is sent twice and a record refused for its
   * size is told apart from its neighbours.
   */
  async produce(request: ProduceRequest): Promise<void> {
    await this.connect();
    const producer = this.#producer;
    if (!producer) throw new TransportError('broker', 'the transport is closed', false);
    this.#calls.set(producer, (this.#calls.get(producer) ?? 0) + 1);
    try {
      await this.#produce(producer, request);
    } finally {
      this.#callEnded(producer);
    }
  }

  async #produce(producer: Producer, request: ProduceRequest): Promise<void> {
    const refused = new Set<ProduceRecord>();
    // Acknowledged partition batches are remembered only when the request fails (see #remember).
    const written: PartitionBatch[] = [];
    let failure: TransportError | undefined;
    let lostState: TransportError | undefined;
    const settle = (batch: PartitionBatch, outcome: PromiseSettledResult<unknown>) => {
      const partition = this.#config.idempotent && this.#producer === producer ? partitionOf(batch) : undefined;
      if (outcome.status === 'fulfilled') {
        if (partition !== undefined) this.#uncertain.acknowledged(partition);
        written.push(batch);
        return;
      }
      const cleaned = this.#clean(outcome.reason);
      const error = classifyKafkajsError(cleaned);
      if (error.kind === 'message_too_large') {
        for (const record of batch.records) refused.add(record);
        return;
      }
      if (partition !== undefined) this.#uncertain.failed(partition, batch.records);
      const lost = this.#config.idempotent ? kafkajsLostProducerState(cleaned) : undefined;
      if (lost !== undefined) lostState ??= producerRenewedError(`${lost}: ${error.message}`);
      else failure ??= error;
    };
    // Settles a failed request: after a refusal of the producer's state, once a new producer id is obtained.
    const fail = async (error: TransportError | undefined): Promise<TransportError> => {
      if (lostState !== undefined) {
        try {
          await this.#renewProducer(producer, lostState.message);
        } catch (renewal) {
          // connect() rejects with a classified failure already.
          return this.#remember(written, classifyKafkajsError(renewal));
        }
      }
      return this.#remember(written, error ?? (lostState as TransportError));
    };
    let { batches, unplaced } = this.#group(request.records);
    if (this.#conflicts(batches)) return this.#produceRenewed(producer, request);
    if (unplaced.length > 0) {
      // A record whose topic's partitions are not known yet goes alone first: that teaches the partitioner.
      await this.#sendAll(producer, unplaced, settle);
      if (failure || lostState) throw await fail(failure);
      const sent = new Set(written.flatMap((batch) => batch.records));
      ({ batches, unplaced } = this.#group(request.records.filter((record) => !refused.has(record) && !sent.has(record))));
      if (unplaced.length > 0) {
        throw this.#remember(written, new TransportError('broker', `no partitions known for topic "${unplaced[0]?.topic}"`, true));
      }
      if (this.#producer !== producer || this.#conflicts(batches)) {
        this.#acknowledge(written);
        return this.#produceRenewed(producer, request);
      }
    }
    await this.#sendAll(producer, batches, settle);
    if (failure || lostState) throw await fail(failure);
    if (refused.size > 0) {
      const error = new TransportError('message_too_large', `the broker refused ${refused.size} record(s) as too large`, false, { refused });
      throw this.#remember(written, error);
    }
  }

  /**
   * Whether one of the batches goes to a partition whose last batch failed, with other records: under the same
   * producer id it would carry the sequence numbers the failed batch may already have taken (see producer-sequences.ts).
   */
  #conflicts(batches: readonly PartitionBatch[]): boolean {
    if (this.#uncertain.size === 0) return false;
    return batches.some((batch) => {
      const partition = partitionOf(batch);
      return partition !== undefined && this.#uncertain.conflicts(partition, batch.records);
    });
  }

  /** Sends the request with a new producer id (what `producer` wrote of it is acknowledged already). */
  async #produceRenewed(producer: Producer, request: ProduceRequest): Promise<void> {
    await this.#renewProducer(producer, 'a batch whose outcome is unknown may hold the sequence numbers of the next one');
    return this.produce(request);
  }

  /**
   * Replaces `stale` (unless another call did already) by a new producer, which obtains a new producer id and
   * epoch as it connects (kafkajs has no other way to request one); `stale` disconnects once its calls end. Rejects
   * with the new producer's connection failure.
   */
  async #renewProducer(stale: Producer, why: string): Promise<void> {
    if (this.#producer === stale) {
      this.#producer = undefined;
      this.#connecting = undefined;
      this.#uncertain.clear();
      this.#retired.add(stale);
      this.#hooks.log('warn', 'kafka-log.transport', `obtaining a new producer id: ${why}`);
    }
    await this.connect();
  }

  /** A produce call on `producer` ended: a retired producer with no call left disconnects. */
  #callEnded(producer: Producer): void {
    const calls = (this.#calls.get(producer) ?? 1) - 1;
    if (calls > 0) {
      this.#calls.set(producer, calls);
      return;
    }
    this.#calls.delete(producer);
    if (this.#retired.has(producer)) void producer.disconnect().catch(() => undefined);
  }

  /**
   * Remembers the records of `written` as acknowledged, for a request that fails anyway: the publisher sends its
   * records again, and these must not go twice. A request that succeeds is never sent again, so its records cost
   * no bookkeeping (an entry per record in a WeakSet is work for the garbage collector on every request).
   */
  #remember(written: readonly PartitionBatch[], error: TransportError): TransportError {
    this.#acknowledge(written);
    return error;
  }

  #acknowledge(written: readonly PartitionBatch[]): void {
    for (const batch of written) for (const record of batch.records) this.#acknowledged.add(record);
  }

  /** The request's unacknowledged records by topic-partition, and those whose partition cannot be fixed yet. */
  #group(records: readonly ProduceRecord[]): { batches: PartitionBatch[]; unplaced: PartitionBatch[] } {
    const groups = new Map<string, PartitionBatch>();
    const unplaced: PartitionBatch[] = [];
    const probed = new Set<string>();
    const sticky = new Map<string, { partition?: number }>();
    let last: PartitionBatch | undefined;
    for (const record of records) {
      if (this.#acknowledged.has(record)) continue;
      let message = recordMessages.get(record);
      if (!message) {
        let topicSticky = sticky.get(record.topic);
        if (!topicSticky) {
          topicSticky = {};
          sticky.set(record.topic, topicSticky);
        }
        message = { key: record.key, value: record.value, [STICKY]: topicSticky };
        if (record.partition !== undefined) message.partition = record.partition;
        // kafkajs only reads them: the record's own headers, not a copy per record.
        if (record.headers !== undefined) message.headers = record.headers as Message['headers'];
        recordMessages.set(record, message);
      }
      if (!this.#partitions.assign(record.topic, message)) {
        // One record per topic goes ahead; the others wait for it (and are grouped after).
        if (!probed.has(record.topic)) {
          probed.add(record.topic);
          unplaced.push({ topic: record.topic, records: [record], messages: [message] });
        }
        continue;
      }
      // Records of one request usually share one partition: the group of the previous record is tried first.
      let group = last !== undefined && last.topic === record.topic && last.messages[0]?.partition === message.partition ? last : undefined;
      if (group === undefined) {
        const id = `${record.topic}\u0000${message.partition}`;
        group = groups.get(id);
        if (!group) {
          group = { topic: record.topic, records: [], messages: [] };
          groups.set(id, group);
        }
        last = group;
      }
      group.records.push(record);
      group.messages.push(message);
    }
    return { batches: [...groups.values()], unplaced };
  }

  /** Sends the batches concurrently and hands each outcome to `settle`. */
  async #sendAll(
    producer: Producer,
    batches: readonly PartitionBatch[],
    settle: (batch: PartitionBatch, outcome: PromiseSettledResult<unknown>) => void,
  ): Promise<void> {
    const outcomes = await Promise.allSettled(batches.map((batch) => this.#send(producer, batch)));
    for (const [i, outcome] of outcomes.entries()) settle(batches[i] as PartitionBatch, outcome);
  }

  #send(producer: Producer, batch: PartitionBatch): Promise<unknown> {
    // A batch whose partition is fixed can go as one message (a record whose topic is new goes as itself: the
    // partitioner places it by its own key).
    const partition = batch.messages[0]?.partition;
    const messages =
      this.#batchMessages && partition !== undefined && partition !== null ? [batchMessage(partition, batch.records) as unknown as Message] : batch.messages;
    return producer.sendBatch({
      topicMessages: [{ topic: batch.topic, messages }],
      acks: this.#config.acks,
      timeout: this.#config.requestTimeout,
      compression: this.#compression,
    });
  }

  /** Releases the producer; a connection attempt still under way ends without leaving a socket behind. */
  async close(): Promise<void> {
    this.#closed = true;
    const producer = this.#producer;
    this.#producer = undefined;
    const connecting = this.#connecting;
    this.#connecting = undefined;
    if (connecting !== undefined) {
      // A connection attempt under way (waiting on a silent broker) would keep its socket, and disconnect() would
      // wait for it, until its timeout: its sockets end now, so it fails at once.
      this.destroy();
    }
    if (producer) await producer.disconnect().catch(() => undefined);
    // kafkajs ends its sockets and waits for the broker's side: a broker that never closes it keeps them open.
    this.destroy();
  }

  destroy(): void {
    this.#destroyed = true;
    // With an error: kafkajs then fails the requests still waiting on the socket and stops its timers (a socket
    // merely destroyed leaves them waiting for their request timeout).
    const closed = new Error('the transport is closed');
    for (const socket of this.#sockets.keys()) socket.destroy(closed);
    this.#sockets.clear();
  }
}

/** The kafkajs {@link TransportFactory}. */
export function createKafkajsTransport(config: TransportConfig, hooks: TransportHooks): Transport {
  return new KafkajsTransport(config, hooks);
}
