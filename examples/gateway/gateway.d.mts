// Types of gateway.mjs, for the TypeScript tests that import it.
import type { Server } from 'node:http';
import type { KafkaLogHttpOptions } from '../../src/adapters/http.js';

/** Options of {@link createGateway}: the upstream base URL, an optional prefix to strip, and kafka-log's options. */
export interface GatewayOptions extends KafkaLogHttpOptions {
  upstream: string;
  stripPrefix?: string;
}

/** A reverse proxy to `upstream` that logs every exchange with its upstream facts. Not yet listening. */
export function createGateway(options: GatewayOptions): Server;
