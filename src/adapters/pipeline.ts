/**
 * `createExchangePipeline`: everything an adapter needs, compiled once from its options: the entry builder,
 * the custom fields, the id headers, the hooks and the sink. Per request, `capture(req, res, context)` starts
 * watching; when the response is over the pipeline builds the entry and hands it to the sink. Nothing here
 * throws into the application: every failure goes to `sink.reportError`.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LogEntryBuilder, createLogEntryBuilder } from '../entry/build.js';
import { CustomFieldReports } from '../entry/custom-field-reports.js';
import { type CompiledCustomFields, applyCustomFields } from '../entry/custom-fields.js';
import type { HttpExchange } from '../entry/exchange.js';
import type { LogEntry } from '../entry/log-entry.js';
import { withW3cTraceId } from '../entry/trace-ids.js';
import { CustomFieldError, ErrorCodes, KafkaLogError, describeError } from '../errors.js';
import { type CaptureCompletion, type CaptureSettings, type ExchangeCapture, startCapture } from './capture.js';
import { type KafkaLogAdapterOptions, type ResolvedAdapterOptions, resolveAdapterOptions } from './options.js';
import { activeTraceId, loadOpenTelemetry } from './active-span.js';
import { type RequestIdSettings, readRequestIds } from './request-ids.js';
import type { SinkMeta } from './sink.js';

/** What a framework adapter adds to the pipeline. */
export interface AdapterHooks<TRequest> {
  /** Runs when the response is over, before the exchange is read: fill in framework facts (route, source). */
  beforeBuild?(capture: ExchangeCapture<TRequest>): void;
  /** Keys the framework itself reads from the options object (Fastify's `prefix`): not refused as unknown. */
  frameworkOptions?: readonly string[];
}

/** A compiled pipeline: one per adapter instance, shared by all its requests. */
export interface ExchangePipeline<TRequest> {
  /**
   * Starts watching one request/response; `context` is the framework's request (given to hooks and custom
   * fields). Returns `undefined` when the `skip` option says so. Never throws. `prototypesTapped`: the
   * adapter wrapped the prototypes of `request` and `response` with `tapPrototypes`.
   */
  capture(
    request: IncomingMessage,
    response: ServerResponse,
    context: TRequest,
    prototypesTapped?: boolean,
  ): ExchangeCapture<TRequest> | undefined;
  /** Hands an adapter-side failure to the sink's `reportError`. Never throws. */
  report(error: unknown): void;
  /** The resolved adapter options. */
  readonly options: ResolvedAdapterOptions<TRequest>;
  /** The compiled entry builder. */
  readonly builder: LogEntryBuilder;
}

/**
 * Compiles an adapter's options once. Throws `InvalidOptionError` (naming the field) for invalid options;
 * never throws afterwards.
 */
