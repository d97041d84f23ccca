/**
 * The publisher's log output. A line at `logLevel` or above goes to the logger and to `publisher.log` listeners,
 * secrets stripped. The logger is called as pino takes it: `logger.warn(fields, message)`, or `logger.warn(message)`
 * when there are no fields. Without a `logger` option, short lines go to stderr (`kafka-log warn: ...`);
 * `logger: false` turns that off. Nothing here throws: a failing logger or a value that cannot be printed never
 * reaches the caller.
 *
 * @module
 */
import { type PublisherLogger, type PublisherLogLevel, PublisherEvents, type TypedEmitter } from './events.js';

/** A level a line is written at. */
export type LineLevel = Exclude<PublisherLogLevel, 'silent'>;

const LEVEL_RANK: Record<PublisherLogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };
/** Longest text of one line; a cause quoting a whole response body is cut. */
const MAX_TEXT = 1000;

/**
 * Text for anything thrown or rejected, whatever it is: an object whose `toString` or `message` getter throws, a
 * null-prototype object, a symbol. Never throws; cut at 1000 characters.
 */
export function describeSafely(value: unknown): string {
  let text: string;
  try {
    text = value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  } catch {
    try {
      text = Object.prototype.toString.call(value);
    } catch {
      text = '[a value that cannot be printed]';
    }
  }
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}...` : text;
}

/** Where the lines go. */
interface PublisherLogOptions {
  /** The user's logger, `false` for none, `undefined` for the default (stderr). */
  logger: PublisherLogger | false | undefined;
  /** Least level written. */
  logLevel: PublisherLogLevel;
  /** Strips secrets from a text. */
  redact(text: string): string;
  /** Where `publisher.log` listeners are. */
  events: TypedEmitter;
}

/** What one line says besides its text. */
interface LineOptions {
  /** `publisher.log`'s `source`: `publisher` (default), `registry`, or the Kafka client's namespace. */
  source?: string;
  /** Structured fields (secrets stripped before they leave). */
  fields?: Record<string, unknown>;
  /** Also emitted to `publisher.log` listeners (default). Lines about failing listeners are not. */
  toListeners?: boolean;
}

/** Writes the publisher's log lines. */
export class PublisherLog {
  readonly #options: PublisherLogOptions;
  readonly #rank: number;

  constructor(options: PublisherLogOptions) {
    this.#options = options;
    this.#rank = LEVEL_RANK[options.logLevel];
  }

  /** Whether a line at `level` would be written anywhere (lets callers skip building it). */
  enabled(level: LineLevel): boolean {
    if (LEVEL_RANK[level] > this.#rank) return false;
    return this.#options.logger !== false || this.#options.events.has(PublisherEvents.LOG);
  }

  /** Writes one of kafka-log's own lines. */
  line(level: LineLevel, text: string, options: LineOptions = {}): void {
    if (!this.enabled(level)) return;
    try {
      this.#write(level, options.source ?? 'publisher', this.#options.redact(text), options.fields, options.toListeners ?? true, '');
    } catch {
      // Logging must never reach the code that logs.
    }
  }

  /**
   * Folds one line of the Kafka client into kafka-log's log: always at `debug` (the client's own level is kept
   * as the `clientLevel` field), its text marked with the client's namespace.
   */
  clientLine(clientLevel: string, namespace: string, text: string, extra: Record<string, unknown> | undefined): void {
    if (!this.enabled('debug')) return;
    try {
      const fields = { ...extra, clientLevel };
      this.#write('debug', namespace, this.#options.redact(String(text)), fields, true, `[${namespace}] `);
    } catch {
      // As above.
    }
  }

  #write(level: LineLevel, source: string, text: string, rawFields: Record<string, unknown> | undefined, toListeners: boolean, prefix: string): void {
    const fields = this.#cleanFields(rawFields);
    if (toListeners && this.#options.events.has(PublisherEvents.LOG)) {
      this.#options.events.emit(PublisherEvents.LOG, { level, source, message: text, ...(fields ? { extra: fields } : {}) });
    }
    const logger = this.#options.logger;
    if (logger === false) return;
    if (logger === undefined) {
      writeStderr(`kafka-log ${level}: ${prefix}${text}${level === 'debug' && fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
      return;
    }
    try {
      const message = `kafka-log: ${prefix}${text}`;
      if (fields) logger[level](fields, message);
      else logger[level](message);
    } catch {
      // A failing logger must not reach the request path.
    }
  }

  /** A JSON copy with secrets stripped; `undefined` when empty or not serializable. */
  #cleanFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    if (fields === undefined) return undefined;
    try {
      const json = JSON.stringify(fields);
      if (json === undefined || json === '{}') return undefined;
      return JSON.parse(this.#options.redact(json)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }
}

function writeStderr(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // A closed stderr is no reason to fail.
  }
}
