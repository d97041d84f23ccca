// A CliIo that collects what a command writes, for running commands in-process.
import type { CliIo } from '../../src/cli/io.js';

export function captureIo(env: Record<string, string> = {}): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: {
      write: (t: string) => {
        out += t;
        return true;
      },
    },
    stderr: {
      write: (t: string) => {
        err += t;
        return true;
      },
    },
    env,
    out: () => out,
    err: () => err,
  };
}
