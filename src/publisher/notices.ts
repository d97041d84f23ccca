/**
 * What the publisher says on its own, once, without being noisy: the first drop of each reason, Kafka (or the
 * schema registry) unreachable, Kafka reachable again, and listeners that fail. Repeats are rate-limited: at most
 * one line per kind per {@link NOTICE_INTERVAL_MS}, counting what was held back; `close()` reports what is left.
 *
 * Thresholds: a publisher that never reached Kafka says so at its first failed attempt (the client has already
 * spent its own bounded retries by then, and a wrong address or port must be heard at start-up, not a minute
 * later); one that had delivered says so once the outage lasted {@link UNREACHABLE_NOTICE_MS}, so the brief
 * failures of a leader election or a rolling restart stay quiet.
 *
 * @module
 */
import { ErrorCodes, type KafkaLogError } from '../errors.js';
import type { ListenerFailure } from './events.js';
import { type LineLevel, describeSafely } from './log.js';
import type { DropReason } from './stats.js';

/** Shortest time between two lines of the same kind, ms. */
export const NOTICE_INTERVAL_MS = 60_000;
/** How long a publisher that had delivered must fail before "unreachable" is logged, ms. */
export const UNREACHABLE_NOTICE_MS = 5_000;

/** At most one report per key per interval; what was held back is counted and handed to the next report. */
export class RateLimiter {
  readonly #intervalMs: number;
  readonly #keys = new Map<string, { lastAt: number; held: number }>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Whether a report of `key` (worth `weight`, e.g. entries) may go out now: the weight held back since the last
   * report, or `undefined` when this one is held back (its weight counted).
   */
  admit(key: string, now: number, weight = 1): number | undefined {
    const state = this.#keys.get(key);
    if (state === undefined) {
      this.#keys.set(key, { lastAt: now, held: 0 });
      return 0;
    }
    if (now - state.lastAt < this.#intervalMs) {
      state.held += weight;
      return undefined;
    }
    const held = state.held;
    state.lastAt = now;
    state.held = 0;
    return held;
  }

  /** The weight held back per key, then forgotten. */
  drain(): Array<[key: string, held: number]> {
    const out: Array<[string, number]> = [];
    for (const [key, state] of this.#keys) {
      if (state.held > 0) out.push([key, state.held]);
      state.held = 0;
    }
    return out;
  }
}

/** What the notices need from the publisher. */
interface NoticeContext {
  /** Writes a line. */
  line(level: LineLevel, text: string, fields: Record<string, unknown> | undefined, toListeners: boolean): void;
  /** The bootstrap brokers, for messages. */
  brokers: readonly string[];
  /** The buffer bounds, for the `queue_full_*` messages. */
  bounds: { maxEntries: number; maxBytes: number; maxBufferedMessages: number };
  /** Entries buffered or in flight now. */
  waiting(): number;
  /** Clock, ms. */
  now(): number;
}

const entries = (n: number) => `${n} log entr${n === 1 ? 'y' : 'ies'}`;

/** The rate-limited notices of one publisher. */
export class PublisherNotices {
  readonly #context: NoticeContext;
  readonly #limiter = new RateLimiter(NOTICE_INTERVAL_MS);
  #delivered = false;
  /** When the current outage started (first failure since the last success), or `undefined`. */
  #failingSince: number | undefined;
  #outageLogged = false;
  /** What the logged outage was about (`Kafka at ...`, `the schema registry`). */
  #outageTarget = '';

  constructor(context: NoticeContext) {
    this.#context = context;
  }

  /**
   * Entries were dropped. The first drop of each reason is logged with its cause; later ones at most once a
   * minute, with the count held back. `cause` is only built when a line goes out.
   */
  dropped(reason: DropReason, count: number, cause: () => KafkaLogError | undefined): void {
    const held = this.#limiter.admit(`drop:${reason}`, this.#context.now(), count);
    if (held === undefined) return;
    const error = cause();
    const detail = error === undefined ? this.#reasonText(reason) : error.message;
    const more = held > 0 ? ` (and ${held} more since the last report)` : '';
    const fields: Record<string, unknown> = { reason, count: count + held };
    if (error !== undefined) fields.code = error.code;
    this.#context.line('error', `${entries(count)} dropped (${reason}): ${detail}${more}`, fields, true);
  }

  /**
   * `connect()` failed. A retriable failure is an outage like any other; one that no retry can mend (a refused
   * credential, a missing package) is logged at once, then at most once a minute per cause.
   */
  connectFailed(error: KafkaLogError): void {
    if (error.retriable) {
      this.failed(error);
      return;
    }
    const held = this.#limiter.admit(`connect:${error.code}:${error.message}`, this.#context.now());
    if (held === undefined) return;
    const more = held > 0 ? ` (${held} more times since the last report)` : '';
    this.#context.line('error', `cannot connect to ${this.#target(error)}: ${error.message}${more}`, { code: error.code }, true);
  }

