/**
 * `fromKongConfig`: takes Kong 3.16's Kafka Log plugin configuration unchanged (snake_case, as in a declarative
 * config; the whole plugin object or just its `config`) and returns the publisher's camelCase options with
 * Kong's defaults applied and Kong's queue seconds turned into milliseconds, following the options table of
 * `kong-fields.ts`. Errors name Kong's field path.
 *
 * @module
 */
import { InvalidOptionError, type OptionProblem } from '../errors.js';
import { OptionProblems, describeValue, isPlainObject } from '../options/check.js';
import { KongTable, type OptionsTableRow, isPresent, optionsTableOf } from '../options/kong-table.js';
import { SecretSet } from '../secrets.js';
import { KONG_FIELDS, PUBLISHER_OPTION_ROWS } from './kong-fields.js';
import { type KafkaLogPublisherOptions, PUBLISHER_OPTIONS, type Pem, resolvePublisherOptions } from './publisher-options.js';
import { type VaultOptions, resolveVaultReferences } from './vault-references.js';

/** A client certificate for Kong's `security.certificate_id` (Kong keeps it in a Certificate entity). */
export interface KongCertificate {
  /** PEM certificate. */
  cert: Pem;
  /** PEM private key. */
  key: Pem;
}

/** What Kong keeps outside the plugin config, and options that have no Kong name. */
export interface FromKongConfigExtras {
  /** Certificates by id, for `security.certificate_id`. */
  certificates?: Readonly<Record<string, KongCertificate>>;
  /** Trusted CAs for `security.ssl` (Kong uses its `lua_ssl_trusted_certificate`). Default: Node's roots. */
  ca?: Pem | Pem[];
  /** Any camelCase option to add or override (functions such as `key`, a `logger`...). */
  overrides?: Partial<KafkaLogPublisherOptions>;
  /**
   * How vault references (`{vault://env/kafka-password}`) are resolved: the environment the `env` vault reads,
   * and a resolver for other vaults. See the README's "Vault references".
   */
  vault?: VaultOptions;
}

/**
 * Every field of Kong 3.16's Kafka Log configuration and every publisher option, in the order of the README's
 * options table (which is generated from it): Kong's path, the option it becomes, the default, Kong's limits.
 */
export const PUBLISHER_OPTIONS_TABLE: readonly OptionsTableRow[] = optionsTableOf(PUBLISHER_OPTION_ROWS, PUBLISHER_OPTIONS);

/** A Kong field and the option it becomes. */
export interface KongOptionMapping {
  /** Kong's field path below `config`. */
  readonly kong: string;
  /** The option path (several joined by ` + `). */
  readonly option: string;
}

/** The Kong fields that become an option, and the option each becomes (rows of {@link PUBLISHER_OPTIONS_TABLE}). */
export const KONG_OPTION_MAP: readonly KongOptionMapping[] = PUBLISHER_OPTIONS_TABLE.flatMap((row) =>
  row.kong === undefined || row.option === undefined ? [] : [{ kong: row.kong, option: row.option }],
);

const KONG_TABLE = new KongTable<FromKongConfigExtras>(KONG_FIELDS);

// Kong's `authentication` is used when its strategy is set: only then do its fields mean anything.
function finishAuthentication(block: Readonly<Record<string, unknown>>, out: Record<string, unknown>, prefix: string, problems: OptionProblems): void {
  const auth = isPlainObject(block.authentication) ? block.authentication : undefined;
  if (auth !== undefined && isPresent(auth.strategy)) {
    out.authentication ??= {};
    return;
  }
  if (auth !== undefined && (isPresent(auth.mechanism) || isPresent(auth.user))) {
    problems.add(`${prefix}authentication.strategy`, 'must be "sasl" when a mechanism or user is given');
  }
  delete out.authentication;
}

// Kong's `security` turns TLS on with `ssl: true` only; the CAs come from outside the plugin (`extras.ca`).
function finishTls(out: Record<string, unknown>, extras: FromKongConfigExtras): void {
  const tls = out.tls;
  if (!isPlainObject(tls) || tls.enabled !== true) {
    delete out.tls;
    return;
  }
  if (extras.ca !== undefined) tls.ca = extras.ca;
}

/**
 * Converts Kong 3.16's Kafka Log plugin configuration (the plugin object with its `config`, or the `config`
 * alone, snake_case and unchanged) into {@link KafkaLogPublisherOptions}, Kong's defaults applied. Kong's schema
 * is enforced (unknown fields with the nearest known name, required fields, types, `between` and `one_of`
 * limits), then the options are checked once, and every problem is reported by Kong's field name. `queue`
 * (Kong's shared logging queue: `max_batch_size`, delays in seconds...) is accepted too.
 * `new_kafka_async_producer` is accepted and has no effect: kafka-log's single producer already batches across
 * requests. `custom_fields_by_lua` values are carried as they are: they must be JavaScript (`kafka-log
 * check-config` compiles them). Vault references in the credential fields are resolved once, here (`env` built
 * in, others through `extras.vault.resolve`), and their values join the `secrets` option.
 *
 * @throws {@link InvalidOptionError} whose `problems` name Kong's fields (e.g. `config.security.ssl_verify`).
 */
export function fromKongConfig(config: unknown, extras: FromKongConfigExtras = {}): KafkaLogPublisherOptions {
  const problems = new OptionProblems();
  let prefix = '';
  let block: unknown = config;
  if (isPlainObject(config) && isPlainObject(config.config)) {
    if (isPresent(config.name) && config.name !== 'kafka-log') {
      problems.add('name', `must be "kafka-log", got ${describeValue(config.name)}`);
    }
    prefix = 'config.';
    block = config.config;
  }
  if (!isPlainObject(block)) throw new InvalidOptionError('config', `must be an object, got ${describeValue(block)}`);
  const vault = resolveVaultReferences(block, prefix, extras.vault ?? {}, problems);
  const resolved = vault.block;
  KONG_TABLE.check(prefix, resolved, problems);
  const converted = KONG_TABLE.convert(resolved, extras, prefix, problems);
  finishAuthentication(resolved, converted, prefix, problems);
  finishTls(converted, extras);
  const options = { ...converted, ...extras.overrides } as KafkaLogPublisherOptions;
  if (vault.secrets.length > 0) options.secrets = [...(options.secrets ?? []), ...vault.secrets];
  try {
    resolvePublisherOptions(options);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const overridden = (problem: OptionProblem) => extras.overrides !== undefined && Object.hasOwn(extras.overrides, problem.field.split(/[.[]/)[0] ?? '');
    // A refused override keeps its camelCase name: it did not come from Kong's configuration.
    for (const problem of error.problems.filter(overridden)) problems.add(problem.field, problem.problem);
    const fromKong = error.problems.filter((problem) => !overridden(problem));
    for (const problem of KONG_TABLE.renameProblems(fromKong, resolved, prefix, problems)) problems.add(problem.field, problem.problem);
  }
  if (vault.secrets.length > 0) withoutSecrets(problems, vault.secrets).throwIfAny();
  problems.throwIfAny();
  return options;
}

// A check may quote a field's value: a value a vault reference resolved to is removed from every problem.
function withoutSecrets(problems: OptionProblems, secrets: readonly string[]): OptionProblems {
  const set = new SecretSet();
  for (const secret of secrets) set.add(secret);
  const clean = new OptionProblems();
  for (const { field, problem } of problems.list()) clean.add(field, set.scrub(problem));
  return clean;
}
