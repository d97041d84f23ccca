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

const AUTH_API_IDS = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);
const TOO_LARGE_API_IDS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);
// Node's TLS failures carry OpenSSL-style codes; the client's own codes start with PLT_KFK_.
const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;
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

/** Classifies a @platformatic/kafka failure. Messages are the client's own, which carry no credentials. */
export function classifyPlatformaticError(error: unknown): TransportError {
  const tree = errorTree(error);
  for (const e of tree) if (e instanceof KafkaLogError) return transportErrorOf(e);
  const message = describe(tree, error);
  for (const e of tree) {
    if (e.code === 'PLT_KFK_AUTHENTICATION' || (e.apiId !== undefined && AUTH_API_IDS.has(e.apiId))) {
      return new TransportError('authentication', `authentication failed: ${message}`, false);
    }
    if (typeof e.code === 'string' && !e.code.startsWith('PLT_KFK_') && TLS_CODES.test(e.code)) {
      return new TransportError('authentication', `TLS handshake failed: ${e.message ?? message}`, false);
    }
    if (e.apiId !== undefined && TOO_LARGE_API_IDS.has(e.apiId)) {
      return new TransportError('message_too_large', `the broker refused the batch: ${message}`, false);
    }
  }
  // A request the client gave up waiting for may still be answered: the publisher retries it (safe with an
  // idempotent producer, whose retry carries the same sequence numbers).
  const timeout = tree.some((e) => e.constructor?.name === 'TimeoutError' || e.apiId === 'REQUEST_TIMED_OUT');
  // The client's spent retries over a transient cause (broker down, leader moving) stay worth retrying later.
  // A topic being auto-created is "unknown" for a moment (kafkajs retries UNKNOWN_TOPIC_OR_PARTITION too).
  const retriable =
    timeout || tree.some((e) => e.canRetry === true || e.code === 'PLT_KFK_NETWORK' || /^Unknown topic /.test(e.message ?? ''));
  return new TransportError(timeout ? 'timeout' : 'broker', message, retriable);
}
