/**
 * Whether an adapter publishes an entry, decided once the response is complete: `filter`, then `sampleRate`.
 * Compiled once from the options; when neither is set there is nothing to compile and the pipeline skips the
 * step on one branch. A user function that throws or answers out of its range is reported and the entry is
 * published: a broken filter or rate must not lose logs.
 *
 * @module
 */

import type { LogEntry } from '../entry/log-entry.js';
import { settleQuietly } from '../entry/settle-quietly.js';
import { keepsTrace } from '../entry/trace-sampling.js';
import { CustomFieldError, describeError } from '../errors.js';
import { describeValue } from '../options/check.js';
import type { EntryFilter, ResolvedAdapterOptions, SampleRateFunction } from './adapter-options.js';
import type { SkipReason } from './sink.js';

/** Why the entry is not published, or `undefined` when it is. */
export type EntryDecision<TRequest> = (entry: LogEntry, request: TRequest) => SkipReason | undefined;

/**
 * The decision of `filter` and `sampleRate`, or `undefined` when neither is set (every entry is published).
 * `fail` receives the failures of the user's functions (each leaves the entry published).
 */
export function compileEntryDecision<TRequest>(
  options: Pick<ResolvedAdapterOptions<TRequest>, 'filter' | 'sampleRate'>,
  fail: (failure: CustomFieldError) => void,
): EntryDecision<TRequest> | undefined {
  const { filter, sampleRate } = options;
  if (filter === undefined && sampleRate === 1) return undefined;
  return (entry, request) => {
    if (filter !== undefined && !passes(filter, entry, request, fail)) return 'filtered';
    const rate = typeof sampleRate === 'number' ? sampleRate : rateOf(sampleRate, entry, request, fail);
    return rate >= 1 || sampled(entry, rate) ? undefined : 'sampled_out';
  };
}

/** Kept at `rate`: on the trace id when the entry has one, else at random. */
function sampled(entry: LogEntry, rate: number): boolean {
  if (rate <= 0) return false;
  return keepsTrace(entry.trace_id, rate) ?? Math.random() < rate;
}

function passes<TRequest>(filter: EntryFilter<TRequest>, entry: LogEntry, request: TRequest, fail: (failure: CustomFieldError) => void): boolean {
  let answer: unknown;
  try {
    answer = filter(entry, request);
  } catch (error) {
    fail(new CustomFieldError('filter', `the filter threw: ${describeError(error)}; the entry is published`, error));
    return true;
  }
  if (typeof answer === 'boolean') return answer;
  settleQuietly(answer);
  fail(new CustomFieldError('filter', `the filter returned ${describeValue(answer)}, not true or false; the entry is published`));
  return true;
}

function rateOf<TRequest>(rate: SampleRateFunction<TRequest>, entry: LogEntry, request: TRequest, fail: (failure: CustomFieldError) => void): number {
  let answer: unknown;
  try {
    answer = rate(entry, request);
  } catch (error) {
    fail(new CustomFieldError('sampleRate', `the sampleRate function threw: ${describeError(error)}; the entry is kept`, error));
    return 1;
  }
  if (typeof answer === 'number' && answer >= 0 && answer <= 1) return answer;
  settleQuietly(answer);
  fail(new CustomFieldError('sampleRate', `the sampleRate function returned ${describeValue(answer)}, not a number from 0 to 1; the entry is kept`));
  return 1;
}
