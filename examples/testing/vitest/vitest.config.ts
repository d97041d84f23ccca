import { defineConfig } from 'vitest/config';

// The Vitest example on its own: `vitest run --config examples/testing/vitest/vitest.config.ts`.
export default defineConfig({
  test: { root: __dirname, include: ['*.test.ts'] },
});
