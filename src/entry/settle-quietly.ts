/**
 * `settleQuietly`: what kafka-log does with a promise a user function or sink returned where nothing (or a
 * boolean) was due. Pure: it only attaches a handler.
 *
 * @module
 */

/**
 * When `value` is a promise (or any thenable), hands its rejection to `onRejected` (by default, ignores it): a
 * rejected promise nobody handles ends the process in Node's default mode. Its outcome is not waited for.
 */
export function settleQuietly(value: unknown, onRejected: (error: unknown) => void = ignore): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
  try {
    const then = (value as { then?: unknown }).then;
    if (typeof then === 'function') then.call(value, undefined, onRejected);
  } catch (error) {
    // A hostile thenable whose `then` throws: nothing was started that could go unhandled.
    onRejected(error);
  }
}

function ignore(): void {}
