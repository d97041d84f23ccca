// Helpers of the packed-package checks (check-package.mjs, smoke-tarball.mjs): the package as `npm pack` makes it,
// installed into a fresh project outside the repository, as a user gets it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Newest modification time of the files under `path` (a file or a folder), ms. */
function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/**
 * Builds `dist/` when it is missing or older than what it is built from (src/, the build and compiler
 * configuration); `npm test` and the packed-package checks use it, so CI builds once for every step.
 */
export function ensureBuilt(log) {
  const built = join(root, 'dist', 'index.js');
  const sources = Math.max(...['src', 'tsup.config.ts', 'tsconfig.json', 'package.json'].map((path) => newestMtime(join(root, path))));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) {
    log('dist/ is up to date (built after the last change to src/ and the build configuration)');
    return;
  }
  log('building dist/ (missing or older than src/)');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'build-if-stale') {
  ensureBuilt((line) => process.stdout.write(`${line}\n`));
}

/** A fresh folder in the system's temp dir; removed by the returned function. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `npm pack` into `dir`; returns the tarball's path and the packed file list. */
export function pack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [info] = JSON.parse(out);
  return { tarball: join(dir, info.filename), files: info.files.map((file) => file.path), unpackedSize: info.unpackedSize };
}

/**
 * Writes a private ES-module project into `dir` and runs `npm install` with `specs` (the tarball, packages at
 * versions). Returns npm's whole output (stdout and stderr), for checks on what it printed. Throws when npm fails.
 */
export function installProject(dir, specs, { timeoutMs = 180_000 } = {}) {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'kafka-log-consumer', private: true, type: 'module' }, null, 2)}\n`);
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], {
    cwd: dir,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) throw new Error(`npm install failed (exit ${result.status ?? result.signal}):\n${output}`);
  return output;
}

/** `name@range` as this repository's own devDependencies pin it (the versions its tests run against). */
export function devSpec(name) {
  const range = manifest.devDependencies?.[name];
  if (range === undefined) throw new Error(`${name} is not a devDependency of kafka-log`);
  return `${name}@${range}`;
}
