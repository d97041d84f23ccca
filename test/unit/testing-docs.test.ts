// The copy-paste examples of the README's testing section are the Vitest example files, which CI runs: keep them equal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

it.each(['log-format.test.ts', 'log-decisions.test.ts'])('the documented unit test examples/testing/vitest/%s is the file, verbatim', (file) => {
  const doc = readFileSync(join(root, 'README.md'), 'utf8');
  const example = readFileSync(join(root, 'examples', 'testing', 'vitest', file), 'utf8');
  const marker = `this file is \`examples/testing/vitest/${file}\``;
  expect(doc).toContain(marker);
  const after = doc.slice(doc.indexOf(marker));
  const block = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
  expect(block).toBe(example);
});
