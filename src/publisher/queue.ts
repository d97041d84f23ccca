/**
 * The bounded queue between `publish` and the transport. Entries (serialized once) are coalesced into
 * messages of up to `maxBatchSize` entries (a JSON array when more than one), messages into produce requests
 * bounded by `maxMessagesPerRequest` and `maxBytesPerRequest`. What does not fit is refused with a reason for
 * the caller to count. No I/O here: the owner asks for requests when it has room to send them.
 *
 * With a schema registry an entry is queued as the object itself, not its JSON: its message holds it until the
 * owner encodes it at request time, and always alone (a schema describes one entry, never an array).
 *
 * @module
 */
import type { LogEntry } from '../entry/log-entry.js';
import { type ProduceRecord, recordSize } from '../transport/transport.js';
import type { DropReason, StatsCounters } from './stats.js';

/** Settles a sync-mode `publish` promise. */
export interface EntrySettler {
  /** Called on acknowledgement. */
  resolve(): void;
  /** Called when the entry is dropped. */
  reject(error: unknown): void;
}

/** One entry, serialized (or kept for the registry), with its routing. */
export interface QueuedEntry {
  /** The serialized entry (JSON text), or the entry itself when a schema registry encodes it at request time. */
  value: string | LogEntry;
  /** The UTF-8 byte length of its JSON (with a registry: the estimate counted against `maxBytes`). */
  bytes: number;
  /** Topic. */
  topic: string;
  /** Key or `null`. */
  key: Buffer | null;
  /** Headers. */
  headers: Record<string, string | Buffer> | undefined;
  /** Sync mode only. */
  settler?: EntrySettler;
}

/** A closed message: its record and what it holds. */
export interface QueuedMessage {
  /** The record to produce (with a pending `entry`: an empty value, written when the entry is encoded). */
  record: ProduceRecord;
  /** The entry still to be encoded into `record.value` by a schema registry; `undefined` once encoded. */
  entry: LogEntry | undefined;
  /** Entries in it. */
  entries: number;
  /** Serialized entry bytes in it (what `bufferedBytes` counted). */
  entryBytes: number;
  /** Approximate bytes in a produce request. */
  size: number;
  /** When it became ready, ms. */
  readyAt: number;
  /** Sync-mode settlers of its entries. */
  settlers: EntrySettler[] | undefined;
}

/** A produce request's worth of messages. */
export interface QueuedBatch {
  /** The messages. */
  messages: QueuedMessage[];
  /** Entries in them. */
  entries: number;
  /** Value bytes in them. */
  valueBytes: number;
}

/** The queue's limits. */
export interface QueueLimits {
  /** Entries per message. */
  maxBatchSize: number;
  /** Most buffered entries. */
  maxEntries: number;
  /** Most buffered entry bytes. */
  maxBytes: number;
  /** Most buffered messages. */
  maxBufferedMessages: number;
  /** Messages per request. */
  maxMessagesPerRequest: number;
  /** Bytes per request. */
  maxBytesPerRequest: number;
}

const EMPTY = Buffer.alloc(0);
// Confluent wire-format header: magic byte and 4-byte schema id.
const WIRE_HEADER_BYTES = 5;

// Bytes the JSON array adds around N entries: "[" + (N-1) commas + "]".
const arrayBytes = (n: number) => (n > 1 ? n + 1 : 0);

/** `text` as UTF-8 when its byte length is already known: one pass over it (`Buffer.from` would measure it again). */
function utf8Of(text: string, byteLength: number): Buffer {
  // A UTF-8 length below the number of UTF-16 units cannot be right: never cut the text short.
  if (text.length > byteLength) return Buffer.from(text);
  const buffer = Buffer.allocUnsafe(byteLength);
  const written = buffer.write(text, 0, byteLength, 'utf8');
  return written === byteLength ? buffer : buffer.subarray(0, written);
}

interface OpenMessage {
  topic: string;
  key: Buffer | null;
  headers: Record<string, string | Buffer> | undefined;
  parts: string[];
  bytes: number;
  settlers: EntrySettler[] | undefined;
}

/** The bounded, batching queue. Counts `buffered` and `bufferedBytes` in the shared stats. */
export class BatchQueue {
  readonly #limits: QueueLimits;
  readonly #stats: StatsCounters;
  readonly #open = new Map<string, OpenMessage>();
  #ready: QueuedMessage[] = [];
  #head = 0;
  #readyBytes = 0;
  #messages = 0;

  /** `stats` is shared with the owner; the queue keeps `buffered` and `bufferedBytes` exact. */
  constructor(limits: QueueLimits, stats: StatsCounters) {
    this.#limits = limits;
    this.#stats = stats;
  }

  /** Ready messages waiting for a request. */
  get readyMessages(): number {
    return this.#ready.length - this.#head;
  }

  /** Messages still collecting entries. */
  get openMessages(): number {
    return this.#open.size;
  }

  /** When the oldest ready message became ready, or `undefined`. */
  get oldestReadyAt(): number | undefined {
    return this.#ready[this.#head]?.readyAt;
  }

  /** Whether the ready messages fill a request (so it should go now). */
  get requestFull(): boolean {
    return this.readyMessages >= this.#limits.maxMessagesPerRequest || this.#readyBytes >= this.#limits.maxBytesPerRequest;
  }

