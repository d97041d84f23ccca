/**
 * The publisher's side of the local spool: takes the messages that would be dropped for a full buffer, an exhausted
 * retry time or the close deadline, keeps them counted while they are written (in `inFlight`), then counts them
 * `spooled` (or, when the spool cannot take them, dropped: with their own reason past the cap, `spool_failed` when
 * the directory or a write fails). With `spool.replay`, it also replays the spool through the publisher's own
 * connection once Kafka answers again.
 *
 * @module
 */
import { ErrorCodes, KafkaLogError, SpooledError } from '../errors.js';
import { acquireLock, type DirectoryLock, listSpool } from '../spool/directory.js';
import type { SpoolRecord } from '../spool/format.js';
import type { ResolvedSpoolOptions } from '../spool/spool-options.js';
import { type ReplaySend, replayFile } from '../spool/replay.js';
import { type SpoolItem, SpoolLockedError, SpoolWriter } from '../spool/writer.js';
import type { DroppedRecord } from './events.js';
import type { LineLevel } from './log.js';
import { RateLimiter, NOTICE_INTERVAL_MS } from './notices.js';
import type { EntrySettler } from './queue.js';
import type { DropReason, StatsCounters } from './stats.js';

/** The drop reasons whose entries go to the spool. */
const SPOOLED_REASONS: ReadonlySet<DropReason> = new Set([
  'queue_full_entries',
  'queue_full_bytes',
  'queue_full_messages',
  'retry_time_exceeded',
  'close_timeout',
]);
/** First wait before the background replay tries again after a failure, ms (doubles up to the publisher's `maxRetryDelay`). */
const REPLAY_RETRY_MS = 1000;

/** A message that would be dropped. */
export interface SpoolCandidate {
  /** Topic. */
  readonly topic: string;
  /** Key, or `null`. */
  readonly key: Buffer | null;
  /** Headers. */
  readonly headers: Readonly<Record<string, string | Buffer>> | undefined;
  /** The value as it would be published. */
  readonly value: Buffer;
  /** The value is the entry's JSON, waiting for the schema registry: not spooled (it is not what would be sent). */
  readonly pendingSchema: boolean;
  /** Entries it holds. */
  readonly entries: number;
  /** Sync-mode settlers of its entries. */
  readonly settlers: EntrySettler[] | undefined;
}

interface SpoolEntry extends SpoolItem {
  readonly reason: DropReason;
  readonly settlers: EntrySettler[] | undefined;
}

/** What the stage needs of the publisher. */
export interface SpoolStageContext {
  /** The shared counters. */
  counters: StatsCounters;
  /** Counts a drop of entries no longer counted anywhere (they left `inFlight` first). */
  drop(reason: DropReason, entries: number, cause: KafkaLogError, settlers: EntrySettler[] | undefined, records: () => DroppedRecord[]): void;
  /** Entries settled (written or dropped): wakes `flush()` and `close()`. */
  settled(): void;
  /** Writes a line. */
  line(level: LineLevel, text: string, fields?: Record<string, unknown>): void;
  /** Sends a replay request through the publisher's connection, when live traffic leaves room. */
  send: ReplaySend;
  /** Bounds of one replay request. */
  maxRequestRecords: number;
  /** See {@link SpoolStageContext.maxRequestRecords}. */
  maxRequestBytes: number;
  /** Memory for records waiting to be written (the buffer's bound plus the requests in flight). */
  maxPendingBytes: number;
  /** Longest wait between two background replay attempts, ms. */
  maxRetryDelay: number;
}

/** The message of a {@link SpoolCandidate} for `publisher.dropped_records`. */
export function droppedRecordOf(candidate: SpoolCandidate): DroppedRecord {
  return {
    topic: candidate.topic,
    key: candidate.key,
    headers: candidate.headers,
    value: candidate.value,
    entries: candidate.entries,
    schemaPending: candidate.pendingSchema,
  };
}

function droppedRecordOfSpooled(record: SpoolRecord): DroppedRecord {
  return { topic: record.topic, key: record.key, headers: record.headers, value: record.value, entries: record.entries, schemaPending: false };
}

const plural = (n: number) => `${n} log entr${n === 1 ? 'y' : 'ies'}`;

/** The spool of one publisher. */
export class SpoolStage {
  readonly #options: ResolvedSpoolOptions;
  readonly #context: SpoolStageContext;
  readonly #writer: SpoolWriter<SpoolEntry>;
  readonly #limiter = new RateLimiter(NOTICE_INTERVAL_MS);
  readonly #stopReplay = new AbortController();
  #replayLock: DirectoryLock | undefined;
  #replaying: Promise<void> | undefined;
  /** The directory may hold files to replay: at start (an earlier run's), and after every write. */
  #replayDue = true;
  #replayTimer: NodeJS.Timeout | undefined;
  /** Why the timer waits: a failed send ends early when Kafka answers again; a held lock waits its turn. */
  #replayWaitsFor: 'kafka' | 'lock' = 'kafka';
  #replayFailures = 0;

