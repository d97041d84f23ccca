/**
 * An in-memory {@link Transport}: records every produce request exactly as the kafkajs transport would hand it
 * to the broker, and fails on demand. It imports no Kafka client, so the testing kit never loads kafkajs.
 *
 * @module
 */
import type {
  ProduceRecord,
  ProduceRequest,
  Transport,
  TransportCompression,
  TransportConfig,
  TransportErrorKind,
  TransportFactory,
} from '../transport/transport.js';
import { TransportError } from '../transport/transport.js';

/** One Kafka message as it would go out: the record plus the producer settings it travels with. */
export interface RecordedMessage {
  /** Topic. */
  readonly topic: string;
  /** Partition, when the publisher chose one (otherwise the client would pick by key hash). */
  readonly partition?: number;
  /** Key bytes, or `null`. */
  readonly key: Buffer | null;
  /** Headers as bytes (what a consumer reads back). */
  readonly headers: Readonly<Record<string, Buffer>>;
  /** Value bytes (JSON text of one entry, a JSON array of entries, or registry-encoded bytes). */
  readonly value: Buffer;
  /** Compression codec of the record batch (the value itself is stored uncompressed, as a consumer reads it). */
  readonly compression: TransportCompression;
  /** Acks the produce request asked for. */
  readonly acks: -1 | 0 | 1;
  /** 0-based index of the produce request that delivered this message. */
  readonly request: number;
}

/** How a simulated failure looks. */
export interface SimulatedFailure {
  /** Whether the publisher may retry. Default `true` (a broker hiccup). */
  retriable?: boolean;
  /** The classification the transport reports. Default `broker` (`message_too_large` drops with that reason). */
  kind?: TransportErrorKind;
  /** The error message. Default: a description of the simulated failure. */
  message?: string;
}

/** Recorded deliveries and injected failures, shared by every transport the factory creates. */
export class MemoryBroker {
  readonly #messages: RecordedMessage[] = [];
  readonly #failures: SimulatedFailure[] = [];
  readonly #waiting: Array<() => void> = [];
  #requests = 0;
  #failedAttempts = 0;
  #paused = false;
  #config: TransportConfig | undefined;

  /** The {@link TransportFactory} to give the publisher. */
  readonly factory: TransportFactory = (config) => {
    this.#config = config;
    return new MemoryTransport(this, config);
  };

  /** Every delivered message, oldest first. */
  get messages(): readonly RecordedMessage[] {
    return this.#messages;
  }

  /** The config the publisher gave its transport (brokers, acks, compression, SASL, TLS), once it created one. */
  get config(): TransportConfig | undefined {
    return this.#config;
  }

  /** Produce attempts that were failed on purpose. */
  get failedAttempts(): number {
    return this.#failedAttempts;
  }

  /** Forgets the recorded messages (failures still pending stay pending). */
  clear(): void {
    this.#messages.length = 0;
  }

  /** Makes the next `count` produce attempts fail. */
  failNext(count: number, failure: SimulatedFailure): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('failNext: count must be a non-negative integer');
    for (let i = 0; i < count; i++) this.#failures.push(failure);
  }

  /** Holds every produce attempt until {@link MemoryBroker.resume}: a slow broker, so queue bounds fill up. */
  pause(): void {
    this.#paused = true;
  }

  /** Lets held produce attempts go on. */
  resume(): void {
    this.#paused = false;
    for (const release of this.#waiting.splice(0)) release();
  }

  /** Records a request or fails it; called by the transport. */
  async produce(request: ProduceRequest, config: TransportConfig): Promise<void> {
    if (this.#paused) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    const failure = this.#failures.shift();
    if (failure) {
      this.#failedAttempts += 1;
      const retriable = failure.retriable ?? true;
      const message = failure.message ?? `simulated ${retriable ? 'retriable' : 'non-retriable'} broker failure`;
      throw new TransportError(failure.kind ?? 'broker', message, retriable);
    }
    const index = this.#requests++;
    for (const record of request.records) this.#messages.push(toMessage(record, config, index));
  }
}

// kafkajs writes string headers as UTF-8 bytes; a consumer always reads Buffers. Frozen: tests share these.
function toMessage(record: ProduceRecord, config: TransportConfig, request: number): RecordedMessage {
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    headers[name] = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);
  }
  return Object.freeze({
    topic: record.topic,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    key: record.key === null ? null : Buffer.from(record.key),
    headers,
    value: Buffer.from(record.value),
    compression: config.compression,
    acks: config.acks,
    request,
  });
}

class MemoryTransport implements Transport {
  readonly #broker: MemoryBroker;
  readonly #config: TransportConfig;

  constructor(broker: MemoryBroker, config: TransportConfig) {
    this.#broker = broker;
    this.#config = config;
  }

  async connect(): Promise<void> {}

  produce(request: ProduceRequest): Promise<void> {
    return this.#broker.produce(request, this.#config);
  }

  async close(): Promise<void> {}
}
