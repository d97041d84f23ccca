/**
 * The bounded queue between `publish` and the transport. Entries arrive as the bytes they will be sent as (their
 * JSON, or with a schema registry the Confluent wire format) and are coalesced into messages of up to
 * `maxBatchSize` entries (a JSON array when more than one), messages into produce requests bounded by
 * `maxMessagesPerRequest` and `maxBytesPerRequest`. What does not fit is refused with a reason for the caller to
 * count. No I/O here: the owner asks for requests when it has room to send them.
 *
 * `bufferedBytes` counts the bytes the queue really holds: message values, keys and headers. A value waits either
 * as its JSON text when that is ASCII (one byte per character in V8's heap: its byte count is its memory), or in a
 * buffer of its own (never a slice of Node's shared 8 KiB pool, which a retained slice would keep alive whole),
 * so `maxBytes` bounds the memory, not an estimate of it. Texts are written into one buffer per produce request
 * when {@link BatchQueue.take} makes the request: one allocation per request rather than one per entry, released
 * with the request (whose bytes the publisher's in-flight bounds already count).
 *
 * With a schema registry whose schema is not known yet (the registry was not reached), an entry waits as its JSON
 * bytes (`pendingSchema`), counted like any other, and is encoded when its request goes out. Such a message holds
 * one entry: a schema describes one entry, never an array.
 *
 * @module
 */
import { type ProduceRecord, recordSize, recordSizeOf } from '../transport/transport.js';
import type { DropReason, StatsCounters } from './stats.js';

/** Settles a sync-mode `publish` promise. */
export interface EntrySettler {
  /** Called on acknowledgement. */
  resolve(): void;
  /** Called when the entry is dropped. */
  reject(error: unknown): void;
}

/** One entry, as the bytes it is sent as, with its routing. */
export interface QueuedEntry {
  /**
   * The message value of this entry alone: its JSON (UTF-8), or its schema registry wire format; `undefined`
   * while it waits as `json`.
   */
  value: Buffer | undefined;
  /** The entry's JSON, ASCII only, when it waits as text (see the module comment); else `undefined`. */
  json: string | undefined;
  /** Byte length of the value. */
  bytes: number;
  /** `value` is the entry's JSON, still to be encoded by the schema registry at request time. */
  pendingSchema: boolean;
  /** Topic. */
  topic: string;
  /** Key or `null`. */
  key: Buffer | null;
  /** Headers. */
  headers: Record<string, string | Buffer> | undefined;
  /** Sync mode only. */
  settler: EntrySettler | undefined;
}

/** A closed message: its record and what it holds. */
export interface QueuedMessage {
  /** The record to produce (its value is empty while `json` waits to be written). */
  record: ProduceRecord;
  /** The value as ASCII text, until {@link BatchQueue.take} writes it into its request's buffer. */
  json: string | undefined;
  /** `record.value` is one entry's JSON, still to be encoded by the schema registry. */
  pendingSchema: boolean;
  /** Entries in it. */
  entries: number;
  /** Byte length of each entry of a JSON-array value, in order (so a refused array can be split); else `undefined`. */
  entrySizes: number[] | undefined;
  /** Bytes `bufferedBytes` counted for it while it was buffered. */
  heldBytes: number;
  /** Approximate bytes in a produce request. */
  size: number;
  /** When it became ready, ms. */
  readyAt: number;
  /** Sync-mode settlers of its entries, in entry order. */
  settlers: EntrySettler[] | undefined;
}

/** A produce request's worth of messages. */
export interface QueuedBatch {
  /** The messages. */
  messages: QueuedMessage[];
  /** Entries in them. */
  entries: number;
}

/** The queue's limits. */
export interface QueueLimits {
  /** Entries per message. */
  maxBatchSize: number;
  /** Most buffered entries. */
  maxEntries: number;
  /** Most buffered bytes (values, keys, headers). */
  maxBytes: number;
  /** Most buffered messages. */
  maxBufferedMessages: number;
  /** Messages per request. */
  maxMessagesPerRequest: number;
  /** Bytes per request. */
  maxBytesPerRequest: number;
}

// Confluent wire-format header: magic byte and 4-byte schema id.
const WIRE_HEADER_BYTES = 5;
const OPEN_BRACKET = 0x5b;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;

