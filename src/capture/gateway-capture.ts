/**
 * {@link GatewayCapture}: the part of a request's capture that a gateway or middleware in front of the logged
 * listener may annotate. The capture engine behind it stays kafka-log's own.
 *
 * @module
 */

import type { ExchangeUpstream } from '../entry/exchange.js';
import type { AuthenticatedEntity, JsonObject, ResponseSource } from '../entry/log-entry.js';

/**
 * What a gateway (or a middleware) tells the entry of one exchange: what it measured upstream and who answered.
 * Every field is read when the response is over, so it may be set at any time before that. Get it with
 * `getExchangeCapture(req)` from `kafka-log/http`.
 */
export interface GatewayCapture {
  /** What was sent upstream and what came back: `upstream_uri`, `upstream_status`, the balancer `tries`. */
  upstream: ExchangeUpstream | undefined;
  /** The measured upstream time, ms (`latencies.proxy`); replaces the listener's own time. */
  upstreamLatency: number | undefined;
  /** Who produced the response: `kong` when the gateway answered itself (its upstream failed, say). */
  source: ResponseSource | undefined;
  /** The matched route (Kong's `route` object), e.g. `{ path: '/orders' }`. */
  route: JsonObject | undefined;
  /** The service (Kong's `service` object), e.g. `{ name: 'orders' }`. */
  service: JsonObject | undefined;
  /** The consumer (Kong's `consumer` object). */
  consumer: JsonObject | undefined;
  /** The authenticated credential (`authenticated_entity`). */
  authenticatedEntity: AuthenticatedEntity | undefined;
  /**
   * Says no upstream was reached (the gateway's upstream request failed): `latencies.proxy` is -1 and the whole
   * exchange is the gateway's own time.
   */
  clearUpstream(): void;
}
