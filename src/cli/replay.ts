/**
 * `kafka-log replay DIR`: publishes the files of a publisher's spool directory to Kafka (acks all, an idempotent
 * producer), removing each file once every record in it is acknowledged. An interrupted replay resumes where it
 * stopped: see the README's "Spool and replay" for the exact guarantee.
 *
 * @module
 */
import * as path from 'node:path';
import { SecretSet } from '../secrets.js';
import { acquireLock, type DirectoryLock, listSpool, type SpoolFileInfo } from '../spool/directory.js';
import type { SpoolRecord } from '../spool/format.js';
import { type FileReplayResult, inspectFile, replayFile } from '../spool/replay.js';
import { loadTransportFactory } from '../transport/select.js';
import type { Transport } from '../transport/transport.js';
import { type FlagSpec, booleanFlag, integerFlag, parseFlags, stringFlag } from './args.js';
import { CONNECTION_FLAGS, CONNECTION_HELP, PASSWORD_ENV, connectionFromFlags } from './connection.js';
import { type CliIo, ExitCode, UsageError } from './io.js';
import { escapeControls, printableError } from './terminal-text.js';

/** Default bounds of one produce request. */
const DEFAULT_MAX_REQUEST_RECORDS = 500;
const DEFAULT_MAX_REQUEST_BYTES = 1_048_576;
/** How long the broker may take to acknowledge a request (acks all), ms. */
const REQUEST_TIMEOUT_MS = 30_000;

/** `kafka-log replay --help`. */
export const REPLAY_HELP = `Usage: kafka-log replay DIR --brokers host:port[,host:port] [options]

Publishes the spool files of DIR (a publisher's spool.directory) to Kafka, oldest first, each record to its own
topic with its key and headers, with acks=all. A file is removed once every record in it is acknowledged.
Interrupted (Ctrl-C, a crash, Kafka gone), it resumes where it stopped when run again: at most the records of the
one request that was unacknowledged at the time are sent twice.

Replay:
  --topic TOPIC                  send every record to TOPIC instead of its own
  --dry-run                      read and check the files, print what they hold, send nothing
  --include-open                 also replay files still open (.kls.open), left by a process that stopped
                                 without closing its publisher; refused while a process writes the directory
  --max-request-records N        records per produce request (default ${DEFAULT_MAX_REQUEST_RECORDS})
  --max-request-bytes N          bytes per produce request (default ${DEFAULT_MAX_REQUEST_BYTES})
  --verbose                      a line after each acknowledged request (and its progress marker)

${CONNECTION_HELP}

  -h, --help                     this help

Exit code: 0 every file replayed (or, with --dry-run, readable); 1 something was left (a failure, damage, an
interruption: the message says what); 2 bad usage.`;

