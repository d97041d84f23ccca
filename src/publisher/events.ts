/**
 * The publisher's typed events (kafkajs instrumentation style: `publisher.<name>`). There is deliberately no
 * event named `error`: Node's EventEmitter throws when such an event has no listener, and the publisher must
 * never throw into the request path. Listeners that throw (or whose promise rejects) are isolated and reported
 * through the logger, rate-limited.
 *
 * @module
 */
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
  /**
   * The bytes of dropped entries, for a fallback of one's own: emitted after the drop (never inside `publish`),
   * only while someone listens (nothing is kept for it otherwise).
   */
  DROPPED_RECORDS: 'publisher.dropped_records',
  /** A produce request failed and will be retried. */
  RETRY: 'publisher.retry',
  /** A produce request failed for good; its entries are dropped. */
  DELIVERY_FAILURE: 'publisher.delivery_failure',
  /** A produce request was acknowledged. */
  DELIVERED: 'publisher.delivered',
  /**
   * A log line of the publisher or of the Kafka client (at `debug`), secrets stripped, at `logLevel` or above.
   * Lines about failing listeners go to the logger only, never to listeners.
   */
  LOG: 'publisher.log',
  /**
   * An adapter reported a failure around an entry: a body Kong would not log (the entry was not built), a hook
   * or custom field that threw (the entry went out without that field). Counted in `stats().reported`.
   */
  REPORTED: 'publisher.reported',
} as const;

/** Log levels, least to most verbose. */
export type PublisherLogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

/**
 * One level of a {@link PublisherLogger}. kafka-log calls it as pino does: `(fields, message)` when a line has
 * structured fields, `(message)` alone when it has none (so `console` never prints a stray `undefined`).
 */
export interface PublisherLogMethod {
  /** A line with structured fields (secrets stripped), fields first as pino takes them. */
  (fields: Record<string, unknown>, message: string): void;
  /** A line without fields. */
  (message: string): void;
}

/**
 * A log sink: pino (and its child loggers), `console`, or anything with these four methods. kafka-log writes few
 * lines (see the README's "What you hear" section); each message starts with `kafka-log: `.
 */
export interface PublisherLogger {
  /** Entries were lost (the first drop of each reason, then a rate-limited count), or a listener threw. */
  error: PublisherLogMethod;
  /** Kafka (or the schema registry) cannot be reached; entries are kept and retried. */
  warn: PublisherLogMethod;
  /** Kafka reachable again after an outage; start-up notes. */
  info: PublisherLogMethod;
  /** Retries and the Kafka client's own lines. */
  debug: PublisherLogMethod;
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

/** One dropped Kafka message, as it would have been published. */
export interface DroppedRecord {
  /** Topic. */
  topic: string;
  /** Key, or `null`. */
  key: Buffer | null;
  /** Headers. */
  headers: Readonly<Record<string, string | Buffer>> | undefined;
  /**
   * The message value as it would have been sent: the entry's JSON (a JSON array with `maxBatchSize` above 1), or
   * with a schema registry the wire format; the entry's JSON when the schema was not resolved yet (`schemaPending`).
   */
  value: Buffer;
  /** Log entries the value holds. */
  entries: number;
  /** `value` is the entry's JSON, not yet encoded by the schema registry. */
  schemaPending: boolean;
}

/**
 * Payload of `publisher.dropped_records`: the messages of one drop (or of several drops of the same reason in the
 * same turn of the event loop). Drops that happen before an entry becomes bytes (`closed`, `serialize_failed`,
 * `routing_failed`, `topic_not_allowed`) have none. The buffers are the publisher's: keep them, do not change them.
 */
export interface DroppedRecordsEvent {
  /** Why they were dropped. */
  reason: DropReason;
  /** Entries they hold. */
  entries: number;
  /** The messages. */
  records: readonly DroppedRecord[];
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
  /** See {@link PublisherEvents.DROPPED_RECORDS}. */
  'publisher.dropped_records': DroppedRecordsEvent;
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

/**
 * A listener of event `K`. Whatever it does cannot reach the publisher: a throw, or a rejection of the promise an
 * async listener returns, is reported (rate-limited) through the logger and nothing else.
 */
export type PublisherListener<K extends keyof PublisherEventMap> = (event: PublisherEventMap[K]) => void;

/** How a listener failed: it threw, its promise rejected, or it made the publisher emit events too deeply nested. */
type ListenerFailureKind = 'threw' | 'rejected' | 'nested';

/** A listener failure, as the emitter hands it to its owner. */
export interface ListenerFailure {
  /** The event being delivered. */
  event: keyof PublisherEventMap;
  /** What went wrong. */
  kind: ListenerFailureKind;
  /** What the listener threw or rejected with (`undefined` for `nested`). */
  error: unknown;
}

/**
 * How deep events may nest (a listener that makes the publisher emit again, e.g. a `publisher.drop` listener that
 * publishes after `close()`): deeper events are not delivered, so no listener can recurse until the stack overflows.
 */
export const MAX_NESTED_EMITS = 8;

interface Registration {
  readonly listener: (event: never) => unknown;
  readonly once: boolean;
}

/**
 * A small typed emitter that cannot be turned against its owner: a listener's throw or rejection is handed to
 * `onListenerFailure` (once per failure) and never reaches the emitting code; `once` listeners are removed before
 * they run, so they run once even when events nest; nesting is bounded by {@link MAX_NESTED_EMITS}.
 * Listener lists are copied on change, so an emission runs over the listeners registered when it started.
 */
export class TypedEmitter {
  readonly #listeners = new Map<keyof PublisherEventMap, readonly Registration[]>();
  readonly #onListenerFailure: (failure: ListenerFailure) => void;
  #depth = 0;

