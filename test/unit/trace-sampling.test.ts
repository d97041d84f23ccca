// The trace-id sampling rule, checked against an independent BigInt statement of the rule the README documents:
// R = the trace id's last 56 bits, kept when R + floor(rate × 2^56) ≥ 2^56.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceIds } from '../../src/entry/log-entry.js';
import { keepsTrace } from '../../src/entry/trace-sampling.js';

const TWO_56 = 2n ** 56n;

/** The documented rule, in BigInt arithmetic: no floating point past the rate's own scaling. */
function documentedRule(hexId: string, rate: number): boolean {
  const r = BigInt(`0x${hexId.slice(-14)}`);
  // rate × 2^56 scales a double by a power of two (exact); its floor is exact too.
  const k = BigInt(Math.floor(rate * 2 ** 56));
  return r + k >= TWO_56;
}

const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
const rate = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 1, 0.5, 0.01, 1 / 3, 2 ** -40, 1 - 2 ** -53));

describe('keepsTrace', () => {
  it('keeps a W3C trace exactly when R + floor(rate × 2^56) ≥ 2^56', () => {
    fc.assert(fc.property(hex(32), rate, (id, r) => keepsTrace({ w3c: id }, r) === documentedRule(id, r)), { numRuns: 5000 });
  });

  it('decides at the exact boundary: R = 2^56 − K is kept, one less is not', () => {
    const r = 0.25;
    const k = BigInt(Math.floor(r * 2 ** 56));
    const boundary = (TWO_56 - k).toString(16).padStart(14, '0');
    const below = (TWO_56 - k - 1n).toString(16).padStart(14, '0');
    expect(keepsTrace({ w3c: `000000000000000000${boundary}` }, r)).toBe(true);
    expect(keepsTrace({ w3c: `000000000000000000${below}` }, r)).toBe(false);
  });

  it('keeps every trace at rate 1 and none at rate 0', () => {
    fc.assert(
      fc.property(hex(32), (id) => keepsTrace({ w3c: id }, 1) === true && keepsTrace({ w3c: id }, 0) === false),
      { numRuns: 500 },
    );
    expect(keepsTrace({ w3c: 'ffffffffffffffffffffffffffffffff' }, 0)).toBe(false);
    expect(keepsTrace({ w3c: '00000000000000000000000000000000' }, 1)).toBe(true);
  });

  it('keeps at a higher rate every trace a lower rate keeps', () => {
    fc.assert(
      fc.property(hex(32), rate, rate, (id, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        return !keepsTrace({ w3c: id }, low) || keepsTrace({ w3c: id }, high) === true;
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps about the rate of random trace ids', () => {
    // Uniform ids (fast-check's generators favour edge values on purpose).
    const ids = Array.from({ length: 20_000 }, () => randomBytes(16).toString('hex'));
    const kept = ids.filter((id) => keepsTrace({ w3c: id }, 0.3)).length;
    expect(kept / ids.length).toBeGreaterThan(0.28);
    expect(kept / ids.length).toBeLessThan(0.32);
  });

  it('reads the first format in the documented order, w3c first', () => {
    const keptId = 'ffffffffffffffffffffffffffffffff';
    const droppedId = '00000000000000000000000000000000';
    expect(keepsTrace({ datadog: '0', w3c: keptId }, 0.5)).toBe(true);
    expect(keepsTrace({ b3: droppedId, w3c: keptId }, 0.5)).toBe(true);
    expect(keepsTrace({ instana: keptId, b3: droppedId }, 0.5)).toBe(false);
    expect(keepsTrace({ gcp: droppedId, aws: keptId }, 0.5)).toBe(true);
  });

  it('decides the same for the 64-bit and 128-bit forms of one trace (B3, Jaeger, Datadog, W3C)', () => {
    fc.assert(
      fc.property(hex(16), hex(16), rate, (high, low, r) => {
        const w3c = keepsTrace({ w3c: `${high}${low}` }, r);
        const datadog = keepsTrace({ datadog: BigInt(`0x${low}`).toString(10) }, r);
        return keepsTrace({ b3: low }, r) === w3c && keepsTrace({ jaeger: low }, r) === w3c && datadog === w3c;
      }),
      { numRuns: 2000 },
    );
  });

  it('has no decision without a usable trace id', () => {
    expect(keepsTrace(undefined, 0.5)).toBeUndefined();
    expect(keepsTrace({}, 0.5)).toBeUndefined();
    expect(keepsTrace({ w3c: 'not hex at all, not at all' } as TraceIds, 0.5)).toBeUndefined();
    expect(keepsTrace({ datadog: '12ab' }, 0.5)).toBeUndefined();
    // A malformed first format gives way to the next usable one.
    expect(keepsTrace({ w3c: 'xyz', b3: 'ffffffffffffffff' }, 0.5)).toBe(true);
  });
});
