/**
 * Rate-limited reporting of custom-field failures: a field that fails on every request must not be announced
 * (and logged) once per request forever. Every failure still goes to the sink, so `stats().reported` counts
 * each one; but only the first failure of a field, and then at most one per interval, goes out as an
 * announcement. The others are marked `repeated` (the publisher counts them without emitting
 * `publisher.reported`), and the next announcement says how many there were. The failure that switched an
 * expression off is always announced.
 *
 * Pure: the clock is given. State is one small record per configured field.
 *
 * @module
 */

import { CustomFieldError } from '../../errors.js';
import type { CompiledCustomFields } from './custom-fields.js';

/** Default interval between two announcements of one field. */
const CUSTOM_FIELD_REPORT_INTERVAL_MS = 60_000;

interface FieldReports {
  /** When the field was last announced; `undefined` before the first. */
  announcedAt: number | undefined;
  /** Failures marked `repeated` since then. */
  repeats: number;
  /** The field was switched off, and that was announced. */
  offAnnounced: boolean;
}

/** Decides which custom-field failures are announced and which are marked `repeated`. */
export class CustomFieldReports {
  readonly #fields: CompiledCustomFields | undefined;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #byKey = new Map<string, FieldReports>();

  /** `fields`: the compiled fields (to see when one is switched off); `now`: a clock in milliseconds. */
  constructor(fields: CompiledCustomFields | undefined, intervalMs = CUSTOM_FIELD_REPORT_INTERVAL_MS, now: () => number = () => performance.now()) {
    this.#fields = fields;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** The failures of one entry as they go to the sink: announced, or marked `repeated`. */
  mark(failures: readonly CustomFieldError[]): CustomFieldError[] {
    const now = this.#now();
    return failures.map((failure) => {
      const state = this.#state(failure.field);
      const switchedOff = !state.offAnnounced && this.#isSwitchedOff(failure.field);
      if (switchedOff) state.offAnnounced = true;
      if (!switchedOff && state.announcedAt !== undefined && now - state.announcedAt < this.#intervalMs) {
        state.repeats++;
        return new CustomFieldError(failure.field, reasonOf(failure), failure.cause, true);
      }
      const repeats = state.repeats;
      state.announcedAt = now;
      state.repeats = 0;
      if (repeats === 0) return failure;
      const note = `${repeats} more ${repeats === 1 ? 'failure' : 'failures'} of this field since it was last reported`;
      return new CustomFieldError(failure.field, `${reasonOf(failure)} (${note})`, failure.cause);
    });
  }

  #state(key: string): FieldReports {
    let state = this.#byKey.get(key);
    if (state === undefined) {
      // Keys are the configured fields (and '*'): a bounded set.
      state = { announcedAt: undefined, repeats: 0, offAnnounced: false };
      this.#byKey.set(key, state);
    }
    return state;
  }

  #isSwitchedOff(key: string): boolean {
    return this.#fields?.fields.some((field) => field.key === key && field.switchedOff) === true;
  }
}

/** The reason of a failure, without the `custom field "key": ` its message starts with. */
function reasonOf(failure: CustomFieldError): string {
  const prefix = `custom field "${failure.field}": `;
  return failure.message.startsWith(prefix) ? failure.message.slice(prefix.length) : failure.message;
}
