// What the outage soak requires of its figures (scripts/soak/outage.mjs): every accepted entry accounted for, the
// queue within maxBytes, delivery resumed by itself, the topic holding exactly what was counted as sent, no failed
// request and a clean exit. Returns one line per requirement not met; the soak exits 1 when there is any.

/** The problems in `figures` (the soak's JSON line); empty when everything reconciles. */
export function unreconciled(f) {
  const problems = [];
  const check = (ok, problem) => {
    if (!ok) problems.push(problem);
  };
  check(f.accepted === f.sent + f.dropped, `after close accepted ${f.accepted} != sent ${f.sent} + dropped ${f.dropped}`);
  check(f.inconsistentSamples === 0, `${f.inconsistentSamples} of ${f.samples} samples break accepted = sent + dropped + buffered + inFlight`);
  check(f.samples > 0, 'the app reported no samples');
  check(f.messagesInTopic === f.sent, `the topic holds ${f.messagesInTopic} messages, sent is ${f.sent}`);
  check(f.warmupAccepted >= 0, `accepted ${f.accepted} is less than the ${f.requests} requests answered`);
  check(f.httpErrors === 0, `${f.httpErrors} requests failed`);
  check(f.peakBufferedBytes <= f.maxBytes, `the queue held ${f.peakBufferedBytes} bytes, over maxBytes ${f.maxBytes}`);
  check(typeof f.resumedAfterBrokerReadyMs === 'number', 'delivery did not resume after the broker came back');
  check(f.appExitCode === 0, `the app exited with ${f.appExitCode}`);
  return problems;
}
