// kafka-log/http end to end: a real node:http server on 127.0.0.1, entries published by a real
// KafkaLogPublisher to the local broker and read back with a kafkajs consumer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { beforeAll, expect, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { abandonedExchange, rawExchange, sleep } from '../unit/adapters-support.js';
import { startHttp } from './adapters-apps.js';
import { describeEachTransport } from './adapters-support.js';

let port: number;

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));

async function app(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/echo') {
    const received = await body(req);
    res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
    res.end(received);
  } else if (path === '/download') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
    res.end(payload);
  } else if (path === '/stream') {
    res.setHeader('content-type', 'text/plain');
    for (let i = 0; i < 3; i++) {
      res.write(`line ${i}\n`);
      await sleep(10);
    }
    res.end('end\n');
  } else if (path === '/slow') {
    // Answers only after the client went away (a timer raced the close on a loaded machine and sometimes won).
    await new Promise((resolve) => res.once('close', resolve));
    res.end('late');
  } else {
    res.statusCode = 404;
    res.end();
  }
}

describeEachTransport('kafka-log/http through the local broker (%s)', ['http'], ({ harness, track }) => {
  beforeAll(async () => {
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      app(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    };
    port = track(await startHttp({ sink: harness().sink('http'), logRequestBody: true, logResponseBody: true }, listener)).port;
  });

  it('logs JSON, urlencoded, multipart, binary, streamed and aborted exchanges', async () => {
    const base = `http://127.0.0.1:${port}`;
    const json = '{"a":[1,2],"b":{"c":"d"}}';
    await fetch(`${base}/echo?kind=json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    await fetch(`${base}/echo?kind=form`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1&x=2&y=%C3%A9' });
    const form = new FormData();
    form.append('field', 'value');
    form.append('file', new Blob([payload], { type: 'application/octet-stream' }), 'data.bin');
    await fetch(`${base}/echo?kind=multipart`, { method: 'POST', body: form });
    const download = Buffer.from(await (await fetch(`${base}/download`)).arrayBuffer());
    expect(download).toEqual(payload);
    const streamed = await rawExchange(port, 'GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await abandonedExchange(port, 'GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 40);

    const entries = await harness().entries('http', 6);
    const byUri = new Map(entries.map((entry) => [entry.request.uri, entry]));
    for (const entry of entries) {
      expect(entry.client_ip).toBe('127.0.0.1');
      expect(entry.request.url).toBe(`http://127.0.0.1:${port}${entry.request.uri}`);
      expect(entry.latencies.request).toBeGreaterThanOrEqual(0);
      expect(entry.latencies.receive).toBeGreaterThanOrEqual(0);
      expect(entry.request.id).toMatch(/^[0-9a-f-]{36}$/);
    }

    const jsonEntry = byUri.get('/echo?kind=json') as LogEntry;
    expect(jsonEntry.request.method).toBe('POST');
    expect(jsonEntry.request.querystring).toEqual({ kind: 'json' });
    expect(jsonEntry.request.body).toBe(json);
    expect(jsonEntry.request.body_args).toEqual(JSON.parse(json));
    expect(jsonEntry.response.body_args).toEqual(JSON.parse(json));
    expect(jsonEntry.source).toBe('upstream');

    const formEntry = byUri.get('/echo?kind=form') as LogEntry;
    expect(formEntry.request.body_args).toEqual({ x: ['1', '2'], y: 'é' });

    const multipartEntry = byUri.get('/echo?kind=multipart') as LogEntry;
    expect(multipartEntry.request.body_args).toEqual({
      field: 'value',
      file: { filename: 'data.bin', content_type: 'application/octet-stream', size: payload.length },
    });

    const downloadEntry = byUri.get('/download') as LogEntry;
    expect(downloadEntry.response.body_base64).toBe(true);
    expect(Buffer.from(downloadEntry.response.body as string, 'base64')).toEqual(payload);
    expect(downloadEntry.response.headers['content-length']).toBe(String(payload.length));

    const streamEntry = byUri.get('/stream') as LogEntry;
    expect(streamEntry.response.size).toBe(streamed.length);
    expect(streamEntry.response.body).toBe('line 0\nline 1\nline 2\nend\n');

    expect(byUri.get('/slow')?.response.status).toBe(499);
  });
});
