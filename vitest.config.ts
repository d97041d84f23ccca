import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/setup/sequencer.js';

/**
 * Integration files that prove nothing Node-specific, run on one Node line only (`npm test`; CI's second Node line
 * runs `npm run test:node-lines`, which leaves them out). A file is Node-independent when what it adds is the
 * behaviour of a system outside Node (a Kafka cluster losing its partition leader, a broker or a schema registry
 * restarted mid-stream, Confluent's Python deserializers reading what was written) while the kafka-log code it
 * drives (the transports' sockets, the registry HTTP client, the encoders, the queue) is run on every Node line
 * by other files: `publisher`, `publisher-auth`, `publisher-partitioning`, `reliability-*`, the adapters and the
 * unit suite. A file that starts node:http servers, adapters or CLI processes, or asserts something a Node line may
 * change (parser limits, warnings, stack text), is not on this list.
 */
const NODE_INDEPENDENT = [
  'test/integration/reliability-failover.test.ts',
  'test/integration/publisher-restart.test.ts',
  'test/integration/registry-outage.test.ts',
  'test/integration/registry-kafka.test.ts',
  'test/integration/publisher-registry.test.ts',
];

const integration = {
  globalSetup: ['test/setup/kafka-global.ts'],
  testTimeout: 90_000,
  hookTimeout: 120_000,
};

// Three projects: fast pure unit tests; integration tests against the real local Kafka broker (started once by
// the global setup, reused when already running); and the Node-independent integration files (same broker, plus
// the Python interop venv prepared once before they run).
export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirstSequencer },
    // One pool of worker processes for every project (Vitest reads pool options from the root config only). The
    // suite mostly waits (on the broker, child processes, timers; a run uses about a third of a core), so four
    // workers rather than Vitest's default of one per core but one, which on two cores ran the files one by one.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 4, minForks: 1 } },
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
          exclude: NODE_INDEPENDENT,
          ...integration,
        },
      },
      {
        test: {
          name: 'node-independent',
          include: NODE_INDEPENDENT,
          ...integration,
          globalSetup: ['test/setup/kafka-global.ts', 'test/setup/python-global.ts'],
        },
      },
    ],
  },
});
