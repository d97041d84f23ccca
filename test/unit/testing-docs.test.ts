// The copy-paste example of the README's testing section is the Vitest example file, which CI runs: keep them equal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

it('the documented unit test is examples/testing/vitest/log-format.test.ts, verbatim', () => {
  const doc = readFileSync(join(root, 'README.md'), 'utf8');
  const example = readFileSync(join(root, 'examples', 'testing', 'vitest', 'log-format.test.ts'), 'utf8');
  const marker = 'this file is `examples/testing/vitest/log-format.test.ts`';
  const after = doc.slice(doc.indexOf(marker));
  const block = /```ts\n([\s\S]*?)```/.exec(after)?.[1];
  expect(block).toBe(example);
});
