/**
 * `trace_id` in Kong's shape: an object keyed by tracing format, read from the request's tracing headers the way
 * Kong's propagation reads them (Kong's `kong/observability/tracing/propagation/extractors/`), each value written
 * the way Kong writes that format (the injectors' `get_formatted_trace_id`). A header that is invalid for Kong is
 * ignored, as Kong ignores it. A header sent more than once reaches Kong's extractors as a list, which none of them
 * takes as a trace id. kafka-log propagates nothing, so where Kong writes the formats it injects, kafka-log writes
 * each format the request carries.
 *
 * @module
 */

import type { RawHeaders } from './exchange.js';
import type { TraceIdFormat, TraceIds } from './log-entry.js';

/** The formats of `trace_id`, in the order kafka-log writes them (Kong's `propagation/utils.lua` FORMATS). */
export const TRACE_ID_FORMATS = ['w3c', 'b3', 'jaeger', 'ot', 'datadog', 'aws', 'gcp', 'instana'] as const satisfies readonly TraceIdFormat[];

/** The request headers a trace id may come from (lower-case). */
const TRACE_HEADERS = [
  'traceparent',
  'b3',
  'tracestate',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'uber-trace-id',
  'ot-tracer-traceid',
  'ot-tracer-spanid',
  'x-datadog-trace-id',
  'x-datadog-sampling-priority',
  'x-amzn-trace-id',
  'x-cloud-trace-context',
  'x-instana-t',
  'x-instana-s',
] as const;

/** A header trace ids are read from. */
type TraceHeaderName = (typeof TRACE_HEADERS)[number];

/** The tracing headers of one request: each header's value, or every value when it was sent more than once. */
export type TraceHeaders = { [Name in TraceHeaderName]?: string | string[] };

const TRACE_HEADER_SET: ReadonlySet<string> = new Set(TRACE_HEADERS);
// For each name length (all are below 32), a bit per first letter (bit 1 for `a`...) of the tracing headers of that
// length: lets a scan over raw headers pass over nearly every other name without lower-casing it.
const INITIALS_BY_LENGTH = new Uint32Array(32);
for (const name of TRACE_HEADERS) INITIALS_BY_LENGTH[name.length] = (INITIALS_BY_LENGTH[name.length] as number) | (1 << (name.charCodeAt(0) - 96));

/** Whether a header name may be a tracing header, by its length and first letter (a cheap test before lower-casing it). */
export function mayBeTraceHeader(name: string): boolean {
  const initials = name.length < 32 ? (INITIALS_BY_LENGTH[name.length] as number) : 0;
  // `| 0x20` lower-cases an ASCII letter; other characters fall outside 1..26 or match no initial.
  const letter = (name.charCodeAt(0) | 0x20) - 96;
  return initials !== 0 && letter > 0 && letter < 27 && (initials & (1 << letter)) !== 0;
}

/** Whether a lower-cased header name is one trace ids are read from. */
export function isTraceHeader(lowerCaseName: string): lowerCaseName is TraceHeaderName {
  return TRACE_HEADER_SET.has(lowerCaseName);
}

/** Adds one received header to `headers`; a repeated header keeps all its values. */
export function addTraceHeader(headers: TraceHeaders, name: TraceHeaderName, value: string): void {
  const known = headers[name];
  if (known === undefined) headers[name] = value;
  else if (typeof known === 'string') headers[name] = [known, value];
  else known.push(value);
}

/**
 * The trace ids of a request's headers: node's flat `rawHeaders` list or a record of name to value(s). `undefined`
 * when no header carries a valid trace id (Kong then writes no `trace_id`).
 */
export function readTraceIds(headers: RawHeaders): TraceIds | undefined {
  const found: TraceHeaders = {};
  let any = false;
  const add = (name: string, value: string) => {
    if (!mayBeTraceHeader(name)) return;
    const lower = name.toLowerCase();
    if (!isTraceHeader(lower)) return;
    addTraceHeader(found, lower, value);
    any = true;
  };
  if (Array.isArray(headers)) {
    const raw = headers as readonly string[];
    for (let i = 0; i + 1 < raw.length; i += 2) add(raw[i] as string, raw[i + 1] as string);
  } else {
    for (const [name, value] of Object.entries(headers as Readonly<Record<string, string | readonly string[] | number | undefined>>)) {
      if (value === undefined) continue;
      if (typeof value === 'object') for (const one of value) add(name, one);
      else add(name, String(value));
    }
  }
  return any ? traceIdsOf(found) : undefined;
}

