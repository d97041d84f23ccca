/**
 * Turns the publisher's `transport` option into a {@link TransportFactory}, importing only the chosen client:
 * `import 'kafka-log'` loads neither kafkajs' transport nor @platformatic/kafka until a publisher needs one.
 *
 * @module
 */
import type { TransportFactory } from './transport.js';

/** The transports kafka-log ships, by the name the `transport` option takes. */
export const TRANSPORT_NAMES = ['kafkajs', 'platformatic'] as const;

/** A transport kafka-log ships: `kafkajs` (the default) or `platformatic` (@platformatic/kafka). */
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/**
 * Loads the named transport's factory. The platformatic factory rejects with a `missing_dependency`
 * TransportError naming the package and its install command when @platformatic/kafka is not installed.
 */
export async function loadTransportFactory(name: TransportName): Promise<TransportFactory> {
  // Literal specifiers, one per branch: bundlers split each transport into its own chunk.
  if (name === 'platformatic') return (await import('./platformatic.js')).createPlatformaticTransport;
  return (await import('./kafkajs.js')).createKafkajsTransport;
}
