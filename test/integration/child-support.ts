// Child processes for the publisher's integration tests: a script that imports the sources, bundled once with
// esbuild and run with plain `node` (the way an application runs), e.g. to see that a process exits by itself.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

/**
 * Bundles `source` (TypeScript importing the sources by absolute path, see {@link sourcePath}) into a CommonJS
 * script a child process can run with plain `node`, under `.local/<name>/`; returns its path. The Kafka clients
 * stay external (loaded from node_modules as an application would). Each call gets a directory of its own, so two
 * test runs sharing the checkout (two Node lines at once) never overwrite each other's script.
 */
export function bundleChild(name: string, source: string): string {
  mkdirSync(path.resolve('.local'), { recursive: true });
  const dir = mkdtempSync(path.resolve(`.local/${name}-`));
  const script = path.join(dir, 'child.ts');
  writeFileSync(script, source);
  const outfile = path.join(dir, 'child.cjs');
  buildSync({
    entryPoints: [script],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    external: ['kafkajs', '@platformatic/kafka', 'fast-json-stringify'],
    logLevel: 'silent',
  });
  return outfile;
}

/** A path of the repository as a string literal for a {@link bundleChild} source. */
export function sourcePath(relative: string): string {
  return JSON.stringify(path.resolve(relative));
}

/**
 * Source of the IPC control of an app bundled with {@link bundleChild} and run with `--expose-gc` (`send`,
 * `publisher`, `server` and `sampler` in scope): on "gc", two full collections, then what the process retains as
 * `{ event: 'retained', heapUsed, external, stats }`; on "close", the sampler stops, the server and then the publisher
 * close (within `closeTimeoutMs`), and `{ event: 'closed', stats }` is the last message.
 */
export function appControlSource(closeTimeoutMs: number): string {
  return `process.on('message', async (message) => {
       if (message === 'gc') {
         const gc = (globalThis as { gc?: () => void }).gc as () => void;
         gc();
         gc();
         const m = process.memoryUsage();
         send({ event: 'retained', heapUsed: m.heapUsed, external: m.external, stats: publisher.stats() });
       } else if (message === 'close') {
         clearInterval(sampler);
         server.close();
         await publisher.close({ timeoutMs: ${closeTimeoutMs} });
         send({ event: 'closed', stats: publisher.stats() });
         process.disconnect();
       }
     });`;
}

/** Source of a node:http request handler for a {@link bundleChild} app: reads the body, answers a small JSON. */
export const DRAIN_AND_ANSWER_SOURCE = `(req, res) => {
           req.resume();
           req.on('end', () => {
             res.setHeader('content-type', 'application/json');
             res.end(JSON.stringify({ ok: true, url: req.url }));
           });
         }`;
