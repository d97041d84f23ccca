/**
 * The publisher's own, small view of a Kafka client: connect, produce a batch of records, close. Nothing outside
 * `src/transport/` sees a Kafka client's types, so another client can be put behind the same interface.
 *
 * @module
 */
import type { SecureContext } from 'node:tls';
import { ErrorCodes, KafkaLogError } from '../errors.js';
import type { Redactor } from '../secrets.js';

/** One Kafka record. */
export interface ProduceRecord {
  /** Topic. */
  readonly topic: string;
  /** Partition; when absent the transport chooses one (by key hash, else sticky per request). */
  readonly partition?: number;
  /** Key, or `null`. */
  readonly key: Buffer | null;
  /** Value. */
  readonly value: Buffer;
  /** Headers. */
  readonly headers?: Readonly<Record<string, Buffer | string>>;
}

/** Compression codecs a transport must support. */
export type TransportCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/**
 * One produce request. A failed request is retried by passing the SAME object again: the transport keeps its
 * partition choices (and, for an idempotent producer, its sequence numbers) stable across those retries.
 */
export interface ProduceRequest {
  /** The records, in order. */
  readonly records: readonly ProduceRecord[];
}

/** Log levels a transport reports. */
export type TransportLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** An OAUTHBEARER token and its SASL extensions. */
export interface TransportOAuthToken {
  /** The token. */
  value: string;
  /** SASL extensions. */
  extensions?: Record<string, string>;
}

/** TLS settings a transport receives. */
export interface TransportTls {
  /** Verify the broker's certificate. */
  rejectUnauthorized: boolean;
  /** Trusted CAs (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (PEM). */
  cert?: string | Buffer;
  /** Client key (PEM). */
  key?: string | Buffer;
  /** A ready secure context. */
  secureContext?: SecureContext;
  /** SNI name. */
  servername?: string;
}

/** SASL settings a transport receives. */
export interface TransportSasl {
  /** Mechanism. */
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';
  /** User, for PLAIN and SCRAM. */
  username?: string;
  /** Password, for PLAIN and SCRAM. */
  password?: string;
  /** SCRAM with the `tokenauth=true` extension (delegation tokens). */
  tokenAuth?: boolean;
  /** Gives a current OAUTHBEARER token and its SASL extensions. */
  oauthBearerToken?: () => Promise<TransportOAuthToken>;
}

/** Everything a transport needs to connect and produce. */
export interface TransportConfig {
  /** `host:port` bootstrap brokers. */
  brokers: readonly string[];
  /**
   * The publisher's secrets. A transport passes the client's errors through {@link Redactor.cleanError} before
   * it builds its own from them, so no {@link TransportError} ever holds a password or token (a broker or client
   * may quote the credentials it was sent). Absent: nothing to remove.
   */
  secrets?: Redactor;
  /** Client id. */
  clientId: string;
  /** Connect/authentication timeout, ms. */
  connectionTimeout: number;
  /** TCP keep-alive: initial delay in ms, or `undefined` for none. */
  keepAliveMs: number | undefined;
  /** TLS settings, or `undefined` for plaintext. */
  tls: TransportTls | undefined;
  /** SASL settings, or `undefined`. */
  sasl: TransportSasl | undefined;
  /** Produce acks. */
  acks: -1 | 0 | 1;
  /** Broker-side produce timeout, ms. */
  requestTimeout: number;
  /** Compression. */
  compression: TransportCompression;
  /** Idempotent producer. */
  idempotent: boolean;
  /** The client's own retries of one request (bounded: the publisher retries on top). */
  maxRequestRetries: number;
  /** Backoff between the client's own retries, ms. */
  retryBackoff: number;
  /** Least level worth reporting through {@link TransportHooks.log}; lets the client skip building lines. */
  logLevel: TransportLogLevel | 'silent';
}

/** Callbacks a transport reports through. */
export interface TransportHooks {
  /** A log line (the transport strips nothing: the publisher redacts). */
  log(level: TransportLogLevel, namespace: string, message: string, extra?: Record<string, unknown>): void;
  /**
   * A line of the transport's own (not its Kafka client's), heard at its level, e.g. a delivery thread that died.
   * Optional: without it the line goes to {@link TransportHooks.log}.
   */
  notice?(level: 'warn' | 'error', message: string): void;
}

