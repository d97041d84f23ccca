import { defineConfig } from 'tsup';

// One build for `require` and `import` users, with types for each. Every public subpath is an entry here
// and in package.json "exports"; so is the worker transport's thread (dist/transport-worker.js, loaded by path).
export default defineConfig({
  entry: { index: 'src/index.ts', http: 'src/adapters/http.ts', express: 'src/adapters/express.ts', koa: 'src/adapters/koa.ts', fastify: 'src/adapters/fastify.ts', nest: 'src/adapters/nest.ts', testing: 'src/testing/index.ts', metrics: 'src/metrics/index.ts', cli: 'src/cli/main.ts', 'transport-worker': 'src/transport/worker-thread.ts' },
  format: ['cjs', 'esm'],
  // The declarations use Node's types (Buffer, node:http, node:tls). TypeScript 6 and later no longer include
  // `@types/node` unless a file asks for it, so every declaration file asks.
  dts: { banner: '/// <reference types="node" />' },
  // No source maps: the output is not minified (stack traces read as they are), and maps carrying the sources
  // would be most of the package.
  sourcemap: false,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  // `__filename` in the ES module output: optional packages loaded synchronously resolve from kafka-log's place,
  // and the worker transport finds dist/transport-worker.js next to itself.
  shims: true,
});