/**
 * `text` as UTF-8 in a buffer of its own (`bytes` is its UTF-8 length). `Buffer.from` would slice small strings
 * out of Node's shared pool: a queued slice keeps its whole 8 KiB slab alive, so the bytes held would exceed the
 * bytes counted.
 */
export function ownBytes(text: string, bytes: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(bytes);
  buffer.write(text, 0, 'utf8');
  return buffer;
}

/** `buffer` itself when it owns its memory, else a copy that does (see {@link ownBytes}). */
export function ownBuffer(buffer: Buffer): Buffer {
  if (buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.length) return buffer;
  const copy = Buffer.allocUnsafeSlow(buffer.length);
  buffer.copy(copy);
  return copy;
}

/** Bytes a message's key and headers hold. */
function routingBytes(key: Buffer | null, headers: Record<string, string | Buffer> | undefined): number {
  let bytes = key?.length ?? 0;
  if (headers) for (const name in headers) bytes += name.length + (headers[name] as string | Buffer).length;
  return bytes;
}

/**
 * The message value of `parts` (bytes, or ASCII texts) as one JSON array (or the entry alone when there is one),
 * in its own buffer.
 */
function joinEntries(parts: readonly (Buffer | string)[], total: number): Buffer {
  if (parts.length === 1) {
    const part = parts[0] as Buffer | string;
    return typeof part === 'string' ? ownBytes(part, total) : part;
  }
  const out = Buffer.allocUnsafeSlow(total + parts.length + 1);
  let at = 0;
  out[at++] = OPEN_BRACKET;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[at++] = COMMA;
    const part = parts[i] as Buffer | string;
    at += typeof part === 'string' ? out.write(part, at, 'latin1') : part.copy(out, at);
  }
  out[at] = CLOSE_BRACKET;
  return out;
}

/** An empty value: the record of a message whose value still waits as text. */
const NOT_WRITTEN = Buffer.alloc(0);

/** Writes the texts of `messages` into one buffer and gives each record its slice of it. */
function writeWaitingValues(messages: readonly QueuedMessage[]): void {
  let total = 0;
  for (const message of messages) if (message.json !== undefined) total += message.json.length;
  if (total === 0) return;
  const buffer = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const message of messages) {
    const json = message.json;
    if (json === undefined) continue;
    const end = at + buffer.write(json, at, 'latin1');
    (message.record as { value: Buffer }).value = buffer.subarray(at, end);
    message.json = undefined;
    at = end;
  }
}

/**
 * Splits a message of several entries (a JSON array value) into two messages of half its entries each, for a
 * resend after the broker refused it as too large. The halves are not buffered (they are in flight).
 */
export function splitMessage(message: QueuedMessage): [QueuedMessage, QueuedMessage] {
  const sizes = message.entrySizes;
  if (sizes === undefined || sizes.length < 2) throw new RangeError('only a message of several entries can be split');
  const value = message.record.value;
  const parts: Buffer[] = [];
  let at = 1; // past "["
  for (const size of sizes) {
    parts.push(value.subarray(at, at + size));
    at += size + 1; // past the entry and its "," (or the closing "]")
  }
  const middle = Math.ceil(sizes.length / 2);
  const half = (from: number, to: number): QueuedMessage => {
    const halfSizes = sizes.slice(from, to);
    const bytes = halfSizes.reduce((sum, size) => sum + size, 0);
    const record: ProduceRecord = { ...message.record, value: joinEntries(parts.slice(from, to), bytes) };
    return {
      record,
      json: undefined,
      pendingSchema: false,
      entries: to - from,
      entrySizes: to - from > 1 ? halfSizes : undefined,
      heldBytes: 0,
      size: recordSize(record),
      readyAt: message.readyAt,
      settlers: message.settlers?.slice(from, to),
    };
  };
  return [half(0, middle), half(middle, sizes.length)];
}

