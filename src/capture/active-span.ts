/**
 * The trace id of the OpenTelemetry span active when a request reaches the adapter, when the application has
 * `@opentelemetry/api` installed (an optional peer dependency): it fills `trace_id.w3c`, so in-process traces and log
 * entries correlate. The package is loaded in the background when the first adapter is created; until then, and
 * when it is not installed, no span is read. Only the API is used: whatever SDK and context manager the application
 * registered decide which span is active.
 *
 * @module
 */

import { ErrorCodes, KafkaLogError, describeError } from '../errors.js';
import { loadOptional } from '../optional-dependency.js';

/** The part of `@opentelemetry/api` read here. */
interface OpenTelemetryApi {
  trace: { getActiveSpan(): { spanContext(): SpanContext } | undefined };
  isSpanContextValid(context: SpanContext): boolean;
}
interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

let api: OpenTelemetryApi | undefined;
let loading: Promise<void> | undefined;

/**
 * Starts loading `@opentelemetry/api` once per process; resolves when done. Not installed is not an error; any
 * other failure to load it goes to `report` (of the adapter that started the load).
 */
export function loadOpenTelemetry(report: (error: KafkaLogError) => void): Promise<void> {
  loading ??= loadOptional<OpenTelemetryApi>('@opentelemetry/api', 'trace ids of active spans', { has: 'trace' }).then(
    (loaded) => {
      api = loaded;
    },
    (error: unknown) => {
      if (error instanceof KafkaLogError && error.code === ErrorCodes.MISSING_DEPENDENCY) return;
      const message = `@opentelemetry/api is installed but could not be loaded, so trace_id.w3c is not taken from active spans: ${describeError(error)}`;
      report(new KafkaLogError(ErrorCodes.MISSING_DEPENDENCY, message, { cause: error }));
    },
  );
  return loading;
}

/** The active span's trace id (lower-case hex), or `undefined` when there is no valid active span. Never throws. */
export function activeTraceId(): string | undefined {
  if (api === undefined) return undefined;
  try {
    const context = api.trace.getActiveSpan()?.spanContext();
    return context !== undefined && api.isSpanContextValid(context) ? context.traceId.toLowerCase() : undefined;
  } catch {
    // A broken context manager or span must not cost the request its entry.
    return undefined;
  }
}
