// A team's unit test of what its adapter publishes: server errors only, with their response bodies. The options
// its adapter gets in production run through the adapters' own pipeline (createTestAdapter) into the real
// publisher over memory: no server, no broker.
import { createTestAdapter, createTestPublisher, exchangeFixture } from 'kafka-log/testing';
import { expect, it } from 'vitest';

// In the service this object is also given to the adapter, e.g. app.use(kafkaLog({ ...serverErrorsOnly, sink })).
const serverErrorsOnly = {
  filter: (entry: { response: { status: number } }) => entry.response.status >= 500,
  logResponseBody: true,
};

it('publishes 5xx responses only, with their bodies, and counts the rest as filtered', async () => {
  const publisher = createTestPublisher();
  const adapter = createTestAdapter({ ...serverErrorsOnly, sink: publisher });

  expect(adapter.log(exchangeFixture({ response: { status: 200 } }))).toBe('filtered');
  expect(adapter.log(exchangeFixture({ response: { status: 404 } }))).toBe('filtered');
  expect(adapter.log(exchangeFixture({ response: { status: 503 } }))).toBe('published');
  await publisher.flush();

  const [entry, ...others] = publisher.entries();
  expect(others).toEqual([]);
  expect(entry?.response.status).toBe(503);
  expect(entry?.response.body).toBe('{"id":42,"items":[{"sku":"A-1","qty":2}],"status":"paid"}');
  expect(publisher.stats()).toMatchObject({ accepted: 3, sent: 1, skipped: { total: 2, byReason: { filtered: 2 } } });
  await publisher.close();
});