  /**
   * A connection or delivery attempt failed with a retriable error: the entries wait. (A failure no retry can
   * mend drops its entries, and the drop is logged with its cause.)
   */
  failed(error: KafkaLogError): void {
    const now = this.#context.now();
    this.#failingSince ??= now;
    if (this.#outageLogged) return;
    const forMs = now - this.#failingSince;
    if (this.#delivered && forMs < UNREACHABLE_NOTICE_MS) return;
    this.#outageLogged = true;
    this.#outageTarget = this.#target(error);
    const waiting = this.#context.waiting();
    const lasting = this.#delivered ? ` for ${(forMs / 1000).toFixed(1)} s` : '';
    this.#context.line(
      'warn',
      `cannot reach ${this.#outageTarget}${lasting}: ${error.message}; ${waiting > 0 ? `${entries(waiting)} kept and retried` : 'will retry'}`,
      { code: error.code, waiting, ...(this.#delivered ? { unreachableMs: forMs } : {}) },
      true,
    );
  }

  /** A request was acknowledged (or a connection made): ends an outage, logging the recovery if it was logged. */
  succeeded(): void {
    this.#delivered = true;
    const since = this.#failingSince;
    this.#failingSince = undefined;
    if (!this.#outageLogged || since === undefined) return;
    this.#outageLogged = false;
    const forMs = this.#context.now() - since;
    this.#context.line('info', `${this.#outageTarget} is reachable again after ${(forMs / 1000).toFixed(1)} s`, { unreachableMs: forMs }, true);
  }

  /**
   * An adapter reported a failure around an entry (a custom field or hook that failed, a body Kong would not log).
   * The first of each code is logged, then at most one a minute; a body that does not parse is the client's
   * doing, so it is only `info`.
   */
  reported(error: KafkaLogError): void {
    const held = this.#limiter.admit(`reported:${error.code}`, this.#context.now());
    if (held === undefined) return;
    const more = held > 0 ? ` (${held} more since the last report)` : '';
    const level = error.code === ErrorCodes.BODY_PARSE ? 'info' : 'warn';
    this.#context.line(level, `${error.message}${more}`, { code: error.code }, true);
  }

  /** A listener failed. Logged (rate-limited per event) to the logger only: never to any listener. */
  listenerFailed(failure: ListenerFailure): void {
    const held = this.#limiter.admit(`listener:${failure.event}`, this.#context.now());
    if (held === undefined) return;
    const what =
      failure.kind === 'nested'
        ? `"${failure.event}" listeners made the publisher emit events nested too deep; the innermost event was not delivered`
        : `a "${failure.event}" listener ${failure.kind === 'threw' ? 'threw' : 'returned a promise that rejected'}: ${describeSafely(failure.error)}`;
    const more = held > 0 ? ` (${held} more listener failures since the last report)` : '';
    this.#context.line('error', `${what}${more}`, undefined, false);
  }

  /** At close: what was held back since the last report of each kind. */
  close(): void {
    for (const [key, held] of this.#limiter.drain()) {
      const [kind, name] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (kind === 'drop') {
        const what = entries(held).replace(/^\d+ /, '');
        this.#context.line('error', `${held} more ${what} dropped (${name}) since the last report`, { reason: name, count: held }, true);
      } else if (kind === 'reported') {
        this.#context.line('warn', `${held} more adapter failures (${name}) since the last report`, { code: name, count: held }, true);
      }
      else if (kind === 'listener') this.#context.line('error', `"${name}" listeners failed ${held} more times since the last report`, undefined, false);
    }
  }

  #target(error: KafkaLogError): string {
    return error.code === ErrorCodes.REGISTRY ? 'the schema registry' : `Kafka at ${this.#context.brokers.join(',')}`;
  }

  #reasonText(reason: DropReason): string {
    const { maxEntries, maxBytes, maxBufferedMessages } = this.#context.bounds;
    switch (reason) {
      case 'queue_full_entries':
        return `the buffer holds maxEntries (${maxEntries}) entries: Kafka is slower than the traffic, or unreachable`;
      case 'queue_full_bytes':
        return `the buffer holds maxBytes (${maxBytes}) bytes: Kafka is slower than the traffic, or unreachable`;
      case 'queue_full_messages':
        return `the buffer holds maxBufferedMessages (${maxBufferedMessages}) messages: Kafka is slower than the traffic, or unreachable`;
      case 'closed':
        return 'published after close()';
      case 'topic_not_allowed':
        return 'the topic chosen for the entry is not in allowedTopics';
      default:
        return 'no cause given';
    }
  }
}
