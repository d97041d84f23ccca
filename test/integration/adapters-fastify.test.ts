// kafka-log/fastify end to end, what only Fastify has (the exchanges every adapter logs are in
// adapters-exchanges.test.ts): a real Fastify 5 app, entries published by a real KafkaLogPublisher to the local broker
// and read back with a kafkajs consumer.
import { expect, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { fastifyApp } from './adapters-apps.js';
import { describeEachTransport } from './adapters-support.js';

describeEachTransport('kafka-log/fastify through the local broker (%s)', ['inject'], ({ harness, track }) => {
  it("logs an inject() exchange once: string request chunks captured, end()'s inner write not counted twice", async () => {
    // light-my-request pushes the request body as a string and its response's end(chunk) calls this.write(chunk).
    const app = track(
      await fastifyApp({ sink: harness().sink('inject'), logRequestBody: true, logResponseBody: true }, (app) => {
        app.post('/echo', async (request) => ({ echoed: request.body }));
      }),
    );
    const body = { name: 'Zoë', city: 'Malmö' };
    const response = await app.inject({ method: 'POST', url: '/echo?via=inject', payload: body });
    expect(response.statusCode).toBe(200);
    const sent = JSON.stringify(body);
    const answered = JSON.stringify({ echoed: body });
    expect(response.body).toBe(answered);

    const [entry] = (await harness().entries('inject', 1)) as [LogEntry];
    expect(entry.request.uri).toBe('/echo?via=inject');
    expect(entry.request.body).toBe(sent);
    expect(entry.request.body_args).toEqual(body);
    // Request line + header block + the body's UTF-8 bytes (not its UTF-16 length).
    const raw = response.raw.req.rawHeaders;
    let headerBlock = '\r\n';
    for (let i = 0; i + 1 < raw.length; i += 2) headerBlock += `${raw[i]}: ${raw[i + 1]}\r\n`;
    expect(entry.request.size).toBe(`POST /echo?via=inject HTTP/1.1\r\n${headerBlock}`.length + Buffer.byteLength(sent));
    expect(entry.response.body).toBe(answered);
    const headerText = (response.raw.res as unknown as { _header: string })._header;
    expect(entry.response.size).toBe(headerText.length + Buffer.byteLength(answered));
    expect(entry.response.status).toBe(200);
    expect(entry.route).toEqual({ path: '/echo' });
    expect(entry.source).toBe('upstream');
  });
});
