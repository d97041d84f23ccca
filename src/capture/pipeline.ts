/**
 * `createExchangePipeline`: everything an adapter needs, compiled once from its options: the entry builder,
 * the custom fields, the id headers, the hooks, the decisions (`filter`, `sampleRate`, body conditions) and the
 * sink. Per request, `capture(req, res, context)` starts watching; when the response is over the pipeline builds
 * the entry, decides whether it is published and with which bodies, and hands it to the sink. Nothing here throws
 * into the application: every failure goes to `sink.reportError`.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LogEntryBuilder, createLogEntryBuilder } from '../entry/build.js';
import { CustomFieldReports } from '../entry/custom-fields/custom-field-reports.js';
import { type CompiledCustomFields, applyCustomFields } from '../entry/custom-fields/custom-fields.js';
import type { HttpExchange } from '../entry/exchange.js';
import type { LogEntry } from '../entry/log-entry.js';
import { settleQuietly } from '../entry/settle-quietly.js';
import { withW3cTraceId } from '../entry/trace-ids.js';
import { CustomFieldError, ErrorCodes, KafkaLogError, describeError } from '../errors.js';
import { describeValue } from '../options/check.js';
import { activeTraceId, loadOpenTelemetry } from './active-span.js';
import { type CaptureCompletion, type CaptureSettings, type ExchangeCapture, startCapture } from './capture.js';
import { compileEntryDecision } from './decisions.js';
import { type KafkaLogAdapterOptions, type ResolvedAdapterOptions, resolveAdapterOptions } from './adapter-options.js';
import { type RequestIdSettings, readRequestIdHeader, readRequestIds } from './request-ids.js';
import type { SinkMeta, SkipReason } from './sink.js';

/** What a framework adapter adds to the pipeline. */
export interface AdapterHooks<TRequest> {
  /** Runs when the response is over, before the exchange is read: fill in framework facts (route, source). */
  beforeBuild?(capture: ExchangeCapture<TRequest>): void;
  /** Keys the framework itself reads from the options object (Fastify's `prefix`): not refused as unknown. */
  frameworkOptions?: readonly string[];
}

/**
 * What became of one exchange: its entry went to the sink (`published`), an option left it out (`filtered`,
 * `sampled_out`), or a body of a parsed type did not parse and Kong's policy kept the entry back (`not_sent`).
 */