const REPLAY_FLAGS: FlagSpec = {
  ...CONNECTION_FLAGS,
  topic: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'include-open': { type: 'boolean' },
  'max-request-records': { type: 'string' },
  'max-request-bytes': { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Runs `kafka-log replay`; resolves to the exit code. Throws {@link UsageError} for bad flags. */
export async function runReplay(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseFlags(argv, REPLAY_FLAGS, true);
  if (booleanFlag(args, 'help')) {
    io.stdout.write(`${REPLAY_HELP}\n`);
    return ExitCode.OK;
  }
  if (args.positionals.length !== 1) throw new UsageError('give one spool directory (kafka-log replay DIR)');
  const directory = path.resolve(args.positionals[0] as string);
  const dryRun = booleanFlag(args, 'dry-run');
  const includeOpen = booleanFlag(args, 'include-open');
  const verbose = booleanFlag(args, 'verbose');
  const topic = stringFlag(args, 'topic');
  if (topic === '') throw new UsageError('--topic must not be empty');
  const maxRequestRecords = integerFlag(args, 'max-request-records') ?? DEFAULT_MAX_REQUEST_RECORDS;
  const maxRequestBytes = integerFlag(args, 'max-request-bytes') ?? DEFAULT_MAX_REQUEST_BYTES;
  if (maxRequestRecords < 1) throw new UsageError('--max-request-records must be at least 1');
  if (maxRequestBytes < 1) throw new UsageError('--max-request-bytes must be at least 1');
  const connection = dryRun ? undefined : connectionFromFlags(args, io.env);
  const secrets = new SecretSet().add(io.env[PASSWORD_ENV], stringFlag(args, 'username'));
  const printable = (error: unknown) => printableError(error, secrets);
  const shown = (file: string) => escapeControls(path.basename(file));
  const fail = (text: string) => {
    io.stderr.write(`kafka-log replay: ${text}\n`);
    return ExitCode.ERROR;
  };

  let listing: Awaited<ReturnType<typeof listSpool>>;
  try {
    listing = await listSpool(directory);
  } catch (error) {
    return fail(`cannot read ${escapeControls(directory)}: ${printable(error)}`);
  }

  if (dryRun) return inspectAll(listing.sealed.concat(includeOpen ? listing.open : []), io, shown, printable);

  const locks: DirectoryLock[] = [];
  let transport: Transport | undefined;
  try {
    const replayLock = await acquireLock(directory, 'replay');
    if ('heldBy' in replayLock) {
      return fail(`another replay (process ${replayLock.heldBy.pid} on ${escapeControls(replayLock.heldBy.hostname)}) is replaying ` +
        `${escapeControls(directory)}`);
    }
    locks.push(replayLock);
    let files = listing.sealed;
    if (includeOpen && listing.open.length > 0) {
      // Taking the writer's lock keeps a publisher from starting to write while its open files are replayed.
      const writerLock = await acquireLock(directory, 'writer');
      if ('heldBy' in writerLock) {
        return fail(`process ${writerLock.heldBy.pid} on ${escapeControls(writerLock.heldBy.hostname)} is writing ${escapeControls(directory)}: its open ` +
          `files are not complete (replay without --include-open, or once it closed)`);
      }
      locks.push(writerLock);
      files = [...files, ...listing.open].sort((a, b) => a.name.localeCompare(b.name));
    }
    if (files.length === 0) {
      io.stdout.write(`nothing to replay in ${escapeControls(directory)}\n`);
      noteLeftovers(io, listing.open.length, listing.corrupt.length, includeOpen);
      return ExitCode.OK;
    }

    const settings = connection as NonNullable<typeof connection>;
    const factory = await loadTransportFactory('kafkajs');
    transport = await factory(
      {
        ...settings,
        secrets,
        clientId: 'kafka-log-replay',
        keepAliveMs: undefined,
        acks: -1,
        requestTimeout: REQUEST_TIMEOUT_MS,
        compression: 'none',
        // One producer session: the client's own retries of a request are never written twice.
        idempotent: true,
        maxRequestRetries: 5,
        retryBackoff: 200,
        logLevel: 'silent',
      },
      { log: () => undefined },
    );
    const producer = transport;
    const send = (records: readonly SpoolRecord[]) =>
      producer.produce({ records: records.map((r) => ({ topic: r.topic, key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) })) });
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    io.stdout.write(`replaying ${plural(files.length, 'file')} (${bytes} bytes) from ${escapeControls(directory)} to ` +
      `${escapeControls(settings.brokers.join(','))}\n`);

    let records = 0;
    let entries = 0;
    let replayed = 0;
    let code: number = ExitCode.OK;
    for (const file of files) {
      let result: FileReplayResult;
      try {
        const onProgress = verbose
          ? (p: { records: number; offset: number }) => io.stdout.write(`${shown(file.path)}: ${plural(p.records, 'record')} acknowledged (up to offset ` +
            `${p.offset})\n`)
          : undefined;
        result = await replayFile(file.path, send, {
          maxRequestRecords,
          maxRequestBytes,
          ...(topic ? { topic } : {}),
          ...(io.signal ? { signal: io.signal } : {}),
          ...(onProgress ? { onProgress } : {}),
        });
      } catch (error) {
        summary(io, records, entries, replayed);
        return fail(`${shown(file.path)}: ${printable(error)}\nnothing is lost: the files are kept, with their progress; run the same command again to resume`);
      }
      records += result.records;
      entries += result.entries;
      const resumed = result.resumedAfter > 0 ? `, resumed after ${result.resumedAfter} sent earlier` : '';
      const torn = result.torn ? `; skipped a torn tail of ${result.torn.bytes} bytes at offset ${result.torn.offset} (a write cut short when its process ` +
        `stopped)` : '';
      switch (result.outcome) {
        case 'replayed':
          replayed += 1;
          io.stdout.write(`${shown(file.path)}: ${plural(result.records, 'record')} (${plural(result.entries, 'entry', 'entries')}) sent${resumed}, file ` +
            `removed${torn}\n`);
          break;
        case 'interrupted':
          summary(io, records, entries, replayed);
          return fail(`interrupted in ${shown(file.path)} after ${plural(result.records, 'record')}: run the same command again to resume`);
        case 'damaged':
          code = ExitCode.ERROR;
          io.stdout.write(`${shown(file.path)}: ${plural(result.records, 'record')} (${plural(result.entries, 'entry', 'entries')}) sent${resumed}\n`);
          io.stderr.write(`kafka-log replay: ${shown(file.path)}: ${escapeControls(result.problem ?? '')}; set aside as ` +
            `${shown(file.path.replace(/\.kls(\.open)?$/, '.kls.corrupt'))}\n`);
          break;
        default:
          code = ExitCode.ERROR;
          io.stderr.write(`kafka-log replay: ${escapeControls(result.problem ?? shown(file.path))}; left as it is\n`);
      }
    }
    summary(io, records, entries, replayed);
    noteLeftovers(io, includeOpen ? 0 : listing.open.length, listing.corrupt.length, includeOpen);
    return code;
  } catch (error) {
    return fail(printable(error));
  } finally {
    await transport?.close().catch(() => undefined);
    for (const lock of locks.reverse()) await lock.release().catch(() => undefined);
  }
}

function summary(io: CliIo, records: number, entries: number, files: number): void {
  io.stdout.write(`replayed ${plural(records, 'record')} (${plural(entries, 'entry', 'entries')}); ${plural(files, 'file')} done\n`);
}

function noteLeftovers(io: CliIo, open: number, corrupt: number, includeOpen: boolean): void {
  if (open > 0 && !includeOpen) {
    io.stdout.write(
      `${plural(open, 'file')} still open (.kls.open) left as they are: a publisher seals its file when it closes or after 5 s without writes; one left by ` +
        `a stopped process is sealed when a publisher starts on the directory, or replayed with --include-open\n`,
    );
  }
  if (corrupt > 0) io.stdout.write(`${plural(corrupt, 'file')} set aside for damage (.kls.corrupt) earlier: not replayed\n`);
}

async function inspectAll(files: SpoolFileInfo[], io: CliIo, shown: (file: string) => string, printable: (error: unknown) => string): Promise<number> {
  let code: number = ExitCode.OK;
  let records = 0;
  let entries = 0;
  for (const file of files) {
    try {
      const found = await inspectFile(file.path);
      records += found.records;
      entries += found.entries;
      const topics = Object.entries(found.topics)
        .map(([name, count]) => `${escapeControls(name)} (${count})`)
        .join(', ');
      const when = found.spooledFrom === undefined ? '' : `, spooled ${new Date(found.spooledFrom).toISOString()} to ` +
        `${new Date(found.spooledTo ?? found.spooledFrom).toISOString()}`;
      const resumed = found.resumedAfter > 0 ? `, ${found.resumedAfter} already sent by an interrupted replay` : '';
      const torn = found.torn ? `; torn tail of ${found.torn.bytes} bytes at offset ${found.torn.offset} (skipped)` : '';
      io.stdout.write(`${shown(file.path)}: ${plural(found.records, 'record')} ` +
        `(${plural(found.entries, 'entry', 'entries')})${topics ? ` for ${topics}` : ''}${when}${resumed}${torn}\n`);
      if (found.problem !== undefined) {
        code = ExitCode.ERROR;
        io.stderr.write(`kafka-log replay: ${shown(file.path)}: ${escapeControls(found.problem)}\n`);
      }
    } catch (error) {
      code = ExitCode.ERROR;
      io.stderr.write(`kafka-log replay: ${shown(file.path)}: ${printable(error)}\n`);
    }
  }
  io.stdout.write(`${plural(files.length, 'file')}: ${plural(records, 'record')} (${plural(entries, 'entry', 'entries')}) to replay; nothing sent ` +
    `(--dry-run)\n`);
  return code;
}
