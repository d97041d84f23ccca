/**
 * The circuit breaker of custom-field expressions: an expression that times out a given number of times in a row
 * is switched off until the application restarts, so a stuck expression stops costing its time limit on every
 * entry. Any evaluation that ends in time (with a value or an error) resets its count.
 *
 * @module
 */

/** Counts consecutive time-outs (and other stops) per expression index. */
export class TimeoutBreaker {
  readonly #limit: number;
  readonly #inARow: number[] = [];
  readonly #off: boolean[] = [];

  /** `limit`: time-outs in a row that switch an expression off (a positive integer). */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Whether expression `index` is switched off. */
  isOff(index: number): boolean {
    return this.#off[index] === true;
  }

  /** Records that expression `index` ended in time. */
  recordInTime(index: number): void {
    this.#inARow[index] = 0;
  }

  /** Records that expression `index` timed out or had to be stopped; `true` when this switched it off (once). */
  recordStopped(index: number): boolean {
    if (this.#off[index] === true) return false;
    const count = (this.#inARow[index] ?? 0) + 1;
    this.#inARow[index] = count;
    if (count < this.#limit) return false;
    this.#off[index] = true;
    return true;
  }

  /** Time-outs in a row of expression `index` so far. */
  timeoutsInARow(index: number): number {
    return this.#inARow[index] ?? 0;
  }
}
