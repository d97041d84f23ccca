/**
 * Replays spool files: reads each file's records in order, sends them in requests of bounded size, and after each
 * acknowledged request records durably how far it got (`<file>.progress`, the offset after the last acknowledged
 * record). A file is removed only once every record in it is acknowledged. An interrupted replay (a crash, a
 * signal, a failed request) resumes at the marker: the only records sent again are those of the request that was
 * unacknowledged when it stopped (or acknowledged, with its marker not yet written): at most one request's worth
 * per replay. Sent by `kafka-log replay` and by a publisher's background replay.
 *
 * @module
 */
import { rename } from 'node:fs/promises';
import { CORRUPT_SUFFIX, PROGRESS_SUFFIX, type ReplayProgress, readProgress, removeReplayed, writeProgress } from './directory.js';
import { FILE_HEADER_BYTES, RECORD_FRAME_BYTES, type SpoolRecord, recordBodyBytes } from './format.js';
import { type FileEnd, SpoolFileError, SpoolFileReader } from './reader.js';

/** Sends one request's records; resolves once every one is acknowledged. */
export type ReplaySend = (records: readonly SpoolRecord[]) => Promise<void>;

/** How a replay sends. */
export interface ReplayOptions {
  /** Most records in one request. */
  maxRequestRecords: number;
  /** Most bytes (values, keys, headers) in one request; a larger record goes alone. */
  maxRequestBytes: number;
  /** Sends every record to this topic instead of its own. */
  topic?: string;
  /** Stops between two requests when aborted (the file stays, with its marker). */
  signal?: AbortSignal;
  /** Called after each acknowledged request, once its marker is written. */
  onProgress?: (progress: Readonly<ReplayProgress>) => void;
}

/** What became of one file. */
export interface FileReplayResult {
  /** The file. */
  file: string;
  /**
   * `replayed`: every record acknowledged, the file removed. `interrupted`: stopped between requests (`signal`),
   * kept with its marker. `damaged`: the records up to a damaged one were sent, the file set aside as
   * `.kls.corrupt` for a human. `unreadable`: not a spool file this kafka-log reads; left as it is.
   */
  outcome: 'replayed' | 'interrupted' | 'damaged' | 'unreadable';
  /** Records sent (and acknowledged) by this run. */
  records: number;
  /** Entries they hold. */
  entries: number;
  /** Records an earlier, interrupted replay had already sent (per the marker): skipped. */
  resumedAfter: number;
  /** A torn tail skipped: its offset and length (a write cut short when the writing process stopped). */
  torn?: { offset: number; bytes: number };
  /** What is wrong, for `damaged` and `unreadable`. */
  problem?: string;
}

/** Bytes a record takes in a produce request, for the request bound (as the publisher's queue counts them). */
function requestBytes(record: SpoolRecord): number {
  return recordBodyBytes(record) + RECORD_FRAME_BYTES;
}

/**
 * Replays one file (see the module's description). Rejects with the send's error when a request fails: the
 * file stays, with its marker after the last acknowledged request.
 */
