// The shared node:http capture against real servers on 127.0.0.1 whose response class ends by calling its own
// write (as light-my-request's does behind Fastify's inject()): each byte is counted once, on both wrapping paths.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startCapture, tapPrototypes } from '../../src/capture/capture.js';
import { withKafkaLog } from '../../src/adapters/http.js';
import type { HttpExchange } from '../../src/entry/exchange.js';
import { close, listen, rawExchange, recordingSink } from './adapters-support.js';

/** A response whose `end(chunk)` hands the chunk to `this.write`, then ends without one. */
class EndWritesResponse<Request extends IncomingMessage = IncomingMessage> extends http.ServerResponse<Request> {
  override end(chunk?: unknown, encoding?: unknown, callback?: () => void): this {
    if (typeof chunk === 'function') return super.end(chunk as () => void);
    if (chunk !== undefined && chunk !== null) this.write(chunk as string, encoding as BufferEncoding);
    return super.end(callback);
  }
}

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

const BODY = 'héllo wörld';
const REQUEST = 'GET /once HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';

describe('capture of a response whose end() calls write()', () => {
  it('counts the body once when wrapped on the instance (kafka-log/http)', async () => {
    const sink = recordingSink();
    const listener = withKafkaLog(
      (_req, res) => {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(BODY);
      },
      { sink, logResponseBody: true },
    );
    const server = http.createServer({ ServerResponse: EndWritesResponse }, listener);
    servers.push(server);
    const raw = await rawExchange(await listen(server), REQUEST);
    const entry = await sink.next();
    expect(raw.toString('utf8')).toContain(BODY);
    expect(entry.response.body).toBe(BODY);
    expect(entry.response.size).toBe(raw.length);
    expect(entry.response.status).toBe(200);
  });

  it('counts the body once when wrapped on the prototypes (as kafka-log/express does)', async () => {
    class TappedRequest extends http.IncomingMessage {}
    class TappedResponse extends EndWritesResponse<TappedRequest> {}
    expect(tapPrototypes(TappedRequest.prototype, TappedResponse.prototype)).toBe(true);
    const settings = { captureRequestBody: true, captureResponseBody: true, maxBodySize: 1000 };
    let done: (exchange: HttpExchange) => void = () => {};
    const exchanged = new Promise<HttpExchange>((resolve) => {
      done = resolve;
    });
    const server = http.createServer({ IncomingMessage: TappedRequest, ServerResponse: TappedResponse }, (req, res) => {
      startCapture(req, res as ServerResponse, req, settings, { complete: (capture) => done(capture.toExchange()) }, true);
      res.end(Buffer.from(BODY));
    });
    servers.push(server);
    const raw = await rawExchange(await listen(server), REQUEST);
    const exchange = await exchanged;
    expect(Buffer.from(exchange.response.body?.bytes ?? []).toString('utf8')).toBe(BODY);
    expect(exchange.response.body?.totalSize).toBe(Buffer.byteLength(BODY));
    expect(exchange.response.size).toBe(raw.length);
    expect(exchange.response.status).toBe(200);
  });
});
