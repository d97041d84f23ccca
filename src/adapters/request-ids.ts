/**
 * Request id, trace ids and correlation id from the request's headers, read in one pass over node's
 * `rawHeaders`.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { TraceIds } from '../entry/log-entry.js';
import { type TraceHeaders, addTraceHeader, isTraceHeader, mayBeTraceHeader, traceIdsOf } from '../entry/trace-ids.js';

/** The ids of one request; `undefined` where there is none. */
interface RequestIds {
  /** From the request id header, else generated (when enabled), else `undefined`. */
  requestId: string | undefined;
  /** The trace ids of the tracing headers, by format (Kong's `trace_id`). */
  traceIds: TraceIds | undefined;
  /** From the correlation id header. */
  correlationId: string | undefined;
}

/** Which headers to read, names lower-cased; `undefined` turns a lookup off. */
export interface RequestIdSettings {
  /** Request id header, e.g. `x-request-id`. */
  readonly requestIdHeader: string | undefined;
  /** Generate a UUID when the request id header is absent. */
  readonly generateRequestId: boolean;
  /** Correlation id header, e.g. `kong-request-id`. */
  readonly correlationIdHeader: string | undefined;
  /** Read trace ids from the tracing headers. */
  readonly readTraceHeaders: boolean;
}

/** Reads the ids of one request from its flat `rawHeaders` list (the first of repeated id headers wins). */
export function readRequestIds(raw: readonly string[], settings: RequestIdSettings): RequestIds {
  const wanted = settings.requestIdHeader;
  const correlation = settings.correlationIdHeader;
  const readTrace = settings.readTraceHeaders;
  let requestId: string | undefined;
  let correlationId: string | undefined;
  let trace: TraceHeaders | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    // Compare lengths first: most headers are none of these, and lower-casing allocates.
    const length = name.length;
    const maybeTrace = readTrace && mayBeTraceHeader(name);
    if (!maybeTrace && length !== wanted?.length && length !== correlation?.length) continue;
    const lower = name.toLowerCase();
    if (lower === wanted) requestId ??= raw[i + 1];
    else if (lower === correlation) correlationId ??= raw[i + 1];
    if (maybeTrace && isTraceHeader(lower)) {
      trace ??= {};
      addTraceHeader(trace, lower, raw[i + 1] as string);
    }
  }
  if ((requestId === undefined || requestId === '') && settings.generateRequestId) requestId = randomUUID();
  return { requestId, traceIds: trace === undefined ? undefined : traceIdsOf(trace), correlationId };
}
