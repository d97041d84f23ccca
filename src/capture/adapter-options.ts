/**
 * Options every adapter takes, and their validation (once, at start-up, with field-named errors).
 *
 * @module
 */

import type { AuthenticatedEntity, JsonObject, LogEntry } from '../entry/log-entry.js';
import { ENTRY_OPTIONS } from '../entry/check-options.js';
import type { CustomFields, EntryOptions } from '../entry/entry-options.js';
import { type CompiledCustomFields, compileCustomFields } from '../entry/custom-fields/custom-fields.js';
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
  flagOrFunctionOption,
  functionOption,
  isPlainObject,
  pickOptions,
  refuse,
} from '../options/check.js';
import { javascriptRewrite, luaHint, luaSigns } from '../options/lua-hint.js';
import type { LogSink, SinkMeta } from './sink.js';

/** Decides whether an entry is published (see {@link KafkaLogAdapterOptions.filter}). */
export type EntryFilter<TRequest> = (entry: Readonly<LogEntry>, request: TRequest) => boolean;

/** The share of entries to keep, per entry (see {@link KafkaLogAdapterOptions.sampleRate}). */
export type SampleRateFunction<TRequest> = (entry: Readonly<LogEntry>, request: TRequest) => number;

/** Makes a request id for a request that carries none (see {@link KafkaLogAdapterOptions.generateRequestId}). */
export type RequestIdGenerator<TRequest> = (request: TRequest) => string;

/**
 * Options of every adapter: the entry options, where entries go, and hooks that read the framework's request
 * (`TRequest`). Hooks run after the response finished, so they see what middleware added (`req.user`, say);
 * one that throws is reported through the sink and leaves its field out.
 */
export interface KafkaLogAdapterOptions<TRequest> extends EntryOptions<TRequest> {
  /** Where entries go: a `KafkaLogPublisher`, or any {@link LogSink}. */
  sink: LogSink;
  /**
   * Custom fields (Kong's `custom_fields_by_lua`); functions receive `{ request }`, the framework's request. Give
   * `compileCustomFields(fields, options)` to set the limits of expression strings.
   */
  customFields?: CustomFields | CompiledCustomFields;
  /** Header holding the request id (any case); `false` for none. Default `x-request-id`. */
  requestIdHeader?: string | false;
  /**
   * What `request.id` is when the request has no request id header: `true` a random UUID (v4, from
   * `crypto.randomUUID`), a function `(request) => string` your own (called at most once per request; one that
   * throws or returns no non-empty string is reported and a UUID is used), `false` none. Default `true`.
   */
  generateRequestId?: boolean | RequestIdGenerator<TRequest>;
  /**
   * Response header that hands the entry's `request.id` back to the client (Kong sends `X-Kong-Request-Id`), e.g.
   * `'X-Request-Id'`. Set as the request arrives (so the application may replace it); not set on a response whose
   * headers had already gone out. Default `false`: none.
   */
  echoRequestIdHeader?: string | false;
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
  /**
   * Decides after the response whether the entry is published: called with the entry as built (status, latencies,
   * route, ids; before bodies and custom fields, which an entry left out never costs) and the framework's request.
   * `false`: not published, counted as `filtered` (`stats().skipped`), no event. One that throws or returns no
   * boolean is reported (rate-limited) and the entry is published: a broken filter loses no logs.
   */
  filter?: EntryFilter<TRequest>;
  /**
   * Share of entries published, from 0 to 1 (after `filter`), or a function giving it per entry (e.g. `1` for errors,
   * `0.01` for the rest). The decision is deterministic on the request's trace id when it has one (every service of
   * a trace keeps or drops the same requests; the README's "Filters and sampling" gives the rule), else random.
   * Entries left out are counted as `sampled_out` (`stats().skipped`). A function that throws or returns no number
   * from 0 to 1 is reported (rate-limited) and the entry is kept. Default `1`: every entry.
   */
  sampleRate?: number | SampleRateFunction<TRequest>;
}

/** {@link KafkaLogAdapterOptions} checked, names lower-cased, defaults applied. */
export interface ResolvedAdapterOptions<TRequest> {
  /** The sink. */
  readonly sink: LogSink;
  /** The entry options (checked by the entry builder). */
  readonly entry: EntryOptions<TRequest>;
  /** The custom fields, compiled. */
  readonly customFields: CompiledCustomFields | undefined;
  /** Lower-cased request id header, or `undefined`. */
  readonly requestIdHeader: string | undefined;
  /** Whether missing request ids are generated, or the generator. */
  readonly generateRequestId: boolean | RequestIdGenerator<TRequest>;
  /** The response header echoing the request id (as given), or `undefined`. */
  readonly echoRequestIdHeader: string | undefined;
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
  /** See {@link KafkaLogAdapterOptions.filter}. */
  readonly filter: EntryFilter<TRequest> | undefined;
  /** See {@link KafkaLogAdapterOptions.sampleRate}. */
  readonly sampleRate: number | SampleRateFunction<TRequest>;
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

/** A response header name, kept as given (the client sees it so): the echoed request id's. */
function echoHeaderName(field: string, value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
    refuse(field, `must be a header name or false, got ${describeValue(value)}`);
  }
  return value;
}

/** A share from 0 to 1, or a function giving one per entry. */
function sampleRate(field: string, value: unknown): number | SampleRateFunction<never> {
  if (value === undefined) return 1;
  if (typeof value === 'function') return value as SampleRateFunction<never>;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    refuse(field, `must be a number from 0 to 1 or a function (entry, request) => number, got ${describeValue(value)}`);
  }
  return value;
}

function sink(field: string, value: unknown): LogSink {
  const candidate = value as Partial<LogSink> | undefined;
  if (!isPlainObject(candidate) || typeof candidate.publish !== 'function') {
    refuse(field, 'must be an object with a publish(entry) method (a KafkaLogPublisher, say)');
  }
  for (const method of ['reportError', 'skipped'] as const) {
    const member = candidate[method];
    if (member !== undefined && typeof member !== 'function') refuse(fieldPath(field, method), `must be a function, got ${describeValue(member)}`);
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
 * Every adapter option: how it is checked and its default (the entry options are checked by the entry builder). A
 * new option is one line here, one property of {@link KafkaLogAdapterOptions}, one of {@link ResolvedAdapterOptions}
 * and one row of the README's table (`options-table.ts`).
 */
export const ADAPTER_OPTIONS = {
  ...ENTRY_OPTIONS_CHECKED_LATER,
  sink: customOption(sink),
  customFields: customOption((_field, value) => (value === undefined ? undefined : compileWithLuaHint(value as CustomFields))),
  requestIdHeader: headerName('x-request-id'),
  generateRequestId: flagOrFunctionOption<RequestIdGenerator<never>>(true, '(request) => string'),
  echoRequestIdHeader: customOption(echoHeaderName),
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
  filter: functionOption<EntryFilter<never>>(),
  sampleRate: customOption(sampleRate, 1),
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
    entry: pickOptions(options as unknown as Record<string, unknown>, ENTRY_OPTIONS) as EntryOptions<TRequest>,
    customFields: checked.customFields,
    requestIdHeader: checked.requestIdHeader,
    generateRequestId: checked.generateRequestId as ResolvedAdapterOptions<TRequest>['generateRequestId'],
    echoRequestIdHeader: checked.echoRequestIdHeader,
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
    filter: checked.filter as ResolvedAdapterOptions<TRequest>['filter'],
    sampleRate: checked.sampleRate as ResolvedAdapterOptions<TRequest>['sampleRate'],
  };
}