/** The trace ids the tracing headers of one request carry, formats in {@link TRACE_ID_FORMATS} order. */
export function traceIdsOf(headers: TraceHeaders): TraceIds | undefined {
  let ids: TraceIds | undefined;
  for (let i = 0; i < READERS.length; i++) {
    const id = (READERS[i] as Reader)(headers);
    if (id === undefined) continue;
    if (ids === undefined) ids = {};
    ids[TRACE_ID_FORMATS[i] as TraceIdFormat] = id;
  }
  return ids;
}

/** `ids` with `w3c` set to `traceId` (the trace id of the application's active span, which wins over `traceparent`). */
export function withW3cTraceId(ids: TraceIds | undefined, traceId: string): TraceIds {
  if (ids === undefined) return { w3c: traceId };
  const { w3c: _received, ...others } = ids;
  return { w3c: traceId, ...others };
}

// ---- trace id bytes, as lower-case hex ----

const HEX = /^[0-9a-f]+$/i;
const ZEROS = /^0+$/;

/** Kong's `from_hex`: an odd number of digits gets a leading zero. */
function fromHex(hex: string): string {
  return (hex.length % 2 === 0 ? hex : `0${hex}`).toLowerCase();
}

/** Kong's `to_id_size`: keep the last `bytes` bytes, or pad with zero bytes in front. */
function toSize(hex: string, bytes: number): string {
  const digits = bytes * 2;
  return hex.length >= digits ? hex.slice(hex.length - digits) : hex.padStart(digits, '0');
}

/**
 * The trace id as a format's injector writes it: Kong keeps the id's received size when the format allows it, else
 * takes the format's first allowed size (extractors first widen every id to 16 bytes: to_kong_trace_id).
 */
function sized(hex: string, allowedBytes: readonly number[]): string {
  const received = hex.length / 2;
  return toSize(toSize(hex, 16), allowedBytes.includes(received) ? received : (allowedBytes[0] as number));
}

const SIXTEEN_OR_EIGHT = [16, 8] as const;
const EIGHT_OR_SIXTEEN = [8, 16] as const;

// ---- one reader per format (extractors/<format>.lua) ----

// Kong reads four hex fields, then wants version 00, a 16-byte trace id, an 8-byte parent id and one flags byte:
// exactly this layout.
const TRACEPARENT = /^00-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

function w3c(headers: TraceHeaders): string | undefined {
  const header = headers.traceparent;
  if (typeof header !== 'string' || header.length !== 55 || !TRACEPARENT.test(header)) return undefined;
  const traceId = header.slice(3, 35);
  // Neither id may be zero.
  if (traceId === ZERO_TRACE_ID || header.slice(36, 52) === ZERO_SPAN_ID) return undefined;
  return traceId.toLowerCase();
}

// trace-span[-sampled][-parent]; the dashes before sampled and parent are optional in Kong's reader.
const B3_SINGLE = /^([0-9a-fA-F]+)-[0-9a-fA-F]{16}-?[01d]?-?([0-9a-fA-F]*)$/;
const B3_IN_TRACESTATE = /^b3=(.+)$/s;

/** B3: the single header (`b3`, else a `b3=` entry of `tracestate`) wins; else `x-b3-traceid` when the multi headers are valid. */
function b3(headers: TraceHeaders): string | undefined {
  const fromSingle = b3Single(headers);
  if (fromSingle !== undefined) return sized(fromHex(fromSingle), SIXTEEN_OR_EIGHT);
  const traceId = headers['x-b3-traceid'];
  if (traceId === undefined) return undefined;
  // One invalid id among the multi headers voids them all.
  if (!isHexId(traceId, 16, 32) || !absentOrHexId(headers['x-b3-spanid']) || !absentOrHexId(headers['x-b3-parentspanid'])) return undefined;
  return sized(fromHex(traceId as string), SIXTEEN_OR_EIGHT);
}

/** A single header value of `length` (or `otherLength`) hex digits. */
function isHexId(value: string | string[] | undefined, length: number, otherLength = length): boolean {
  return typeof value === 'string' && (value.length === length || value.length === otherLength) && HEX.test(value);
}

/** Absent, or 16 hex digits (a span id). */
function absentOrHexId(value: string | string[] | undefined): boolean {
  return value === undefined || isHexId(value, 16);
}

function b3Single(headers: TraceHeaders): string | undefined {
  let value = headers.b3;
  if (value === undefined) {
    if (headers.tracestate === undefined) return undefined;
    const tracestate = headers.tracestate;
    const entries = typeof tracestate === 'string' ? [tracestate] : (tracestate ?? []);
    for (const entry of entries) {
      value = B3_IN_TRACESTATE.exec(entry)?.[1];
      if (value !== undefined) break;
    }
  }
  if (typeof value !== 'string') return undefined;
  const match = B3_SINGLE.exec(value);
  if (match === null) return undefined;
  const traceId = match[1] as string;
  const parentId = match[2] as string;
  if ((traceId.length !== 16 && traceId.length !== 32) || (parentId !== '' && parentId.length !== 16)) return undefined;
  return traceId;
}

