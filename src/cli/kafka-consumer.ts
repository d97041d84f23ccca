/**
 * A small kafkajs consumer for `kafka-log tail`: checks that the topic exists (metadata only, never creating it),
 * then reads it from the start or the end, following or stopping at the offsets that were the end when it
 * started. Like the producer transport, it is the only place the CLI touches a Kafka client.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { ErrorCodes, KafkaLogError } from '../errors.js';
import { quietKafkajsRequestQueue } from '../transport/kafkajs-request-queue.js';
import type { TransportConfig, TransportSasl } from '../transport/transport.js';

/** Connection settings of a {@link readTopic} call. */
export interface TopicReaderConfig {
  /** `host:port` bootstrap brokers. */
  brokers: readonly string[];
  /** Client id. */
  clientId: string;
  /** Longest wait to connect (and authenticate) to a broker, ms. */
  connectionTimeout: number;
  /** TLS, or `undefined` for plaintext. */
  tls: TransportConfig['tls'];
  /** SASL (PLAIN or SCRAM), or `undefined`. */
  sasl: TransportSasl | undefined;
}

/** One record as read. */
export interface ConsumedRecord {
  /** Topic. */
  topic: string;
  /** Partition. */
  partition: number;
  /** Offset (a decimal string: offsets may exceed 2^53). */
  offset: string;
  /** Record timestamp, ms since the epoch, as a decimal string. */
  timestamp: string;
  /** Key, or `null`. */
  key: Buffer | null;
  /** Value, or `null` (a tombstone). */
  value: Buffer | null;
  /** Headers. */
  headers: Record<string, Buffer>;
}

/** What to read and where to hand it. */
interface ReadTopicOptions {
  /** The topic; it must exist. */
  topic: string;
  /** Start at the earliest offset (else at the end: only new records). */
  fromBeginning: boolean;
  /** Keep reading new records (else stop once the records present at the start are read). */
  follow: boolean;
  /** Called for each record in offset order per partition; return `false` to stop reading. */
  onRecord(record: ConsumedRecord): boolean | undefined | Promise<boolean | undefined>;
  /** Stops reading when aborted (e.g. on Ctrl-C). */
  signal?: AbortSignal;
}

/** Why {@link readTopic} failed: the brokers could not be reached, or the topic is missing. */
class TopicReadError extends KafkaLogError {
  /** `unreachable`, `unknown_topic` or `broker` (any other failure). */
  readonly kind: 'unreachable' | 'unknown_topic' | 'broker';

  constructor(kind: TopicReadError['kind'], message: string, cause?: unknown) {
    super(ErrorCodes.BROKER, message, { cause, retriable: kind === 'unreachable' });
    this.kind = kind;
  }
}

// Long enough for group joins and fetches once the brokers have answered.
const CONSUMER_REQUEST_TIMEOUT_MS = 30_000;

function kafkaConfig(config: TopicReaderConfig, requestTimeout: number): KafkaConfig {
  const out: KafkaConfig = {
    clientId: config.clientId,
    brokers: [...config.brokers],
    connectionTimeout: config.connectionTimeout,
    authenticationTimeout: config.connectionTimeout,
    requestTimeout,
    // One quick retry: a CLI should say "unreachable" in seconds, not after kafkajs' default half minute.
    retry: { retries: 1, initialRetryTime: 200, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
  };
  if (config.tls) out.ssl = { ...config.tls };
  const sasl = config.sasl;
  if (sasl) {
    const username = sasl.username ?? '';
    const password = sasl.password ?? '';
    if (sasl.mechanism === 'PLAIN') out.sasl = { mechanism: 'plain', username, password };
    else if (sasl.mechanism === 'SCRAM-SHA-256') out.sasl = { mechanism: 'scram-sha-256', username, password };
    else if (sasl.mechanism === 'SCRAM-SHA-512') out.sasl = { mechanism: 'scram-sha-512', username, password };
    else throw new TopicReadError('broker', `SASL mechanism ${sasl.mechanism} is not supported by the reader`);
  }
  return out;
}

function messageOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error && parts.length < 4) {
    if (!parts.includes(current.message)) parts.push(current.message);
    const next = current as Error & { originalError?: unknown };
    current = next.originalError ?? next.cause;
  }
  return parts.join(': ') || String(error);
}

