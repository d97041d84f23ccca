// The outage soak (`npm run soak:outage`) fails, exit code 1, when its figures do not reconcile: this is the check it
// runs on them.
import { describe, expect, it } from 'vitest';
import { type SoakFigures, unreconciled } from '../../scripts/soak/reconcile.mjs';

const good: SoakFigures = {
  accepted: 1000,
  sent: 700,
  dropped: 300,
  requests: 990,
  warmupAccepted: 10,
  inconsistentSamples: 0,
  samples: 400,
  messagesInTopic: 700,
  httpErrors: 0,
  peakBufferedBytes: 16 * 1024 * 1024 - 10,
  maxBytes: 16 * 1024 * 1024,
  resumedAfterBrokerReadyMs: 700,
  appExitCode: 0,
};

describe('the outage soak check', () => {
  it('passes figures that reconcile', () => {
    expect(unreconciled(good)).toEqual([]);
  });

  it.each<[string, Partial<SoakFigures>, RegExp]>([
    ['an entry neither sent nor dropped', { sent: 699, messagesInTopic: 699 }, /accepted 1000 != sent 699 \+ dropped 300/],
    ['a sample off the balance', { inconsistentSamples: 1 }, /1 of 400 samples/],
    ['no samples', { samples: 0, inconsistentSamples: 0 }, /no samples/],
    ['a message missing from the topic', { messagesInTopic: 699 }, /topic holds 699 messages, sent is 700/],
    ['a message in the topic twice', { messagesInTopic: 701 }, /topic holds 701 messages/],
    ['a request with no entry', { warmupAccepted: -1 }, /less than the 990 requests/],
    ['a failed request', { httpErrors: 2 }, /2 requests failed/],
    ['a queue over maxBytes', { peakBufferedBytes: 16 * 1024 * 1024 + 1 }, /over maxBytes/],
    ['delivery that never resumed', { resumedAfterBrokerReadyMs: undefined }, /did not resume/],
    ['an app that did not exit cleanly', { appExitCode: 1 }, /exited with 1/],
  ])('fails %s', (_name, change, problem) => {
    const problems = unreconciled({ ...good, ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });
});
