/**
 * Appends records to the spool directory without blocking the caller: {@link SpoolWriter.offer} only queues the
 * record in memory (bounded by `maxPendingBytes`); the writes run in the background, batched, through the file
 * system's asynchronous calls. Files rotate at `maxFileBytes`; the bytes of every spool file in the directory never
 * exceed `maxBytes` (a record that would pass it is refused, and the directory is listed again, at most once a
 * second, in case a replay removed files). A file is synced and sealed (renamed from `.kls.open` to `.kls`) when it
 * is full, when the spool has been idle {@link IDLE_SEAL_MS}, when asked (a replay wants it) and at close.
 *
 * A write that fails (disk full, permissions) is reported with its records, and the file is cut back to its last
 * whole record (or, when even that fails, sealed as it is: a reader skips its torn tail), so a failure never leaves
 * damage in the middle of a file. The next batch tries again, in a new file if need be.
 *
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { type DirectoryLock, type LockOwner, OPEN_SUFFIX, acquireLock, listSpool, newSpoolName, renameDurably, sealedPath } from './directory.js';
import { FILE_HEADER_BYTES, type SpoolRecord, encodeRecords, encodedRecordBytes, fileHeader } from './format.js';

/** A file that received nothing for this long is sealed, so a replay can take it while the process runs. */
export const IDLE_SEAL_MS = 5000;
/** The directory is listed again at most this often when the cap is reached (a replay may have freed room). */
const RESCAN_INTERVAL_MS = 1000;
/** Records are encoded and written in chunks of about this size (the memory a write holds besides the records). */
const CHUNK_BYTES = 1024 * 1024;

/** The writer's bounds. */
export interface SpoolWriterOptions {
  /** The spool directory (created when missing). */
  directory: string;
  /** Most bytes of spool files in the directory. */
  maxBytes: number;
  /** A file is sealed and a new one started before it would pass this size (a larger record gets a file alone). */
  maxFileBytes: number;
  /** Most bytes of records waiting to be written. */
  maxPendingBytes: number;
}

/** A record offered to the writer, with whatever its owner keeps beside it. */
export interface SpoolItem {
  /** The record. */
  readonly record: SpoolRecord;
}

/** What the writer reports back, for items it took. Never called after {@link SpoolWriter.abandon}. */
export interface SpoolWriterHooks<T extends SpoolItem> {
  /** Items written to a file (in the operating system's hands; synced when the file is sealed). */
  written(items: T[]): void;
  /** Items refused because the spool's cap was reached. */
  full(items: T[]): void;
  /** Items whose write failed. */
  failed(items: T[], error: Error): void;
  /** The spool could not be opened (directory, lock): called once; every item is then reported `failed`. */
  unusable(error: Error): void;
}

/** What {@link SpoolWriter.offer} did with an item. */
export type OfferResult = 'taken' | 'full' | 'behind' | 'unusable';

/** The spool directory is locked by another live process. */
export class SpoolLockedError extends Error {
  /** Who holds it. */
  readonly owner: LockOwner;
  constructor(directory: string, owner: LockOwner) {
    super(`the spool directory ${directory} is in use by process ${owner.pid} on ${owner.hostname}: every publisher needs a directory of its own`);
    this.name = 'SpoolLockedError';
    this.owner = owner;
  }
}

interface OpenFile {
  handle: FileHandle;
  path: string;
  size: number;
  records: number;
}

interface PendingItem<T> {
  item: T;
  bytes: number;
}

/** The background writer of one spool directory. */
export class SpoolWriter<T extends SpoolItem> {
  readonly #options: SpoolWriterOptions;
  readonly #hooks: SpoolWriterHooks<T>;
  readonly #ready: Promise<Error | undefined>;
  #lock: DirectoryLock | undefined;
  #unusable: Error | undefined;
  #pending: PendingItem<T>[] = [];
  #pendingBytes = 0;
  #inWrite: PendingItem<T>[] = [];
  #draining: Promise<void> | undefined;
  #current: OpenFile | undefined;
  #bytes = 0;
  #sequence = 0;
  #lastScan = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #sealWanted = false;
  #recountWanted = false;
  #abandoned = false;
  #closed = false;

  constructor(options: SpoolWriterOptions, hooks: SpoolWriterHooks<T>) {
    this.#options = options;
    this.#hooks = hooks;
    this.#ready = this.#open().then(
      () => undefined,
      (error: unknown) => {
        this.#unusable = asError(error);
        if (!this.#abandoned) this.#hooks.unusable(this.#unusable);
        return this.#unusable;
      },
    );
  }

  /** Resolves once the directory is ready (or known unusable: the error). Never rejects. */
  ready(): Promise<Error | undefined> {
    return this.#ready;
  }

