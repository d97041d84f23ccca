/**
 * Reads a spool file record by record, holding at most one read window (1 MiB, or one record when larger) in
 * memory. Where the records stop being readable it tells a torn tail (the last write was cut short: the process or
 * the machine stopped mid-write, which the writer's own failure handling never leaves behind anything else) from
 * damage in the middle of the file.
 *
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { FILE_HEADER_BYTES, type SpoolRecord, checkFileHeader, scanRecord } from './format.js';

const WINDOW_BYTES = 1024 * 1024;

/** A record and where it lies in the file. */
export interface RecordAt {
  kind: 'record';
  /** The record. */
  record: SpoolRecord;
  /** Offset of its frame. */
  offset: number;
  /** Offset just after it (where the next record starts). */
  end: number;
}

/** How the records of a file ended. */
export type FileEnd =
  /** Every byte read as records. */
  | { kind: 'end'; offset: number }
  /** From `offset` to the end of the file (`bytes` long), a record cut short: skipped. */
  | { kind: 'torn'; offset: number; bytes: number }
  /** At `offset`, a damaged record followed by more data: nothing after it can be trusted. */
  | { kind: 'unreadable'; offset: number; problem: string };

/** A file that is not a spool file this kafka-log reads. */
export class SpoolFileError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'SpoolFileError';
  }
}

/** Reads the records of one spool file in order. */
export class SpoolFileReader {
  readonly #handle: FileHandle;
  readonly #size: number;
  #window: Buffer = Buffer.alloc(0);
  #windowAt = FILE_HEADER_BYTES;
  #offset = FILE_HEADER_BYTES;

  private constructor(handle: FileHandle, size: number) {
    this.#handle = handle;
    this.#size = size;
  }

  /** Opens `file` and checks its header; rejects with {@link SpoolFileError} when it is not a readable spool file. */
  static async open(file: string): Promise<SpoolFileReader> {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const header = Buffer.alloc(FILE_HEADER_BYTES);
      const { bytesRead } = await handle.read(header, 0, FILE_HEADER_BYTES, 0);
      const check = checkFileHeader(header.subarray(0, bytesRead));
      if (!check.ok) throw new SpoolFileError(file, check.problem);
      return new SpoolFileReader(handle, size);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** The file's size when it was opened. */
  get size(): number {
    return this.#size;
  }

  /** Where the next record is read from. */
  get offset(): number {
    return this.#offset;
  }

  /** Continues at `offset` (the end of a record read before, as a progress marker keeps it). */
  seek(offset: number): void {
    if (offset < FILE_HEADER_BYTES || offset > this.#size) throw new RangeError(`offset ${offset} is outside the file (${this.#size} bytes)`);
    this.#offset = offset;
  }

  /** The next record, or how the records ended. */
  async next(): Promise<RecordAt | FileEnd> {
    const offset = this.#offset;
    if (offset >= this.#size) return { kind: 'end', offset };
    for (;;) {
      const result = scanRecord(this.#window, offset - this.#windowAt);
      if (result.kind === 'record') {
        const end = this.#windowAt + result.end;
        this.#offset = end;
        return { kind: 'record', record: result.record, offset, end };
      }
      if (result.kind === 'incomplete') {
        if (offset + result.needed > this.#size) return { kind: 'torn', offset, bytes: this.#size - offset };
        await this.#fill(offset, result.needed);
        continue;
      }
      return (await this.#tornFrom(offset)) ? { kind: 'torn', offset, bytes: this.#size - offset } : { kind: 'unreadable', offset, problem: result.problem };
    }
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#handle.close();
  }

  async #fill(offset: number, needed: number): Promise<void> {
    const length = Math.min(Math.max(needed, WINDOW_BYTES), this.#size - offset);
    const window = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await this.#handle.read(window, read, length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    this.#window = window.subarray(0, read);
    this.#windowAt = offset;
  }

  /**
   * Whether a damaged record at `offset` is the torn end of the file: its declared length reaches the end of the
   * file, or only zeros follow (a file system may show a file grown by a write that never landed as zeros).
   */
  async #tornFrom(offset: number): Promise<boolean> {
    await this.#fill(offset, 8);
    const declared = this.#window.length >= 4 ? this.#window.readUInt32BE(0) : 0;
    if (offset + 8 + declared >= this.#size) return true;
    for (let at = offset; at < this.#size; at += WINDOW_BYTES) {
      await this.#fill(at, WINDOW_BYTES);
      if (this.#window.some((byte) => byte !== 0)) return false;
    }
    return true;
  }
}