/** The transport contract. */
export interface Transport {
  /** Connects (idempotent; concurrent calls share one attempt). Rejects with a {@link TransportError}. */
  connect(): Promise<void>;
  /**
   * Produces one request; resolves when every record is acknowledged. Rejects with a {@link TransportError}.
   *
   * A record (the same object) acknowledged once is not sent again, whichever request holds it later: after a
   * failure the publisher retries the same request, or regroups its records into smaller ones. A record of a
   * request that resolved is never handed over again, so only failed requests need remember what was written.
   * When the broker refuses records for their size, the error is a `message_too_large` TransportError whose `refused` names them
   * (see {@link TransportError.refused}).
   */
  produce(request: ProduceRequest): Promise<void>;
  /** Releases every socket and timer, letting requests in flight finish first. Never rejects. */
  close(): Promise<void>;
  /**
   * Releases every socket and timer now, without waiting for anything (the publisher's close deadline passed
   * while `close()` was still waiting). Optional: without it a transport's `close()` must keep to its own bound.
   */
  destroy?(): void;
}

/** Creates a transport. */
export type TransportFactory = (config: TransportConfig, hooks: TransportHooks) => Transport | Promise<Transport>;

/** What went wrong in a transport, classified. */
export type TransportErrorKind = 'authentication' | 'broker' | 'timeout' | 'missing_dependency' | 'message_too_large';

/** Options of a {@link TransportError}. */
export interface TransportErrorOptions {
  /** See {@link TransportError.refused}. */
  refused?: ReadonlySet<ProduceRecord>;
}

/** A transport failure: retriable or not, with a message free of secrets. */
export class TransportError extends KafkaLogError {
  /** The classification. */
  readonly kind: TransportErrorKind;
  /**
   * With kind `message_too_large`: the records of the request the broker refused for their size (none of them
   * was written), every other record of the request having been acknowledged. `undefined`: the whole request was
   * refused, and nothing of it was written.
   */
  readonly refused: ReadonlySet<ProduceRecord> | undefined;

  constructor(kind: TransportErrorKind, message: string, retriable: boolean, options: TransportErrorOptions = {}) {
    const code =
      kind === 'authentication'
        ? ErrorCodes.AUTHENTICATION
        : kind === 'timeout'
          ? ErrorCodes.TIMEOUT
          : kind === 'missing_dependency'
            ? ErrorCodes.MISSING_DEPENDENCY
            : ErrorCodes.BROKER;
    super(code, message, { retriable });
    this.kind = kind;
    this.refused = options.refused;
  }
}

/**
 * kafka-log's own error met inside a client's error (a token provider's failure the client passed on) as a
 * {@link TransportError} of the same meaning: an OAuth refusal stays an authentication failure.
 */
export function transportErrorOf(error: KafkaLogError): TransportError {
  if (error instanceof TransportError) return error;
  if (error.code === ErrorCodes.AUTHENTICATION) return new TransportError('authentication', error.message, error.retriable);
  if (error.code === ErrorCodes.MISSING_DEPENDENCY) return new TransportError('missing_dependency', error.message, false);
  if (error.code === ErrorCodes.TIMEOUT) return new TransportError('timeout', error.message, error.retriable);
  return new TransportError('broker', error.message, error.retriable);
}

/**
 * The TLS settings as a client's socket options: only the fields that are set, so a client's own defaults apply
 * to the rest.
 */
export function socketTlsOptions(tls: NonNullable<TransportConfig['tls']>): NonNullable<TransportConfig['tls']> {
  const { rejectUnauthorized, ca, cert, key, secureContext, servername } = tls;
  return {
    rejectUnauthorized,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(secureContext === undefined ? {} : { secureContext }),
    ...(servername === undefined ? {} : { servername }),
  };
}

/** Approximate bytes a record takes in a produce request (value, key, headers, record overhead). */
export function recordSize(record: ProduceRecord): number {
  return recordSizeOf(record.value.length, record.key, record.headers);
}

/** {@link recordSize} from a record's parts, without building the record (the queue sizes every entry). */
export function recordSizeOf(valueBytes: number, key: Buffer | null, headers: Record<string, string | Buffer> | undefined): number {
  let size = 24 + valueBytes + (key?.length ?? 0);
  if (headers) for (const name in headers) size += 8 + name.length + (headers[name] as string | Buffer).length;
  return size;
}

/**
 * A value a transport keeps on each record from its first attempt on (the client's message, with the partition chosen
 * for it), so a retry reuses it. A property rather than a WeakMap keyed by records: an entry per record in a WeakMap
 * costs the garbage collector far more than one more property on an object that dies with it. A record that cannot
 * take a property (frozen) keeps nothing, and its value is made again on each attempt.
 */
export class RecordSlot<T> {
  readonly #key: symbol;

  /** `name` names the slot's symbol (seen in a debugger). */
  constructor(name: string) {
    this.#key = Symbol(name);
  }

  /** The value kept on `record`, if any. */
  get(record: ProduceRecord): T | undefined {
    return (record as unknown as Record<symbol, T | undefined>)[this.#key];
  }

  /** Keeps `value` on `record`. */
  set(record: ProduceRecord, value: T): void {
    if (Object.isExtensible(record)) (record as unknown as Record<symbol, T>)[this.#key] = value;
  }
}
