import { describe, expect, it } from 'vitest';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { TimeoutBreaker } from '../../src/entry/custom-fields/timeout-breaker.js';
import { ErrorCodes } from '../../src/errors.js';

function entryOf(data: Record<string, unknown> = {}): LogEntry {
  return structuredClone(data) as unknown as LogEntry;
}

describe('TimeoutBreaker', () => {
  it('switches an expression off after the limit of time-outs in a row, saying so once', () => {
    const breaker = new TimeoutBreaker(3);
    expect([breaker.recordStopped(0), breaker.recordStopped(0)]).toEqual([false, false]);
    expect(breaker.isOff(0)).toBe(false);
    expect(breaker.recordStopped(0)).toBe(true);
    expect(breaker.isOff(0)).toBe(true);
    // Already off: no second "switched off".
    expect(breaker.recordStopped(0)).toBe(false);
    expect(breaker.isOff(1)).toBe(false);
  });

  it('starts counting again after an evaluation that ended in time', () => {
    const breaker = new TimeoutBreaker(2);
    breaker.recordStopped(4);
    breaker.recordInTime(4);
    expect(breaker.timeoutsInARow(4)).toBe(0);
    expect(breaker.recordStopped(4)).toBe(false);
    expect(breaker.recordStopped(4)).toBe(true);
  });

  it('counts each expression on its own', () => {
    const breaker = new TimeoutBreaker(1);
    expect(breaker.recordStopped(0)).toBe(true);
    expect(breaker.isOff(1)).toBe(false);
    expect(breaker.recordStopped(1)).toBe(true);
  });
});

describe('expressionTimeoutsBeforeSwitchOff', () => {
  it('switches a stuck expression off: reported once, then not run at all, the other fields still written', () => {
    const compiled = compileCustomFields(
      { before: "'b'", stuck: '(() => { for (;;) {} })()', fn: () => 'f', after: 'entry.n' },
      // Far above what a plain expression takes even on a loaded CI machine: only the stuck one may time out.
      { expressionTimeoutMs: 250, expressionTimeoutsBeforeSwitchOff: 2 },
    );
    const stuck = compiled.fields.find((field) => field.key === 'stuck')!;
    const messages: string[][] = [];
    for (let n = 0; n < 5; n++) {
      const entry = entryOf({ n });
      messages.push(applyCustomFields(entry, compiled).map((error) => error.message));
      expect(entry).toEqual({ n, before: 'b', fn: 'f', after: n });
    }
    expect(messages).toEqual([
      ['custom field "stuck": timed out (limit 250 ms)'],
      ['custom field "stuck": timed out (limit 250 ms), 2 times in a row: switched off until the application restarts'],
      [],
      [],
      [],
    ]);
    expect(stuck.switchedOff).toBe(true);
    // The evaluation count stops where the expression was switched off: it costs nothing afterwards.
    expect(stuck.evaluations).toBe(2);
    expect(compiled.fields.find((field) => field.key === 'after')!.evaluations).toBe(5);
    expect(compiled.fields.find((field) => field.key === 'fn')!.evaluations).toBe(5);
  });

  it('keeps an expression that times out only now and then (a time-out in a row is what counts)', () => {
    const compiled = compileCustomFields(
      { slow: 'entry.spin ? (() => { for (;;) {} })() : 1' },
      { expressionTimeoutMs: 100, expressionTimeoutsBeforeSwitchOff: 2 },
    );
    for (const spin of [true, false, true, false, true]) applyCustomFields(entryOf({ spin }), compiled);
    expect(compiled.fields[0]!.switchedOff).toBe(false);
    const entry = entryOf({ spin: false });
    expect(applyCustomFields(entry, compiled)).toHaveLength(0);
    expect(entry).toEqual({ spin: false, slow: 1 });
  });

  it('defaults to 3 and refuses what is not a positive integer', () => {
    const compiled = compileCustomFields({ stuck: '(() => { for (;;) {} })()' }, { expressionTimeoutMs: 10 });
    for (let i = 0; i < 3; i++) applyCustomFields(entryOf(), compiled);
    expect(compiled.fields[0]!.switchedOff).toBe(true);
    for (const value of [0, -1, 1.5, Number.NaN]) {
      expect(() => compileCustomFields({ a: '1' }, { expressionTimeoutsBeforeSwitchOff: value })).toThrow(
        expect.objectContaining({ code: ErrorCodes.INVALID_OPTION, field: 'expressionTimeoutsBeforeSwitchOff' }),
      );
    }
  });

  it('lists function fields as never switched off', () => {
    const compiled = compileCustomFields({ fn: () => 1 });
    applyCustomFields(entryOf(), compiled);
    expect(compiled.fields[0]).toMatchObject({ key: 'fn', kind: 'function', switchedOff: false, evaluations: 1 });
  });

  it('takes compiled fields where raw ones go, but not options a second time', () => {
    const compiled = compileCustomFields({ a: '1' }, { expressionTimeoutMs: 10 });
    expect(compileCustomFields(compiled)).toBe(compiled);
    expect(() => compileCustomFields(compiled, { expressionTimeoutMs: 20 })).toThrow(expect.objectContaining({ field: 'customFields' }));
  });
});
