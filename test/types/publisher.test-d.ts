// KafkaLogPublisher as users type it (the published declarations of `kafka-log`): its options and their unions,
// the typed event map, stats, and what publish/flush/close/connect give back.
import { expectTypeOf } from 'expect-type';
import {
  type Acks,
  type AuthenticationOptions,
  type CloseOptions,
  type CompressionType,
  type ConnectionEvent,
  DROP_REASONS,
  type DeliveredEvent,
  type DeliveryFailureEvent,
  type DropEvent,
  type DropReason,
  type KafkaLogError,
  KafkaLogPublisher,
  type KafkaLogPublisherOptions,
  type LogEntry,
  type LogEvent,
  PUBLISHER_DEFAULTS,
  type PublishMeta,
  type PublisherEventMap,
  PublisherEvents,
  type PublisherListener,
  type PublisherLogLevel,
  type PublisherStats,
  type RegistryOptions,
  type ReportedEvent,
  type RetryEvent,
  type TlsOptions,
  type Transport,
  type TransportConfig,
  TransportError,
  type TransportFactory,
  type TransportHooks,
} from 'kafka-log';

const brokers = ['127.0.0.1:9092'];
declare const entry: LogEntry;

// --- options ---------------------------------------------------------------------------------------------------

new KafkaLogPublisher({ brokers, topic: 'logs' });
new KafkaLogPublisher({ brokers: [{ host: '127.0.0.1', port: 9092 }, 'kafka-2:9092'], topic: 'logs' });
// @ts-expect-error brokers and topic are required
new KafkaLogPublisher({ brokers });
// @ts-expect-error a broker is "host:port" or { host, port }
new KafkaLogPublisher({ brokers: [9092], topic: 'logs' });
// @ts-expect-error unknown keys are refused (the runtime refuses them too, with the nearest name)
new KafkaLogPublisher({ brokers, topic: 'logs', maxBatchsize: 10 });
// @ts-expect-error numbers are numbers, not strings
new KafkaLogPublisher({ brokers, topic: 'logs', maxBytes: '32mb' });

expectTypeOf<KafkaLogPublisherOptions['compression']>().toEqualTypeOf<CompressionType | undefined>();
expectTypeOf<CompressionType>().toEqualTypeOf<'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'>();
expectTypeOf<KafkaLogPublisherOptions['acks']>().toEqualTypeOf<Acks | undefined>();
expectTypeOf<Acks>().toEqualTypeOf<-1 | 0 | 1>();
// @ts-expect-error Kong's acks are -1, 0 or 1
new KafkaLogPublisher({ brokers, topic: 'logs', acks: 2 });
// @ts-expect-error brotli is no record-batch codec
new KafkaLogPublisher({ brokers, topic: 'logs', compression: 'brotli' });

// Authentication: SASL mechanisms, delegation tokens, OAUTHBEARER through client credentials.
new KafkaLogPublisher({ brokers, topic: 'logs', authentication: { mechanism: 'PLAIN', username: 'u', password: 'p' } });
new KafkaLogPublisher({ brokers, topic: 'logs', authentication: { mechanism: 'SCRAM-SHA-512', username: 'id', password: 'hmac', tokenAuth: true } });
new KafkaLogPublisher({
  brokers,
  topic: 'logs',
  authentication: {
    mechanism: 'OAUTHBEARER',
    oauthBearer: { tokenEndpointUrl: 'https://idp.test/token', clientId: 'c', clientSecret: 's', scopes: ['kafka'], extensions: { logicalCluster: 'lkc-1' } },
  },
});
expectTypeOf<AuthenticationOptions['mechanism']>().toEqualTypeOf<'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER'>();
// @ts-expect-error GSSAPI is not offered
new KafkaLogPublisher({ brokers, topic: 'logs', authentication: { mechanism: 'GSSAPI' } });
// @ts-expect-error a mechanism is required
new KafkaLogPublisher({ brokers, topic: 'logs', authentication: { username: 'u', password: 'p' } });

// TLS: `true` for defaults, or the details (PEM text or buffers, several CAs).
new KafkaLogPublisher({ brokers, topic: 'logs', tls: true });
new KafkaLogPublisher({ brokers, topic: 'logs', tls: { ca: ['PEM-1', Buffer.from('PEM-2')], cert: 'PEM', key: Buffer.from('KEY'), verify: false, servername: 'kafka' } });
expectTypeOf<KafkaLogPublisherOptions['tls']>().toEqualTypeOf<boolean | TlsOptions | undefined>();
// @ts-expect-error `verify` is a boolean (Kong's ssl_verify)
new KafkaLogPublisher({ brokers, topic: 'logs', tls: { verify: 'no' } });
// @ts-expect-error no file paths: PEM text or buffers
new KafkaLogPublisher({ brokers, topic: 'logs', tls: { ca: new URL('file:///ca.pem') } });

