import { defineConfig } from 'vitest/config';

// Two projects: fast pure unit tests, and integration tests that talk to the real local Kafka broker
// (started once by the global setup, reused when already running).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/kafka-global.ts'],
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // Several files share one broker; two workers match the two cores.
          poolOptions: { forks: { maxForks: 2, minForks: 1 } },
          pool: 'forks',
        },
      },
    ],
  },
});
