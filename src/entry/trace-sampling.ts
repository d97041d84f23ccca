/**
 * Sampling decided by the trace id, so that every service of one trace keeps or leaves out the same requests. The
 * rule, for other languages to match it:
 *
 * 1. the trace id is the entry's first `trace_id` format in this order: `w3c`, `b3`, `jaeger`, `ot`, `datadog`,
 *    `aws`, `gcp`, `instana`;
 * 2. `R` is its 56 least-significant bits: its last 14 hex digits as an unsigned integer (`datadog`, written in
 *    decimal: the number modulo 2^56). W3C Trace Context Level 2 makes these bits random; a 64-bit id (B3, Jaeger,
 *    Datadog) and the 128-bit id of the same trace share them;
 * 3. with `K = floor(rate × 2^56)` (`rate` an IEEE double, so `K` is exact), the entry is kept when
 *    `R + K ≥ 2^56`: rate 1 keeps all, rate 0 none, and a higher rate keeps every trace a lower one keeps.
 *
 * That is the rule OpenTelemetry's specification gives its `TraceIdRatioBased` sampler (keep when
 * `R ≥ (1 − rate) × 2^56`), so samplers that follow it keep the same traces at the same rate, up to the rounding of
 * their threshold. Pure.
 *
 * @module
 */

import type { TraceIds } from './log-entry.js';
import { TRACE_ID_FORMATS } from './trace-ids.js';

const TWO_24 = 2 ** 24;
const TWO_32 = 2 ** 32;
const TWO_56 = 2 ** 56;
const LAST_56_BITS = /^[0-9a-fA-F]{14}$/;
const DECIMAL_64_BITS = /^[0-9]{1,20}$/;
const LOW_32_BITS = 0xffffffffn;
const NEXT_24_BITS = 0xffffffn;

/**
 * Whether the trace of `traceIds` is kept at `rate` (0 to 1); `undefined` when there is no usable trace id (then
 * the caller decides at random).
 */
export function keepsTrace(traceIds: TraceIds | undefined, rate: number): boolean | undefined {
  if (traceIds === undefined) return undefined;
  for (const format of TRACE_ID_FORMATS) {
    const id = traceIds[format];
    if (typeof id !== 'string') continue;
    if (format === 'datadog') {
      if (!DECIMAL_64_BITS.test(id)) continue;
      const value = BigInt(id);
      return kept(Number((value >> 32n) & NEXT_24_BITS), Number(value & LOW_32_BITS), rate);
    }
    const last = id.slice(-14);
    if (!LAST_56_BITS.test(last)) continue;
    return kept(Number.parseInt(last.slice(0, 6), 16), Number.parseInt(last.slice(6), 16), rate);
  }
  return undefined;
}

/** `R + K ≥ 2^56` with `R = high × 2^32 + low`, in exact integer steps (every value stays below 2^53). */
function kept(high: number, low: number, rate: number): boolean {
  const threshold = Math.floor(rate * TWO_56);
  const thresholdHigh = Math.floor(threshold / TWO_32);
  const thresholdLow = threshold - thresholdHigh * TWO_32;
  const carry = low + thresholdLow >= TWO_32 ? 1 : 0;
  return high + thresholdHigh + carry >= TWO_24;
}
