// The servers of the HTTP benchmarks: each variant is a child process running the benchmark script with
// `--server <config JSON>`, which answers on IPC: `{ type: 'ready', port }` once listening, its CPU time on
// `{ type: 'cpu' }`, and a last message on `{ type: 'stop' }` before it exits.
import { fork } from 'node:child_process';

/** Forks `script --server config`; resolves with the child and its port once it listens. */
export function startServer(script, config) {
  return new Promise((resolve, reject) => {
    const child = fork(script, ['--server', JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${config.variant ?? 'a'} server exited with ${code}`)));
    child.once('message', (message) => resolve({ child, port: message.port }));
  });
}

/** The server's CPU time so far (user + system), µs. */
export function cpuOf({ child }) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.type !== 'cpu') return;
      child.off('message', onMessage);
      resolve(message.micros);
    };
    child.on('message', onMessage);
    child.send({ type: 'cpu' });
  });
}

/** Stops the server; resolves with its last message (its publisher's stats, its counts). */
export function stopServer({ child }) {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('message', (message) => resolve(message));
    child.send({ type: 'stop' });
  });
}