export function createExchangePipeline<TRequest>(
  options: KafkaLogAdapterOptions<TRequest>,
  hooks: AdapterHooks<TRequest> = {},
): ExchangePipeline<TRequest> {
  const resolved = resolveAdapterOptions(options, hooks.frameworkOptions);
  const builder = createLogEntryBuilder(resolved.entry);
  const customFields = resolved.customFields;
  const fieldReports = new CustomFieldReports(customFields);
  const settings: CaptureSettings = {
    captureRequestBody: builder.options.logRequestBody,
    captureResponseBody: builder.options.logResponseBody,
    maxBodySize: builder.options.maxBodySize,
  };
  const idSettings: RequestIdSettings = {
    requestIdHeader: resolved.requestIdHeader,
    generateRequestId: resolved.generateRequestId,
    correlationIdHeader: resolved.correlationIdHeader,
    readTraceHeaders: resolved.traceparent,
  };
  const sink = resolved.sink;

  const report = (error: unknown): void => {
    try {
      settleQuietly(sink.reportError?.(asKafkaLogError(error)), noop);
    } catch {
      // A failing error reporter has nowhere left to report to; the application must not notice.
    }
  };

  if (resolved.traceparent) void loadOpenTelemetry(report);

  const hook = <T>(fn: ((request: TRequest) => T) | undefined, name: string, request: TRequest): T | undefined => {
    if (fn === undefined) return undefined;
    try {
      return fn(request);
    } catch (error) {
      report(new CustomFieldError(name, `the ${name} hook threw: ${describeError(error)}`, error));
      return undefined;
    }
  };

  const describe = (capture: ExchangeCapture<TRequest>): HttpExchange => {
    hooks.beforeBuild?.(capture);
    const exchange = capture.toExchange();
    const ids = readRequestIds(capture.request.rawHeaders, idSettings);
    if (ids.requestId !== undefined) exchange.requestId = ids.requestId;
    const traceIds = capture.activeTraceId === undefined ? ids.traceIds : withW3cTraceId(ids.traceIds, capture.activeTraceId);
    if (traceIds !== undefined) exchange.traceIds = traceIds;
    if (ids.correlationId !== undefined) exchange.correlationId = ids.correlationId;
    if (resolved.workspace !== undefined) exchange.workspace = resolved.workspace;
    if (resolved.workspaceName !== undefined) exchange.workspaceName = resolved.workspaceName;
    const request = capture.context;
    const route = hook(resolved.route, 'route', request);
    if (route !== undefined) exchange.route = route;
    const service = hook(resolved.service, 'service', request);
    if (service !== undefined) exchange.service = service;
    const consumer = hook(resolved.consumer, 'consumer', request);
    if (consumer !== undefined) exchange.consumer = consumer;
    const entity = hook(resolved.authenticatedEntity, 'authenticatedEntity', request);
    if (entity !== undefined) exchange.authenticatedEntity = entity;
    return exchange;
  };

  const publish = (entry: LogEntry, request: TRequest, fields: CompiledCustomFields | undefined): void => {
    if (fields !== undefined) {
      const errors = applyCustomFields(entry, fields, { request });
      if (errors.length > 0) for (const error of fieldReports.mark(errors)) report(error);
    }
    let meta: SinkMeta | undefined;
    if (resolved.publishMeta !== undefined) {
      try {
        meta = resolved.publishMeta(entry, request);
      } catch (error) {
        report(new CustomFieldError('publishMeta', `the publishMeta hook threw: ${describeError(error)}`, error));
      }
    }
    // A sink may be async (`publish` returning a promise): its rejection is reported, never left unhandled.
    settleQuietly(meta === undefined ? sink.publish(entry) : sink.publish(entry, meta), report);
  };

  const completion: CaptureCompletion<TRequest> = {
    complete(capture) {
      try {
        const exchange = describe(capture);
        let entry: LogEntry;
        try {
          entry = builder.build(exchange);
        } catch (error) {
          // Kong's policy for an unparsable body: the entry is not sent. Reported, so it can be counted.
          report(error);
          return;
        }
        publish(entry, capture.context, customFields);
      } catch (error) {
        report(error);
      }
    },
  };

  return {
    options: resolved,
    builder,
    report,
    capture(request, response, context, prototypesTapped = false) {
      try {
        if (resolved.skip?.(context)) return undefined;
        const capture = startCapture(request, response, context, settings, completion, prototypesTapped);
        // Read now: the application's tracing context is the request's only while the adapter's hook runs.
        if (resolved.traceparent) capture.activeTraceId = activeTraceId();
        return capture;
      } catch (error) {
        report(error);
        return undefined;
      }
    },
  };
}

const noop = (): void => undefined;

/**
 * When `result` is a promise (or any thenable), hands its rejection to `onRejected`: a sink or reporter returning a
 * rejected promise must not become an unhandled rejection, which ends the process by default.
 */
function settleQuietly(result: unknown, onRejected: (error: unknown) => void): void {
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return;
  try {
    const then = (result as { then?: unknown }).then;
    if (typeof then === 'function') then.call(result, undefined, onRejected);
  } catch (error) {
    onRejected(error);
  }
}

function asKafkaLogError(error: unknown): KafkaLogError {
  if (error instanceof KafkaLogError) return error;
  return new KafkaLogError(ErrorCodes.SERIALIZE, `log entry could not be built: ${describeError(error)}`, {
    cause: error,
  });
}
