// The transports every publisher integration suite runs over: `describe.each(TRANSPORTS)` gives one suite per
// Kafka client, reading back with the same kafkajs consumer.
import { TRANSPORT_NAMES, type TransportName } from '../../src/transport/select.js';

/** Every transport kafka-log ships, by the name the `transport` option takes. */
export const TRANSPORTS: readonly TransportName[] = TRANSPORT_NAMES;

export type { TransportName };
