// kafka-log/express end to end, what only Express has (the exchanges every adapter logs are in
// adapters-exchanges.test.ts): a real Express 5 app on 127.0.0.1, entries published by a real KafkaLogPublisher to
// the local broker and read back with a kafkajs consumer.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import compression from 'compression';
import express, { type Request, type Response } from 'express';
import { expect, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { close, headerBlockOf, listen, rawExchange } from '../unit/adapters-support.js';
import { startExpress } from './adapters-apps.js';
import { describeEachTransport } from './adapters-support.js';

describeEachTransport('kafka-log/express through the local broker (%s)', ['compression'], ({ harness, track }) => {
  it('leaves compression untouched: same response as without logging, entry counts the compressed bytes', async () => {
    const text = 'kafka-log '.repeat(2000);
    const build = (app: express.Express) => {
      app.use(compression({ threshold: 0 }));
      app.get('/big', (_req: Request, res: Response) => res.type('text/plain').send(text));
    };
    const plain = express();
    build(plain);
    const plainServer = http.createServer(plain);
    const plainPort = await listen(plainServer);
    track({ close: () => close(plainServer) });
    const logged = track(await startExpress({ sink: harness().sink('compression'), logResponseBody: true, maxBodySize: 100_000 }, build));

    const request = 'GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n';
    const [withLog, withoutLog] = await Promise.all([rawExchange(logged.port, request), rawExchange(plainPort, request)]);
    const withoutDate = (raw: Buffer) => headerBlockOf(raw).replace(/^Date: .*\r\n/m, '');
    expect(withoutDate(withLog)).toBe(withoutDate(withoutLog));
    expect(withLog.subarray(headerBlockOf(withLog).length)).toEqual(withoutLog.subarray(headerBlockOf(withoutLog).length));

    const [entry] = (await harness().entries('compression', 1)) as [LogEntry];
    expect(entry.response.headers['content-encoding']).toBe('gzip');
    expect(entry.response.size).toBe(withLog.length);
    expect(entry.response.body_base64).toBe(true);
    expect(gunzipSync(Buffer.from(entry.response.body as string, 'base64')).toString()).toBe(text);
  });
});