const UBER_TRACE_ID = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)$/i;

function jaeger(headers: TraceHeaders): string | undefined {
  const header = headers['uber-trace-id'];
  if (typeof header !== 'string') return undefined;
  const match = UBER_TRACE_ID.exec(header);
  if (match === null) return undefined;
  const [, traceId, spanId, , flags] = match as unknown as [string, string, string, string, string];
  // An invalid parent id only earns a warning in Kong.
  if (traceId.length > 32 || ZEROS.test(traceId) || spanId.length > 16 || ZEROS.test(spanId) || flags.length > 2) return undefined;
  return sized(fromHex(traceId), SIXTEEN_OR_EIGHT);
}

function ot(headers: TraceHeaders): string | undefined {
  const traceId = headers['ot-tracer-traceid'];
  if (traceId === undefined || !isHexId(traceId, 16, 32) || !absentOrHexId(headers['ot-tracer-spanid'])) return undefined;
  return sized(fromHex(traceId as string), EIGHT_OR_SIXTEEN);
}

// Lua's %s: space, \t, \n, \v, \f, \r; %d: ASCII digits.
const DATADOG_ID = /^[ \t\n\v\f\r]*([0-9]+)[ \t\n\v\f\r]*$/;
const DATADOG_PRIORITIES: ReadonlySet<string> = new Set(['1', '2', '0', '-1']);

/** Datadog: a decimal id; Kong writes the decimal of its low 64 bits (its injector takes 8 bytes). */
function datadog(headers: TraceHeaders): string | undefined {
  const header = headers['x-datadog-trace-id'];
  if (typeof header !== 'string') return undefined;
  const priority = headers['x-datadog-sampling-priority'];
  // An invalid sampling priority voids the whole Datadog context.
  if (priority !== undefined && (typeof priority !== 'string' || !DATADOG_PRIORITIES.has(priority))) return undefined;
  const digits = DATADOG_ID.exec(header)?.[1];
  return digits === undefined ? undefined : BigInt.asUintN(64, BigInt(digits)).toString();
}

const AWS_ROOT = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/i;
// Kong's strip: space and \t through \r.
const AWS_SPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;

/** AWS X-Ray: `Root=1-<8 hex>-<24 hex>`; an invalid Root, Parent or Sampled voids the header. */
function aws(headers: TraceHeaders): string | undefined {
  const value = headers['x-amzn-trace-id'];
  if (typeof value !== 'string') return undefined;
  let traceId: string | undefined;
  for (const pair of value.split(';')) {
    const equals = pair.indexOf('=');
    const key = (equals < 0 ? pair : pair.slice(0, equals)).replace(AWS_SPACE, '');
    const field = equals < 0 ? '' : pair.slice(equals + 1).replace(AWS_SPACE, '');
    if (key === 'Root') {
      const match = AWS_ROOT.exec(field);
      if (match === null) return undefined;
      traceId = `${match[1]}${match[2]}`.toLowerCase();
    } else if (key === 'Parent') {
      if (field.length !== 16) return undefined;
    } else if (key === 'Sampled') {
      if (field !== '0' && field !== '1') return undefined;
    }
  }
  return traceId;
}

const CLOUD_TRACE_CONTEXT = /^([0-9a-f]{32})\/[0-9]{1,20}(?:;o=[0-9])?$/;

function gcp(headers: TraceHeaders): string | undefined {
  const header = headers['x-cloud-trace-context'];
  return typeof header === 'string' ? CLOUD_TRACE_CONTEXT.exec(header)?.[1] : undefined;
}

const LEADING_HEX = /^[0-9a-f]+/i;

/** Instana: the hex digits `x-instana-t` starts with (Kong only warns about their number); `x-instana-s` is required. */
function instana(headers: TraceHeaders): string | undefined {
  const traceId = headers['x-instana-t'];
  if (typeof traceId !== 'string' || typeof headers['x-instana-s'] !== 'string') return undefined;
  const digits = LEADING_HEX.exec(traceId)?.[0];
  return digits === undefined ? undefined : sized(fromHex(digits), SIXTEEN_OR_EIGHT);
}

type Reader = (headers: TraceHeaders) => string | undefined;
/** One reader per format of {@link TRACE_ID_FORMATS}, in its order. A repeated header is a list to Kong: no trace id. */
const READERS: readonly Reader[] = [w3c, b3, jaeger, ot, datadog, aws, gcp, instana];
