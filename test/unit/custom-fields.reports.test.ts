import { describe, expect, it } from 'vitest';
import { CustomFieldReports } from '../../src/entry/custom-fields/custom-field-reports.js';
import { applyCustomFields, compileCustomFields } from '../../src/entry/custom-fields/custom-fields.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { CustomFieldError, ErrorCodes } from '../../src/errors.js';
import { createTestPublisher } from '../../src/testing/index.js';

function failure(field: string, reason = 'threw Error: x'): CustomFieldError {
  return new CustomFieldError(field, reason);
}

/** What the sink receives, as [field, repeated, message]. */
function seen(errors: readonly CustomFieldError[]): Array<[string, boolean, string]> {
  return errors.map((error) => [error.field, error.repeated, error.message]);
}

describe('CustomFieldReports', () => {
  it('announces a field at once, then at most once per interval; the failures between are marked repeated', () => {
    let now = 0;
    const reports = new CustomFieldReports(undefined, 1000, () => now);
    expect(seen(reports.mark([failure('a'), failure('b')]))).toEqual([
      ['a', false, 'custom field "a": threw Error: x'],
      ['b', false, 'custom field "b": threw Error: x'],
    ]);
    now = 10;
    expect(seen(reports.mark([failure('a')]))).toEqual([['a', true, 'custom field "a": threw Error: x']]);
    now = 999;
    expect(reports.mark([failure('a')])[0]!.repeated).toBe(true);
    now = 1000;
    expect(seen(reports.mark([failure('a', 'threw Error: later')]))).toEqual([
      ['a', false, 'custom field "a": threw Error: later (2 more failures of this field since it was last reported)'],
    ]);
    // The other field keeps its own clock.
    now = 1001;
    expect(seen(reports.mark([failure('a'), failure('b')])).map(([field, repeated]) => [field, repeated])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('announces the switch-off of an expression at once', () => {
    let now = 0;
    const compiled = compileCustomFields({ stuck: '(() => { for (;;) {} })()' }, { expressionTimeoutMs: 10, expressionTimeoutsBeforeSwitchOff: 3 });
    const reports = new CustomFieldReports(compiled, 60_000, () => now);
    const sent: CustomFieldError[] = [];
    for (let i = 0; i < 6; i++) {
      now += 100;
      sent.push(...reports.mark(applyCustomFields({} as LogEntry, compiled)));
    }
    expect(seen(sent)).toEqual([
      ['stuck', false, 'custom field "stuck": timed out (limit 10 ms)'],
      ['stuck', true, 'custom field "stuck": timed out (limit 10 ms)'],
      [
        'stuck',
        false,
        'custom field "stuck": timed out (limit 10 ms), 3 times in a row: switched off until the application restarts (1 more failure of this field since it was last reported)',
      ],
    ]);
  });

  it('keeps one record per field, however many different messages a field fails with', () => {
    let now = 0;
    const reports = new CustomFieldReports(undefined, 1000, () => now);
    let announced = 0;
    for (let i = 0; i < 10_000; i++) {
      now += 1;
      announced += reports.mark([failure('a', `threw ${i}`)]).filter((error) => !error.repeated).length;
    }
    expect(announced).toBe(10);
  });
});

describe('KafkaLogPublisher.reportError with repeated custom-field failures', () => {
  it('counts every failure in stats().reported and emits only the ones not marked repeated', async () => {
    const publisher = createTestPublisher();
    try {
      const events: CustomFieldError[] = [];
      publisher.on('publisher.reported', ({ error }) => events.push(error as CustomFieldError));
      publisher.reportError(new CustomFieldError('a', 'threw Error: x'));
      for (let i = 0; i < 4; i++) publisher.reportError(new CustomFieldError('a', 'threw Error: x', undefined, true));
      publisher.reportError(new CustomFieldError('b', 'threw Error: y'));
      expect(publisher.stats().reported).toEqual({ total: 6, byCode: { [ErrorCodes.CUSTOM_FIELD]: 6 } });
      expect(events.map((error) => error.field)).toEqual(['a', 'b']);
    } finally {
      await publisher.close();
    }
  });
});
