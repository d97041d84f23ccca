/**
 * Every error kafka-log raises or reports is a {@link KafkaLogError} with a stable `code`
 * (`KAFKA_LOG_ERR_...`) and a `retriable` flag, so callers can branch on codes rather than messages.
 * Messages never contain secrets (passwords, tokens, client secrets).
 *
 * @module
 */

/** Stable error codes. New codes may be added in minor releases; existing codes never change meaning. */
export const ErrorCodes = {
  /** An option given to a constructor or function is invalid; the message names the field. */
  INVALID_OPTION: 'KAFKA_LOG_ERR_INVALID_OPTION',
  /** A request or response body of a JSON, urlencoded or multipart type could not be parsed. */
  BODY_PARSE: 'KAFKA_LOG_ERR_BODY_PARSE',
  /** A custom field could not be evaluated or written (bad path, thrown error, timeout). */
  CUSTOM_FIELD: 'KAFKA_LOG_ERR_CUSTOM_FIELD',
  /** An entry could not be serialized. */
  SERIALIZE: 'KAFKA_LOG_ERR_SERIALIZE',
  /** An entry was dropped because a configured bound (entries, bytes, retry time) was reached. */
  DROPPED: 'KAFKA_LOG_ERR_DROPPED',
  /** The Kafka cluster could not be reached or refused a request. */
  BROKER: 'KAFKA_LOG_ERR_BROKER',
  /** SASL or TLS authentication with the Kafka cluster failed. */
  AUTHENTICATION: 'KAFKA_LOG_ERR_AUTHENTICATION',
  /** The publisher is closed and accepts no more entries. */
  CLOSED: 'KAFKA_LOG_ERR_CLOSED',
  /** A deadline (flush, close, produce) passed before the work finished. */
  TIMEOUT: 'KAFKA_LOG_ERR_TIMEOUT',
  /** The schema registry could not be reached or answered with an error. */
  REGISTRY: 'KAFKA_LOG_ERR_REGISTRY',
  /** An entry does not fit the registered schema. */
  SCHEMA_MISMATCH: 'KAFKA_LOG_ERR_SCHEMA_MISMATCH',
  /**
   * The schema registry refused to register a schema as incompatible with the subject's earlier versions under
   * the subject's compatibility level (HTTP 409).
   */
  SCHEMA_INCOMPATIBLE: 'KAFKA_LOG_ERR_SCHEMA_INCOMPATIBLE',
  /** An optional package needed by the chosen option is not installed. */
  MISSING_DEPENDENCY: 'KAFKA_LOG_ERR_MISSING_DEPENDENCY',
  /** A schema registry or token endpoint answered with a body longer than kafka-log reads (see the README's limits). */
  RESPONSE_TOO_LARGE: 'KAFKA_LOG_ERR_RESPONSE_TOO_LARGE',
  /** An entry was not delivered but written to the local spool, to be replayed later. */
  SPOOLED: 'KAFKA_LOG_ERR_SPOOLED',
} as const;

/** One of the values of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Options shared by every kafka-log error. */
export interface KafkaLogErrorOptions {
  /** Whether repeating the same operation later may succeed. */
  retriable?: boolean;
  /** The underlying error, when there is one. */
  cause?: unknown;
}

/** Base class of every error kafka-log raises or reports. */
export class KafkaLogError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode;
  /** Whether repeating the same operation later may succeed. */
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: KafkaLogErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** One refused option: where it is and what is wrong with it. */
export interface OptionProblem {
  /** The option's path, e.g. `authentication.mechanism`, or Kong's field path such as `config.queue.max_batch_size`. */
  readonly field: string;
  /** What is wrong, e.g. `must be an integer >= 1, got 0`. Never quotes a secret. */
  readonly problem: string;
}

/**
 * Options are invalid. `field` and `problem` describe the first problem found; `problems` lists every one (the
 * first included), so a configuration with several mistakes is reported whole.
 */
export class InvalidOptionError extends KafkaLogError {
  /** The path of the (first) offending option, e.g. `authentication.mechanism`. */
  readonly field: string;
  /** What is wrong with it, without the field name. */
  readonly problem: string;
  /** Every problem found, the first one included. */
  readonly problems: readonly OptionProblem[];

  constructor(field: string, problem: string, more: readonly OptionProblem[] = []) {
    const problems = [{ field, problem }, ...more];
    super(ErrorCodes.INVALID_OPTION, problems.map((p) => `invalid option "${p.field}": ${p.problem}`).join('; '));
    this.field = field;
    this.problem = problem;
    this.problems = problems;
  }

  /** One error holding every problem of `problems` (which must not be empty). */
  static of(problems: readonly OptionProblem[]): InvalidOptionError {
    const [first, ...more] = problems;
    if (first === undefined) throw new TypeError('InvalidOptionError.of needs at least one problem');
    return new InvalidOptionError(first.field, first.problem, more);
  }
}

/** Which body a {@link BodyParseError} is about. */
export type BodySide = 'request' | 'response';

/**
 * A body of a parsed content type (JSON, urlencoded, multipart) could not be parsed. With Kong's default
 * policy the entry is not sent; the `bodyParseFailure` entry option keeps it instead.
 */
