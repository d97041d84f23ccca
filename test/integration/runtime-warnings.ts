/**
 * kafkajs 2.2.4 (its last release) schedules a timer with a negative delay when it is not throttled
 * (`throttledUntil - Date.now()` with `throttledUntil = -1`, network/requestQueue). Node 23+ reports that as a
 * TimeoutNegativeWarning on stderr and clamps the delay to 1 ms: harmless, and not kafka-log's output. Tests that
 * check a process prints nothing on stderr remove exactly that warning, nothing else.
 */
export function withoutKnownRuntimeWarnings(stderr: string): string {
  return stderr
    .split('\n')
    .filter(
      (line) =>
        !/\(node:\d+\) TimeoutNegativeWarning: -\d+ is a negative number\./.test(line) &&
        line !== 'Timeout duration was set to 1.' &&
        !line.startsWith('(Use `node --trace-warnings ...` to show where the warning was created)'),
    )
    .join('\n');
}
