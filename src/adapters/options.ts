/**
 * Options every adapter takes, and their validation (once, at start-up, with field-named errors).
 *
 * @module
 */

import type { AuthenticatedEntity, JsonObject, LogEntry } from '../entry/log-entry.js';
import { ENTRY_OPTIONS } from '../entry/check-options.js';
import type { CustomFields, EntryOptions } from '../entry/options.js';
import { type CompiledCustomFields, compileCustomFields } from '../entry/custom-fields.js';
import { InvalidOptionError } from '../errors.js';
import {
  type CheckedOptions,
  type OptionRule,
  type OptionSpec,
  anyText,
  checkOptions,
  customOption,
  describeValue,
  fieldPath,
  flagOption,
  functionOption,
  isPlainObject,
  pickOptions,
  refuse,
} from '../options/check.js';
import { javascriptRewrite, luaHint, luaSigns } from '../options/lua-hint.js';
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
  /** The entry options (checked by the entry builder). */
  readonly entry: EntryOptions;
  /** The custom fields, compiled. */
  readonly customFields: CompiledCustomFields | undefined;
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

function headerName(fallback: string | undefined) {
  return customOption((field, value): string | undefined => {
    if (value === undefined) return fallback;
    if (value === false) return undefined;
    if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
      refuse(field, `must be a header name or false, got ${describeValue(value)}`);
    }
    return value.toLowerCase();
  });
}

function sink(field: string, value: unknown): LogSink {
  const candidate = value as Partial<LogSink> | undefined;
  if (!isPlainObject(candidate) || typeof candidate.publish !== 'function') {
    refuse(field, 'must be an object with a publish(entry) method (a KafkaLogPublisher, say)');
  }
  if (candidate.reportError !== undefined && typeof candidate.reportError !== 'function') {
    refuse(fieldPath(field, 'reportError'), `must be a function, got ${describeValue(candidate.reportError)}`);
  }
  return candidate as LogSink;
}

/**
 * Compiles custom fields once, as the adapters run them; an expression that does not compile and reads like Lua
 * (Kong's `custom_fields_by_lua` copied as it was) gets a hint saying what to write instead.
 */
function compileWithLuaHint(fields: CustomFields): CompiledCustomFields {
  try {
    return compileCustomFields(fields);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const key = error.field.slice('customFields.'.length);
    const value = isPlainObject(fields) && Object.hasOwn(fields, key) ? fields[key] : undefined;
    const signs = typeof value === 'string' ? luaSigns(value) : [];
    if (signs.length === 0) throw error;
    throw new InvalidOptionError(error.field, `${error.problem}; ${luaHint(signs, javascriptRewrite(value as string))}`);
  }
}

/** Options the entry builder checks; known here, so an adapter refuses only what nobody reads. */
const ENTRY_OPTIONS_CHECKED_LATER: { readonly [K in keyof EntryOptions]-?: OptionRule<unknown> } = Object.fromEntries(
  Object.keys(ENTRY_OPTIONS).map((name) => [name, customOption((_field, value) => value)]),
) as { readonly [K in keyof EntryOptions]-?: OptionRule<unknown> };

/**
 * Every adapter option: how it is checked and its default (the entry options are checked by the entry builder). A new option is one line here, one property of {@link KafkaLogAdapterOptions} and
 * one of {@link ResolvedAdapterOptions}.
 */
const ADAPTER_OPTIONS = {
  ...ENTRY_OPTIONS_CHECKED_LATER,
  sink: customOption(sink),
  customFields: customOption((_field, value) => (value === undefined ? undefined : compileWithLuaHint(value as CustomFields))),
  requestIdHeader: headerName('x-request-id'),
  generateRequestId: flagOption(true),
  correlationIdHeader: headerName(undefined),
  traceparent: flagOption(true),
  route: functionOption<(request: never) => JsonObject | undefined>(),
  service: functionOption<(request: never) => JsonObject | undefined>(),
  consumer: functionOption<(request: never) => JsonObject | undefined>(),
  authenticatedEntity: functionOption<(request: never) => AuthenticatedEntity | undefined>(),
  workspace: customOption((field, value) => (value === undefined ? undefined : anyText(field, value, ''))),
  workspaceName: customOption((field, value) => (value === undefined ? undefined : anyText(field, value, ''))),
  publishMeta: functionOption<(entry: Readonly<LogEntry>, request: never) => SinkMeta | undefined>(),
  skip: functionOption<(request: never) => boolean>(),
} satisfies { readonly [K in keyof Required<KafkaLogAdapterOptions<unknown>>]: OptionRule<unknown> };

/**
 * Validates adapter options; throws one {@link InvalidOptionError} naming every bad or unknown option.
 * `frameworkOptions`: keys the framework itself reads from the same object (Fastify's `prefix`, say).
 */
export function resolveAdapterOptions<TRequest>(
  options: KafkaLogAdapterOptions<TRequest>,
  frameworkOptions: readonly string[] = [],
): ResolvedAdapterOptions<TRequest> {
  const spec: OptionSpec = { ...ADAPTER_OPTIONS, ...Object.fromEntries(frameworkOptions.map((name) => [name, customOption(() => undefined)])) };
  const checked = checkOptions('', options, spec) as unknown as CheckedOptions<typeof ADAPTER_OPTIONS>;
  return {
    sink: checked.sink,
    entry: pickOptions(options as unknown as Record<string, unknown>, ENTRY_OPTIONS) as EntryOptions,
    customFields: checked.customFields,
    requestIdHeader: checked.requestIdHeader,
    generateRequestId: checked.generateRequestId,
    correlationIdHeader: checked.correlationIdHeader,
    traceparent: checked.traceparent,
    route: checked.route as ResolvedAdapterOptions<TRequest>['route'],
    service: checked.service as ResolvedAdapterOptions<TRequest>['service'],
    consumer: checked.consumer as ResolvedAdapterOptions<TRequest>['consumer'],
    authenticatedEntity: checked.authenticatedEntity as ResolvedAdapterOptions<TRequest>['authenticatedEntity'],
    workspace: checked.workspace,
    workspaceName: checked.workspaceName,
    publishMeta: checked.publishMeta as ResolvedAdapterOptions<TRequest>['publishMeta'],
    skip: checked.skip as ResolvedAdapterOptions<TRequest>['skip'],
  };
}
