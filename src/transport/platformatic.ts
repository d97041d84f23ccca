/**
 * The @platformatic/kafka transport: the only module that loads @platformatic/kafka (an optional peer
 * dependency, loaded when this transport is chosen). Like the kafkajs transport it bounds the client's own
 * retries (the publisher retries on top and counts) and classifies every failure; it also
 *
 * - chooses every record's partition itself, once per request (keys: murmur2 as the Java client and kafkajs;
 *   keyless: one partition per request, round-robin across requests), so a retry goes to the same partitions;
 * - remembers which records the broker already acknowledged (read from the answer, also when another partition of
 *   the same request was refused) and sends only the others on a retry: with an idempotent producer the retry
 *   carries the same sequence numbers (the client advances them on acknowledgement only), and no acknowledged
 *   record is sent twice, in whichever request the publisher sends it again;
 * - names the records the broker refused for their size, so the publisher can resend their neighbours;
 * - obtains a new producer id (the client's `initIdempotentProducer`) when the broker no longer accepts the
 *   idempotent producer's sequence numbers, or before they could repeat a failed batch's (see producer-sequences.ts);
 * - supplies what the client lacks: delegation-token SCRAM (`tokenauth=true`), zstd on Node 20, TCP keep-alive.
 *
 * @module
 */
import type { ClusterMetadata, MessageToProduce, Producer, ProducerOptions, SASLOptions } from '@platformatic/kafka';
import * as net from 'node:net';
import { type MissingPackageError, loadOptional } from '../optional-dependency.js';
import { errorStatusOf, refusedToken } from './oauthbearer.js';
import { classifyPlatformaticError, clientTimedOut, partitionKey, partitionOutcomes, platformaticLostProducerState } from './platformatic-errors.js';
import { authenticateScramToken } from './platformatic-scram.js';
import { ensurePlatformaticZstd, type PlatformaticCodecSlot } from './platformatic-zstd.js';
import { UncertainBatches, producerRenewedError } from './producer-sequences.js';
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
} from './transport.js';

/** The package, as this transport uses it. */
type PlatformaticKafka = typeof import('@platformatic/kafka');
type Message = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

/** The package name, as an install command needs it. */
export const PLATFORMATIC_PACKAGE = '@platformatic/kafka';

/**
 * Loads @platformatic/kafka; rejects with a `missing_dependency` {@link TransportError} naming the package and
 * its install command when it is not installed. `load` is replaceable for tests.
 */
export function loadPlatformaticKafka(
  load: () => Promise<unknown> = () => import('@platformatic/kafka'),
): Promise<PlatformaticKafka> {
  const missing: MissingPackageError = (name, install) =>
    new TransportError('missing_dependency', `transport "platformatic" needs the package "${name}": ${install}`, false);
  return loadOptional<PlatformaticKafka>(PLATFORMATIC_PACKAGE, missing, { load, has: 'Producer' });
}

// Each record carries its message (with the partition chosen for it) from its first attempt on.
const recordMessages = new RecordSlot<Message>('kafka-log.platformaticMessage');

const LEVEL_RANK: Record<TransportLogLevel | 'silent', number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };
const POSITIVE = 0x7fffffff;

/** Destroys every broker socket of `producer`; the client drops each from its pool as it closes. */
function destroySockets(producer: BufferProducer): number {
  let destroyed = 0;
  for (const [, connection] of producer.connections) {
    if (connection.socket && !connection.socket.destroyed) {
      connection.socket.destroy();
      destroyed += 1;
    }
  }
  return destroyed;
}

/** Destroys every broker socket of `producer` at once (its graceful close ends them and waits for the broker). */
function destroyConnections(producer: BufferProducer): void {
  destroySockets(producer);
  producer.close().catch(() => undefined);
}

/** The records of each topic-partition, in the order they are sent. */
function partitionBatches(records: readonly ProduceRecord[], messages: readonly Message[]): Map<string, ProduceRecord[]> {
  const batches = new Map<string, ProduceRecord[]>();
  records.forEach((record, i) => {
    const message = messages[i] as Message;
    const key = partitionKey(message.topic, message.partition as number);
    const batch = batches.get(key);
    if (batch === undefined) batches.set(key, [record]);
    else batch.push(record);
  });
  return batches;
}

