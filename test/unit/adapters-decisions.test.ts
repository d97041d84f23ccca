// `filter` and `sampleRate` after the response, through the adapters' own pipeline (`createTestAdapter`) into the
// real publisher over memory: what is published, what is counted, and that stats() adds up at every step.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpExchange } from '../../src/entry/exchange.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { type CustomFieldError, ErrorCodes, InvalidOptionError } from '../../src/errors.js';
import type { KafkaLogAdapterOptions } from '../../src/capture/adapter-options.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import { createTestAdapter, createTestPublisher, exchangeFixture, type TestPublisher } from '../../src/testing/index.js';

const open: TestPublisher[] = [];
function publisher(): TestPublisher {
  const p = createTestPublisher({ logLevel: 'silent' });
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close({ timeoutMs: 100 })));
});

/** accepted = sent + dropped + skipped + buffered + in flight. */
function expectBalanced(stats: PublisherStats): void {
  expect(stats.accepted).toBe(stats.sent + stats.dropped.total + stats.skipped.total + stats.buffered + stats.inFlight);
  expect(stats.skipped.total).toBe(stats.skipped.byReason.filtered + stats.skipped.byReason.sampled_out);
}

const status = (code: number, traceId?: string): HttpExchange =>
  exchangeFixture({ response: { status: code }, ...(traceId === undefined ? {} : { traceIds: { w3c: traceId } }) });

function adapter(options: Omit<KafkaLogAdapterOptions<unknown>, 'sink'>, sink: TestPublisher = publisher()) {
  return { sink, log: createTestAdapter({ sink, ...options }).log };
}

describe('filter', () => {
  it('publishes only what it keeps, counts the rest as filtered, and stats() adds up at every step', async () => {
    const { sink, log } = adapter({ filter: (entry) => entry.response.status >= 500 });
    const outcomes = [];
    for (const code of [200, 503, 404, 500, 201]) {
      outcomes.push(log(status(code)));
      expectBalanced(sink.stats());
    }
    expect(outcomes).toEqual(['filtered', 'published', 'filtered', 'published', 'filtered']);
    await sink.flush();
    expectBalanced(sink.stats());
    expect(sink.entries().map((entry) => entry.response.status)).toEqual([503, 500]);
    expect(sink.stats()).toMatchObject({ accepted: 5, sent: 2, skipped: { total: 3, byReason: { filtered: 3, sampled_out: 0 } } });
    expect(sink.stats().dropped.total).toBe(0);
  });

  it('sees the entry before bodies and custom fields, with the request, and leaves what it refuses uncomputed', async () => {
    const seen: unknown[] = [];
    let customFieldRuns = 0;
    const { sink, log } = adapter({
      logResponseBody: true,
      customFields: {
        'service.team': () => {
          customFieldRuns++;
          return 'checkout';
        },
      },
      filter: (entry, request) => {
        seen.push({ body: entry.response.body, team: entry.service, request });
        return entry.response.status !== 200;
      },
    });
    expect(log(status(200), { user: 'ada' })).toBe('filtered');
    expect(log(status(500), { user: 'bob' })).toBe('published');
    expect(seen).toEqual([
      { body: undefined, team: undefined, request: { user: 'ada' } },
      { body: undefined, team: undefined, request: { user: 'bob' } },
    ]);
    expect(customFieldRuns).toBe(1);
    await sink.flush();
    expect(sink.entries()[0]?.service).toEqual({ team: 'checkout' });
    expect(sink.entries()[0]?.response.body).toBeDefined();
  });

  it('fails open: a filter that throws or answers no boolean is reported, rate-limited, and the entry is published', async () => {
    const reported: CustomFieldError[] = [];
    const sink = publisher();
    sink.on('publisher.reported', ({ error }) => reported.push(error as CustomFieldError));
    let calls = 0;
    const { log } = adapter(
      {
        filter: () => {
          calls++;
          if (calls % 2 === 1) throw new Error('filter bug');
          return Promise.reject(new Error('async filter')) as never;
        },
      },
      sink,
    );
    for (let i = 0; i < 6; i++) expect(log(status(200))).toBe('published');
    await sink.flush();
    expect(sink.entries()).toHaveLength(6);
    expect(sink.stats().reported.byCode[ErrorCodes.CUSTOM_FIELD]).toBe(6);
    // Announced once a minute per option, the rest counted as repeated.
    expect(reported.map((error) => error.message)).toEqual(['custom field "filter": the filter threw: filter bug; the entry is published']);
    expectBalanced(sink.stats());
    await new Promise((resolve) => setTimeout(resolve, 10)); // a rejection left unhandled would fail the run here
  });
});