interface OpenMessage {
  topic: string;
  key: Buffer | null;
  headers: Record<string, string | Buffer> | undefined;
  parts: (Buffer | string)[];
  bytes: number;
  heldBytes: number;
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
    const bytes = entry.bytes;
    const routing = routingBytes(entry.key, entry.headers);
    if (this.#stats.buffered + 1 > limits.maxEntries) return 'queue_full_entries';
    const alone = recordSizeOf(bytes, entry.key, entry.headers);
    if (alone + (entry.pendingSchema ? WIRE_HEADER_BYTES : 0) > limits.maxBytesPerRequest) return 'message_too_large';

    if (limits.maxBatchSize === 1 || entry.pendingSchema) {
      if (this.#stats.bufferedBytes + bytes + routing > limits.maxBytes) return 'queue_full_bytes';
      if (this.#messages + 1 > limits.maxBufferedMessages) return 'queue_full_messages';
      this.#messages += 1;
      this.#count(1, bytes + routing);
      const value = entry.value ?? NOT_WRITTEN;
      const record: ProduceRecord =
        entry.headers === undefined
          ? { topic: entry.topic, key: entry.key, value }
          : { topic: entry.topic, key: entry.key, value, headers: entry.headers };
      this.#pushReady({
        record,
        json: entry.value === undefined ? entry.json : undefined,
        pendingSchema: entry.pendingSchema,
        entries: 1,
        entrySizes: undefined,
        heldBytes: bytes + routing,
        // A pending entry's encoded size is not known yet: its JSON size plus the wire-format header stands in.
        size: alone + (entry.pendingSchema ? WIRE_HEADER_BYTES : 0),
        readyAt: now,
        settlers: entry.settler ? [entry.settler] : undefined,
      });
      return undefined;
    }

    const groupKey = entry.key === null ? entry.topic : `${entry.topic}\u0000${entry.key.toString('latin1')}`;
    let open = this.#open.get(groupKey);
    // A message must stay within one request: close it first when this entry would overflow it ("[", ",", "]").
    if (open && alone + open.bytes + open.parts.length + 2 > limits.maxBytesPerRequest) {
      this.#close(groupKey, open, now);
      open = undefined;
    }
    // Counted before the message is closed: the entry plus its separator, the key and headers once per message.
    const held = bytes + 1 + (open ? 0 : routing + 1);
    if (this.#stats.bufferedBytes + held > limits.maxBytes) return 'queue_full_bytes';
    if (!open) {
      if (this.#messages + 1 > limits.maxBufferedMessages) return 'queue_full_messages';
      this.#messages += 1;
      open = { topic: entry.topic, key: entry.key, headers: entry.headers, parts: [], bytes: 0, heldBytes: 0, settlers: undefined };
      this.#open.set(groupKey, open);
    }
    this.#count(1, held);
    open.parts.push(entry.value ?? (entry.json as string));
    open.bytes += bytes;
    open.heldBytes += held;
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
    let held = 0;
    while (this.#head < this.#ready.length && messages.length < this.#limits.maxMessagesPerRequest) {
      const message = this.#ready[this.#head] as QueuedMessage;
      if (messages.length > 0 && bytes + message.size > this.#limits.maxBytesPerRequest) break;
      this.#ready[this.#head] = undefined as unknown as QueuedMessage; // let it be collected
      this.#head += 1;
      messages.push(message);
      bytes += message.size;
      entries += message.entries;
      held += message.heldBytes;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    this.#readyBytes -= bytes;
    this.#messages -= messages.length;
    this.#count(-entries, -held);
    writeWaitingValues(messages);
    return { messages, entries };
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
    const n = open.parts.length;
    const value = joinEntries(open.parts, open.bytes);
    const record: ProduceRecord =
      open.headers === undefined
        ? { topic: open.topic, key: open.key, value }
        : { topic: open.topic, key: open.key, value, headers: open.headers };
    // Now exact: the joined value (a single entry has no brackets) plus the key and headers.
    const heldBytes = value.length + routingBytes(open.key, open.headers);
    this.#count(0, heldBytes - open.heldBytes);
    this.#pushReady({
      record,
      json: undefined,
      pendingSchema: false,
      entries: n,
      entrySizes: n > 1 ? open.parts.map((part) => part.length) : undefined,
      heldBytes,
      size: recordSize(record),
      readyAt: now,
      settlers: open.settlers,
    });
  }

  #pushReady(message: QueuedMessage): void {
    this.#ready.push(message);
    this.#readyBytes += message.size;
  }
}
