#!/usr/bin/env node
// Type-checks every ```ts block of README.md and docs/*.md against the built package (as users import it),
// so the documentation's code cannot drift from the API. Blocks fenced as ```ts no-check are skipped
// (fragments such as option tables written as code). Run after the build: `npm run test:types`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'test', 'readme-snippets');
const docs = join(root, 'docs');
const sources = ['README.md', ...(existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`) : [])];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let count = 0;
for (const source of sources) {
  const text = readFileSync(join(root, source), 'utf8');
  const fence = /^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```/gm;
  for (const match of text.matchAll(fence)) {
    if (match[2].includes('no-check')) continue;
    count++;
    const line = text.slice(0, match.index).split('\n').length;
    const name = `${source.replace(/[^a-z0-9]+/gi, '-')}-line-${line}.ts`;
    // Each block is its own module; `export {}` keeps top-level names from colliding across blocks.
    writeFileSync(join(out, name), `// ${source}:${line}\n${match[3]}\nexport {};\n`);
  }
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: '../../tsconfig.json',
      compilerOptions: {
        noEmit: true,
        rootDir: '.',
        noUnusedLocals: false,
        types: ['node'],
        // NestJS snippets use decorators.
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
      include: ['./*.ts'],
    },
    null,
    2,
  ),
);
try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(out, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  console.error(`documentation snippets do not compile (files in ${out})`);
  process.exit(1);
}
console.log(`${count} documentation snippets type-check against the built package`);
