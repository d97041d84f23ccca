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
  type OAuthBearerClientCredentials,
  type OAuthBearerOptions,
  type OAuthBearerProviderOptions,
  type Pem,
  type PublishMeta,
  type SaslMechanism,
  type TlsOptions,
  type TopicSelector,
} from './publisher-options.js';
export type { OAuthBearerToken, OAuthBearerTokenProvider } from './token-provider.js';
export type { SpoolOptions } from '../spool/spool-options.js';
export type { VaultOptions, VaultReference, VaultResolver } from './vault-references.js';
export {
  fromKongConfig,
  KONG_OPTION_MAP,
  PUBLISHER_OPTIONS_TABLE,
  type FromKongConfigExtras,
  type KongCertificate,
  type KongOptionMapping,
} from './kong-plugin-config.js';
export {
  PublisherEvents,
  type ConnectionEvent,
  type DeliveredEvent,
  type DeliveryFailureEvent,
  type DropEvent,
  type DroppedRecord,
  type DroppedRecordsEvent,
  type ReportedEvent,
  type LogEvent,
  type PublisherEventMap,
  type PublisherListener,
  type PublisherLogger,
  type PublisherLogLevel,
  type PublisherLogMethod,
  type RetryEvent,
} from './events.js';
export {
  DROP_REASONS,
  SKIP_REASONS,
  type DropReason,
  type DroppedCounts,
  type PublisherStats,
  type ReportedCounts,
  type SkippedCounts,
  type SkipReason,
} from './stats.js';
export type {
  ProduceRecord,
  ProduceRequest,
  Transport,
  TransportCompression,
  TransportConfig,
  TransportErrorKind,
  TransportErrorOptions,
  TransportFactory,
  TransportHooks,
  TransportLogLevel,
  TransportOAuthToken,
  TransportSasl,
  TransportTls,
} from '../transport/transport.js';
export { TransportError } from '../transport/transport.js';
export type { Redactor } from '../secrets.js';
export { workerTransport } from '../transport/worker.js';