export type LogOutcome = 'published' | SkipReason | 'not_sent';

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
  /**
   * What the pipeline does with a finished exchange: completes it (a generated request id, the workspace, the
   * hooks' objects), builds the entry, applies `filter` and `sampleRate`, the body options and the custom fields,
   * and hands the entry to the sink (or tells the sink it skipped it). Never throws.
   */
  handleExchange(exchange: HttpExchange, request: TRequest): LogOutcome;
  /**
   * Sets the echoed request id header again when the response's headers go out, if it is missing by then (Koa's
   * error handling removes every header before answering). Nothing without `echoRequestIdHeader`. Never throws.
   */
  echoRequestIdAgain(capture: ExchangeCapture<TRequest>): void;
  /** Hands an adapter-side failure to the sink's `reportError`. Never throws. */
  report(error: unknown): void;
  /** The resolved adapter options. */
  readonly options: ResolvedAdapterOptions<TRequest>;
  /** The compiled entry builder. */
  readonly builder: LogEntryBuilder<TRequest>;
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
  const builder = createLogEntryBuilder<TRequest>(resolved.entry);
  const customFields = resolved.customFields;
  const fieldReports = new CustomFieldReports(customFields);
  const settings: CaptureSettings = {
    // A body condition decides once the response is complete: until then the body is kept, up to maxBodySize.
    captureRequestBody: builder.options.logRequestBody !== false,
    captureResponseBody: builder.options.logResponseBody !== false,
    maxBodySize: builder.options.maxBodySize,
  };
  const idSettings: RequestIdSettings = {
    requestIdHeader: resolved.requestIdHeader,
    correlationIdHeader: resolved.correlationIdHeader,
    readTraceHeaders: resolved.traceparent,
  };
  const sink = resolved.sink;
  const echoHeader = resolved.echoRequestIdHeader;

  const report = (error: unknown): void => {
    try {
      settleQuietly(sink.reportError?.(asKafkaLogError(error)), noop);
    } catch {
      // A failing error reporter has nothing left to report to; the application must not notice.
    }
  };

  // Failures of the options' functions (filter, sampleRate, body conditions, the id generator): reported at most
  // once a minute each, the rest counted as `repeated`, as failing custom fields are.
  const optionReports = new CustomFieldReports(undefined);
  const reportRated = (failure: CustomFieldError): void => {
    for (const error of optionReports.mark([failure])) report(error);
  };
  const decide = compileEntryDecision(resolved, reportRated);

  const tellSkipped = (reason: SkipReason): void => {
    try {
      settleQuietly(sink.skipped?.(reason, 1), report);
    } catch (error) {
      report(error);
    }
  };

  if (resolved.traceparent) void loadOpenTelemetry(report);

  const generator = resolved.generateRequestId;
  const generateRequestId = (request: TRequest): string | undefined => {
    if (generator === false) return undefined;
    if (generator === true) return randomUUID();
    let id: unknown;
    try {
      id = generator(request);
    } catch (error) {
      reportRated(new CustomFieldError('generateRequestId', `the generateRequestId function threw: ${describeError(error)}; a random UUID is used`, error));
      return randomUUID();
    }
    if (typeof id === 'string' && id !== '') return id;
    settleQuietly(id);
    const problem = `the generateRequestId function returned ${describeValue(id)}, not a non-empty string; a random UUID is used`;
    reportRated(new CustomFieldError('generateRequestId', problem));
    return randomUUID();
  };

  /** The request id, read now (the application or the echoed header asks before the end) and kept. */
  const readRequestId = (capture: ExchangeCapture<TRequest>): string | undefined => {
    try {
      const header = idSettings.requestIdHeader;
      const id = (header === undefined ? undefined : readRequestIdHeader(capture.rawHeaders, header)) ?? generateRequestId(capture.context);
      capture.requestId = id;
      return id;
    } catch (error) {
      report(error);
      return undefined;
    }
  };

  /** Sets the echoed header, unless the response's headers have gone out. */
  const echo = (capture: ExchangeCapture<TRequest>, response: ServerResponse, header: string): void => {
    if (response.headersSent) return;
    const id = capture.readRequestId();
    if (id === undefined) return;
    try {
      response.setHeader(header, id);
    } catch (error) {
      reportRated(new CustomFieldError('echoRequestIdHeader', `the request id could not be sent in ${header}: ${describeError(error)}`, error));
    }
  };

  const hook = <T>(fn: ((request: TRequest) => T) | undefined, name: string, request: TRequest): T | undefined => {
    if (fn === undefined) return undefined;
    try {
      return fn(request);
    } catch (error) {
      report(new CustomFieldError(name, `the ${name} hook threw: ${describeError(error)}`, error));
      return undefined;
    }
  };

  /** What the capture saw, with the ids its headers carry. */
  const describe = (capture: ExchangeCapture<TRequest>): HttpExchange => {
    hooks.beforeBuild?.(capture);
    const exchange = capture.toExchange();
    const ids = readRequestIds(capture.rawHeaders, idSettings);
    const requestId = capture.requestId ?? ids.requestId;
    if (requestId !== undefined) exchange.requestId = requestId;
    const traceIds = capture.activeTraceId === undefined ? ids.traceIds : withW3cTraceId(ids.traceIds, capture.activeTraceId);
    if (traceIds !== undefined) exchange.traceIds = traceIds;
    if (ids.correlationId !== undefined) exchange.correlationId = ids.correlationId;
    return exchange;
  };

  /** What the options add to an exchange: a generated request id, the workspace, the hooks' objects. */
  const complete = (exchange: HttpExchange, request: TRequest): void => {
    if (exchange.requestId === undefined) {
      const requestId = generateRequestId(request);
      if (requestId !== undefined) exchange.requestId = requestId;
    }
    if (resolved.workspace !== undefined) exchange.workspace = resolved.workspace;
    if (resolved.workspaceName !== undefined) exchange.workspaceName = resolved.workspaceName;
    const route = hook(resolved.route, 'route', request);
    if (route !== undefined) exchange.route = route;
    const service = hook(resolved.service, 'service', request);
    if (service !== undefined) exchange.service = service;
    const consumer = hook(resolved.consumer, 'consumer', request);
    if (consumer !== undefined) exchange.consumer = consumer;
    const entity = hook(resolved.authenticatedEntity, 'authenticatedEntity', request);
    if (entity !== undefined) exchange.authenticatedEntity = entity;
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

  const handleExchange = (exchange: HttpExchange, request: TRequest): LogOutcome => {
    try {
      complete(exchange, request);
      // Built without bodies first: `filter` and `sampleRate` see what body conditions see, and an entry they
      // leave out costs no body parsing and no custom fields.
      const entry = builder.buildWithoutBodies(exchange);
      if (decide !== undefined) {
        const skipped = decide(entry, request);
        if (skipped !== undefined) {
          tellSkipped(skipped);
          return skipped;
        }
      }
      let failures: readonly CustomFieldError[];
      try {
        failures = builder.addBodies(entry, exchange, request);
      } catch (error) {
        // Kong's policy for an unparsable body: the entry is not sent. Reported, so it can be counted.
        report(error);
        return 'not_sent';
      }
      for (const failure of failures) reportRated(failure);
      publish(entry, request, customFields);
      return 'published';
    } catch (error) {
      report(error);
      return 'not_sent';
    }
  };

  const completion: CaptureCompletion<TRequest> = {
    complete(capture) {
      try {
        handleExchange(describe(capture), capture.context);
      } catch (error) {
        report(error);
      }
    },
    requestId: readRequestId,
  };

  return {
    options: resolved,
    builder,
    report,
    handleExchange,
    capture(request, response, context, prototypesTapped = false) {
      try {
        if (resolved.skip?.(context)) return undefined;
        const capture = startCapture(request, response, context, settings, completion, prototypesTapped);
        // Read now: the application's tracing context is the request's only while the adapter's hook runs.
        if (resolved.traceparent) capture.activeTraceId = activeTraceId();
        if (echoHeader !== undefined) echo(capture, response, echoHeader);
        return capture;
      } catch (error) {
        report(error);
        return undefined;
      }
    },
    echoRequestIdAgain(capture) {
      if (echoHeader === undefined) return;
      const response = capture.response;
      if (response.headersSent) return;
      // Wrapped on this one response, on an error path only; unwrapped at its first call.
      const writeHead = response.writeHead;
      response.writeHead = function echoingWriteHead(this: ServerResponse, ...args: unknown[]) {
        response.writeHead = writeHead;
        if (!this.hasHeader(echoHeader)) echo(capture, this, echoHeader);
        return (writeHead as (...params: unknown[]) => ServerResponse).apply(this, args);
      } as ServerResponse['writeHead'];
    },
  };
}

const noop = (): void => undefined;

function asKafkaLogError(error: unknown): KafkaLogError {
  if (error instanceof KafkaLogError) return error;
  return new KafkaLogError(ErrorCodes.SERIALIZE, `log entry could not be built: ${describeError(error)}`, {
    cause: error,
  });
}
