/**
 * Request id, trace id and correlation id from the request's headers, read in one pass over node's
 * `rawHeaders`.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';

/** The ids of one request; `undefined` where there is none. */
export interface RequestIds {
  /** From the request id header, else generated (when enabled), else `undefined`. */
  requestId: string | undefined;
  /** The trace id of a valid W3C `traceparent` header. */
  traceId: string | undefined;
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
}

const TRACEPARENT = 'traceparent';
// version-traceid-parentid-flags; version ff is invalid, as is an all-zero trace id (W3C Trace Context).
const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}(?:-|$)/i;
const ZERO_TRACE_ID = '0'.repeat(32);

/** Reads the ids of one request from its flat `rawHeaders` list (the first of repeated headers wins). */
export function readRequestIds(raw: readonly string[], settings: RequestIdSettings): RequestIds {
  const wanted = settings.requestIdHeader;
  const correlation = settings.correlationIdHeader;
  let requestId: string | undefined;
  let traceparent: string | undefined;
  let correlationId: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    // Compare lengths first: most headers are none of these, and lower-casing allocates.
    const length = name.length;
    if (length !== TRACEPARENT.length && length !== wanted?.length && length !== correlation?.length) continue;
    const lower = name.toLowerCase();
    if (lower === wanted) requestId ??= raw[i + 1];
    else if (lower === TRACEPARENT) traceparent ??= raw[i + 1];
    else if (lower === correlation) correlationId ??= raw[i + 1];
  }
  if ((requestId === undefined || requestId === '') && settings.generateRequestId) requestId = randomUUID();
  return { requestId, traceId: traceparent === undefined ? undefined : traceIdOf(traceparent), correlationId };
}

/** The trace id of a W3C `traceparent` value, lower-cased, or `undefined` when the value is not valid. */
export function traceIdOf(traceparent: string): string | undefined {
  const match = TRACEPARENT_PATTERN.exec(traceparent.trim());
  if (match === null) return undefined;
  const version = (match[1] as string).toLowerCase();
  const traceId = (match[2] as string).toLowerCase();
  if (version === 'ff' || traceId === ZERO_TRACE_ID) return undefined;
  return traceId;
}
