/**
 * Request id, trace ids and correlation id from the request's headers, read in one pass over node's
 * `rawHeaders`; the request id alone when the application or the echoed header needs it before the response ends.
 *
 * @module
 */

import type { TraceIds } from '../entry/log-entry.js';
import { type TraceHeaders, addTraceHeader, isTraceHeader, mayBeTraceHeader, traceIdsOf } from '../entry/trace-ids.js';

/** The ids of one request; `undefined` where there is none. */
interface RequestIds {
  /** From the request id header (not empty), else `undefined`. */
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
  return { requestId: requestId === '' ? undefined : requestId, traceIds: trace === undefined ? undefined : traceIdsOf(trace), correlationId };
}

/** The first value of the request id header `name` (lower-case), or `undefined` when absent or empty. */
export function readRequestIdHeader(raw: readonly string[], name: string): string | undefined {
  const length = name.length;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const header = raw[i] as string;
    if (header.length === length && header.toLowerCase() === name) {
      const value = raw[i + 1] as string;
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