describe('sampleRate', () => {
  it('keeps nothing at 0 and everything at 1', async () => {
    const none = adapter({ sampleRate: 0 });
    const all = adapter({ sampleRate: 1 });
    for (let i = 0; i < 5; i++) {
      expect(none.log(status(200))).toBe('sampled_out');
      expect(all.log(status(200))).toBe('published');
    }
    expect(none.sink.stats().skipped.byReason.sampled_out).toBe(5);
    expectBalanced(none.sink.stats());
  });

  it('decides on the trace id: two services with the same rate keep the same traces', () => {
    const first = adapter({ sampleRate: 0.5 });
    const second = adapter({ sampleRate: 0.5 });
    const ids = Array.from({ length: 200 }, () => randomBytes(16).toString('hex'));
    const decisions = ids.map((id) => [first.log(status(200, id)), second.log(status(200, id))]);
    for (const [a, b] of decisions) expect(a).toBe(b);
    const kept = decisions.filter(([a]) => a === 'published').length;
    expect(kept).toBeGreaterThan(40);
    expect(kept).toBeLessThan(160);
  });

  it('decides at random without a trace id', () => {
    const { log, sink } = adapter({ sampleRate: 0.5, traceparent: false });
    for (let i = 0; i < 2000; i++) log(exchangeFixture({ traceIds: undefined }));
    const out = sink.stats().skipped.byReason.sampled_out;
    expect(out).toBeGreaterThan(800);
    expect(out).toBeLessThan(1200);
  });

  it('applies after filter: "all errors plus 1% of the rest" is one line', async () => {
    const { log, sink } = adapter({ sampleRate: (entry) => (entry.response.status >= 500 ? 1 : 0.01) });
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const code = i % 10 === 0 ? 503 : 200;
      if (code === 503) errors++;
      log(status(code, undefined));
    }
    await sink.flush();
    const statuses = sink.entries().map((entry: LogEntry) => entry.response.status);
    expect(statuses.filter((code) => code === 503)).toHaveLength(errors);
    const rest = statuses.filter((code) => code === 200).length;
    expect(rest).toBeGreaterThan(5);
    expect(rest).toBeLessThan(70);
    expectBalanced(sink.stats());
  });

  it('counts the filter first: an entry the filter refuses is never sampled', () => {
    let sampled = 0;
    const { log, sink } = adapter({
      filter: (entry) => entry.response.status >= 400,
      sampleRate: () => {
        sampled++;
        return 0;
      },
    });
    log(status(200));
    log(status(404));
    expect(sampled).toBe(1);
    expect(sink.stats().skipped.byReason).toEqual({ filtered: 1, sampled_out: 1 });
  });

  it('keeps the entry when its function throws or answers out of range, and reports it', async () => {
    const answers: unknown[] = [Number.NaN, 2, '0.5', -0.1];
    const sink = publisher();
    const reported: string[] = [];
    sink.on('publisher.reported', ({ error }) => reported.push(error.message));
    const { log } = adapter({ sampleRate: () => answers.shift() as number }, sink);
    for (let i = 0; i < 4; i++) expect(log(status(200))).toBe('published');
    const failing = adapter(
      {
        sampleRate: () => {
          throw new TypeError('no rate');
        },
      },
      sink,
    );
    expect(failing.log(status(200))).toBe('published');
    expect(reported).toEqual([
      'custom field "sampleRate": the sampleRate function returned NaN, not a number from 0 to 1; the entry is kept',
      'custom field "sampleRate": the sampleRate function threw: no rate; the entry is kept',
    ]);
    expect(sink.stats().reported.byCode[ErrorCodes.CUSTOM_FIELD]).toBe(5);
  });
});

