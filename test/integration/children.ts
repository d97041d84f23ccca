// Runs the scripts of ./children as child processes (the built package, as an app gets it), with Node's default
// unhandled-rejection mode: an unhandled rejection or uncaught exception in the child ends it with exit code 1.
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

export const CHILDREN = path.join(__dirname, 'children');
const ROOT = path.resolve(__dirname, '..', '..');

/** One line the child wrote on stderr, with when it arrived (ms after spawn). */
export interface TimedLine {
  at: number;
  text: string;
}

export interface ChildRun {
  child: ChildProcess;
  /** Lines written on stdout, parsed as JSON as they come. */
  stdout: unknown[];
  /** Lines written on stderr, with their arrival times. */
  stderr: TimedLine[];
  started: number;
  /** Resolves when the process exited. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves with the first stdout object matching `test`. */
  next(test: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Environment without any flag that would change how Node treats unhandled rejections. */
function defaultModeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (env.NODE_OPTIONS) env.NODE_OPTIONS = env.NODE_OPTIONS.replace(/--unhandled-rejections(=\S+)?/g, '').trim();
  return env;
}

/** Starts `node [nodeArgs] children/<script>`; kills it after `timeoutMs`. */
export function runChild(script: string, env: Record<string, string>, options: { nodeArgs?: string[]; timeoutMs?: number } = {}): ChildRun {
  const started = Date.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(CHILDREN, script)], {
    cwd: ROOT,
    env: defaultModeEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: unknown[] = [];
  const stderr: TimedLine[] = [];
  const waiters: Array<{ test: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  const splitter = (onLine: (line: string) => void) => {
    let rest = '';
    return (chunk: Buffer) => {
      rest += chunk.toString();
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) if (part !== '') onLine(part);
    };
  };
  child.stdout?.on(
    'data',
    splitter((text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { unparsed: text };
      }
      stdout.push(line);
      for (const waiter of waiters.splice(0)) {
        if (waiter.test(line)) waiter.resolve(line);
        else waiters.push(waiter);
      }
    }),
  );
  child.stderr?.on(
    'data',
    splitter((text) => stderr.push({ at: Date.now() - started, text })),
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, at: Date.now() - started });
    }),
  );
  return {
    child,
    stdout,
    stderr,
    started,
    exit,
    next(test, timeoutMs = 30_000) {
      const found = stdout.find((line) => test(line as Record<string, unknown>));
      if (found) return Promise.resolve(found as Record<string, unknown>);
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        setTimeout(() => reject(new Error(`no matching stdout line within ${timeoutMs} ms; stderr: ${stderr.map((l) => l.text).join('\n')}`)), timeoutMs).unref();
      });
    },
  };
}
