/**
 * `kafka-log/testing`: test a service's log format without Kafka. The real publisher over an in-memory
 * transport, a realistic exchange fixture and a schema check. Loads neither kafkajs nor any network client.
 *
 * @packageDocumentation
 */

export { buildTestEntry, type TestEntryOptions } from './build-test-entry.js';
export { createTestAdapter, type LogOutcome, type TestAdapter } from './test-adapter.js';
export { exchangeFixture, FIXTURE_STARTED_AT, type DeepPartial } from './exchange-fixture.js';
export type { RecordedMessage, SimulatedFailure } from './memory-transport.js';
export {
  createTestPublisher,
  TEST_PUBLISHER_DEFAULT_TOPIC,
  TestPublisher,
  type TestPublisherOptions,
} from './test-publisher.js';
export { type LogEntryValidation, validateLogEntry } from './validate.js';
