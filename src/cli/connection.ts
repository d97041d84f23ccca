/**
 * Connection flags shared by commands that talk to Kafka: brokers, SASL, TLS. The password comes from the
 * `KAFKA_LOG_PASSWORD` environment variable, never from a flag (flags show in `ps` and shell history).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { TopicReaderConfig } from './kafka-consumer.js';
import type { TransportSasl } from '../transport/transport.js';
import { type FlagSpec, type ParsedArgs, integerFlag, stringFlag, booleanFlag } from './args.js';
import { UsageError } from './io.js';

/** The environment variable holding the SASL password. */
export const PASSWORD_ENV = 'KAFKA_LOG_PASSWORD';

/** Default connection timeout, ms: long enough for a slow TLS handshake, short enough to fail fast. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Flags of {@link connectionFromFlags}. */
export const CONNECTION_FLAGS: FlagSpec = {
  brokers: { type: 'string' },
  'sasl-mechanism': { type: 'string' },
  username: { type: 'string' },
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  'tls-no-verify': { type: 'boolean' },
  'connect-timeout': { type: 'string' },
};

/** Help text of the connection flags. */
export const CONNECTION_HELP = `Connection:
  --brokers host:port[,host:port]  bootstrap brokers (required)
  --sasl-mechanism M               PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (needs --username and ${PASSWORD_ENV})
  --username NAME                  SASL user; the password is read from the ${PASSWORD_ENV} environment variable
  --tls                            connect with TLS (verifying the broker's certificate)
  --ca FILE                        PEM file of the CA(s) to trust (implies --tls)
  --tls-no-verify                  do not verify the broker's certificate (testing only)
  --connect-timeout MS             longest wait to reach a broker (default ${DEFAULT_CONNECT_TIMEOUT_MS})`;

const MECHANISMS = new Set(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);

/** Parses `h:p[,h:p]`; anything else is a usage error. */
export function parseBrokers(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') throw new UsageError('--brokers is required (host:port[,host:port])');
  return value.split(',').map((broker) => {
    const trimmed = broker.trim();
    const match = /^(.+):(\d{1,5})$/.exec(trimmed);
    if (!match || Number(match[2]) > 65535) throw new UsageError(`--brokers: "${trimmed}" is not host:port`);
    return trimmed;
  });
}

/** Builds the reader's connection settings from the flags and the environment. */
export function connectionFromFlags(
  args: ParsedArgs,
  env: Readonly<Record<string, string | undefined>>,
): Omit<TopicReaderConfig, 'clientId'> {
  const brokers = parseBrokers(stringFlag(args, 'brokers'));
  const connectionTimeout = integerFlag(args, 'connect-timeout') ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let sasl: TransportSasl | undefined;
  const mechanism = stringFlag(args, 'sasl-mechanism')?.toUpperCase();
  const username = stringFlag(args, 'username');
  if (mechanism !== undefined) {
    if (!MECHANISMS.has(mechanism)) {
      throw new UsageError(`--sasl-mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got "${mechanism}"`);
    }
    if (username === undefined) throw new UsageError('--sasl-mechanism needs --username');
    const password = env[PASSWORD_ENV];
    if (password === undefined || password === '') throw new UsageError(`--sasl-mechanism needs the ${PASSWORD_ENV} environment variable`);
    sasl = { mechanism: mechanism as TransportSasl['mechanism'], username, password };
  } else if (username !== undefined) {
    throw new UsageError('--username needs --sasl-mechanism');
  }
  const caFile = stringFlag(args, 'ca');
  const noVerify = booleanFlag(args, 'tls-no-verify');
  let tls: TopicReaderConfig['tls'];
  if (booleanFlag(args, 'tls') || caFile !== undefined || noVerify) {
    tls = { rejectUnauthorized: !noVerify };
    if (caFile !== undefined) {
      try {
        tls.ca = readFileSync(caFile, 'utf8');
      } catch (error) {
        throw new UsageError(`--ca: cannot read ${caFile}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return { brokers, connectionTimeout, tls, sasl };
}
