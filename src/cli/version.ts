/**
 * The package version, read from the package.json next to the built CLI (`dist/../package.json`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The version of the installed kafka-log package, or `unknown`. */
export function packageVersion(): string {
  // `__filename` exists in both builds (the ESM one through the build's shim); argv is the last resort.
  const here = typeof __filename === 'string' ? __filename : (process.argv[1] ?? '');
  let dir = dirname(here);
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kafka-log' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: look one folder up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
