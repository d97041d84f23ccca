/**
 * `createTestAdapter`: what an adapter does once a response is over, without a server: the same pipeline every
 * adapter runs (a generated request id, the hooks, `filter`, `sampleRate`, the body options, custom fields, then
 * the sink), fed with exchanges a test writes (`exchangeFixture`). With a `TestPublisher` as its sink, a test reads
 * back what Kafka would receive and what `stats()` counts, e.g. that only 5xx responses are logged.
 *
 * @module
 */
import type { KafkaLogAdapterOptions } from '../capture/adapter-options.js';
import { type LogOutcome, createExchangePipeline } from '../capture/pipeline.js';
import type { HttpExchange } from '../entry/exchange.js';

export type { LogOutcome } from '../capture/pipeline.js';

/** An adapter's options at work on exchanges a test gives it. */
export interface TestAdapter<TRequest> {
  /**
   * Handles one finished exchange as the adapter does when its response is over, and says what became of it:
   * `published` (handed to the sink), `filtered`, `sampled_out` (the sink's `skipped` was told), or `not_sent` (a
   * body of a parsed type did not parse: Kong's policy). `request` is what the options' functions receive as the
   * framework's request. The exchange is not changed. Failures of the options' functions go to the sink's
   * `reportError`, as in production (a `TestPublisher` counts them in `stats().reported`).
   */
  log(exchange: HttpExchange, request?: TRequest): LogOutcome;
}

/**
 * Compiles adapter options (checked as an adapter checks them: an invalid one throws `InvalidOptionError`) into a
 * {@link TestAdapter}.
 *
 * @example
 * ```ts
 * const publisher = createTestPublisher();
 * const adapter = createTestAdapter({ sink: publisher, filter: (entry) => entry.response.status >= 500 });
 * adapter.log(exchangeFixture({ response: { status: 200 } })); // 'filtered'
 * adapter.log(exchangeFixture({ response: { status: 503 } })); // 'published'
 * await publisher.flush();
 * expect(publisher.entries().map((entry) => entry.response.status)).toEqual([503]);
 * expect(publisher.stats().skipped.byReason.filtered).toBe(1);
 * ```
 */
export function createTestAdapter<TRequest = unknown>(options: KafkaLogAdapterOptions<TRequest>): TestAdapter<TRequest> {
  // The same decisions as a server's adapter, without looking for an active OpenTelemetry span.
  const pipeline = createExchangePipeline<TRequest>({ traceparent: false, ...options });
  return {
    log: (exchange, request) => pipeline.handleExchange({ ...exchange }, request as TRequest),
  };
}
