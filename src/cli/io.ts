/**
 * What a command may touch of the process: its output streams, environment and exit code. Commands take a
 * {@link CliIo} so they can be run in-process by tests as well as by `main`.
 *
 * @module
 */

/** A writable text sink (`process.stdout` fits). */
interface TextSink {
  /** Writes text; returns `false` when the caller should wait for `drain` (ignored for short output). */
  write(text: string): boolean;
  /** Whether the sink is a terminal (colors allowed). */
  isTTY?: boolean;
}

/** The process as a command sees it. */
export interface CliIo {
  /** Standard output. */
  stdout: TextSink;
  /** Standard error. */
  stderr: TextSink;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM, so following commands stop cleanly. */
  signal?: AbortSignal;
}

/** Exit codes: 0 success, 1 a runtime or validation error, 2 bad usage. */
export const ExitCode = { OK: 0, ERROR: 1, USAGE: 2 } as const;

/** A bad flag or argument: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
