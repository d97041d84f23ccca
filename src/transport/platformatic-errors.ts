/**
 * Classifies @platformatic/kafka failures as {@link TransportError}s. The client nests its errors: a
 * `MultipleErrors` of spent retries holds one error per attempt, a `NetworkError` ("connection failed") holds the
 * SASL or TLS failure as its `cause`, a `ResponseError` holds one `ProtocolError` per refused partition. The whole
 * tree is read, so a wrong password is an authentication failure although the client calls it a retriable
 * network error.
 *
 * @module
 */
import { KafkaLogError } from '../errors.js';
import { isTlsErrorCode, kafkaErrorKind } from './kafka-errors.js';
import { lostProducerState } from './producer-sequences.js';
import { TransportError, transportErrorOf } from './transport.js';

interface PlatformaticErrorLike {
  name?: string;
  message?: string;
  code?: string | number;
  /** ProtocolError: Kafka's error name, e.g. `SASL_AUTHENTICATION_FAILED`. */
  apiId?: string;
  /** Whether the client would retry it. */
  canRetry?: boolean;
  cause?: unknown;
  errors?: unknown[];
}

const MAX_NODES = 64;

/** Every error of the tree, breadth first (the outermost first). */
function errorTree(error: unknown): PlatformaticErrorLike[] {
  const out: PlatformaticErrorLike[] = [];
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0 && out.length < MAX_NODES) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const e = current as PlatformaticErrorLike;
    out.push(e);
    if (Array.isArray(e.errors)) queue.push(...e.errors);
    if (e.cause !== undefined) queue.push(e.cause);
  }
  return out;
}

// "Producing messages failed." says little: the innermost distinct messages say what happened.
function describe(tree: PlatformaticErrorLike[], fallback: unknown): string {
  const messages = [...new Set(tree.map((e) => e.message).filter((m): m is string => Boolean(m)))];
  if (messages.length === 0) return String(fallback);
  const [outer, ...inner] = messages;
  return inner.length === 0 ? (outer as string) : `${outer} (${inner.slice(-2).join('; ')})`;
}

/** Options of {@link classifyPlatformaticError}. */
interface ClassifyOptions {
  /** Classify by the other failures of the tree: the records refused for their size are accounted for apart. */
  ignoreTooLarge?: boolean;
}

// The client's own TimeoutError (its `code` is the network error's, so the class tells it apart).
const isClientTimeout = (e: PlatformaticErrorLike): boolean => e.constructor?.name === 'TimeoutError';

/**
 * Whether the client gave up waiting for an answer (a request or a connection attempt outlived its timeout), as
 * opposed to a broker that answered "timed out" (`REQUEST_TIMED_OUT`, over a connection that works).
 */
export function clientTimedOut(error: unknown): boolean {
  return errorTree(error).some(isClientTimeout);
}

/** Classifies a @platformatic/kafka failure. Messages are the client's own, which carry no credentials. */
export function classifyPlatformaticError(error: unknown, options: ClassifyOptions = {}): TransportError {
  const tree = errorTree(error);
  for (const e of tree) if (e instanceof KafkaLogError) return transportErrorOf(e);
  const message = describe(tree, error);
  for (const e of tree) {
    if (e.code === 'PLT_KFK_AUTHENTICATION' || kafkaErrorKind(e.apiId) === 'authentication') {
      return new TransportError('authentication', `authentication failed: ${message}`, false);
    }
    // The client's own codes start with PLT_KFK_.
    if (typeof e.code === 'string' && !e.code.startsWith('PLT_KFK_') && isTlsErrorCode(e.code)) {
      return new TransportError('authentication', `TLS handshake failed: ${e.message ?? message}`, false);
    }
    if (!options.ignoreTooLarge && kafkaErrorKind(e.apiId) === 'message_too_large') {
      return new TransportError('message_too_large', `the broker refused the batch: ${message}`, false);
    }
  }
  // A request the client gave up waiting for may still be answered: the publisher retries it (safe with an
  // idempotent producer, whose retry carries the same sequence numbers).
  const timeout = tree.some((e) => isClientTimeout(e) || e.apiId === 'REQUEST_TIMED_OUT');
  // The client's spent retries over a transient cause (broker down, leader moving) stay worth retrying later.
  // A topic being auto-created is "unknown" for a moment (kafkajs retries UNKNOWN_TOPIC_OR_PARTITION too).
  const retriable =
    timeout || tree.some((e) => e.canRetry === true || e.code === 'PLT_KFK_NETWORK' || /^Unknown topic /.test(e.message ?? ''));
  return new TransportError(timeout ? 'timeout' : 'broker', message, retriable);
}

/**
 * The Kafka error of a failure that says the broker no longer accepts the producer's id, epoch or sequence numbers
 * (see {@link lostProducerState}), or `undefined`.
 */
export function platformaticLostProducerState(error: unknown): string | undefined {
  return errorTree(error).find((e) => lostProducerState(e.apiId))?.apiId;
}

/** How a partition is named in {@link partitionOutcomes}. */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

interface PartitionAnswer {
  name?: string;
  partitionResponses?: Array<{ index?: number; errorCode?: number }>;
}

/**
 * The partitions a failed send's answers say were written, and those refused for their size: read from every
 * produce answer in the error (the client keeps it on a `ResponseError`) and from its report of the brokers
 * that answered (`produced`).
 */
export function partitionOutcomes(error: unknown): { written: Set<string>; tooLarge: Set<string> } {
  const written = new Set<string>();
  const tooLarge = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (node: unknown, depth: number): void => {
    if (!node || typeof node !== 'object' || seen.has(node) || depth > 8) return;
    seen.add(node);
    const e = node as {
      response?: { responses?: PartitionAnswer[] };
      produced?: { offsets?: Array<{ topic: string; partition: number }> };
      errors?: unknown[];
      cause?: unknown;
    };
    for (const answer of Array.isArray(e.response?.responses) ? e.response.responses : []) {
      for (const partition of answer.partitionResponses ?? []) {
        if (typeof answer.name !== 'string' || typeof partition.index !== 'number') continue;
        const key = partitionKey(answer.name, partition.index);
        if (partition.errorCode === 0) written.add(key);
        else if (kafkaErrorKind(partition.errorCode) === 'message_too_large') tooLarge.add(key);
      }
    }
    for (const { topic, partition } of e.produced?.offsets ?? []) written.add(partitionKey(topic, partition));
    if (Array.isArray(e.errors)) for (const inner of e.errors) visit(inner, depth + 1);
    visit(e.cause, depth + 1);
  };
  visit(error, 0);
  return { written, tooLarge };
}
