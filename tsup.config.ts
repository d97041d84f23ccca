import { defineConfig } from 'tsup';

// One build for `require` and `import` users, with types for each. Every public subpath is an entry here
// and in package.json "exports"; so is the worker transport's thread (dist/transport-worker.js, loaded by path).
export default defineConfig({
  entry: { index: 'src/index.ts', http: 'src/adapters/http.ts', express: 'src/adapters/express.ts', koa: 'src/adapters/koa.ts', fastify: 'src/adapters/fastify.ts', nest: 'src/adapters/nest.ts', testing: 'src/testing/index.ts', cli: 'src/cli/main.ts', 'transport-worker': 'src/transport/worker-thread.ts' },
  format: ['cjs', 'esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  // `__filename` in the ESM build too: the worker transport finds dist/transport-worker.js next to itself.
  shims: true,
});