  /** `onListenerFailure` must not throw (what it throws is ignored). */
  constructor(onListenerFailure: (failure: ListenerFailure) => void) {
    this.#onListenerFailure = onListenerFailure;
  }

  /** Adds a listener. */
  on<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    return this.#add(name, { listener: listener as Registration['listener'], once: false });
  }

  /** Adds a listener called once, then removed. */
  once<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    return this.#add(name, { listener: listener as Registration['listener'], once: true });
  }

  /** Removes a listener (the last registration of it, whether added with `on` or `once`). */
  off<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    const list = this.#listeners.get(name);
    if (list === undefined) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if ((list[i] as Registration).listener === listener) {
        this.#remove(name, list[i] as Registration);
        break;
      }
    }
    return this;
  }

  /** Whether anyone listens to `name` (lets callers skip building payloads). */
  has(name: keyof PublisherEventMap): boolean {
    return (this.#listeners.get(name)?.length ?? 0) > 0;
  }

  /** Emits an event to the listeners registered now; never throws. */
  emit<K extends keyof PublisherEventMap>(name: K, event: PublisherEventMap[K]): void {
    const list = this.#listeners.get(name);
    if (list === undefined || list.length === 0) return;
    if (this.#depth >= MAX_NESTED_EMITS) {
      this.#fail({ event: name, kind: 'nested', error: undefined });
      return;
    }
    this.#depth += 1;
    try {
      for (const registration of list) {
        if (registration.once && !this.#remove(name, registration)) continue; // already run by a nested emission
        this.#call(name, registration.listener as PublisherListener<K>, event);
      }
    } finally {
      this.#depth -= 1;
    }
  }

  #call<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>, event: PublisherEventMap[K]): void {
    let result: unknown;
    try {
      result = (listener as (event: PublisherEventMap[K]) => unknown)(event);
    } catch (error) {
      this.#fail({ event: name, kind: 'threw', error });
      return;
    }
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return;
    // An async listener: its rejection is handled here, or it would be an unhandled rejection (a crash, by default).
    try {
      const then = (result as { then?: unknown }).then;
      if (typeof then === 'function') {
        then.call(result, undefined, (error: unknown) => this.#fail({ event: name, kind: 'rejected', error }));
      }
    } catch (error) {
      this.#fail({ event: name, kind: 'threw', error });
    }
  }

  #fail(failure: ListenerFailure): void {
    try {
      this.#onListenerFailure(failure);
    } catch {
      // The owner's reporter must not throw; if it does, there is nowhere left to report to.
    }
  }

  #add(name: keyof PublisherEventMap, registration: Registration): this {
    this.#listeners.set(name, [...(this.#listeners.get(name) ?? []), registration]);
    return this;
  }

  /** Removes one registration; false when it was already gone. */
  #remove(name: keyof PublisherEventMap, registration: Registration): boolean {
    const list = this.#listeners.get(name);
    const at = list?.indexOf(registration) ?? -1;
    if (list === undefined || at < 0) return false;
    const rest = list.filter((_, i) => i !== at);
    if (rest.length === 0) this.#listeners.delete(name);
    else this.#listeners.set(name, rest);
    return true;
  }
}