describe('the options', () => {
  it('are refused at start-up with what to give', () => {
    const sink = publisher();
    const problem = (options: Record<string, unknown>) => {
      try {
        createTestAdapter({ sink, ...options });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        return (error as InvalidOptionError).problems.map((p) => `${p.field}: ${p.problem}`);
      }
      return [];
    };
    expect(problem({ sampleRate: 1.5 })).toEqual(['sampleRate: must be a number from 0 to 1 or a function (entry, request) => number, got 1.5']);
    expect(problem({ sampleRate: '10%' })).toEqual(['sampleRate: must be a number from 0 to 1 or a function (entry, request) => number, got "10%"']);
    expect(problem({ filter: true })).toEqual(['filter: must be a function, got true']);
    expect(problem({ echoRequestIdHeader: 'X Request Id' })).toEqual(['echoRequestIdHeader: must be a header name or false, got "X Request Id"']);
    expect(problem({ generateRequestId: 'uuid' })).toEqual(['generateRequestId: must be true, false or a function (request) => string, got "uuid"']);
    expect(problem({ logRequestBody: 1 })).toEqual(['logRequestBody: must be true, false or a function (entry, request) => boolean, got 1']);
    expect(problem({ sample_rate: 0.1 })).toEqual(['sample_rate: unknown option; did you mean "sampleRate"?']);
    expect(() => createTestAdapter({ sink: { publish: () => undefined, skipped: 'no' as never } })).toThrow('invalid option "sink.skipped": must be a function, got "no"');
  });

  it('tell a sink without skipped() nothing, and a sink whose skipped() throws or rejects does not break the request path', async () => {
    const errors: unknown[] = [];
    const published: LogEntry[] = [];
    const base = { publish: (entry: LogEntry) => published.push(entry), reportError: (error: unknown) => errors.push(error) };
    expect(createTestAdapter({ sink: base, filter: () => false }).log(status(200))).toBe('filtered');
    const throwing = createTestAdapter({
      sink: {
        ...base,
        skipped: () => {
          throw new Error('counter broke');
        },
      },
      filter: () => false,
    });
    expect(throwing.log(status(200))).toBe('filtered');
    const rejecting = createTestAdapter({ sink: { ...base, skipped: () => Promise.reject(new Error('async counter')) }, sampleRate: 0 });
    expect(rejecting.log(status(200))).toBe('sampled_out');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(published).toEqual([]);
    expect(errors.map((error) => (error as Error).message)).toEqual([
      'log entry could not be built: counter broke',
      'log entry could not be built: async counter',
    ]);
  });
});

describe('publisher.skipped', () => {
  it('counts as accepted and settled at once, so flush() does not wait for it', async () => {
    const sink = publisher();
    sink.skipped('filtered', 3);
    sink.skipped('sampled_out', 1);
    await sink.flush();
    expect(sink.stats()).toMatchObject({ accepted: 4, sent: 0, skipped: { total: 4, byReason: { filtered: 3, sampled_out: 1 } } });
    expectBalanced(sink.stats());
  });

  it('does not count what is not a skip reason or not a positive whole count, and reports it', () => {
    const sink = publisher();
    const reported: string[] = [];
    sink.on('publisher.reported', ({ error }) => reported.push(error.message));
    sink.skipped('dropped' as never, 1);
    sink.skipped('filtered', 0);
    sink.skipped('filtered', -2);
    sink.skipped('filtered', 1.5);
    sink.skipped('filtered', Number.NaN);
    expect(sink.stats().accepted).toBe(0);
    expect(sink.stats().skipped.total).toBe(0);
    // A count of 0 has nothing to count; the four others are reported as invalid calls.
    expect(sink.stats().reported).toEqual({ total: 4, byCode: { KAFKA_LOG_ERR_INVALID_OPTION: 4 } });
    expect(reported[0]).toMatch(/^skipped\("dropped", 1\) was not counted: the reason must be one of filtered, sampled_out/);
    expect(reported).toHaveLength(4);
  });
});
