/**
 * The messages between the worker transport (request thread) and its delivery thread, and how a produce
 * request's bytes cross: every key and value of a request is copied once into one fresh `ArrayBuffer` that is
 * transferred (not cloned). (Cloning a `Buffer` would copy the whole pool slab it is a view of, 8 KiB for a
 * 1 KiB value.)
 *
 * @module
 */
import type { ProduceRecord, ProduceRequest, TransportConfig, TransportErrorKind, TransportLogLevel, TransportOAuthToken } from './transport.js';

/** A transport failure as it crosses the thread boundary. */
export interface WireError {
  readonly kind: TransportErrorKind;
  readonly message: string;
  readonly retriable: boolean;
}

/**
 * A request's records as they cross, in a few objects whatever their number (cloning costs per object): the keys
 * and values back to back in `bytes`, and per record five integers in `layout`: topic (index into `topics`),
 * partition (-1: the transport chooses), key length (-1: no key), value length, headers (index into `headers`,
 * -1: none).
 */
export interface WireRecords {
  readonly topics: readonly string[];
  readonly bytes: Uint8Array;
  readonly layout: Int32Array;
  readonly headers: ReadonlyArray<Readonly<Record<string, Uint8Array | string>>>;
}

const FIELDS = 5;

/** The transport configuration as it crosses: no functions, no secure context. */
export type WireConfig = Omit<TransportConfig, 'sasl' | 'tls'> & {
  sasl: (Omit<NonNullable<TransportConfig['sasl']>, 'oauthBearerToken'> & { oauthBearer: boolean }) | undefined;
  tls: Omit<NonNullable<TransportConfig['tls']>, 'secureContext'> | undefined;
};

/** What the delivery thread is started with (`workerData`). */
export interface WorkerData {
  /** The client the delivery thread runs. */
  readonly transport: 'kafkajs' | 'platformatic';
  readonly config: WireConfig;
}

/** Request thread to delivery thread. */
export type ToWorker =
  | { readonly type: 'connect' }
  /** `records` absent: the delivery thread already holds request `id` (a retry). */
  | { readonly type: 'produce'; readonly id: number; readonly records?: WireRecords }
  /** Request `id` will not be produced again. */
  | { readonly type: 'forget'; readonly id: number }
  | { readonly type: 'token'; readonly id: number; readonly token?: TransportOAuthToken; readonly error?: string }
  | { readonly type: 'close' };

/** Delivery thread to request thread. */
export type FromWorker =
  /** The thread runs (its first message). */
  | { readonly type: 'ready' }
  | { readonly type: 'connected' }
  | { readonly type: 'connect-failed'; readonly error: WireError }
  /** `spare`: the request's bytes, no longer needed, transferred back to be written again. */
  | { readonly type: 'produced'; readonly id: number; readonly spare?: ArrayBuffer }
  /** `unknown`: the thread does not hold request `id` (it was restarted): send its records again. */
  | { readonly type: 'produce-failed'; readonly id: number; readonly error: WireError; readonly unknown?: boolean }
  | {
      readonly type: 'log';
      readonly level: TransportLogLevel;
      readonly namespace: string;
      readonly message: string;
      readonly extra?: Record<string, unknown>;
    }
  | { readonly type: 'token-request'; readonly id: number }
  | { readonly type: 'closed' };

/**
 * The records of a request, packed for the crossing, and the buffer to transfer: `spare` (a buffer the delivery
 * thread gave back) when it is large enough, else a new one. Written memory is reused that way: a fresh buffer of
 * a request's size is memory the kernel maps, faults in page by page and unmaps again, per request.
 */
export function packRecords(request: ProduceRequest, spare?: ArrayBuffer): { records: WireRecords; transfer: ArrayBuffer } {
  const list = request.records;
  let size = 0;
  for (const record of list) size += record.value.length + (record.key === null ? 0 : record.key.length);
  // Its own ArrayBuffer (not a pool slab: it is transferred), left unfilled: every byte is written below. Rounded
  // up, so that it can carry the next, slightly larger request too when it comes back.
  const bytes =
    spare !== undefined && spare.byteLength >= size ? Buffer.from(spare, 0, size) : Buffer.allocUnsafeSlow(roundUp(size)).subarray(0, size);
  const layout = new Int32Array(list.length * FIELDS);
  const topics: string[] = [];
  const headers: Array<Record<string, Uint8Array | string>> = [];
  let offset = 0;
  let lastTopic: string | undefined;
  let topicIndex = -1;
  for (let i = 0, at = 0; i < list.length; i++, at += FIELDS) {
    const record = list[i] as ProduceRecord;
    if (record.topic !== lastTopic) {
      lastTopic = record.topic;
      topicIndex = topics.indexOf(record.topic);
      if (topicIndex === -1) topicIndex = topics.push(record.topic) - 1;
    }
    layout[at] = topicIndex;
    layout[at + 1] = record.partition ?? -1;
    if (record.key === null) {
      layout[at + 2] = -1;
    } else {
      bytes.set(record.key, offset);
      offset += record.key.length;
      layout[at + 2] = record.key.length;
    }
    bytes.set(record.value, offset);
    offset += record.value.length;
    layout[at + 3] = record.value.length;
    if (record.headers === undefined) {
      layout[at + 4] = -1;
    } else {
      // Rare: header buffers are copied on their own (a Buffer would take its whole pool slab along).
      const copied: Record<string, Uint8Array | string> = {};
      for (const name in record.headers) {
        const value = record.headers[name] as Buffer | string;
        copied[name] = typeof value === 'string' ? value : new Uint8Array(value);
      }
      layout[at + 4] = headers.push(copied) - 1;
    }
  }
  return { records: { topics, bytes, layout, headers }, transfer: bytes.buffer };
}

const SPARE_STEP = 64 * 1024;

function roundUp(size: number): number {
  return Math.ceil(Math.max(1, size) / SPARE_STEP) * SPARE_STEP;
}

/** The records again, as Buffers over the transferred bytes (no copy). */
export function unpackRecords(wire: WireRecords): ProduceRecord[] {
  const { topics, bytes, layout } = wire;
  const records: ProduceRecord[] = [];
  let offset = bytes.byteOffset;
  for (let at = 0; at < layout.length; at += FIELDS) {
    const keyLength = layout[at + 2] as number;
    let key: Buffer | null = null;
    if (keyLength >= 0) {
      key = Buffer.from(bytes.buffer, offset, keyLength);
      offset += keyLength;
    }
    const valueLength = layout[at + 3] as number;
    const value = Buffer.from(bytes.buffer, offset, valueLength);
    offset += valueLength;
    const record: { -readonly [K in keyof ProduceRecord]: ProduceRecord[K] } = { topic: topics[layout[at] as number] as string, key, value };
    const partition = layout[at + 1] as number;
    if (partition >= 0) record.partition = partition;
    const headerIndex = layout[at + 4] as number;
    if (headerIndex >= 0) {
      const headers: Record<string, Buffer | string> = {};
      const wireHeaders = wire.headers[headerIndex] as Record<string, Uint8Array | string>;
      for (const name in wireHeaders) {
        const value = wireHeaders[name] as Uint8Array | string;
        headers[name] = typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
      record.headers = headers;
    }
    records.push(record);
  }
  return records;
}
