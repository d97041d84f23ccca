/**
 * `exchangeFixture`: a realistic {@link HttpExchange} to build entries from in unit tests, with deep-merged
 * overrides so a test states only what it is about.
 *
 * @module
 */
import type { HttpExchange } from '../entry/exchange.js';
import { isPlainObject } from '../options/check.js';

/** Makes every property optional, recursively (arrays and byte arrays are replaced whole, not merged). */
export type DeepPartial<T> = T extends Uint8Array | readonly unknown[] | ((...args: never[]) => unknown)
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** The fixed start time of every fixture: 2024-05-01T12:00:00.000Z. */
export const FIXTURE_STARTED_AT = Date.UTC(2024, 4, 1, 12, 0, 0);

// A fresh object each call, so a test may mutate its fixture freely.
function baseExchange(): HttpExchange {
  return {
    request: {
      method: 'GET',
      uri: '/orders/42?expand=items',
      httpVersion: '1.1',
      scheme: 'http',
      host: 'orders.internal:8080',
      port: 8080,
      headers: [
        'Host',
        'orders.internal:8080',
        'User-Agent',
        'checkout-web/3.2.0',
        'Accept',
        'application/json',
        'Authorization',
        'Bearer secret-token',
        'X-Request-Id',
        '5f1c3a9e-0b7d-4c1e-9a2b-6f3d8e7c1a20',
      ],
    },
    response: {
      status: 200,
      headers: ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', '57'],
      body: { bytes: new TextEncoder().encode('{"id":42,"items":[{"sku":"A-1","qty":2}],"status":"paid"}') },
    },
    remoteAddress: '10.1.2.3',
    timings: { startedAt: FIXTURE_STARTED_AT, total: 12, receive: 0, upstream: 9 },
    source: 'upstream',
    route: { path: '/orders/:id' },
    requestId: '5f1c3a9e-0b7d-4c1e-9a2b-6f3d8e7c1a20',
  };
}

// Objects merge key by key; anything else (arrays, bytes, scalars) replaces; `undefined` removes the key.
function deepMerge(target: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) {
      delete target[key];
    } else if (isPlainObject(value) && isPlainObject(target[key])) {
      target[key] = deepMerge({ ...(target[key] as Record<string, unknown>) }, value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

/**
 * A realistic exchange: `GET /orders/42?expand=items` over plain HTTP from `10.1.2.3`, answered `200` with a
 * JSON body in 12 ms (9 in the handler), carrying an `Authorization` header (redacted by default), a request
 * id and a route. Overrides are deep-merged: objects key by key, arrays (such as raw header lists) and bytes
 * replaced whole, an `undefined` value removes the field.
 *
 * @example
 * ```ts
 * const exchange = exchangeFixture({ request: { method: 'POST' }, response: { status: 503 } });
 * ```
 */
export function exchangeFixture(overrides: DeepPartial<HttpExchange> = {}): HttpExchange {
  const merged = deepMerge(
    baseExchange() as unknown as Record<string, unknown>,
    overrides as unknown as Record<string, unknown>,
  );
  return merged as unknown as HttpExchange;
}