  constructor(options: ResolvedSpoolOptions, context: SpoolStageContext) {
    this.#options = options;
    this.#context = context;
    this.#writer = new SpoolWriter<SpoolEntry>(
      { directory: options.directory, maxBytes: options.maxBytes, maxFileBytes: options.maxFileBytes, maxPendingBytes: context.maxPendingBytes },
      {
        written: (items) => this.#written(items),
        full: (items) => this.#refused(items, this.#fullError()),
        failed: (items, error) => this.#failed(items, error),
        unusable: (error) => this.#unusable(error),
      },
    );
    if (options.replay) void this.#writer.ready().then((error) => error === undefined && this.kick());
  }

  /** The spool directory. */
  get directory(): string {
    return this.#options.directory;
  }

  /** Bytes of the spool files in the directory, as last counted. */
  get bytes(): number {
    return this.#writer.bytes;
  }

  /**
   * Takes a message that would be dropped for `reason` (counting its entries in `inFlight` until written), or
   * returns what to drop it with instead: its own reason (not a spooled reason, a registry entry waiting for its
   * schema, the spool full or its writes behind) or `spool_failed` (the spool unusable).
   */
  take(candidate: SpoolCandidate, reason: DropReason): { reason: DropReason; cause: KafkaLogError | undefined } | undefined {
    if (!SPOOLED_REASONS.has(reason) || candidate.pendingSchema) return { reason, cause: undefined };
    const record: SpoolRecord = {
      topic: candidate.topic,
      key: candidate.key,
      headers: candidate.headers,
      value: candidate.value,
      entries: candidate.entries,
      spooledAt: Date.now(),
    };
    const result = this.#writer.offer({ record, reason, settlers: candidate.settlers });
    switch (result) {
      case 'taken':
        this.#context.counters.inFlight += candidate.entries;
        return undefined;
      case 'full':
        return { reason, cause: this.#fullError() };
      case 'behind':
        return {
          reason,
          cause: new KafkaLogError(
            ErrorCodes.DROPPED,
            `the spool's disk writes fall behind (${this.#writer.pendingBytes} bytes waiting to be written, at most ${this.#context.maxPendingBytes}: ` +
              `maxBytes + concurrencyLimit × maxBytesPerRequest)`,
          ),
        };
      default:
        return { reason: 'spool_failed', cause: new KafkaLogError(ErrorCodes.DROPPED, `the spool at ${this.#options.directory} is not usable`) };
    }
  }

  /** Starts a background replay when `spool.replay` is on and none runs (Kafka just answered). Cheap when idle. */
  kick(): void {
    if (!this.#options.replay || !this.#replayDue || this.#replaying !== undefined || this.#stopReplay.signal.aborted) return;
    if (this.#replayTimer !== undefined) {
      if (this.#replayWaitsFor === 'lock') return;
      clearTimeout(this.#replayTimer);
      this.#replayTimer = undefined;
    }
    this.#replaying = this.#replay().finally(() => {
      this.#replaying = undefined;
    });
  }

  /** Stops the background replay between two requests. Never rejects. */
  stopReplay(): Promise<void> {
    this.#stopReplay.abort();
    if (this.#replayTimer !== undefined) clearTimeout(this.#replayTimer);
    this.#replayTimer = undefined;
    return this.#replaying ?? Promise.resolve();
  }

  /** Writes what was taken, syncs and seals the file, releases the directory. Never rejects. */
  async close(): Promise<void> {
    await this.stopReplay();
    await this.#writer.close();
    await this.#replayLock?.release().catch(() => undefined);
    this.#replayLock = undefined;
  }

  /** Gives up on the writes still under way (the close deadline passed): their entries are dropped as `close_timeout`. */
  abandon(): void {
    const items = this.#writer.abandon();
    const error = new KafkaLogError(ErrorCodes.TIMEOUT, 'the publisher closed before the spool write finished');
    this.#dropItems(items, () => 'close_timeout', error);
    void this.#replayLock?.release().catch(() => undefined);
  }

  #written(items: SpoolEntry[]): void {
    const c = this.#context.counters;
    let entries = 0;
    for (const item of items) {
      entries += item.record.entries;
      if (item.settlers !== undefined) {
        const error = new SpooledError(item.reason, this.#options.directory, `${plural(item.record.entries)} not delivered (${item.reason}): written to the ` +
          `spool at ${this.#options.directory}`);
        for (const settler of item.settlers) settler.reject(error);
      }
    }
    c.inFlight -= entries;
    c.spooled += entries;
    this.#replayDue = true;
    const held = this.#limiter.admit('spooled', Date.now(), entries);
    if (held !== undefined) {
      const more = held > 0 ? ` (and ${held} more since the last report)` : '';
      this.#context.line('warn', `${plural(entries)} written to the spool at ${this.#options.directory} (${items[0]?.reason}): replay them once Kafka is ` +
        `back${more}`, {
        spooled: entries + held,
      });
    }
    this.#context.settled();
  }

  #refused(items: SpoolEntry[], cause: KafkaLogError): void {
    this.#dropItems(items, (item) => item.reason, cause);
  }

  #failed(items: SpoolEntry[], error: Error): void {
    this.#dropItems(items, () => 'spool_failed', new KafkaLogError(ErrorCodes.DROPPED, `writing to the spool at ${this.#options.directory} failed: ` +
      `${error.message}`, { cause: error }));
  }

  #dropItems(items: SpoolEntry[], reasonOf: (item: SpoolEntry) => DropReason, cause: KafkaLogError): void {
    const byReason = new Map<DropReason, SpoolEntry[]>();
    for (const item of items) {
      const reason = reasonOf(item);
      byReason.set(reason, [...(byReason.get(reason) ?? []), item]);
    }
    for (const [reason, group] of byReason) {
      const entries = group.reduce((sum, item) => sum + item.record.entries, 0);
      this.#context.counters.inFlight -= entries;
      const settlers = group.flatMap((item) => item.settlers ?? []);
      this.#context.drop(reason, entries, cause, settlers.length > 0 ? settlers : undefined, () => group.map((item) => droppedRecordOfSpooled(item.record)));
    }
    this.#context.settled();
  }

  #unusable(error: Error): void {
    const cause = error instanceof SpoolLockedError ? error.message : `the spool directory ${this.#options.directory} cannot be used: ${error.message}`;
    this.#context.line('error', `${cause}; entries that would go to the spool are dropped (spool_failed)`, { directory: this.#options.directory });
  }

  #fullError(): KafkaLogError {
    return new KafkaLogError(
      ErrorCodes.DROPPED,
      `the spool at ${this.#options.directory} is full (spool.maxBytes ${this.#options.maxBytes}); replay it (kafka-log replay) to make room`,
    );
  }

  // ---- background replay ----

  async #replay(): Promise<void> {
    const signal = this.#stopReplay.signal;
    try {
      if (this.#replayLock === undefined) {
        const lock = await acquireLock(this.#options.directory, 'replay');
        if ('heldBy' in lock) {
          this.#retryLater('lock', `another replay (process ${lock.heldBy.pid}) is replaying the spool at ${this.#options.directory}`);
          return;
        }
        this.#replayLock = lock;
      }
      let entries = 0;
      let files = 0;
      while (this.#replayDue && !signal.aborted) {
        this.#replayDue = false;
        // The file being written is sealed first, so what was spooled during the outage goes out now too.
        if (this.#writer.hasOpenRecords) await this.#writer.seal();
        const listing = await listSpool(this.#options.directory);
        if (listing.sealed.length > 0 && files === 0) {
          this.#context.line('info', `replaying the spool at ${this.#options.directory}: ${listing.sealed.length} files, ${listing.bytes} bytes`);
        }
        for (const file of listing.sealed) {
          if (signal.aborted) {
            this.#replayDue = true;
            return;
          }
          const result = await replayFile(file.path, this.#context.send, {
            maxRequestRecords: this.#context.maxRequestRecords,
            maxRequestBytes: this.#context.maxRequestBytes,
            signal,
          });
          this.#context.counters.replayed += result.entries;
          if (result.outcome === 'replayed' || result.outcome === 'damaged') this.#writer.removed(file.size);
          entries += result.entries;
          if (result.outcome === 'replayed') files += 1;
          if (result.outcome === 'damaged' || result.outcome === 'unreadable') {
            this.#context.line('error', `spool replay: ${result.file}: ${result.problem}; the readable records were sent, the file is kept for a look`);
          } else {
            this.#context.line('debug', `spool replay: ${result.file}: ${result.entries} entries sent (${result.outcome})`);
          }
        }
        this.#replayFailures = 0;
      }
      if (files > 0) this.#context.line('info', `spool replayed: ${plural(entries)} from ${files} files`, { replayed: entries });
    } catch (error) {
      this.#replayDue = true;
      if (signal.aborted) return;
      this.#retryLater('kafka', `spool replay paused: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #retryLater(waitsFor: 'kafka' | 'lock', why: string): void {
    this.#replayWaitsFor = waitsFor;
    this.#replayDue = true;
    this.#replayFailures += 1;
    const delay = Math.min(this.#context.maxRetryDelay, REPLAY_RETRY_MS * 2 ** Math.min(this.#replayFailures - 1, 16));
    this.#context.line('debug', `${why}; trying again in ${delay} ms`);
    this.#replayTimer = setTimeout(() => {
      this.#replayTimer = undefined;
      this.kick();
    }, delay);
    this.#replayTimer.unref();
  }
}
