/**
 * Puts kafka-log's own Produce request encoder ({@link encodeProduceBody}) under kafkajs, for the requests whose
 * every message the kafkajs transport made: kafkajs keeps connections, metadata, routing, retries and responses,
 * and the request body costs a fraction of kafkajs' own encoding per record (see produce-request-encoder.ts). A
 * request it does not cover, or one made by anyone else's kafkajs producer in the process, keeps kafkajs' encoder.
 *
 * kafkajs (2.x, unchanged since 2023) looks its Produce request builders up through the `protocol` function of
 * `src/protocol/requests/produce/index.js` on every request; that function is wrapped once per process. CRC32C
 * comes from `@node-rs/crc32` (native, an optional dependency) when it loads, else from kafkajs' own.
 *
 * @module
 */

import { describeError } from '../errors.js';
import { type Crc32c, type ProduceMessage, type ProduceRequestArgs, encodeProduceBody } from './produce-request-encoder.js';

/** The property that marks a kafkajs message as the transport's own (its value is the transport's business). */
export const OWN_MESSAGE = Symbol('kafka-log.kafkajsMessage');
const OWN_BATCH = Symbol('kafka-log.recordBatch');

/**
 * One kafkajs message standing for all the records of one partition batch, expanded by the encoder: kafkajs then
 * spends its per-message work (partitioner call, grouping, which copies the partition's message list once per
 * message) once per batch. Only for a producer whose sequence numbers do not count messages (not idempotent), and
 * only once {@link installProduceEncoder} resolved true.
 */
export interface BatchMessage {
  readonly key: null;
  readonly value: null;
  readonly partition: number;
  readonly [OWN_BATCH]: readonly ProduceMessage[];
}

/** The message standing for `records`, all bound for `partition`. */
export function batchMessage(partition: number, records: readonly ProduceMessage[]): BatchMessage {
  return { key: null, value: null, partition, [OWN_BATCH]: records };
}

type ProduceBuilder = (args: ProduceRequestArgs) => { request: { encode: () => Promise<unknown> }; response: unknown };
interface ProduceModule {
  protocol: (options: { version: number }) => ProduceBuilder | undefined;
}
interface EncoderClass {
  new (initialSize?: number): { buf: Buffer; offset: number };
}

// Per process: two copies of kafka-log (its CommonJS and ES module builds) share the one wrapped kafkajs module.
const INSTALLED = Symbol.for('kafka-log.produceEncoder');
let installing: Promise<boolean> | undefined;
let notInstalledBecause: string | undefined;

/**
 * Wraps kafkajs' Produce request builders, once per process. Resolves to whether the encoder is in place (false
 * when kafkajs' internals are not where this version expects them: kafkajs' own encoder then serves every request,
 * and {@link produceEncoderProblem} says why).
 */
export function installProduceEncoder(): Promise<boolean> {
  installing ??= install().catch((error: unknown) => {
    notInstalledBecause = describeError(error);
    return false;
  });
  return installing;
}

/** Why {@link installProduceEncoder} resolved false, once it has. */
export function produceEncoderProblem(): string | undefined {
  return notInstalledBecause;
}

async function install(): Promise<boolean> {
  // Variable specifiers: kafkajs' internal modules have no types, and bundlers must leave them alone.
  const producePath = 'kafkajs/src/protocol/requests/produce/index.js';
  const encoderPath = 'kafkajs/src/protocol/encoder.js';
  const produce = commonJsExports<ProduceModule & { [INSTALLED]?: true }>(await import(producePath));
  const Encoder = commonJsExports<EncoderClass>(await import(encoderPath));
  if (produce[INSTALLED]) return true;
  if (typeof produce.protocol !== 'function' || typeof Encoder !== 'function') {
    notInstalledBecause = `${producePath} or ${encoderPath} is not what kafkajs 2.x has there`;
    return false;
  }
  const crc32c = await loadCrc32c();
  const original = produce.protocol;
  const wrapped = new Map<ProduceBuilder, ProduceBuilder>();
  produce.protocol = (options) => {
    const build = original(options);
    if (typeof build !== 'function' || !(options.version >= 3 && options.version <= 7)) return build;
    let own = wrapped.get(build);
    if (own === undefined) {
      own = (args) => {
        const built = build(args);
        let request: ReturnType<typeof ownRequest>;
        try {
          request = ownRequest(args);
        } catch {
          // Whatever another producer of the process hands kafkajs, its request stays kafkajs' own.
          return built;
        }
        if (request === undefined) return built;
        const fallback = built.request.encode;
        built.request.encode = () => {
          const body = encodeProduceBody(request.args, Date.now(), crc32c);
          if (body === undefined) {
            // kafkajs cannot encode a batch message: refused loudly rather than sent as an empty record.
            return request.batched ? Promise.reject(new Error('kafka-log could not encode a record batch for kafkajs')) : fallback();
          }
          // kafkajs frames the body from its own Encoder: one holding exactly these bytes.
          const encoder = new Encoder(0);
          encoder.buf = body;
          encoder.offset = body.length;
          return Promise.resolve(encoder);
        };
        return built;
      };
      wrapped.set(build, own);
    }
    return own;
  };
  produce[INSTALLED] = true;
  return true;
}

/**
 * The request with its batch messages expanded into their records, when every message of it was made by the
 * transport; `undefined` otherwise (kafkajs' own encoder serves it).
 */
function ownRequest(args: ProduceRequestArgs): { args: ProduceRequestArgs; batched: boolean } | undefined {
  let batched = false;
  for (const topic of args.topicData) {
    for (const partition of topic.partitions) {
      for (const message of partition.messages) {
        if (OWN_BATCH in message) batched = true;
        else if (!(OWN_MESSAGE in message)) return undefined;
      }
    }
  }
  if (!batched) return { args, batched };
  const topicData = args.topicData.map((topic) => ({
    topic: topic.topic,
    partitions: topic.partitions.map((partition) => ({ ...partition, messages: partition.messages.flatMap(recordsOf) })),
  }));
  return { args: { ...args, topicData }, batched };
}

function recordsOf(message: ProduceMessage): readonly ProduceMessage[] {
  return OWN_BATCH in message ? (message as unknown as BatchMessage)[OWN_BATCH] : [message];
}

/** `@node-rs/crc32`'s native CRC32C when it loads, else kafkajs' JavaScript one. */
async function loadCrc32c(): Promise<Crc32c> {
  const nativePath = '@node-rs/crc32';
  try {
    const native = commonJsExports<{ crc32c?: Crc32c }>(await import(nativePath));
    if (typeof native.crc32c === 'function') return native.crc32c;
  } catch {
    // Optional: a platform without its prebuilt binary uses kafkajs' own.
  }
  const fallbackPath = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';
  return commonJsExports<Crc32c>(await import(fallbackPath));
}

/** A CommonJS module's `module.exports`, imported from either build. */
function commonJsExports<T>(loaded: unknown): T {
  const module = loaded as { default?: T };
  return (module.default ?? loaded) as T;
}
