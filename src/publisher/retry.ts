/**
 * Backoff of the publisher's own retries (Kong's queue: `initial_retry_delay` doubling up to
 * `max_retry_delay`, giving up after `max_retry_time`).
 *
 * @module
 */

/** Retry timing. */
export interface BackoffPolicy {
  /** First delay, ms. */
  initialRetryDelay: number;
  /** Longest delay, ms. */
  maxRetryDelay: number;
  /** Time budget from the first attempt, ms. */
  maxRetryTime: number;
}

/**
 * Delay before retry number `attempt` (1 for the first retry): `initialRetryDelay * 2^(attempt-1)`, with
 * ±20% jitter so many publishers do not retry in step, capped by `maxRetryDelay`.
 */
export function retryDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = policy.initialRetryDelay * 2 ** Math.min(attempt - 1, 40);
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(jittered, policy.maxRetryDelay));
}

/**
 * Whether a request first tried at `startedAt` may be retried after `delay` more ms, at `now`: the retry must
 * start within the `maxRetryTime` budget.
 */
export function mayRetry(policy: BackoffPolicy, startedAt: number, now: number, delay: number): boolean {
  return now + delay - startedAt <= policy.maxRetryTime;
}
