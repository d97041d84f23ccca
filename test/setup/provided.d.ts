// Values the vitest global setup (test/setup/kafka-global.ts) provides to tests: `inject('kafka')`.
import type { KafkaInfo } from '../../scripts/local-kafka.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local Apache Kafka broker (contents of .local/kafka/broker.json). */
    kafka: KafkaInfo;
  }
}