export class BodyParseError extends KafkaLogError {
  /** Which body failed. */
  readonly side: BodySide;
  /** The media type that was being parsed, lower-cased, without parameters. */
  readonly mediaType: string;

  constructor(side: BodySide, mediaType: string, reason: string, cause?: unknown) {
    super(ErrorCodes.BODY_PARSE, `${side} body of type ${mediaType} could not be parsed: ${reason}`, { cause });
    this.side = side;
    this.mediaType = mediaType;
  }
}

/** A custom field failed. `field` is the dotted key as configured. */
export class CustomFieldError extends KafkaLogError {
  /** The dotted key of the failing custom field. */
  readonly field: string;
  /**
   * `true` for a failure of a field that adapters reported less than a minute ago: the publisher counts it in
   * `stats().reported` but emits no `publisher.reported` event for it, so a field failing on every request does
   * not flood the application's logs.
   */
  readonly repeated: boolean;

  constructor(field: string, reason: string, cause?: unknown, repeated = false) {
    super(ErrorCodes.CUSTOM_FIELD, `custom field "${field}": ${reason}`, { cause });
    this.field = field;
    this.repeated = repeated;
  }
}

/**
 * Returns the message of anything thrown, without its stack. Never throws: a thrown value whose `message` or
 * `toString` throws (user code may throw anything) is described by its kind.
 */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message);
    return String(error);
  } catch {
    try {
      return Object.prototype.toString.call(error);
    } catch {
      return '[a value that cannot be printed]';
    }
  }
}

/** An entry could not be serialized (a custom field gave a known field a value of the wrong type, say). */
export class SerializeError extends KafkaLogError {
  constructor(reason: string, cause?: unknown) {
    super(ErrorCodes.SERIALIZE, `log entry could not be serialized: ${reason}`, { cause });
  }
}

/** Entries were dropped by the publisher; `reason` is the drop reason counted in its stats. */
export class DroppedError extends KafkaLogError {
  /** The drop reason (e.g. `queue_full_entries`, `retry_time_exceeded`, `closed`). */
  readonly reason: string;

  constructor(reason: string, message: string, cause?: unknown) {
    super(reason === 'closed' ? ErrorCodes.CLOSED : ErrorCodes.DROPPED, message, { cause });
    this.reason = reason;
  }
}

/**
 * Entries were not delivered but written to the publisher's local spool (`spool` option), where a replay will take
 * them: what a sync-mode `publish` promise rejects with instead of a {@link DroppedError} when the spool took its
 * entry. Retriable: the replay delivers it.
 */
export class SpooledError extends KafkaLogError {
  /** Why the entry was not delivered (e.g. `queue_full_bytes`, `retry_time_exceeded`, `close_timeout`). */
  readonly reason: string;
  /** The spool directory. */
  readonly directory: string;

  constructor(reason: string, directory: string, message: string) {
    super(ErrorCodes.SPOOLED, message, { retriable: true });
    this.reason = reason;
    this.directory = directory;
  }
}

/** The schema registry could not be reached, or answered with an error. Unreachable or 5xx: retriable. */
export class RegistryError extends KafkaLogError {
  /** The HTTP status the registry answered with; absent when it could not be reached. */
  readonly status: number | undefined;
  /** Confluent's `error_code` (e.g. 40401: subject not found), when the registry sent one. */
  readonly registryErrorCode: number | undefined;

  constructor(message: string, options: { status?: number; registryErrorCode?: number; retriable: boolean; cause?: unknown }) {
    super(ErrorCodes.REGISTRY, message, { retriable: options.retriable, cause: options.cause });
    this.status = options.status;
    this.registryErrorCode = options.registryErrorCode;
  }
}

/**
 * A schema registry or OAuth token endpoint answered with a body longer than the cap kafka-log reads; the
 * connection was cut there. Never retriable: a server that answers this much is misconfigured or hostile.
 */
export class ResponseTooLargeError extends KafkaLogError {
  /** The cap that was passed, bytes. */
  readonly limitBytes: number;

  constructor(message: string, limitBytes: number) {
    super(ErrorCodes.RESPONSE_TOO_LARGE, message, { retriable: false });
    this.limitBytes = limitBytes;
  }
}

/** An entry does not fit the registered schema. `path` names the failing value (e.g. `response.status`). Never retriable. */
export class SchemaMismatchError extends KafkaLogError {
  /** Dotted path of the value that does not fit (`""` for the whole entry). */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(ErrorCodes.SCHEMA_MISMATCH, `entry does not fit the schema at "${path}": ${problem}`);
    this.path = path;
  }
}

/**
 * The schema registry refused to register a schema under `subject`: it is incompatible with the subject's earlier
 * versions under the subject's compatibility level (Confluent answers HTTP 409). Nothing was registered. Never
 * retriable: register a compatible schema, another subject, or change the subject's compatibility level.
 * `cause` is the registry's answer as a {@link RegistryError} (status 409, its reasons in the message).
 */
export class SchemaIncompatibleError extends KafkaLogError {
  /** The subject the schema was to be registered under. */
  readonly subject: string;

  constructor(subject: string, cause: RegistryError) {
    super(ErrorCodes.SCHEMA_INCOMPATIBLE, `schema refused for subject "${subject}": incompatible with its earlier versions (${cause.message})`, {
      retriable: false,
      cause,
    });
    this.subject = subject;
  }
}