// Schema registry: kafka-log's options or Kong's block, with the registry's authentication modes.
const registry: RegistryOptions = {
  url: 'http://127.0.0.1:8081',
  auth: { mode: 'basic', username: 'key', password: 'secret' },
  valueSchema: { subject: 'logs-value', version: 'latest' },
  keySchema: { subject: 'logs-key', version: 3 },
};
new KafkaLogPublisher({ brokers, topic: 'logs', schemaRegistry: registry });
new KafkaLogPublisher({
  brokers,
  topic: 'logs',
  schemaRegistry: {
    url: 'https://sr.test',
    auth: { mode: 'oauth2', tokenEndpoint: 'https://idp.test/token', clientId: 'c', clientSecret: 's', grantType: 'client_credentials' },
    valueSchema: { subject: 'logs-value', version: 1 },
  },
});
new KafkaLogPublisher({
  brokers,
  topic: 'logs',
  schemaRegistry: { confluent: { url: 'http://127.0.0.1:8081', ttl: 60, value_schema: { subject_name: 'logs-value', schema_version: 'latest' } } },
});
// @ts-expect-error basic authentication needs its credentials
const noPassword: RegistryOptions = { url: 'http://sr', auth: { mode: 'basic', username: 'key' }, valueSchema: { subject: 's', version: 1 } };
// @ts-expect-error a version is a number or 'latest'
const badVersion: RegistryOptions = { url: 'http://sr', valueSchema: { subject: 's', version: 'newest' } };
void [noPassword, badVersion];

// Routing: functions of the entry; headers static or computed; the logger and its levels; the transport.
new KafkaLogPublisher({
  brokers,
  topic: 'logs',
  key: (logged) => logged.request.headers['x-tenant']?.toString(),
  selectTopic: (logged) => (logged.response.status >= 500 ? 'errors' : undefined),
  allowedTopics: ['errors'],
  messageHeaders: (logged) => ({ source: logged.source }),
  logger: console,
  logLevel: 'warn',
});
// @ts-expect-error a key selector returns a string, a Buffer, null or undefined
new KafkaLogPublisher({ brokers, topic: 'logs', key: (logged: LogEntry) => logged.started_at });
// @ts-expect-error the levels are a closed set
new KafkaLogPublisher({ brokers, topic: 'logs', logLevel: 'trace' });
expectTypeOf<PublisherLogLevel>().toEqualTypeOf<'silent' | 'error' | 'warn' | 'info' | 'debug'>();

// A transport factory receives kafka-log's own view of a client: no Kafka client type leaks.
const memoryTransport: TransportFactory = (config, hooks) => {
  expectTypeOf(config).toEqualTypeOf<TransportConfig>();
  expectTypeOf(hooks).toEqualTypeOf<TransportHooks>();
  expectTypeOf(config.acks).toEqualTypeOf<-1 | 0 | 1>();
  const transport: Transport = { connect: async () => undefined, produce: async () => undefined, close: async () => undefined };
  return transport;
};
new KafkaLogPublisher({ brokers, topic: 'logs', transport: memoryTransport });
new KafkaLogPublisher({ brokers, topic: 'logs', transport: 'platformatic' });
// @ts-expect-error 'kafkajs', 'platformatic' or a factory
new KafkaLogPublisher({ brokers, topic: 'logs', transport: 'rdkafka' });
expectTypeOf(new TransportError('broker', 'refused', true)).toExtend<KafkaLogError>();
// @ts-expect-error the kind is a closed set
new TransportError('network', 'refused', true);

// The defaults, typed as the options they are the defaults of.
expectTypeOf(PUBLISHER_DEFAULTS.maxBatchSize).toEqualTypeOf<number>();
expectTypeOf(PUBLISHER_DEFAULTS.compression).toEqualTypeOf<CompressionType>();
expectTypeOf(PUBLISHER_DEFAULTS.acks).toEqualTypeOf<Acks>();
expectTypeOf(PUBLISHER_DEFAULTS.transport).toEqualTypeOf<'kafkajs' | 'platformatic' | TransportFactory>();
expectTypeOf(PUBLISHER_DEFAULTS).not.toHaveProperty('brokers');
expectTypeOf(PUBLISHER_DEFAULTS).not.toHaveProperty('key');
// @ts-expect-error the defaults are read-only
PUBLISHER_DEFAULTS.maxBytes = 1;

// --- the publisher ---------------------------------------------------------------------------------------------

