/**
 * Stops kafkajs 2.2.4's idle request-queue timer: once a connection has had an answer, its `RequestQueue` re-arms
 * `setTimeout(check, throttledUntil - Date.now())` after every check, with nothing pending and no throttle. The
 * delay is negative, so node runs it after 1 ms: each connection wakes the process a thousand times a second,
 * forever (kafkajs issues #1556, #1604, #1704; node 23 and newer print a `TimeoutNegativeWarning` for it, #1751).
 * `npm run bench:idle`: a kafkajs producer alone, idle, uses about 33 ms of CPU a second; the publisher on kafkajs 2.
 *
 * A check with nothing pending and no throttle does nothing but re-arm itself, so it is skipped; everything else
 * runs kafkajs' own code: a request that has to wait (throttled, or too many in flight) arms the check when it is
 * queued, and every answer checks the queue again. Installed once per process on the kafkajs that kafka-log
 * loads, so every kafkajs client in the process that shares that copy stops waking too.
 *
 * @module
 */

import { describeError } from '../errors.js';

interface RequestQueue {
  pending: { length: number };
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

interface RequestQueueClass {
  prototype: RequestQueue;
}

// Per process: kafka-log's CommonJS and ES module builds share the one kafkajs module.
const INSTALLED = Symbol.for('kafka-log.requestQueueTimer');
let installing: Promise<string | undefined> | undefined;

/**
 * Installs the guard once per process. Resolves to `undefined` when it is in place, else to why it is not (the
 * kafkajs in use does not have the queue where 2.x keeps it); kafkajs then runs unchanged.
 */
export function quietKafkajsRequestQueue(): Promise<string | undefined> {
  installing ??= install().catch((error: unknown) => describeError(error));
  return installing;
}

async function install(): Promise<string | undefined> {
  // A variable specifier: kafkajs' internal modules have no types, and bundlers must leave them alone.
  const path = 'kafkajs/src/network/requestQueue/index.js';
  const loaded = (await import(path)) as { default?: RequestQueueClass };
  const RequestQueueClass = (loaded.default ?? loaded) as RequestQueueClass;
  const prototype = RequestQueueClass?.prototype as (RequestQueue & { [INSTALLED]?: true }) | undefined;
  if (typeof prototype?.scheduleCheckPendingRequests !== 'function') return `${path} is not what kafkajs 2.x has there`;
  if (prototype[INSTALLED]) return undefined;
  const schedule = prototype.scheduleCheckPendingRequests;
  prototype.scheduleCheckPendingRequests = function scheduleWhenSomethingWaits(this: RequestQueue) {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    schedule.call(this);
  };
  prototype[INSTALLED] = true;
  return undefined;
}