async function connectAdmin(kafka: Kafka, config: TopicReaderConfig): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return admin;
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw new TopicReadError(
      'unreachable',
      `cannot connect to Kafka at ${config.brokers.join(',')}: ${messageOf(error)}`,
      error,
    );
  }
}

/** Partition → offset to stop at (exclusive); partitions with nothing to read are left out. */
async function endOffsets(admin: Admin, topic: string, fromBeginning: boolean): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const targets = new Map<number, bigint>();
  for (const { partition, high, low } of offsets) {
    const end = BigInt(high);
    if (fromBeginning && end > BigInt(low)) targets.set(partition, end);
  }
  return targets;
}

/**
 * Reads a topic until told to stop: `onRecord` returns `false`, the signal aborts, or (without `follow`) every
 * record present at the start was read. Throws {@link TopicReadError} when no broker answers within the
 * connection timeout or the topic does not exist; the topic is never created.
 */
export async function readTopic(config: TopicReaderConfig, options: ReadTopicOptions): Promise<void> {
  // kafkajs' idle request-queue timer stopped (it would wake the CLI every millisecond; it warns on node 24).
  await quietKafkajsRequestQueue();
  // The first contact (metadata) is bounded by the connection timeout: a silent broker fails in seconds.
  const admin = await connectAdmin(new Kafka(kafkaConfig(config, config.connectionTimeout)), config);
  let consumer: Consumer | undefined;
  try {
    const topics = await admin.listTopics().catch((error: unknown) => {
      throw new TopicReadError(
        'unreachable',
        `Kafka at ${config.brokers.join(',')} did not answer within ${config.connectionTimeout} ms: ${messageOf(error)}`,
        error,
      );
    });
    if (!topics.includes(options.topic)) {
      throw new TopicReadError('unknown_topic', `topic "${options.topic}" does not exist on ${config.brokers.join(',')}`);
    }
    const targets = options.follow ? undefined : await endOffsets(admin, options.topic, options.fromBeginning);
    if (targets?.size === 0 || options.signal?.aborted) return;

    consumer = new Kafka(kafkaConfig(config, CONSUMER_REQUEST_TIMEOUT_MS)).consumer({
      // A throw-away group that never commits: tail must not move anyone's offsets.
      groupId: `kafka-log-tail-${randomUUID()}`,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning });
    await new Promise<void>((resolve, reject) => {
      let stopped = false;
      const active = consumer as Consumer;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        resolve();
      };
      options.signal?.addEventListener('abort', stop, { once: true });
      active.on(active.events.CRASH, (event) => {
        if (!event.payload.restart) reject(new TopicReadError('broker', `the consumer stopped: ${messageOf(event.payload.error)}`));
      });
      active
        .run({
          autoCommit: false,
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch, resolveOffset, isRunning }) => {
            for (const message of batch.messages) {
              if (stopped || !isRunning()) return;
              // Without follow, only what was there at the start: later records are not for this run.
              const target = targets?.get(batch.partition);
              if (targets && (target === undefined || BigInt(message.offset) >= target)) continue;
              const headers: Record<string, Buffer> = {};
              for (const [name, value] of Object.entries(message.headers ?? {})) {
                if (value === undefined) continue;
                const first = Array.isArray(value) ? value[0] : value;
                if (first !== undefined) headers[name] = Buffer.isBuffer(first) ? first : Buffer.from(String(first));
              }
              const keep = await options.onRecord({
                topic: batch.topic,
                partition: batch.partition,
                offset: message.offset,
                timestamp: message.timestamp,
                key: message.key ?? null,
                value: message.value ?? null,
                headers,
              });
              resolveOffset(message.offset);
              if (keep === false) return stop();
              if (targets && target !== undefined && BigInt(message.offset) + 1n >= target) {
                targets.delete(batch.partition);
                if (targets.size === 0) return stop();
              }
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
