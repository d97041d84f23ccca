/**
 * The publisher's typed events (kafkajs instrumentation style: `publisher.<name>`). There is deliberately no
 * event named `error`: Node's EventEmitter throws when such an event has no listener, and the publisher must
 * never throw into the request path. Listeners that throw are isolated and reported through the logger.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { KafkaLogError } from '../errors.js';
import type { DropReason } from './stats.js';

/** Event names, as constants. */
export const PublisherEvents = {
  /** The transport connected to the cluster. */
  CONNECT: 'publisher.connect',
  /** The transport disconnected (on close). */
  DISCONNECT: 'publisher.disconnect',
  /** Entries were dropped. */
  DROP: 'publisher.drop',
  /** A produce request failed and will be retried. */
  RETRY: 'publisher.retry',
  /** A produce request failed for good; its entries are dropped. */
  DELIVERY_FAILURE: 'publisher.delivery_failure',
  /** A produce request was acknowledged. */
  DELIVERED: 'publisher.delivered',
  /** A log line of the publisher or of the Kafka client, secrets stripped. */
  LOG: 'publisher.log',
  /**
   * An adapter reported a failure around an entry: a body Kong would not log (the entry was not built), a hook
   * or custom field that threw (the entry went out without that field). Counted in `stats().reported`.
   */
  REPORTED: 'publisher.reported',
} as const;

/** Log levels, least to most verbose. */
export type PublisherLogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

/** A log sink (pino, console and most loggers fit). */
export interface PublisherLogger {
  /** An error line. */
  error(message: string, extra?: Record<string, unknown>): void;
  /** A warning line. */
  warn(message: string, extra?: Record<string, unknown>): void;
  /** An information line. */
  info(message: string, extra?: Record<string, unknown>): void;
  /** A debug line. */
  debug(message: string, extra?: Record<string, unknown>): void;
}

/** Payload of `publisher.drop`. */
export interface DropEvent {
  /** Why the entries were dropped. */
  reason: DropReason;
  /** How many entries. */
  count: number;
  /** The error behind the drop, when there is one (message free of secrets). */
  error?: KafkaLogError;
}

/** Payload of `publisher.retry`. */
export interface RetryEvent {
  /** Entries in the request. */
  entries: number;
  /** Messages in the request. */
  messages: number;
  /** 1 for the first retry. */
  attempt: number;
  /** Delay before the retry, ms. */
  delayMs: number;
  /** What failed. */
  error: KafkaLogError;
}

/** Payload of `publisher.delivery_failure`. */
export interface DeliveryFailureEvent {
  /** Entries lost with the request. */
  entries: number;
  /** Messages in the request. */
  messages: number;
  /** Attempts made. */
  attempts: number;
  /** The last error. */
  error: KafkaLogError;
}

/** Payload of `publisher.delivered`. */
export interface DeliveredEvent {
  /** Entries acknowledged. */
  entries: number;
  /** Messages acknowledged. */
  messages: number;
  /** Value bytes acknowledged. */
  bytes: number;
  /** Time from the first attempt to the acknowledgement, ms. */
  durationMs: number;
}

/** Payload of `publisher.log`. */
export interface LogEvent {
  /** Level of the line. */
  level: Exclude<PublisherLogLevel, 'silent'>;
  /** `publisher` or the Kafka client's namespace. */
  source: string;
  /** The line, secrets stripped. */
  message: string;
  /** Structured extras, secrets stripped. */
  extra?: Record<string, unknown>;
}

/** Payload of `publisher.connect` and `publisher.disconnect`. */
export interface ConnectionEvent {
  /** The bootstrap brokers. */
  brokers: readonly string[];
}

/** Payload of `publisher.reported`. */
export interface ReportedEvent {
  /** What went wrong, with its stable code; its message is free of secrets. */
  error: KafkaLogError;
}

/** Every event and its payload. */
export interface PublisherEventMap {
  /** See {@link PublisherEvents.CONNECT}. */
  'publisher.connect': ConnectionEvent;
  /** See {@link PublisherEvents.DISCONNECT}. */
  'publisher.disconnect': ConnectionEvent;
  /** See {@link PublisherEvents.DROP}. */
  'publisher.drop': DropEvent;
  /** See {@link PublisherEvents.RETRY}. */
  'publisher.retry': RetryEvent;
  /** See {@link PublisherEvents.DELIVERY_FAILURE}. */
  'publisher.delivery_failure': DeliveryFailureEvent;
  /** See {@link PublisherEvents.DELIVERED}. */
  'publisher.delivered': DeliveredEvent;
  /** See {@link PublisherEvents.REPORTED}. */
  'publisher.reported': ReportedEvent;
  /** See {@link PublisherEvents.LOG}. */
  'publisher.log': LogEvent;
}

/** A listener of event `K`. */
export type PublisherListener<K extends keyof PublisherEventMap> = (event: PublisherEventMap[K]) => void;

/** A small typed emitter; a throwing listener never reaches the emitting code. */
export class TypedEmitter {
  readonly #emitter = new EventEmitter();
  readonly #onListenerError: (error: unknown) => void;

  /** `onListenerError` receives what a listener threw. */
  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
    this.#emitter.setMaxListeners(0);
  }

  /** Adds a listener. */
  on<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    this.#emitter.on(name, listener);
    return this;
  }

  /** Adds a listener called once. */
  once<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    this.#emitter.once(name, listener);
    return this;
  }

  /** Removes a listener. */
  off<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    this.#emitter.off(name, listener);
    return this;
  }

  /** Whether anyone listens to `name` (lets callers skip building payloads). */
  has(name: keyof PublisherEventMap): boolean {
    return this.#emitter.listenerCount(name) > 0;
  }

  /** Emits an event; listener errors are reported, never thrown. */
  emit<K extends keyof PublisherEventMap>(name: K, event: PublisherEventMap[K]): void {
    if (this.#emitter.listenerCount(name) === 0) return;
    for (const listener of this.#emitter.listeners(name) as PublisherListener<K>[]) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