  /**
   * Adds an entry, or returns why it does not fit (the caller counts the drop). `now` stamps messages it
   * closes.
   */
  add(entry: QueuedEntry, now: number): DropReason | undefined {
    const limits = this.#limits;
    if (this.#stats.buffered + 1 > limits.maxEntries) return 'queue_full_entries';
    if (this.#stats.bufferedBytes + entry.bytes > limits.maxBytes) return 'queue_full_bytes';
    const alone = recordSize({ topic: entry.topic, key: entry.key, value: EMPTY, headers: entry.headers });
    if (alone + entry.bytes > limits.maxBytesPerRequest) return 'message_too_large';

    if (limits.maxBatchSize === 1 || typeof entry.value !== 'string') {
      if (this.#messages + 1 > limits.maxBufferedMessages) return 'queue_full_messages';
      this.#count(1, entry.bytes);
      this.#messages += 1;
      const settlers = entry.settler ? [entry.settler] : undefined;
      this.#pushReady(entry.topic, entry.key, entry.headers, entry.value, 1, entry.bytes, settlers, now);
      return undefined;
    }

    const groupKey = entry.key === null ? entry.topic : `${entry.topic}\u0000${entry.key.toString('latin1')}`;
    let open = this.#open.get(groupKey);
    // A message must stay within one request: close it first when this entry would overflow it.
    if (open && alone + open.bytes + entry.bytes + arrayBytes(open.parts.length + 1) > limits.maxBytesPerRequest) {
      this.#close(groupKey, open, now);
      open = undefined;
    }
    if (!open) {
      if (this.#messages + 1 > limits.maxBufferedMessages) return 'queue_full_messages';
      this.#messages += 1;
      open = { topic: entry.topic, key: entry.key, headers: entry.headers, parts: [], bytes: 0, settlers: undefined };
      this.#open.set(groupKey, open);
    }
    this.#count(1, entry.bytes);
    open.parts.push(entry.value);
    open.bytes += entry.bytes;
    if (entry.settler) {
      open.settlers ??= [];
      open.settlers.push(entry.settler);
    }
    if (open.parts.length >= limits.maxBatchSize) this.#close(groupKey, open, now);
    return undefined;
  }

  /** Closes every message still collecting entries (the coalescing delay passed, or a flush). */
  closeOpen(now: number): void {
    for (const [groupKey, open] of this.#open) this.#close(groupKey, open, now);
  }

  /**
   * Takes the next request's worth of ready messages (at least one when any is ready), or `undefined`.
   * Their entries leave `buffered`; the caller counts them in flight.
   */
  take(): QueuedBatch | undefined {
    if (this.readyMessages === 0) return undefined;
    const messages: QueuedMessage[] = [];
    let bytes = 0;
    let entries = 0;
    let valueBytes = 0;
    let entryBytes = 0;
    while (this.#head < this.#ready.length && messages.length < this.#limits.maxMessagesPerRequest) {
      const message = this.#ready[this.#head] as QueuedMessage;
      if (messages.length > 0 && bytes + message.size > this.#limits.maxBytesPerRequest) break;
      this.#ready[this.#head] = undefined as unknown as QueuedMessage; // let it be collected
      this.#head += 1;
      messages.push(message);
      bytes += message.size;
      entries += message.entries;
      entryBytes += message.entryBytes;
      valueBytes += message.record.value.length;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    this.#readyBytes -= bytes;
    this.#messages -= messages.length;
    this.#count(-entries, -entryBytes);
    return { messages, entries, valueBytes };
  }

  /** Removes everything (on a timed-out close); the caller counts the drops and settles the settlers. */
  drain(): QueuedBatch[] {
    this.closeOpen(0);
    const batches: QueuedBatch[] = [];
    for (let batch = this.take(); batch; batch = this.take()) batches.push(batch);
    return batches;
  }

  #count(entries: number, bytes: number): void {
    this.#stats.buffered += entries;
    this.#stats.bufferedBytes += bytes;
  }

  #close(groupKey: string, open: OpenMessage, now: number): void {
    this.#open.delete(groupKey);
    const value = open.parts.length === 1 ? (open.parts[0] as string) : `[${open.parts.join(',')}]`;
    this.#pushReady(open.topic, open.key, open.headers, value, open.parts.length, open.bytes, open.settlers, now);
  }

  #pushReady(
    topic: string,
    key: Buffer | null,
    headers: Record<string, string | Buffer> | undefined,
    content: string | LogEntry,
    entries: number,
    entryBytes: number,
    settlers: EntrySettler[] | undefined,
    now: number,
  ): void {
    const pending = typeof content === 'string' ? undefined : content;
    const value = pending === undefined ? utf8Of(content as string, entries > 1 ? entryBytes + arrayBytes(entries) : entryBytes) : EMPTY;
    const record: ProduceRecord = headers === undefined ? { topic, key, value } : { topic, key, value, headers };
    // A pending entry's encoded size is not known yet: its JSON size (plus the wire-format header) stands in.
    const size = recordSize(record) + (pending === undefined ? 0 : entryBytes + WIRE_HEADER_BYTES);
    this.#ready.push({ record, entry: pending, entries, entryBytes, size, readyAt: now, settlers });
    this.#readyBytes += size;
  }
}
