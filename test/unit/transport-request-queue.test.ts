// kafkajs 2.2.4's RequestQueue re-arms a 1 ms timer after every check, with nothing pending: with the guard in
// place an idle queue arms no timer, and a request that has to wait (throttled, or too many in flight) is still
// sent as kafkajs sends it. These tests drive kafkajs' own RequestQueue.
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { quietKafkajsRequestQueue } from '../../src/transport/kafkajs-request-queue.js';

const require = createRequire(__filename);

interface Entry {
  correlationId: number;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}
interface Queue {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttledUntil: number;
  push(request: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests(): void;
  destroy(): void;
}
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => Queue;

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };
const queues: Queue[] = [];
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

function newQueue(maxInFlightRequests: number | null = null): Queue {
  const queue = new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'kafka-log-test',
    broker: '127.0.0.1:9092',
    logger: quietLogger,
  });
  queues.push(queue);
  return queue;
}

/** Pushes a request; resolves with the times it was sent (ms since the epoch), filled as it goes out. */
function push(queue: Queue, correlationId: number): { sentAt: number[] } {
  const sent = { sentAt: [] as number[] };
  queue.push({
    entry: { correlationId, apiKey: 0, apiName: 'Produce', apiVersion: 7, resolve() {}, reject() {} },
    expectResponse: true,
    sendRequest: () => sent.sentAt.push(Date.now()),
  });
  return sent;
}

/** Counts the queue's checks over `ms` of waiting. */
async function checksDuring(queue: Queue, ms: number): Promise<number> {
  let checks = 0;
  const check = queue.checkPendingRequests;
  queue.checkPendingRequests = function counted(this: Queue) {
    checks += 1;
    check.call(this);
  };
  await new Promise((resolve) => setTimeout(resolve, ms));
  queue.checkPendingRequests = check;
  return checks;
}

beforeAll(async () => {
  expect(await quietKafkajsRequestQueue()).toBeUndefined();
  process.on('warning', onWarning);
});
afterAll(() => process.off('warning', onWarning));
afterEach(() => {
  for (const queue of queues.splice(0)) queue.destroy();
});

describe("kafkajs' request queue with the idle timer stopped", () => {
  it('arms no timer once an answer leaves nothing pending (kafkajs alone checks every millisecond)', async () => {
    const queue = newQueue();
    push(queue, 1);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    // kafkajs alone: the answer's check re-arms setTimeout(-1 ms), about 100 checks in these 100 ms.
    expect(await checksDuring(queue, 100)).toBe(0);
  });

  it('sends a request queued while throttled once the throttle ends, and then stops checking', async () => {
    const queue = newQueue();
    queue.maybeThrottle(40);
    const throttledFrom = Date.now();
    const request = push(queue, 1);
    expect(request.sentAt).toEqual([]);
    const deadline = Date.now() + 2000;
    while (request.sentAt.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(request.sentAt).toHaveLength(1);
    expect(request.sentAt[0] as number).toBeGreaterThanOrEqual(throttledFrom + 39);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(await checksDuring(queue, 60)).toBe(0);
  });

  it('keeps a throttle with nothing pending armed, so a later request still waits for it', async () => {
    const queue = newQueue();
    queue.maybeThrottle(60);
    queue.checkPendingRequests();
    const request = push(queue, 1);
    expect(request.sentAt).toEqual([]);
    const deadline = Date.now() + 2000;
    while (request.sentAt.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(request.sentAt).toHaveLength(1);
  });

  it('sends a request held back by the in-flight limit when an answer comes', () => {
    const queue = newQueue(1);
    const first = push(queue, 1);
    const second = push(queue, 2);
    expect(first.sentAt).toHaveLength(1);
    expect(second.sentAt).toEqual([]);
    expect(queue.pending).toHaveLength(1);
    queue.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(second.sentAt).toHaveLength(1);
    expect(queue.pending).toHaveLength(0);
  });

  it('sets no negative timeout (node 24 warns TimeoutNegativeWarning for each one)', async () => {
    const queue = newQueue();
    for (let id = 1; id <= 5; id++) {
      push(queue, id);
      queue.fulfillRequest({ correlationId: id, payload: Buffer.alloc(0), size: 0 });
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings.filter((warning) => warning.name === 'TimeoutNegativeWarning')).toEqual([]);
  });
});
