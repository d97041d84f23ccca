// Request ids handed back: read or generated once, visible to the application during the request, echoed to the
// client in a response header; over real node:http servers on 127.0.0.1.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type KafkaLogHttpOptions, requestIdOf, withKafkaLog } from '../../src/adapters/http.js';
import { createExchangePipeline } from '../../src/capture/pipeline.js';
import { close, listen, recordingSink } from './adapters-support.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void, options: Partial<KafkaLogHttpOptions> = {}) {
  const sink = recordingSink();
  const server = http.createServer(withKafkaLog(listener, { sink, ...options }));
  servers.push(server);
  return { sink, port: await listen(server) };
}

/** Answers with the id the application sees. */
const answerWithId = (req: IncomingMessage, res: ServerResponse) => res.end(String(requestIdOf(req)));

describe('the request id', () => {
  it('is what the application reads, what the entry logs and what the echoed header says', async () => {
    const { sink, port } = await serve(answerWithId, { echoRequestIdHeader: 'X-Request-Id' });
    const given = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': 'from-client-1' } });
    expect(given.headers.get('x-request-id')).toBe('from-client-1');
    expect(await given.text()).toBe('from-client-1');
    const entry = await sink.next();
    expect(entry.request.id).toBe('from-client-1');
    expect(entry.response.headers['x-request-id']).toBe('from-client-1');

    const generated = await fetch(`http://127.0.0.1:${port}/`);
    const id = generated.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await generated.text()).toBe(id);
    expect((await sink.next()).request.id).toBe(id);
  });

  it('comes from generateRequestId(request), called once per request, when the header is absent', async () => {
    const calls: string[] = [];
    const { sink, port } = await serve(
      (req, res) => {
        requestIdOf(req);
        answerWithId(req, res);
      },
      {
        generateRequestId: (request) => {
          calls.push(request.url ?? '');
          return `gen-${calls.length}`;
        },
        echoRequestIdHeader: 'Request-Id',
      },
    );
    const response = await fetch(`http://127.0.0.1:${port}/a`);
    expect(response.headers.get('request-id')).toBe('gen-1');
    expect(await response.text()).toBe('gen-1');
    expect((await sink.next()).request.id).toBe('gen-1');
    await (await fetch(`http://127.0.0.1:${port}/b`, { headers: { 'x-request-id': 'given' } })).text();
    expect((await sink.next()).request.id).toBe('given');
    expect(calls).toEqual(['/a']);
  });

  it('is generated at the end when nobody asked before, by the same generator', async () => {
    let calls = 0;
    const { sink, port } = await serve((_req, res) => res.end('ok'), {
      generateRequestId: () => {
        calls++;
        return 'late';
      },
    });
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.headers.get('x-request-id')).toBeNull();
    await response.text();
    expect((await sink.next()).request.id).toBe('late');
    expect(calls).toBe(1);
  });

  it('falls back to a UUID when the generator throws or gives no string, and says so', async () => {
    const answers: unknown[] = [undefined, ''];
    const { sink, port } = await serve(answerWithId, {
      generateRequestId: () => {
        if (answers.length === 0) throw new Error('no ids left');
        return answers.shift() as string;
      },
      echoRequestIdHeader: 'X-Request-Id',
    });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await response.text()).toBe(id);
      expect((await sink.next()).request.id).toBe(id);
    }
    // The first failure is announced; the next ones within a minute are marked repeated (counted, not announced).
    expect(sink.errors.map((error) => [error.message, (error as { repeated?: boolean }).repeated])).toEqual([
      ['custom field "generateRequestId": the generateRequestId function returned undefined, not a non-empty string; a random UUID is used', false],
      ['custom field "generateRequestId": the generateRequestId function returned "", not a non-empty string; a random UUID is used', true],
      ['custom field "generateRequestId": the generateRequestId function threw: no ids left; a random UUID is used', true],
    ]);
  });

  it('is reported, not sent, when the header cannot carry it; the entry still logs it', async () => {
    const { sink, port } = await serve(answerWithId, { generateRequestId: () => 'line\nbreak', echoRequestIdHeader: 'X-Request-Id' });
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(await response.text()).toBe('line\nbreak');
    expect((await sink.next()).request.id).toBe('line\nbreak');
    expect(sink.errors[0]?.message).toMatch(/^custom field "echoRequestIdHeader": the request id could not be sent in X-Request-Id: /);
  });

  it('is not echoed, and is undefined for the application, when there is none', async () => {
    const { sink, port } = await serve(answerWithId, { generateRequestId: false, echoRequestIdHeader: 'X-Request-Id' });
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(await response.text()).toBe('undefined');
    expect((await sink.next()).request.id).toBe('');
  });

  it('is undefined for a request that is not logged (skip)', async () => {
    const { port } = await serve(answerWithId, { skip: () => true, echoRequestIdHeader: 'X-Request-Id' });
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': 'skipped' } });
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(await response.text()).toBe('undefined');
  });

  it('is not echoed on a response whose headers already went out; the application may replace the header', async () => {
    const sink = recordingSink();
    const pipeline = createExchangePipeline<IncomingMessage>({ sink, echoRequestIdHeader: 'X-Request-Id' });
    const server = http.createServer((req, res) => {
      if (req.url === '/late') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        pipeline.capture(req, res, req);
        res.end('late');
        return;
      }
      pipeline.capture(req, res, req);
      res.setHeader('X-Request-Id', 'the-app-s-own');
      res.end('replaced');
    });
    servers.push(server);
    const port = await listen(server);
    const late = await fetch(`http://127.0.0.1:${port}/late`, { headers: { 'x-request-id': 'given' } });
    expect(late.headers.get('x-request-id')).toBeNull();
    expect(await late.text()).toBe('late');
    expect((await sink.next()).request.id).toBe('given');
    const replaced = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-request-id': 'given' } });
    expect(replaced.headers.get('x-request-id')).toBe('the-app-s-own');
    await replaced.text();
    expect(sink.errors).toEqual([]);
  });
});
