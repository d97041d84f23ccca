// A node:http app of the built package (`test/integration/*-app.mjs`) run as a child process with Node's defaults
// (no --unhandled-rejections or other flag from the test runner), as an application runs: the host-safety tests
// start one, talk to it over HTTP and watch whether it stays up.
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/** A running child app: its port once it printed `{"event":"listening","port":N}`, its exit, its stderr. */
export interface RunningChildApp {
  child: ChildProcess;
  port: number;
  exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stderr: () => string;
}

/** Starts `script` (from the repository's root) with `env` added to this process's environment. */
export async function startChildApp(script: string, env: Record<string, string>): Promise<RunningChildApp> {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, [script], { cwd: path.resolve(__dirname, '..', '..'), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (data) => {
    stderr += String(data);
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('exit', (code, signal) => {
    exit = { code, signal };
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`app exited (${code}) before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`app not listening after 60 s: ${stderr}`)), 60_000).unref();
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const message = JSON.parse(text) as { event: string; port?: number };
      if (message.event === 'listening') resolve(message.port as number);
    });
  });
  return { child, port, exited: () => exit, stderr: () => stderr };
}