function headerMap(headers: ProduceRecord['headers']): Map<Buffer, Buffer> | undefined {
  if (!headers) return undefined;
  const map = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(headers)) map.set(Buffer.from(name), Buffer.isBuffer(value) ? value : Buffer.from(value));
  return map;
}

/** The @platformatic/kafka transport. */
export class PlatformaticTransport implements Transport {
  readonly #kafka: PlatformaticKafka;
  readonly #config: TransportConfig;
  readonly #hooks: TransportHooks;
  /** Records written by a request that failed anyway (a request that succeeds is never sent again). */
  readonly #acknowledged = new WeakSet<ProduceRecord>();
  #producer: BufferProducer | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;
  #closing: BufferProducer | undefined;
  #roundRobin = Math.floor(Math.random() * POSITIVE);
  /** An idempotent producer's partitions whose last batch failed (see producer-sequences.ts). */
  readonly #uncertain = new UncertainBatches<ProduceRecord>();

  /** Use {@link createPlatformaticTransport}. */
  constructor(kafka: PlatformaticKafka, config: TransportConfig, hooks: TransportHooks) {
    this.#kafka = kafka;
    this.#config = config;
    this.#hooks = hooks;
  }

  /** The client's error with the publisher's secrets removed (a broker may quote the credentials it was sent). */
  #clean(error: unknown): unknown {
    return this.#config.secrets ? this.#config.secrets.cleanError(error) : error;
  }

  /** Connects to every broker once (authenticating each); a failed attempt is forgotten so the next call retries. */
  connect(): Promise<void> {
    this.#connecting ??= this.#connect().catch(async (error: unknown) => {
      this.#connecting = undefined;
      const producer = this.#producer;
      this.#producer = undefined;
      await producer?.close().catch(() => undefined);
      throw classifyPlatformaticError(this.#clean(error));
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    if (this.#closed) throw new TransportError('broker', 'the transport is closed', false);
    const config = this.#config;
    if (config.compression === 'zstd') {
      await ensurePlatformaticZstd(this.#kafka.compressionsAlgorithms.zstd as PlatformaticCodecSlot);
    }
    const options = this.#producerOptions();
    await this.#probe(options);
    // close() may have come during the probe: no producer (and no socket) after it.
    if (this.#closed) throw new TransportError('broker', 'the transport is closed', false);
    const producer = new this.#kafka.Producer<Buffer, Buffer, Buffer, Buffer>(options);
    this.#producer = producer;
    this.#watch(producer);
    await producer.connectToBrokers(null);
    if (this.#closed) throw new TransportError('broker', 'the transport is closed', false);
  }

  /**
   * One connection to a bootstrap broker, once, before the producer exists. The client retries a refused
   * password or certificate like a network error (the refusal is the `cause` of a retriable "connection
   * failed"), which takes `retries` full SASL exchanges; a single attempt tells the two apart at once.
   */
  async #probe(options: ProducerOptions<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
    let failure: TransportError | undefined;
    for (const broker of this.#config.brokers) {
      const at = broker.lastIndexOf(':');
      const probe = new this.#kafka.Connection(options.clientId, options);
      // The client emits a late authentication failure (a token that came after its connect timeout) as an
      // 'error' event nobody waits for any more: without a listener that would be an uncaught exception.
      probe.on('error', () => undefined);
      try {
        await probe.connect(broker.slice(0, at), Number(broker.slice(at + 1)));
        return;
      } catch (error) {
        failure = classifyPlatformaticError(this.#clean(error));
        if (failure.kind === 'authentication') throw failure;
      } finally {
        await probe.close().catch(() => undefined);
      }
    }
    if (failure) throw failure;
  }

  #producerOptions(): ProducerOptions<Buffer, Buffer, Buffer, Buffer> {
    const config = this.#config;
    const options: ProducerOptions<Buffer, Buffer, Buffer, Buffer> = {
      clientId: config.clientId,
      bootstrapBrokers: [...config.brokers],
      connectTimeout: config.connectionTimeout,
      // `timeout` is what the broker may take (the produce request's timeout_ms); the client waits for the
      // answer that long plus network time, as the kafkajs transport does.
      timeout: config.requestTimeout,
      requestTimeout: config.requestTimeout + 5000,
      // The client retries a request this many times at a steady backoff (Kong's producer_request_retries_*).
      // An idempotent producer turns 0 or 1 into "forever": 2 keeps it bounded.
      retries: config.idempotent ? Math.max(2, config.maxRequestRetries) : config.maxRequestRetries,
      retryDelay: Math.max(1, config.retryBackoff),
      idempotent: config.idempotent,
      acks: config.acks,
      compression: config.compression,
      autocreateTopics: true,
    };
    const sasl = this.#sasl();
    if (sasl) options.sasl = sasl;
    if (config.tls) {
      options.tls = socketTlsOptions(config.tls);
      // SNI with each broker's host name (managed clusters route on it); never an IP address, which Node refuses.
      if (config.tls.servername === undefined) options.tlsServerName = config.brokers.every((b) => net.isIP(b.slice(0, b.lastIndexOf(':'))) === 0);
    }
    return options;
  }

  #sasl(): SASLOptions | undefined {
    const sasl = this.#config.sasl;
    if (!sasl) return undefined;
    if (sasl.mechanism === 'OAUTHBEARER') {
      const provider = sasl.oauthBearerToken;
      if (!provider) throw new TransportError('authentication', 'OAUTHBEARER needs a token provider', false);
      // The client asks for the token, then for the extensions: both come from one fetch.
      let extensions: Record<string, string> = {};
      return {
        mechanism: 'OAUTHBEARER',
        token: async () => {
          const token = await provider();
          extensions = token.extensions ?? {};
          return token.value;
        },
        oauthBearerExtensions: () => extensions,
        authBytesValidator: (authBytes, callback) => {
          const status = errorStatusOf(authBytes);
          if (status === undefined) callback(null, authBytes);
          else callback(refusedToken(status), undefined as never);
        },
      };
    }
    const username = sasl.username ?? '';
    const password = sasl.password ?? '';
    if (sasl.tokenAuth && sasl.mechanism !== 'PLAIN') {
      const mechanism = sasl.mechanism;
      const { AuthenticationError } = this.#kafka;
      return {
        mechanism,
        username,
        password,
        authenticate: (_mechanism, connection, authenticateApi, _u, _p, _t, callback) => {
          let last: Awaited<ReturnType<typeof authenticateApi.async>> | undefined;
          const exchange = async (bytes: Buffer) => {
            last = await authenticateApi.async(connection, bytes);
            return last.authBytes;
          };
          authenticateScramToken(mechanism, username, password, exchange)
            .then(
              () => callback(null, last as NonNullable<typeof last>),
              (error: unknown) => callback(new AuthenticationError('SASL authentication failed.', { cause: error as Error }), undefined as never),
            )
            // The client's callback is not expected to throw; if it does, that is a log line, not an unhandled rejection.
            .catch((error: unknown) => this.#hooks.log('error', 'platformatic.sasl', `the client's authentication callback threw: ${String(error)}`));
        },
      };
    }
    return { mechanism: sasl.mechanism, username, password };
  }

  /**
   * Keep-alive on every broker socket, and the client's connection events as log lines. These listeners run inside
   * the client's own emit: nothing they do may throw there.
   */
  #watch(producer: BufferProducer): void {
    const { keepAliveMs, logLevel } = this.#config;
    const rank = LEVEL_RANK[logLevel];
    const log = (level: TransportLogLevel, message: string, broker: { host: string; port: number }) => {
      if (LEVEL_RANK[level] <= rank) this.#hooks.log(level, 'platformatic.connection', message, { broker: `${broker.host}:${broker.port}` });
    };
    const guarded =
      <T>(handler: (event: T) => void) =>
      (event: T) => {
        try {
          handler(event);
        } catch {
          // A socket gone before its keep-alive was set, a failing log hook: nothing to do about either here.
        }
      };
    producer.on(
      'client:broker:connect',
      guarded(({ broker, connection }) => {
        if (keepAliveMs !== undefined) connection.socket.setKeepAlive(true, keepAliveMs);
        log('info', 'connected', broker);
      }),
    );
    producer.on('client:broker:disconnect', guarded(({ broker }) => log('info', 'disconnected', broker)));
    producer.on('client:broker:failed', guarded(({ broker }) => log('warn', 'connection failed', broker)));
  }

  async produce(request: ProduceRequest): Promise<void> {
    await this.connect();
    const producer = this.#producer;
    if (!producer || this.#closed) throw new TransportError('broker', 'the transport is closed', false);
    const pending = this.#unacknowledged(request.records);
    if (pending.length === 0) return;
    let messages: Message[];
    try {
      messages = await this.#prepare(producer, pending);
    } catch (error) {
      this.#replaceConnectionsAfterTimeout(producer, error);
      throw classifyPlatformaticError(this.#clean(error));
    }
    const idempotent = this.#config.idempotent;
    // Only an idempotent producer's requests after a failure look at their partitions' batches.
    if (idempotent && this.#uncertain.size > 0 && this.#conflicts(partitionBatches(pending, messages))) {
      await this.#renewProducerId(producer, producer.producerId, 'a batch whose outcome is unknown may hold the sequence numbers of the next one');
    }
    // The client obtains its first producer id with its first request.
    const producerId = producer.producerId;
    try {
      await producer.send({ messages, acks: this.#config.acks });
      if (idempotent && this.#uncertain.size > 0) for (const key of partitionBatches(pending, messages).keys()) this.#uncertain.acknowledged(key);
    } catch (error) {
      this.#replaceConnectionsAfterTimeout(producer, error);
      // Partitions written before or beside the failure must not be sent again; those refused for their size
      // are named, so the publisher can resend their neighbours.
      const { written, tooLarge } = partitionOutcomes(error);
      const refused = new Set<ProduceRecord>();
      let unsettled = 0;
      pending.forEach((record, i) => {
        const message = messages[i] as Message;
        const key = partitionKey(message.topic, message.partition as number);
        if (written.has(key)) this.#acknowledged.add(record);
        else if (tooLarge.has(key)) refused.add(record);
        else unsettled += 1;
      });
      const sentWith = producerId ?? producer.producerId;
      if (idempotent && producer.producerId === sentWith) {
        for (const [key, records] of partitionBatches(pending, messages)) {
          if (written.has(key)) this.#uncertain.acknowledged(key);
          else if (!tooLarge.has(key)) this.#uncertain.failed(key, records);
        }
      }
      const lost = idempotent ? platformaticLostProducerState(error) : undefined;
      if (lost !== undefined) {
        const renewed = producerRenewedError(`${lost}: ${classifyPlatformaticError(this.#clean(error)).message}`);
        await this.#renewProducerId(producer, sentWith, renewed.message);
        throw renewed;
      }
      if (refused.size > 0 && unsettled === 0) {
        throw new TransportError('message_too_large', `the broker refused ${refused.size} record(s) as too large`, false, { refused });
      }
      // Something else failed too: that decides (the refused records are refused again on the retry).
      throw classifyPlatformaticError(this.#clean(error), { ignoreTooLarge: refused.size > 0 });
    }
  }

  /** Whether a partition's records would go where a failed batch of other records may hold their sequence numbers. */
  #conflicts(byPartition: ReadonlyMap<string, readonly ProduceRecord[]>): boolean {
    if (this.#uncertain.size === 0) return false;
    for (const [key, records] of byPartition) if (this.#uncertain.conflicts(key, records)) return true;
    return false;
  }

  /**
   * Asks for a new producer id and epoch (the client numbers every partition from 0 again), unless the producer
   * has another than `stale` already. Rejects with the classified failure of that request.
   */
  async #renewProducerId(producer: BufferProducer, stale: bigint | undefined, why: string): Promise<void> {
    if (producer.producerId !== stale) return;
    this.#uncertain.clear();
    this.#hooks.log('warn', 'kafka-log.transport', `obtaining a new producer id: ${why}`);
    try {
      await producer.initIdempotentProducer({});
    } catch (error) {
      this.#replaceConnectionsAfterTimeout(producer, error);
      throw classifyPlatformaticError(this.#clean(error));
    }
  }

  /** The records no earlier (failed) request wrote: all of them, unless a request failed part-way. */
  #unacknowledged(records: readonly ProduceRecord[]): readonly ProduceRecord[] {
    for (const record of records) {
      if (this.#acknowledged.has(record)) return records.filter((r) => !this.#acknowledged.has(r));
    }
    return records;
  }

  /**
   * A request got no answer within the request timeout: every connection of the producer ends and its metadata is
   * forgotten, so the next attempt opens new connections and asks for metadata again, as the Java client does (its
   * `request.timeout.ms`). The client itself keeps a connection whose requests time out, and a socket frozen by a
   * network partition never recovers nor closes by itself: every retry would wait on it again. All connections
   * rather than the one that timed out: the client's error does not say which broker it was.
   */
  #replaceConnectionsAfterTimeout(producer: BufferProducer, error: unknown): void {
    if (!clientTimedOut(error)) return;
    const closed = destroySockets(producer);
    producer.clearMetadata();
    if (closed > 0 && LEVEL_RANK.warn <= LEVEL_RANK[this.#config.logLevel]) {
      this.#hooks.log('warn', 'platformatic.connection', `no answer within the request timeout: closed ${closed} connection(s), the next attempt reconnects`);
    }
  }

  /**
   * The client's message of each record, its partition fixed the first time it is sent (from the topic's
   * partition count), so every later send of the record goes to the same partition.
   */
  async #prepare(producer: BufferProducer, records: readonly ProduceRecord[]): Promise<Message[]> {
    const fresh = records.filter((record) => recordMessages.get(record) === undefined);
    if (fresh.length === 0) return records.map((record) => recordMessages.get(record) as Message);
    const topics = [...new Set(fresh.map((r) => r.topic))];
    const metadata = await producer.metadata({ topics, autocreateTopics: true });
    const stickyByTopic = new Map<string, number>();
    return records.map((record) => {
      const known = recordMessages.get(record);
      if (known !== undefined) return known;
      const message: Message = { topic: record.topic, value: record.value, partition: this.#partition(metadata, record, stickyByTopic) };
      if (record.key !== null) message.key = record.key;
      const headers = headerMap(record.headers);
      if (headers) message.headers = headers;
      recordMessages.set(record, message);
      return message;
    });
  }

  #partition(metadata: ClusterMetadata, record: ProduceRecord, stickyByTopic: Map<string, number>): number {
    if (record.partition !== undefined) return record.partition;
    const topic = metadata.topics.get(record.topic);
    const count = Math.max(1, topic?.partitionsCount ?? 1);
    // The Java client's (and kafkajs') partition of a key: same key, same partition, whichever client wrote it.
    if (record.key !== null) return (this.#kafka.murmur2(record.key) & POSITIVE) % count;
    let partition = stickyByTopic.get(record.topic);
    if (partition === undefined) {
      this.#roundRobin = (this.#roundRobin + 1) & POSITIVE;
      const led = (topic?.partitions ?? []).flatMap((p, index) => (p && p.leader >= 0 ? [index] : []));
      partition = led.length > 0 ? (led[this.#roundRobin % led.length] as number) : this.#roundRobin % count;
      stickyByTopic.set(record.topic, partition);
    }
    return partition;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const producer = this.#producer;
    this.#producer = undefined;
    this.#connecting = undefined;
    this.#closing = producer;
    if (producer) await producer.close().catch(() => undefined);
    this.#closing = undefined;
  }

  destroy(): void {
    this.#closed = true;
    const producer = this.#producer ?? this.#closing;
    this.#producer = undefined;
    this.#connecting = undefined;
    this.#closing = undefined;
    if (producer) destroyConnections(producer);
  }
}

/** The @platformatic/kafka {@link TransportFactory}: loads the package (see {@link loadPlatformaticKafka}). */
export async function createPlatformaticTransport(config: TransportConfig, hooks: TransportHooks): Promise<Transport> {
  return new PlatformaticTransport(await loadPlatformaticKafka(), config, hooks);
}