export async function replayFile(file: string, send: ReplaySend, options: ReplayOptions): Promise<FileReplayResult> {
  let reader: SpoolFileReader;
  try {
    reader = await SpoolFileReader.open(file);
  } catch (error) {
    if (error instanceof SpoolFileError) return { file, outcome: 'unreadable', records: 0, entries: 0, resumedAfter: 0, problem: error.message };
    throw error;
  }
  try {
    const marker = await readProgress(file);
    const resumable = marker !== undefined && marker.offset >= FILE_HEADER_BYTES && marker.offset <= reader.size;
    const progress: ReplayProgress = resumable ? marker : { offset: FILE_HEADER_BYTES, records: 0, entries: 0 };
    reader.seek(progress.offset);
    const result: FileReplayResult = { file, outcome: 'replayed', records: 0, entries: 0, resumedAfter: progress.records };
    let batch: SpoolRecord[] = [];
    let batchBytes = 0;
    let batchEntries = 0;
    let batchEnd = progress.offset;
    const flush = async () => {
      if (batch.length === 0) return;
      await send(batch);
      progress.offset = batchEnd;
      progress.records += batch.length;
      progress.entries += batchEntries;
      result.records += batch.length;
      result.entries += batchEntries;
      batch = [];
      batchBytes = 0;
      batchEntries = 0;
      await writeProgress(file, progress);
      options.onProgress?.(progress);
    };
    let end: FileEnd;
    for (;;) {
      if (options.signal?.aborted) {
        result.outcome = 'interrupted';
        return result;
      }
      const next = await reader.next();
      if (next.kind !== 'record') {
        end = next;
        break;
      }
      const bytes = requestBytes(next.record);
      if (batch.length > 0 && (batch.length >= options.maxRequestRecords || batchBytes + bytes > options.maxRequestBytes)) {
        await flush();
        if (options.signal?.aborted) {
          result.outcome = 'interrupted';
          return result;
        }
      }
      batch.push(options.topic === undefined ? next.record : { ...next.record, topic: options.topic });
      batchBytes += bytes;
      batchEntries += next.record.entries;
      batchEnd = next.end;
    }
    await flush();
    await reader.close();
    if (end.kind === 'unreadable') {
      result.outcome = 'damaged';
      result.problem = `unreadable record at offset ${end.offset} (${end.problem}); records after it cannot be found`;
      const setAside = file.replace(/\.kls(\.open)?$/, '') + CORRUPT_SUFFIX;
      await rename(file, setAside);
      await rename(file + PROGRESS_SUFFIX, setAside + PROGRESS_SUFFIX).catch(() => undefined);
      return result;
    }
    if (end.kind === 'torn') result.torn = { offset: end.offset, bytes: end.bytes };
    await removeReplayed(file);
    return result;
  } finally {
    await reader.close().catch(() => undefined);
  }
}

/** What a file holds, read without sending (`kafka-log replay --dry-run`). */
export interface FileInspection {
  /** The file. */
  file: string;
  /** Records readable (from the marker on, when there is one). */
  records: number;
  /** Entries they hold. */
  entries: number;
  /** Records already sent by an interrupted replay (per the marker). */
  resumedAfter: number;
  /** Topics of the records, with their record counts. */
  topics: Record<string, number>;
  /** Oldest and newest `spooledAt`, ms since the epoch. */
  spooledFrom?: number;
  /** See {@link FileInspection.spooledFrom}. */
  spooledTo?: number;
  /** A torn tail. */
  torn?: { offset: number; bytes: number };
  /** Damage, or why the file is not readable. */
  problem?: string;
}

/** Reads a file through without sending anything. */
export async function inspectFile(file: string): Promise<FileInspection> {
  const inspection: FileInspection = { file, records: 0, entries: 0, resumedAfter: 0, topics: {} };
  let reader: SpoolFileReader;
  try {
    reader = await SpoolFileReader.open(file);
  } catch (error) {
    if (error instanceof SpoolFileError) return { ...inspection, problem: error.message };
    throw error;
  }
  try {
    const marker = await readProgress(file);
    if (marker !== undefined && marker.offset >= FILE_HEADER_BYTES && marker.offset <= reader.size) {
      reader.seek(marker.offset);
      inspection.resumedAfter = marker.records;
    }
    for (;;) {
      const next = await reader.next();
      if (next.kind === 'record') {
        const { record } = next;
        inspection.records += 1;
        inspection.entries += record.entries;
        inspection.topics[record.topic] = (inspection.topics[record.topic] ?? 0) + 1;
        inspection.spooledFrom = Math.min(inspection.spooledFrom ?? record.spooledAt, record.spooledAt);
        inspection.spooledTo = Math.max(inspection.spooledTo ?? record.spooledAt, record.spooledAt);
        continue;
      }
      if (next.kind === 'torn') inspection.torn = { offset: next.offset, bytes: next.bytes };
      if (next.kind === 'unreadable') inspection.problem = `unreadable record at offset ${next.offset} (${next.problem})`;
      return inspection;
    }
  } finally {
    await reader.close().catch(() => undefined);
  }
}
