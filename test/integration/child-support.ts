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
