// Kong's configuration, as users hand it over: fromKongConfig and fromKongSchemaRegistry, the options tables.
import { expectTypeOf } from 'expect-type';
import {
  type FromKongConfigExtras,
  KONG_OPTION_MAP,
  KafkaLogPublisher,
  type KafkaLogPublisherOptions,
  type KongOptionMapping,
  type KongSchemaRegistryConfig,
  type KongType,
  type OptionsTableRow,
  PUBLISHER_OPTIONS_TABLE,
  type RegistryOptions,
  SCHEMA_REGISTRY_OPTIONS_TABLE,
  fromKongConfig,
  fromKongSchemaRegistry,
} from 'kafka-log';

// Kong's plugin object (or its `config`) is taken as it comes: parsed YAML or JSON, not yet known to be right.
declare const parsedYaml: unknown;
expectTypeOf(fromKongConfig(parsedYaml)).toEqualTypeOf<KafkaLogPublisherOptions>();
expectTypeOf(fromKongConfig).parameter(0).toBeUnknown();
new KafkaLogPublisher(fromKongConfig({ config: { bootstrap_servers: [{ host: '127.0.0.1', port: 9092 }], topic: 'kong-log' } }));

// What Kong keeps outside the plugin config, and camelCase overrides (functions Kong's config cannot hold).
const extras: FromKongConfigExtras = {
  certificates: { 'cert-1': { cert: 'PEM', key: Buffer.from('KEY') } },
  ca: ['PEM-1', 'PEM-2'],
  overrides: { key: (entry) => entry.request.id, logger: false, transport: 'platformatic' },
};
fromKongConfig(parsedYaml, extras);
// @ts-expect-error a certificate needs its key
fromKongConfig(parsedYaml, { certificates: { 'cert-1': { cert: 'PEM' } } });
// @ts-expect-error overrides are camelCase options
fromKongConfig(parsedYaml, { overrides: { max_batch_size: 10 } });
// @ts-expect-error overrides are checked like the options themselves
fromKongConfig(parsedYaml, { overrides: { maxBatchSize: '10' } });

// Kong's schema_registry block, typed field by field.
const kongRegistry: KongSchemaRegistryConfig = {
  confluent: {
    url: 'https://sr.test',
    ssl_verify: true,
    ttl: 300,
    authentication: { mode: 'oauth2', oauth2: { token_endpoint: 'https://idp.test/token', client_id: 'c', client_secret: 's', audience: ['sr'] } },
    value_schema: { subject_name: 'kong-value', schema_version: '2' },
  },
};
expectTypeOf(fromKongSchemaRegistry(kongRegistry)).toEqualTypeOf<RegistryOptions | undefined>();
fromKongSchemaRegistry(null);
fromKongSchemaRegistry({ confluent: undefined });
// @ts-expect-error Kong's authentication modes are none, basic and oauth2
const badMode: KongSchemaRegistryConfig = { confluent: { authentication: { mode: 'mtls' } } };
// @ts-expect-error Kong's ttl is a number of seconds
const badTtl: KongSchemaRegistryConfig = { confluent: { ttl: '5m' } };
void [badMode, badTtl];

// The tables the README's options sections are generated from.
expectTypeOf(PUBLISHER_OPTIONS_TABLE).toEqualTypeOf<readonly OptionsTableRow[]>();
expectTypeOf(SCHEMA_REGISTRY_OPTIONS_TABLE).toEqualTypeOf<readonly OptionsTableRow[]>();
const row = PUBLISHER_OPTIONS_TABLE[0];
if (row !== undefined) {
  expectTypeOf(row.kong).toEqualTypeOf<string | undefined>();
  expectTypeOf(row.kongType).toEqualTypeOf<KongType | undefined>();
  expectTypeOf(row.between).toEqualTypeOf<readonly [number, number] | undefined>();
  expectTypeOf(row.unit).toEqualTypeOf<'s' | undefined>();
  // @ts-expect-error the rows are read-only
  row.default = 1;
}
expectTypeOf(KONG_OPTION_MAP).toEqualTypeOf<readonly KongOptionMapping[]>();
expectTypeOf<KongOptionMapping>().toEqualTypeOf<{ readonly kong: string; readonly option: string }>();
