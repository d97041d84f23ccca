/**
 * Options every adapter takes, and their validation (once, at start-up, with field-named errors).
 *
 * @module
 */

import { InvalidOptionError } from '../errors.js';
import type { AuthenticatedEntity, JsonObject, LogEntry } from '../entry/log-entry.js';
import type { CompiledCustomFields } from '../entry/custom-fields.js';
import type { CustomFields, EntryOptions } from '../entry/options.js';
import type { LogSink, SinkMeta } from './sink.js';

/**
 * Options of every adapter: the entry options, where entries go, and hooks that read the framework's request
 * (`TRequest`). Hooks run after the response finished, so they see what middleware added (`req.user`, say);
 * one that throws is reported through the sink and leaves its field out.
 */
export interface KafkaLogAdapterOptions<TRequest> extends EntryOptions {
  /** Where entries go: a `KafkaLogPublisher`, or any {@link LogSink}. */
  sink: LogSink;
  /**
   * Custom fields (Kong's `custom_fields_by_lua`); functions receive `{ request }`, the framework's request. Give
   * `compileCustomFields(fields, options)` to set the limits of expression strings.
   */
  customFields?: CustomFields | CompiledCustomFields;
  /** Header holding the request id (any case); `false` for none. Default `x-request-id`. */
  requestIdHeader?: string | false;
  /** Generate a random UUID as `request.id` when the request has no request id header. Default `true`. */
  generateRequestId?: boolean;
  /** Header holding a correlation id for `correlation_id` (e.g. `kong-request-id`). Default none. */
  correlationIdHeader?: string | false;
  /**
   * Write `trace_id` (Kong's shape): from the request's tracing headers (W3C `traceparent`, B3, Jaeger, OpenTracing,
   * Datadog, AWS X-Ray, GCP, Instana) and the active OpenTelemetry span. Default `true`.
   */
  traceparent?: boolean;
  /** The matched route; replaces what the adapter found (Express: `{ path }` of `req.route`). */
  route?: (request: TRequest) => JsonObject | undefined;
  /** The service (Kong's `service` object), e.g. `{ name: 'orders' }`. */
  service?: (request: TRequest) => JsonObject | undefined;
  /** The consumer (Kong's `consumer` object), e.g. `{ id: req.user.id }`. */
  consumer?: (request: TRequest) => JsonObject | undefined;
  /** The authenticated credential (`authenticated_entity`). */
  authenticatedEntity?: (request: TRequest) => AuthenticatedEntity | undefined;
  /** Kong's `workspace` id, written on every entry. */
  workspace?: string;
  /** Kong's `workspace_name`, written on every entry. */
  workspaceName?: string;
  /** Per-entry routing (topic, message key, message headers) handed to the sink with the entry. */
  publishMeta?: (entry: Readonly<LogEntry>, request: TRequest) => SinkMeta | undefined;
  /** Requests for which nothing is captured or logged (health checks, say); called as the request arrives. */
  skip?: (request: TRequest) => boolean;
}

/** {@link KafkaLogAdapterOptions} checked, names lower-cased, defaults applied. */
export interface ResolvedAdapterOptions<TRequest> {
  /** The sink. */
  readonly sink: LogSink;
  /** Lower-cased request id header, or `undefined`. */
  readonly requestIdHeader: string | undefined;
  /** Whether missing request ids are generated. */
  readonly generateRequestId: boolean;
  /** Lower-cased correlation id header, or `undefined`. */
  readonly correlationIdHeader: string | undefined;
  /** Whether `trace_id` is written. */
  readonly traceparent: boolean;
  /** See {@link KafkaLogAdapterOptions.route}. */
  readonly route: ((request: TRequest) => JsonObject | undefined) | undefined;
  /** See {@link KafkaLogAdapterOptions.service}. */
  readonly service: ((request: TRequest) => JsonObject | undefined) | undefined;
  /** See {@link KafkaLogAdapterOptions.consumer}. */
  readonly consumer: ((request: TRequest) => JsonObject | undefined) | undefined;
  /** See {@link KafkaLogAdapterOptions.authenticatedEntity}. */
  readonly authenticatedEntity: ((request: TRequest) => AuthenticatedEntity | undefined) | undefined;
  /** See {@link KafkaLogAdapterOptions.workspace}. */
  readonly workspace: string | undefined;
  /** See {@link KafkaLogAdapterOptions.workspaceName}. */
  readonly workspaceName: string | undefined;
  /** See {@link KafkaLogAdapterOptions.publishMeta}. */
  readonly publishMeta: ((entry: Readonly<LogEntry>, request: TRequest) => SinkMeta | undefined) | undefined;
  /** See {@link KafkaLogAdapterOptions.skip}. */
  readonly skip: ((request: TRequest) => boolean) | undefined;
}

/** Validates adapter options; throws {@link InvalidOptionError} naming the field. */
export function resolveAdapterOptions<TRequest>(options: KafkaLogAdapterOptions<TRequest>): ResolvedAdapterOptions<TRequest> {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
  const sink = options.sink as Partial<LogSink> | undefined;
  if (sink === null || typeof sink !== 'object' || typeof sink.publish !== 'function') {
    throw new InvalidOptionError('sink', 'must be an object with a publish(entry) method (a KafkaLogPublisher, say)');
  }
  if (sink.reportError !== undefined && typeof sink.reportError !== 'function') {
    throw new InvalidOptionError('sink.reportError', 'must be a function when given');
  }
  return {
    sink: options.sink,
    requestIdHeader: headerName(options.requestIdHeader, 'requestIdHeader', 'x-request-id'),
    generateRequestId: flag(options.generateRequestId, 'generateRequestId', true),
    correlationIdHeader: headerName(options.correlationIdHeader, 'correlationIdHeader', undefined),
    traceparent: flag(options.traceparent, 'traceparent', true),
    route: hook(options.route, 'route'),
    service: hook(options.service, 'service'),
    consumer: hook(options.consumer, 'consumer'),
    authenticatedEntity: hook(options.authenticatedEntity, 'authenticatedEntity'),
    workspace: text(options.workspace, 'workspace'),
    workspaceName: text(options.workspaceName, 'workspaceName'),
    publishMeta: hook(options.publishMeta, 'publishMeta'),
    skip: hook(options.skip, 'skip'),
  };
}

function headerName(value: unknown, field: string, fallback: string | undefined): string | undefined {
  if (value === undefined) return fallback;
  if (value === false) return undefined;
  if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
    throw new InvalidOptionError(field, 'must be a header name or false');
  }
  return value.toLowerCase();
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(field, 'must be true or false');
  return value;
}

function text(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidOptionError(field, 'must be a string');
  return value;
}

function hook<T>(value: T | undefined, field: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(field, 'must be a function');
  return value;
}