  /**
   * Bytes of spool files in the directory, as last counted: own writes and files a replay reported removed
   * included; the directory is listed again when the cap is reached and when the spool has been idle
   * {@link IDLE_SEAL_MS} (a replay by another process shows then).
   */
  get bytes(): number {
    return this.#bytes;
  }

  /** A replay removed `bytes` of spool files. */
  removed(bytes: number): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
  }

  /** Bytes of records waiting to be written (or being written). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Whether a file is being written with records in it. */
  get hasOpenRecords(): boolean {
    return (this.#current?.records ?? 0) > 0;
  }

  /**
   * Takes `item` for writing (`taken`), or says why not, synchronously: `full` (the cap is reached), `behind`
   * (`maxPendingBytes` of records already wait: the disk is slower than what comes), `unusable` (the directory could
   * not be opened, or the writer is closed).
   */
  offer(item: T): OfferResult {
    if (this.#unusable !== undefined || this.#closed) return 'unusable';
    const bytes = encodedRecordBytes(item.record);
    // Known full (and listed recently): refused at once. Otherwise the writer decides when it writes.
    if (this.#bytes + this.#pendingBytes + bytes > this.#options.maxBytes && Date.now() - this.#lastScan < RESCAN_INTERVAL_MS) return 'full';
    if (this.#pendingBytes + bytes > this.#options.maxPendingBytes && this.#pendingBytes > 0) return 'behind';
    this.#pending.push({ item, bytes });
    this.#pendingBytes += bytes;
    this.#draining ??= this.#drain();
    return 'taken';
  }

  /** Resolves when everything taken so far is written (or reported). Never rejects. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /** Waits for the writes, then syncs and seals the current file (a replay wants it). Never rejects. */
  async seal(): Promise<void> {
    this.#sealWanted = true;
    this.#kick();
    await this.idle();
  }

  /**
   * Stops taking records, writes what was taken, seals the current file (synced) and releases the directory.
   * Never rejects; an I/O failure here was reported through `failed` or leaves the file to be sealed at the next
   * start.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clearIdleTimer();
    await this.#ready;
    await this.seal();
    await this.#lock?.release().catch(() => undefined);
    this.#lock = undefined;
  }

  /**
   * Gives up on what is not written yet (a deadline passed): returns the items waiting or being written, whose
   * outcome the writer will no longer report (a write already under way may still land in the file). The file is
   * sealed and the directory released once the write under way ends.
   */
  abandon(): T[] {
    this.#abandoned = true;
    const items = [...this.#inWrite, ...this.#pending].map((p) => p.item);
    this.#pending = [];
    this.#pendingBytes = 0;
    void this.close();
    return items;
  }

  async #open(): Promise<void> {
    const directory = this.#options.directory;
    await mkdir(directory, { recursive: true });
    const lock = await acquireLock(directory, 'writer');
    if ('heldBy' in lock) throw new SpoolLockedError(directory, lock.heldBy);
    this.#lock = lock;
    // Files left open by this directory's previous writer (it stopped without closing): sealed, torn tails and all.
    const listing = await listSpool(directory);
    for (const file of listing.open) await renameDurably(file.path, sealedPath(file.path));
    this.#bytes = listing.bytes;
    this.#lastScan = Date.now();
  }

  #kick(): void {
    // #drain reports every failure through the hooks; the catch only keeps a bug from becoming an unhandled rejection.
    this.#draining ??= this.#drain().catch(() => undefined);
  }

  async #drain(): Promise<void> {
    try {
      const unusable = await this.#ready;
      for (;;) {
        if (this.#pending.length > 0) {
          const batch = this.#pending;
          this.#pending = [];
          this.#inWrite = batch;
          if (unusable !== undefined) this.#report(() => this.#hooks.failed(batch.map((p) => p.item), unusable));
          else await this.#write(batch);
          this.#inWrite = [];
          if (!this.#abandoned) this.#pendingBytes -= batch.reduce((sum, p) => sum + p.bytes, 0);
        } else if (this.#sealWanted) {
          this.#sealWanted = false;
          await this.#sealCurrent().catch(() => undefined);
        } else if (this.#recountWanted) {
          this.#recountWanted = false;
          await this.#rescan();
        } else break;
      }
    } finally {
      this.#draining = undefined;
      if (this.#current !== undefined && !this.#closed) this.#armIdleTimer();
    }
  }

  async #write(batch: PendingItem<T>[]): Promise<void> {
    const fits: PendingItem<T>[] = [];
    const full: PendingItem<T>[] = [];
    let planned = 0;
    for (const pending of batch) {
      let room = this.#options.maxBytes - this.#bytes - planned - FILE_HEADER_BYTES;
      if (pending.bytes > room && Date.now() - this.#lastScan >= RESCAN_INTERVAL_MS) {
        await this.#rescan();
        room = this.#options.maxBytes - this.#bytes - planned - FILE_HEADER_BYTES;
      }
      if (pending.bytes > room) full.push(pending);
      else {
        fits.push(pending);
        planned += pending.bytes;
      }
    }
    if (full.length > 0) this.#report(() => this.#hooks.full(full.map((p) => p.item)));
    // The file the chunk goes to: its size and records once what is written so far is counted.
    let fileSize = this.#current?.size ?? FILE_HEADER_BYTES;
    let fileRecords = this.#current?.records ?? 0;
    let chunk: PendingItem<T>[] = [];
    let chunkBytes = 0;
    const flushChunk = async (rest: number): Promise<boolean> => {
      if (chunk.length === 0) return true;
      if (!(await this.#writeChunk(chunk, chunkBytes))) {
        this.#failRest(fits.slice(rest));
        return false;
      }
      fileSize += chunkBytes;
      fileRecords += chunk.length;
      chunk = [];
      chunkBytes = 0;
      return true;
    };
    for (let i = 0; i < fits.length; i++) {
      const pending = fits[i] as PendingItem<T>;
      if (fileRecords + chunk.length > 0 && fileSize + chunkBytes + pending.bytes > this.#options.maxFileBytes) {
        if (!(await flushChunk(i))) return;
        await this.#sealCurrent().catch(() => undefined);
        fileSize = FILE_HEADER_BYTES;
        fileRecords = 0;
      }
      chunk.push(pending);
      chunkBytes += pending.bytes;
      if (chunkBytes >= CHUNK_BYTES && !(await flushChunk(i + 1))) return;
    }
    await flushChunk(fits.length);
  }

  /** Writes one chunk of records; reports them written or failed. False when the write failed. */
  async #writeChunk(chunk: PendingItem<T>[], bytes: number): Promise<boolean> {
    if (chunk.length === 0) return true;
    const items = chunk.map((p) => p.item);
    let file: OpenFile | undefined;
    let before = 0;
    try {
      file = await this.#openFile();
      before = file.size;
      const buffer = encodeRecords(items.map((item) => item.record));
      let written = 0;
      while (written < buffer.length) {
        const { bytesWritten } = await file.handle.write(buffer, written, buffer.length - written, file.size + written);
        written += bytesWritten;
      }
      file.size += bytes;
      file.records += chunk.length;
      this.#bytes += bytes;
      this.#report(() => this.#hooks.written(items));
      return true;
    } catch (error) {
      if (file !== undefined) await this.#cutBack(file, before);
      this.#report(() => this.#hooks.failed(items, asError(error)));
      return false;
    }
  }

  /** Reports the records after a failed write of the same batch as failed too (the file system refuses writes). */
  #failRest(rest: PendingItem<T>[]): void {
    if (rest.length === 0) return;
    const error = new Error('an earlier write of the same batch failed');
    this.#report(() => this.#hooks.failed(rest.map((p) => p.item), error));
  }

  /** After a failed write: the file cut back to its last whole record, or (if that fails too) sealed as it is. */
  async #cutBack(file: OpenFile, size: number): Promise<void> {
    try {
      await file.handle.truncate(size);
    } catch {
      await this.#sealCurrent().catch(() => undefined);
    }
  }

  async #openFile(): Promise<OpenFile> {
    if (this.#current !== undefined) return this.#current;
    this.#sequence += 1;
    const file = path.join(this.#options.directory, newSpoolName(Date.now(), this.#sequence) + OPEN_SUFFIX);
    const handle = await open(file, 'wx');
    try {
      await handle.write(fileHeader(), 0, FILE_HEADER_BYTES, 0);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    this.#bytes += FILE_HEADER_BYTES;
    this.#current = { handle, path: file, size: FILE_HEADER_BYTES, records: 0 };
    return this.#current;
  }

  /** Syncs, closes and seals the current file (an empty one is removed instead). */
  async #sealCurrent(): Promise<void> {
    const file = this.#current;
    if (file === undefined) return;
    this.#current = undefined;
    this.#clearIdleTimer();
    try {
      await file.handle.sync();
    } finally {
      await file.handle.close().catch(() => undefined);
    }
    if (file.records === 0) {
      await unlink(file.path).catch(() => undefined);
      this.#bytes -= file.size;
      return;
    }
    await renameDurably(file.path, sealedPath(file.path));
  }

  async #rescan(): Promise<void> {
    this.#lastScan = Date.now();
    try {
      this.#bytes = (await listSpool(this.#options.directory)).bytes;
    } catch {
      // Keep the count as it was: refusing on a stale count is the safe side of the cap.
    }
  }

  #armIdleTimer(): void {
    this.#clearIdleTimer();
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.#sealWanted = true;
      this.#recountWanted = true;
      this.#kick();
    }, IDLE_SEAL_MS);
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #report(call: () => void): void {
    if (this.#abandoned) return;
    try {
      call();
    } catch {
      // The owner's hooks are written not to throw; a throw must not stop the writes of the records after it.
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
