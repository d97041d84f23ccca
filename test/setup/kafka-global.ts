// Vitest global setup of the integration project: one local Apache Kafka broker for all test files.
//
// - Reuses a running broker (`npm run kafka:start`, or a previous run kept alive) when it answers;
//   otherwise starts a fresh one (first run resolves Kafka with Maven).
// - Tests read it with `inject('kafka')` (type in ./provided.d.ts).
// - Teardown stops the broker only if this setup started it, unless KAFKA_LOG_KEEP_BROKER is set
//   (keep it for faster re-runs; stop it later with `npm run kafka:stop`).
import type { TestProject } from 'vitest/node';
import type { KafkaInfo } from '../../scripts/local-kafka.mjs';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Dynamic import: the script is ESM, this file may be compiled as CommonJS (package "type": "commonjs").
  const { ensureKafka, stopKafka } = await import('../../scripts/local-kafka.mjs');
  const { started, ...info } = await ensureKafka();
  project.provide('kafka', info satisfies KafkaInfo);

  return async () => {
    if (started && !process.env.KAFKA_LOG_KEEP_BROKER) {
      await stopKafka();
    }
  };
}
