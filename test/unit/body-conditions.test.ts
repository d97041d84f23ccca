// Bodies on condition: `logRequestBody` / `logResponseBody` as functions of the entry built so far.
import { describe, expect, it } from 'vitest';
import { createLogEntryBuilder } from '../../src/entry/build.js';
import type { HttpExchange } from '../../src/entry/exchange.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { BodyParseError, CustomFieldError, InvalidOptionError } from '../../src/errors.js';
import { buildTestEntry, exchangeFixture } from '../../src/testing/index.js';

const encode = (text: string) => new TextEncoder().encode(text);

function exchangeWith(status: number, requestBody = '{"user":"ada"}'): HttpExchange {
  return exchangeFixture({
    request: { method: 'POST', headers: ['Host', 'orders.internal', 'Content-Type', 'application/json'], body: { bytes: encode(requestBody) } },
    response: { status, headers: ['Content-Type', 'application/json'], body: { bytes: encode('{"error":"nope"}') } },
  });
}

const onErrors = (entry: Readonly<LogEntry>) => entry.response.status >= 400;

describe('body conditions', () => {
  it('log both bodies when the condition holds, neither when it does not', () => {
    const builder = createLogEntryBuilder({ logRequestBody: onErrors, logResponseBody: onErrors });
    const failed = builder.build(exchangeWith(422));
    expect(failed.request.body_args).toEqual({ user: 'ada' });
    expect(failed.response.body).toBe('{"error":"nope"}');
    const fine = builder.build(exchangeWith(201));
    expect(fine.request).not.toHaveProperty('body');
    expect(fine.request).not.toHaveProperty('body_args');
    expect(fine.response).not.toHaveProperty('body');
  });

  it('see the entry built so far (status, method, route, headers, latencies) without bodies, and the request', () => {
    const seen: Array<{ entry: LogEntry; request: unknown }> = [];
    const record = (entry: Readonly<LogEntry>, request: unknown) => {
      seen.push({ entry: structuredClone(entry) as LogEntry, request });
      return true;
    };
    const request = { framework: 'request' };
    const entry = createLogEntryBuilder({ logRequestBody: record, logResponseBody: record }).build(exchangeWith(500), request);
    expect(seen).toHaveLength(2);
    for (const { entry: asked, request: given } of seen) {
      expect(given).toBe(request);
      expect(asked.response.status).toBe(500);
      expect(asked.request.method).toBe('POST');
      expect(asked.route).toEqual({ path: '/orders/:id' });
      expect(asked.request.headers['content-type']).toBe('application/json');
      expect(asked.latencies.request).toBe(12);
      expect(asked.request).not.toHaveProperty('body');
      expect(asked.response).not.toHaveProperty('body');
    }
    expect(entry.request.body).toBe('{"user":"ada"}');
  });

  it('leave a refused body unparsed: a body that would not parse does not keep the entry back', () => {
    const builder = createLogEntryBuilder({ logRequestBody: onErrors });
    expect(builder.build(exchangeWith(200, '{not json')).request).not.toHaveProperty('body');
    expect(() => builder.build(exchangeWith(400, '{not json'))).toThrow(BodyParseError);
  });

  it('are not asked when there is no body', () => {
    let asked = 0;
    const builder = createLogEntryBuilder({
      logRequestBody: () => {
        asked++;
        return true;
      },
    });
    builder.build(exchangeFixture({ request: { body: undefined } }));
    expect(asked).toBe(0);
  });

  it('leave the body out when they throw or answer anything but a boolean; addBodies returns why, build throws it', async () => {
    const rejected = Promise.reject(new Error('async condition'));
    const builder = createLogEntryBuilder<unknown>({
      logRequestBody: () => {
        throw new Error('boom');
      },
      logResponseBody: (() => rejected) as never,
    });
    const exchange = exchangeWith(500);
    const entry = builder.buildWithoutBodies(exchange);
    const failures = builder.addBodies(entry, exchange, undefined);
    expect(failures.map((f) => [f.field, f.message])).toEqual([
      ['logRequestBody', 'custom field "logRequestBody": the logRequestBody condition threw: boom'],
      ['logResponseBody', 'custom field "logResponseBody": the logResponseBody condition returned an object, not true or false'],
    ]);
    expect(failures[0]).toBeInstanceOf(CustomFieldError);
    expect(entry.request).not.toHaveProperty('body');
    expect(entry.response).not.toHaveProperty('body');
    expect(() => builder.build(exchange)).toThrow(/logRequestBody condition threw: boom/);
    // The rejection was handled by kafka-log: vitest fails the run on an unhandled one.
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('are refused at start-up when neither a boolean nor a function', () => {
    expect(() => createLogEntryBuilder({ logResponseBody: 'yes' as never })).toThrow(InvalidOptionError);
    expect(() => createLogEntryBuilder({ logResponseBody: 'yes' as never })).toThrow(
      'must be true, false or a function (entry, request) => boolean, got "yes"',
    );
  });

  it('reach buildTestEntry, which hands them context.request', () => {
    const onAdmin = (_entry: Readonly<LogEntry>, request: unknown) => (request as { admin: boolean }).admin;
    expect(buildTestEntry(exchangeWith(200), { logRequestBody: onAdmin, context: { request: { admin: true } } }).request.body).toBe('{"user":"ada"}');
    expect(buildTestEntry(exchangeWith(200), { logRequestBody: onAdmin, context: { request: { admin: false } } }).request).not.toHaveProperty('body');
  });
});