const publisher = new KafkaLogPublisher({ brokers, topic: 'logs' });
expectTypeOf(publisher.publish(entry)).toEqualTypeOf<Promise<void> | undefined>();
expectTypeOf(publisher.publish).parameter(1).toEqualTypeOf<PublishMeta | undefined>();
publisher.publish(entry, { key: null, topic: 'errors', headers: { tenant: Buffer.from('t1') } });
// @ts-expect-error an entry, not its JSON text
publisher.publish(JSON.stringify(entry));
// @ts-expect-error meta keys are key, topic and headers
publisher.publish(entry, { partition: 3 });
expectTypeOf(publisher.flush()).toEqualTypeOf<Promise<void>>();
expectTypeOf(publisher.connect()).toEqualTypeOf<Promise<void>>();
expectTypeOf(publisher.close).parameter(0).toEqualTypeOf<CloseOptions | undefined>();
expectTypeOf(publisher.close({ timeoutMs: 5000 })).toEqualTypeOf<Promise<void>>();
expectTypeOf(publisher.topic).toBeString();
expectTypeOf(publisher.closed).toBeBoolean();
// @ts-expect-error read-only
publisher.topic = 'other';
expectTypeOf(publisher.reportError).parameter(0).toEqualTypeOf<KafkaLogError>();

// Stats: exact counters, drops by reason, reported failures by error code.
const stats = publisher.stats();
expectTypeOf(stats).toEqualTypeOf<PublisherStats>();
expectTypeOf(stats.accepted).toBeNumber();
expectTypeOf(stats.dropped.byReason).toEqualTypeOf<Record<DropReason, number>>();
expectTypeOf(stats.dropped.byReason.queue_full_bytes).toBeNumber();
expectTypeOf(stats.reported.byCode.KAFKA_LOG_ERR_BODY_PARSE).toEqualTypeOf<number | undefined>();
// @ts-expect-error not a drop reason
void stats.dropped.byReason.overflow;
expectTypeOf(DROP_REASONS).toEqualTypeOf<readonly DropReason[]>();
expectTypeOf<'queue_full_entries' | 'retry_time_exceeded' | 'closed' | 'schema_mismatch'>().toExtend<DropReason>();

// --- the typed event map ---------------------------------------------------------------------------------------

expectTypeOf(PublisherEvents.DROP).toEqualTypeOf<'publisher.drop'>();
expectTypeOf<keyof PublisherEventMap>().toEqualTypeOf<(typeof PublisherEvents)[keyof typeof PublisherEvents]>();

publisher
  .on('publisher.drop', (event) => {
    expectTypeOf(event).toEqualTypeOf<DropEvent>();
    expectTypeOf(event.reason).toEqualTypeOf<DropReason>();
    expectTypeOf(event.error).toEqualTypeOf<KafkaLogError | undefined>();
  })
  .on(PublisherEvents.RETRY, (event) => {
    expectTypeOf(event).toEqualTypeOf<RetryEvent>();
    expectTypeOf(event.error).toEqualTypeOf<KafkaLogError>();
  })
  .on('publisher.delivery_failure', (event) => expectTypeOf(event).toEqualTypeOf<DeliveryFailureEvent>())
  .on('publisher.delivered', (event) => expectTypeOf(event.durationMs).toBeNumber())
  .on('publisher.connect', (event) => expectTypeOf(event).toEqualTypeOf<ConnectionEvent>())
  .once('publisher.disconnect', (event) => expectTypeOf(event.brokers).toEqualTypeOf<readonly string[]>())
  .once('publisher.reported', (event) => expectTypeOf(event).toEqualTypeOf<ReportedEvent>())
  .on('publisher.log', (event) => {
    expectTypeOf(event).toEqualTypeOf<LogEvent>();
    expectTypeOf(event.level).toEqualTypeOf<'error' | 'warn' | 'info' | 'debug'>();
  });

const onDelivered: PublisherListener<'publisher.delivered'> = (event) => expectTypeOf(event).toEqualTypeOf<DeliveredEvent>();
expectTypeOf(publisher.on('publisher.delivered', onDelivered)).toEqualTypeOf<KafkaLogPublisher>();
publisher.off('publisher.delivered', onDelivered);
// Async listeners are accepted (their rejections are isolated).
publisher.on('publisher.drop', async () => undefined);

// @ts-expect-error no such event (and deliberately no 'error' event)
publisher.on('error', () => undefined);
// @ts-expect-error a drop listener does not receive a retry event
publisher.on('publisher.drop', (event: RetryEvent) => void event);
// @ts-expect-error the listener removed must be one of that event
publisher.off('publisher.drop', onDelivered);
