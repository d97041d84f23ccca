/**
 * The spool directory: file names, listing, locks and replay progress markers.
 *
 * - `spool-<time>-<sequence>-<random>.kls.open`: the file being written. Only its writer touches it.
 * - `spool-...kls`: a sealed file (renamed from `.open` once complete and synced): what replay reads.
 * - `spool-...kls.progress`: how far replay got in that file (the offset after the last acknowledged record).
 * - `spool-...kls.corrupt`: a file replay stopped in because of damage in its middle; kept for a human to look at.
 * - `writer.lock`, `replay.lock`: who writes, who replays (a process id and host name).
 *
 * Names sort by the time their file was started.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { type FileHandle, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';

/** Suffix of a sealed spool file. */
export const SEALED_SUFFIX = '.kls';
/** Suffix of a spool file being written. */
export const OPEN_SUFFIX = '.kls.open';
/** Suffix of a replay progress marker (after the sealed file's name). */
export const PROGRESS_SUFFIX = '.progress';
/** Suffix of a file replay set aside for damage. */
export const CORRUPT_SUFFIX = '.kls.corrupt';

/** A new file name (without suffix), sorting after the names made before it by this process. */
export function newSpoolName(now: number, sequence: number): string {
  const time = new Date(now).toISOString().replace(/[-:.]/g, '');
  return `spool-${time}-${String(sequence).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
}

/** A spool file of a listing. */
export interface SpoolFileInfo {
  /** File name. */
  name: string;
  /** Full path. */
  path: string;
  /** Size, bytes. */
  size: number;
}

/** What a spool directory holds. */
export interface SpoolListing {
  /** Sealed files, oldest first. */
  sealed: SpoolFileInfo[];
  /** Files being written (or left by a process that stopped without closing its publisher), oldest first. */
  open: SpoolFileInfo[];
  /** Files set aside for damage. */
  corrupt: SpoolFileInfo[];
  /** Bytes of the sealed and open files: what counts against the spool's cap. */
  bytes: number;
}

/** Lists a spool directory (a missing directory lists as empty). */
export async function listSpool(directory: string): Promise<SpoolListing> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { sealed: [], open: [], corrupt: [], bytes: 0 };
    throw error;
  }
  const listing: SpoolListing = { sealed: [], open: [], corrupt: [], bytes: 0 };
  for (const name of names.sort()) {
    const kind = name.endsWith(SEALED_SUFFIX) ? 'sealed' : name.endsWith(OPEN_SUFFIX) ? 'open' : name.endsWith(CORRUPT_SUFFIX) ? 'corrupt' : undefined;
    if (kind === undefined || !name.startsWith('spool-')) continue;
    const file = path.join(directory, name);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // replayed and removed meanwhile
      throw error;
    }
    listing[kind].push({ name, path: file, size });
    if (kind !== 'corrupt') listing.bytes += size;
  }
  return listing;
}

/** The sealed name of an open file's path. */
export function sealedPath(openPath: string): string {
  return openPath.slice(0, -OPEN_SUFFIX.length) + SEALED_SUFFIX;
}

/** Renames a file and makes the rename durable (the directory synced). */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(path.dirname(to));
}

/** Syncs a directory's entries to disk (where the platform allows it). */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Not every platform or file system syncs a directory (Windows cannot open one): the rename stands anyway.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

// ---- progress markers ----

/** How far replay got in a file. */
export interface ReplayProgress {
  /** Offset just after the last acknowledged record. */
  offset: number;
  /** Records acknowledged so far. */
  records: number;
  /** Entries those records hold. */
  entries: number;
}

/** A file's progress marker, or `undefined` when it has none (or an unreadable one: replay starts over). */
export async function readProgress(file: string): Promise<ReplayProgress | undefined> {
  let text: string;
  try {
    text = await readFile(file + PROGRESS_SUFFIX, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ReplayProgress>;
    const { offset, records, entries } = parsed;
    if ([offset, records, entries].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) {
      return { offset: offset as number, records: records as number, entries: entries as number };
    }
  } catch {
    // A marker cut short by a crash before its rename cannot exist (it is renamed into place whole); anything
    // else unreadable is treated as no marker.
  }
  return undefined;
}

/**
 * Records progress durably: written to a temporary file, synced, renamed over the marker, the directory synced.
 * A crash at any point leaves the old marker or the new one, never half of one.
 */
export async function writeProgress(file: string, progress: ReplayProgress): Promise<void> {
  const marker = file + PROGRESS_SUFFIX;
  const temporary = `${marker}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(progress)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await renameDurably(temporary, marker);
}

/** Removes a replayed file, then its marker (a marker without its file is ignored and removed by the next replay). */
export async function removeReplayed(file: string): Promise<void> {
  await unlinkIfThere(file);
  await syncDirectory(path.dirname(file));
  await unlinkIfThere(file + PROGRESS_SUFFIX);
}

/** Removes progress markers whose file is gone (a replay that stopped between the two removals). */
export async function removeOrphanMarkers(directory: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return;
  }
  const present = new Set(names);
  for (const name of names) {
    if (name.endsWith(SEALED_SUFFIX + PROGRESS_SUFFIX) && !present.has(name.slice(0, -PROGRESS_SUFFIX.length))) {
      await unlinkIfThere(path.join(directory, name));
    }
  }
}

async function unlinkIfThere(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

// ---- locks ----

/** Lock paths held by this process (a second publisher of the same process on the same directory is refused). */
const heldHere = new Set<string>();

/** A held lock. */
export interface DirectoryLock {
  /** Releases the lock (removes its file when it is still this process's). */
  release(): Promise<void>;
}

/** Who holds a lock. */
export interface LockOwner {
  /** Process id. */
  pid: number;
  /** Host name. */
  hostname: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<directory>/<name>.lock`. A lock left by a process that is gone (or by this process's previous life in a
 * container, where the process id repeats) is taken over; one held by a live process of this host is not:
 * resolves to its owner instead. Locks of another host are taken over: a directory on a volume shared between
 * hosts is not supported.
 */
export async function acquireLock(directory: string, name: string): Promise<DirectoryLock | { heldBy: LockOwner }> {
  const file = path.join(directory, `${name}.lock`);
  if (heldHere.has(file)) return { heldBy: { pid: process.pid, hostname: hostname() } };
  const mine: LockOwner = { pid: process.pid, hostname: hostname() };
  const content = `${JSON.stringify({ ...mine, since: new Date().toISOString() })}\n`;
  try {
    await writeFile(file, content, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = await readOwner(file);
    if (owner !== undefined && owner.hostname === mine.hostname && owner.pid !== mine.pid && processAlive(owner.pid)) return { heldBy: owner };
    await writeFile(file, content);
  }
  heldHere.add(file);
  return {
    release: async () => {
      if (!heldHere.delete(file)) return;
      const owner = await readOwner(file);
      if (owner?.pid === mine.pid && owner.hostname === mine.hostname) await unlinkIfThere(file).catch(() => undefined);
    },
  };
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' ? { pid: parsed.pid, hostname: parsed.hostname } : undefined;
  } catch {
    return undefined;
  }
}
