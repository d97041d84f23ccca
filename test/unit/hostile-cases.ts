// How many hostile cases the two hostile suites run. The README's guarantees table states their sum; each suite
// checks, once all its tests passed, that it ran exactly its own count, so a case that silently stopped running
// (a property cut short, a loop that no longer loops) fails the suite instead of shrinking a printed number.
import type { RunnerTask, RunnerTestFile, RunnerTestSuite } from 'vitest';

/** Property-based runs of hostile-entry.test.ts, per property. */
export const HOSTILE_ENTRY_PROPERTY_RUNS = { bodies: 400, headerValues: 300, uris: 300, customFieldValues: 200 } as const;
/** Hand-picked exchanges of hostile-entry.test.ts (each a pass through the whole pipeline). */
const HOSTILE_ENTRY_HAND_PICKED = 35;
/** Cases of hostile-entry.test.ts: every pass of an exchange through the pure pipeline. */
export const HOSTILE_ENTRY_CASES = Object.values(HOSTILE_ENTRY_PROPERTY_RUNS).reduce((a, b) => a + b, 0) + HOSTILE_ENTRY_HAND_PICKED;
/** Cases of hostile-http.test.ts: one per test, each a hostile exchange with a real server. */
export const HOSTILE_HTTP_CASES = 9;

/** Whether every test of a file (or suite) ran and passed: only then is a count of cases meaningful. */
export function everyTestPassed(suite: Readonly<RunnerTestSuite | RunnerTestFile>): boolean {
  const passed = (task: RunnerTask): boolean =>
    task.type === 'suite' ? task.tasks.every(passed) : task.mode === 'run' && task.result?.state === 'pass';
  return suite.tasks.length > 0 && suite.tasks.every(passed);
}
