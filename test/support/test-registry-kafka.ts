// Helpers of the registry integration tests: kafkajs produce/consume of raw bytes, the Python interop consumer,
// and the normalisation of a protobuf object (Struct / Value, int64 as text) back to Kong's plain JSON.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { LOG_ENTRY, type RecordDefinition } from '../../src/entry/definition.js';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
/** The interop venv (scripts/interop/setup.sh creates it). */
export const PYTHON_VENV = process.env.KAFKA_LOG_PY_VENV ?? join(ROOT, '.local', 'py');

/** A kafkajs client of the local broker. */
export function kafkaClient(brokers: string[]): Kafka {
  return new Kafka({ clientId: `registry-test-${randomUUID().slice(0, 8)}`, brokers, logLevel: logLevel.NOTHING });
}

/** Creates a one-partition topic and waits until it has a leader. */
export async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: false });
    for (let i = 0; i < 100; i++) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      if (metadata?.topics[0]?.partitions[0]?.leader !== undefined && metadata.topics[0].partitions[0].leader >= 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`topic ${topic} got no leader`);
  } finally {
    await admin.disconnect();
  }
}

/** Reads `count` raw messages of a topic from the start. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<{ key: Buffer | null; value: Buffer }[]> {
  const consumer = kafka.consumer({ groupId: `registry-test-${randomUUID()}` });
  const messages: { key: Buffer | null; value: Buffer }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${count} messages of ${topic}`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push({ key: message.key, value: message.value as Buffer });
          if (messages.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** Runs scripts/interop/setup.sh (idempotent) and returns how long it took, ms. */
export async function setUpPython(): Promise<number> {
  const started = Date.now();
  await run(join(ROOT, 'scripts', 'interop', 'setup.sh'), [PYTHON_VENV], { timeout: 600_000 });
  return Date.now() - started;
}

/** One line of scripts/interop/consume.py. */
export interface PythonRecord {
  partition: number;
  offset: number;
  key: unknown;
  value: Record<string, unknown>;
}

/** Reads a topic with Confluent's own Python deserializers (scripts/interop/consume.py). */
export async function consumeWithPython(options: {
  brokers: string[];
  registryUrl: string;
  topic: string;
  type: 'avro' | 'json' | 'protobuf';
  keyType?: 'avro' | 'json' | 'protobuf' | 'string';
  count: number;
}): Promise<PythonRecord[]> {
  const { stdout } = await run(
    join(PYTHON_VENV, 'bin', 'python'),
    [
      join(ROOT, 'scripts', 'interop', 'consume.py'),
      '--bootstrap',
      options.brokers.join(','),
      '--registry',
      options.registryUrl,
      '--topic',
      options.topic,
      '--type',
      options.type,
      '--key-type',
      options.keyType ?? 'string',
      '--count',
      String(options.count),
    ],
    { timeout: 120_000, maxBuffer: 32 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as PythonRecord);
}

const VALUE_KINDS = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'];

/** protobufjs `toObject` of Struct / Value / ListValue back to plain JSON, recursively. */
export function protobufStructsToJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(protobufStructsToJson);
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && VALUE_KINDS.includes(keys[0] as string)) {
    const kind = keys[0] as string;
    if (kind === 'nullValue') return null;
    if (kind === 'structValue') return protobufStructsToJson(object.structValue);
    if (kind === 'listValue') return ((object.listValue as { values?: unknown[] }).values ?? []).map(protobufStructsToJson);
    return object[kind];
  }
  if (keys.length <= 1 && (keys.length === 0 || keys[0] === 'fields') && 'fields' in object) {
    const fields = object.fields as Record<string, unknown>;
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, protobufStructsToJson(v)]));
  }
  return Object.fromEntries(keys.map((key) => [key, protobufStructsToJson(object[key])]));
}

/** The paths of the entry's int64 fields (sizes and milliseconds), which protobuf's canonical JSON writes as text. */
function int64Paths(record: RecordDefinition, prefix: string[] = []): string[][] {
  return record.fields.flatMap((field) => {
    const path = [...prefix, field.name];
    if (field.type === 'size' || field.type === 'milliseconds') return [path];
    return typeof field.type === 'object' && field.type.kind === 'record' ? int64Paths(field.type, path) : [];
  });
}
const INT64_PATHS = int64Paths(LOG_ENTRY);

/** A decoded KongLogEntry (canonical protobuf JSON) back to Kong's entry: int64 text to numbers, `custom` lifted. */
export function fromProtobufJson(value: Record<string, unknown>): Record<string, unknown> {
  const entry = structuredClone(value);
  for (const path of INT64_PATHS) {
    let parent: Record<string, unknown> | undefined = entry;
    for (const key of path.slice(0, -1)) parent = parent?.[key] as Record<string, unknown> | undefined;
    const last = path[path.length - 1] as string;
    if (parent && typeof parent[last] === 'string') parent[last] = Number(parent[last]);
  }
  const { custom, ...rest } = entry as { custom?: Record<string, unknown> };
  return { ...rest, ...(custom ?? {}) };
}
