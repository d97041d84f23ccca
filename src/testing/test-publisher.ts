/**
 * `createTestPublisher`: the real {@link KafkaLogPublisher} (same options, same queue, batching, bounds and drop
 * counting) over an in-memory transport, with helpers to read back what Kafka would have received.
 *
 * @module
 */
import type { LogEntry } from '../entry/log-entry.js';
import type { KafkaLogPublisherOptions } from '../publisher/publisher-options.js';
import { KafkaLogPublisher } from '../publisher/publisher.js';
import type { TransportConfig } from '../transport/transport.js';
import { MemoryBroker, type RecordedMessage, type SimulatedFailure } from './memory-transport.js';

/**
 * Options of {@link createTestPublisher}: the publisher's own options, with `brokers` and `topic` optional
 * (nothing connects) and no `transport` (the in-memory one is used).
 */
export interface TestPublisherOptions extends Omit<KafkaLogPublisherOptions, 'brokers' | 'topic' | 'transport'> {
  /** Bootstrap brokers, only recorded. Default `["localhost:9092"]`. */
  brokers?: KafkaLogPublisherOptions['brokers'];
  /** The default topic. Default `"kafka-log"`. */
  topic?: string;
}

/** Default topic of a test publisher. */
export const TEST_PUBLISHER_DEFAULT_TOPIC = 'kafka-log';

// Confluent wire format: magic byte 0 and a 4-byte schema id before the payload (JSON text never starts with 0).
const WIRE_HEADER_BYTES = 5;

/**
 * Parses one recorded value: JSON, or a JSON Schema payload in the Confluent wire format. Avro and Protobuf
 * payloads need their schema: the error says so and names the message.
 */
function parseValue(message: RecordedMessage, index: number): unknown {
  const framed = message.value.length > WIRE_HEADER_BYTES && message.value[0] === 0;
  const text = (framed ? message.value.subarray(WIRE_HEADER_BYTES) : message.value).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    const hint = framed
      ? ` (schema-registry wire format, schema id ${message.value.readInt32BE(1)}: decode messages() with its schema)`
      : '';
    throw new SyntaxError(`message ${index} on "${message.topic}" is not JSON${hint}: ${String(error)}`);
  }
}

/**
 * A {@link KafkaLogPublisher} whose messages go to memory. Pass it wherever a publisher is expected (adapters
 * included). Call `await publisher.flush()` before reading: the real queue still waits `flushTimeout` and
 * `maxCoalescingDelay` as in production. Close it after each test (`await publisher.close()`): its timers are real.
 */
export class TestPublisher extends KafkaLogPublisher {
  readonly #broker: MemoryBroker;

  /** Use {@link createTestPublisher}. */
  constructor(options: TestPublisherOptions = {}) {
    const broker = new MemoryBroker();
    super({
      ...options,
      brokers: options.brokers ?? ['localhost:9092'],
      topic: options.topic ?? TEST_PUBLISHER_DEFAULT_TOPIC,
      transport: broker.factory,
    });
    this.#broker = broker;
  }

  /** Every message delivered so far, oldest first: topic, partition, key, headers, value bytes, compression, acks. */
  messages(): RecordedMessage[] {
    return [...this.#broker.messages];
  }

  /**
   * The delivered entries, parsed; a message holding a JSON array (`maxBatchSize` > 1) gives each of its entries.
   * Registry-encoded values with a JSON Schema are read past their 5-byte header; Avro or Protobuf ones throw.
   */
  entries(): LogEntry[] {
    return this.#broker.messages.flatMap((message, i) => {
      const value = parseValue(message, i);
      return (Array.isArray(value) ? value : [value]) as LogEntry[];
    });
  }

  /** Forgets the delivered messages (counters in `stats()` are the publisher's and keep counting). */
  clear(): void {
    this.#broker.clear();
  }

  /**
   * Makes the next `count` produce attempts fail, as a broker would: retriable failures are retried with the
   * publisher's backoff until `maxRetryTime`; non-retriable ones drop the batch (`non_retriable`, or
   * `message_too_large` with that `kind`). Watch `stats().dropped` or the `drop` event (with a `spool`, entries past
   * `maxRetryTime` are `stats().spooled` instead, and `spool.replay` delivers them once the failures end).
   */
  failNext(count: number, failure: SimulatedFailure = {}): this {
    this.#broker.failNext(count, failure);
    return this;
  }

  /** Holds produce requests (a slow broker) until {@link TestPublisher.resume}, so queue bounds can fill up. */
  pause(): this {
    this.#broker.pause();
    return this;
  }

  /** Lets held produce requests complete. */
  resume(): this {
    this.#broker.resume();
    return this;
  }

  /** Produce attempts failed by {@link TestPublisher.failNext} so far. */
  get failedAttempts(): number {
    return this.#broker.failedAttempts;
  }

  /** The settings the publisher handed its transport (acks, compression, client id, SASL, TLS), after the first request. */
  get transportConfig(): Readonly<TransportConfig> | undefined {
    return this.#broker.config;
  }
}

/**
 * Creates a {@link TestPublisher}: the real publisher with the given options, delivering to memory.
 *
 * @example
 * ```ts
 * const publisher = createTestPublisher({ topic: 'access-logs', maxBatchSize: 10 });
 * publisher.publish(entry);
 * await publisher.flush();
 * expect(publisher.entries()).toEqual([entry]);
 * await publisher.close();
 * ```
 */
export function createTestPublisher(options: TestPublisherOptions = {}): TestPublisher {
  return new TestPublisher(options);
}
