import { request } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withKafkaLog } from '../../src/adapters/http.js';
import { ErrorCodes, type KafkaLogError } from '../../src/index.js';
import { createTestPublisher } from '../../src/testing/index.js';

// Adapter-side failures reach the publisher through LogSink.reportError: counted by code and evented, so an
// entry Kong's policy does not send is never lost silently.
describe('KafkaLogPublisher.reportError', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function serve(publisher: ReturnType<typeof createTestPublisher>) {
    const server = createServer(
      withKafkaLog(
        (req, res) => {
          req.resume();
          req.on('end', () => res.end('ok'));
        },
        {
          sink: publisher,
          logRequestBody: true,
          service: () => {
            throw new Error('service hook broke');
          },
        },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    return (server.address() as AddressInfo).port;
  }

  function post(port: number, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/j', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('counts and emits a body Kong would not log, and a failing hook, by code', async () => {
    const publisher = createTestPublisher();
    closers.push(() => publisher.close());
    const reported: KafkaLogError[] = [];
    publisher.on('publisher.reported', ({ error }) => reported.push(error));
    const port = await serve(publisher);

    expect(await post(port, '{"broken":')).toBe(200);
    expect(await post(port, '{"fine":true}')).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await publisher.flush();

    const stats = publisher.stats();
    // The unparseable body: not built, not accepted, but reported. The good one: accepted and sent.
    expect(stats.accepted).toBe(1);
    expect(stats.sent).toBe(1);
    expect(stats.reported.byCode[ErrorCodes.BODY_PARSE]).toBe(1);
    // The hook threw on both requests; the entries went out without the field.
    expect(stats.reported.total).toBe(reported.length);
    expect(reported.map((error) => error.code)).toContain(ErrorCodes.BODY_PARSE);
    expect(reported.filter((error) => error.code !== ErrorCodes.BODY_PARSE).length).toBe(2);
    expect(publisher.entries()[0]?.request.body_args).toEqual({ fine: true });
  });

  it('never throws, whatever it is given', () => {
    const publisher = createTestPublisher();
    expect(() => publisher.reportError(undefined as unknown as KafkaLogError)).not.toThrow();
    expect(publisher.stats().reported.total).toBe(1);
    return publisher.close();
  });
});
