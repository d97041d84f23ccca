/**
 * The request id as the application reads it during the request: `requestIdOf(request)` from every adapter, and a
 * `requestId` property on the framework's request (Express and Nest `req`, Koa `ctx`, Fastify `request`). The
 * property is an accessor on the application's own request prototype (never node's shared ones), so it costs
 * nothing until read; the id is read from its header, or generated, the first time it is asked for.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { captureOf } from './capture.js';

/** The property the adapters define on the framework's request. */
export const REQUEST_ID_PROPERTY = 'requestId';

/**
 * The `request.id` kafka-log logs for this request (the request id header, else the generated id);
 * `undefined` when the request is not being logged or has no id (`generateRequestId: false`). Never throws.
 */
export function requestIdOfMessage(message: IncomingMessage | ServerResponse): string | undefined {
  try {
    return captureOf(message)?.readRequestId();
  } catch {
    return undefined;
  }
}

/**
 * Defines `requestId` on an application's own request prototype, unless anything in its chain defines it already
 * (then nothing is changed and false is returned). `messageOf` finds node's request from the framework's. An
 * application that assigns `requestId` itself gets its value back (kafka-log logs its own id all the same).
 */
export function defineRequestIdProperty(prototype: object, messageOf: (self: object) => IncomingMessage | undefined): boolean {
  if (REQUEST_ID_PROPERTY in prototype) return false;
  Object.defineProperty(prototype, REQUEST_ID_PROPERTY, {
    configurable: true,
    enumerable: false,
    get(this: object): string | undefined {
      const message = messageOf(this);
      return message === undefined ? undefined : requestIdOfMessage(message);
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, REQUEST_ID_PROPERTY, { value, writable: true, enumerable: true, configurable: true });
    },
  });
  return true;
}
