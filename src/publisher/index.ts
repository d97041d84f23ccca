/**
 * The publisher's public face: what `src/index.ts` re-exports.
 *
 * @module
 */
export { KafkaLogPublisher, type CloseOptions } from './publisher.js';
export {
  PUBLISHER_DEFAULTS,
  type Acks,
  type AuthenticationOptions,
  type BrokerAddress,
  type CompressionType,
  type HeadersSelector,
  type KafkaLogPublisherOptions,
  type KeySelector,
  type OAuthBearerOptions,
  type Pem,
  type PublishMeta,
  type SaslMechanism,
  type TlsOptions,
  type TopicSelector,
} from './options.js';
export {
  fromKongConfig,
  KONG_OPTION_MAP,
  type FromKongConfigExtras,
  type KongCertificate,
  type KongOptionMapping,
} from './kong-config.js';
export {
  PublisherEvents,
  type ConnectionEvent,
  type DeliveredEvent,
  type DeliveryFailureEvent,
  type DropEvent,
  type ReportedEvent,
  type LogEvent,
  type PublisherEventMap,
  type PublisherListener,
  type PublisherLogger,
  type PublisherLogLevel,
  type RetryEvent,
} from './events.js';
export { DROP_REASONS, type DropReason, type DroppedCounts, type PublisherStats, type ReportedCounts } from './stats.js';
export type {
  ProduceRecord,
  ProduceRequest,
  Transport,
  TransportCompression,
  TransportConfig,
  TransportErrorKind,
  TransportFactory,
  TransportHooks,
  TransportLogLevel,
  TransportOAuthToken,
  TransportSasl,
  TransportTls,
} from '../transport/transport.js';
export { TransportError } from '../transport/transport.js';
export { workerTransport } from '../transport/worker.js';
