/**
 * `kafka-log tail`: reads a topic of log entries and prints one line per entry (or the raw JSON), with filters.
 *
 * @module
 */
import { SecretSet } from '../secrets.js';
import { type ConsumedRecord, readTopic } from './kafka-consumer.js';
import { type FlagSpec, booleanFlag, integerFlag, parseFlags, stringFlag } from './args.js';
import { CONNECTION_FLAGS, CONNECTION_HELP, PASSWORD_ENV, connectionFromFlags } from './connection.js';
import { DecodeError, decodeEntries, loadRegistryDecoder, type RegistryDecoder } from './decode.js';
import { type CliIo, ExitCode, UsageError } from './io.js';
import { compileEntryFilter } from './tail-filter.js';
import { maskText } from './mask.js';
import { formatEntryLine, useColor } from './tail-format.js';
import { printableError, terminalJson } from './terminal-text.js';

/** The environment variable holding the schema registry's basic-auth password. */
const REGISTRY_PASSWORD_ENV = 'KAFKA_LOG_REGISTRY_PASSWORD';

/** `kafka-log tail --help`. */
export const TAIL_HELP = `Usage: kafka-log tail --brokers host:port[,host:port] --topic TOPIC [options]

Prints one line per log entry: time (ISO), method, status, latency, URI, client IP.
Follows the topic (new entries only) until Ctrl-C unless told otherwise. Batch messages (JSON arrays) are unrolled.

Reading:
  --topic TOPIC            the topic to read (required; it must exist, it is never created)
  --from-beginning         start at the earliest entry instead of new ones only
  --no-follow              stop after the entries present at the start
  --max N                  stop after printing N entries
  --json                   print each entry as one line of JSON instead

Filters (all must match):
  --status SPEC            5xx, 404, >=400, <300 ... comma-separated for several
  --method M[,M]           request method(s)
  --route R                route name, path or id (e.g. /orders/:id)
  --min-latency MS         latencies.request at least MS

Schema registry (values in Confluent wire format):
  --registry URL           decode through this registry (needs @kafkajs/confluent-schema-registry)
  --registry-username U    basic-auth user; password from ${REGISTRY_PASSWORD_ENV}

${CONNECTION_HELP}

  -h, --help               this help`;

const TAIL_FLAGS: FlagSpec = {
  ...CONNECTION_FLAGS,
  topic: { type: 'string' },
  'from-beginning': { type: 'boolean' },
  'no-follow': { type: 'boolean' },
  max: { type: 'string' },
  json: { type: 'boolean' },
  status: { type: 'string' },
  method: { type: 'string' },
  route: { type: 'string' },
  'min-latency': { type: 'string' },
  registry: { type: 'string' },
  'registry-username': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function registrySettings(url: string | undefined, username: string | undefined, env: CliIo['env']) {
  if (url === undefined) {
    if (username !== undefined) throw new UsageError('--registry-username needs --registry');
    return undefined;
  }
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--registry must be an http(s) URL, got "${maskText(url)}"`);
  if (username === undefined) return { url };
  const password = env[REGISTRY_PASSWORD_ENV];
  if (password === undefined) throw new UsageError(`--registry-username needs the ${REGISTRY_PASSWORD_ENV} environment variable`);
  return { url, auth: { username, password } };
}

/** Runs `kafka-log tail`; resolves to the exit code. Throws {@link UsageError} for bad flags. */
export async function runTail(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseFlags(argv, TAIL_FLAGS, false);
  if (booleanFlag(args, 'help')) {
    io.stdout.write(`${TAIL_HELP}\n`);
    return ExitCode.OK;
  }
  const connection = connectionFromFlags(args, io.env);
  const topic = stringFlag(args, 'topic');
  if (topic === undefined || topic === '') throw new UsageError('--topic is required');
  const max = integerFlag(args, 'max');
  const minLatency = integerFlag(args, 'min-latency');
  const filter = compileEntryFilter({
    ...(stringFlag(args, 'status') === undefined ? {} : { status: stringFlag(args, 'status') }),
    ...(stringFlag(args, 'method') === undefined ? {} : { method: stringFlag(args, 'method') }),
    ...(stringFlag(args, 'route') === undefined ? {} : { route: stringFlag(args, 'route') }),
    ...(minLatency === undefined ? {} : { minLatency }),
  });
  const registry = registrySettings(stringFlag(args, 'registry'), stringFlag(args, 'registry-username'), io.env);
  // A broker or registry may quote what it was sent: the passwords are removed from every message printed.
  const secrets = new SecretSet().add(io.env[PASSWORD_ENV], stringFlag(args, 'username')).add(registry?.auth?.password, registry?.auth?.username);
  const printable = (error: unknown) => printableError(error, secrets);
  const json = booleanFlag(args, 'json');
  const color = !json && useColor(io.stdout.isTTY, io.env);
  if (max === 0) return ExitCode.OK;

  let decoder: RegistryDecoder | undefined;
  try {
    decoder = registry ? await loadRegistryDecoder(registry) : undefined;
  } catch (error) {
    io.stderr.write(`kafka-log tail: ${printable(error)}\n`);
    return ExitCode.ERROR;
  }

  let printed = 0;
  const onRecord = async (record: ConsumedRecord): Promise<boolean> => {
    let entries: unknown[];
    try {
      entries = await decodeEntries(record.value, decoder);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      io.stderr.write(`kafka-log tail: ${record.topic}/${record.partition}@${record.offset}: ${printable(error)}\n`);
      return true;
    }
    for (const entry of entries) {
      if (!filter(entry)) continue;
      io.stdout.write(`${json ? terminalJson(entry) : formatEntryLine(entry, color)}\n`);
      printed += 1;
      if (max !== undefined && printed >= max) return false;
    }
    return true;
  };

  try {
    await readTopic(
      { ...connection, clientId: 'kafka-log-tail' },
      {
        topic,
        fromBeginning: booleanFlag(args, 'from-beginning'),
        follow: !booleanFlag(args, 'no-follow'),
        onRecord,
        ...(io.signal ? { signal: io.signal } : {}),
      },
    );
  } catch (error) {
    io.stderr.write(`kafka-log tail: ${printable(error)}\n`);
    return ExitCode.ERROR;
  }
  return ExitCode.OK;
}
