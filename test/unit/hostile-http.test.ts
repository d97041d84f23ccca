// Hostile input through a real node:http server on 127.0.0.1: the http adapter (kafka-log/http) in front of a
// plain listener, publishing to the testing kit's in-memory publisher. Raw sockets send what no well-behaved
// client would. Every case: the server survives (and answers the next request), memory stays bounded, and the
// request ends as a valid entry, as Kong's "not sent" counted through `sink.reportError`, or (for what node's
// own HTTP parser refuses: 431, 400) as no request at all. Which of these a case takes is fixed per Node line
// (the lines CI runs: 20 and 24), never "whichever happened": node's parser errors are recorded, so a case
// proves the branch it names.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withKafkaLog } from '../../src/adapters/http.js';
import type { KafkaLogHttpOptions } from '../../src/adapters/http.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { KafkaLogError } from '../../src/errors.js';
import { type TestPublisher, createTestPublisher } from '../../src/testing/test-publisher.js';
import { validateLogEntry } from '../../src/testing/validate.js';
import { HOSTILE_HTTP_CASES, everyTestPassed } from './hostile-cases.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const retained = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const MiB = 1024 * 1024;

/**
 * Node 22 and later refuse a request of more than about 1,000 header lines whatever `maxHeaderSize` allows
 * (HPE_HEADER_OVERFLOW, answered 431); Node 20 passes up to its byte limit. Checked on 20.20.2, 22.23.3, 24.21.0.
 */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const NODE_CAPS_HEADER_LINES = NODE_MAJOR >= 22;

let cases = 0;
afterAll((file) => {
  console.log(`hostile-http: ${cases} cases`);
  if (everyTestPassed(file)) expect(cases).toBe(HOSTILE_HTTP_CASES);
});

interface Harness {
  url: string;
  port: number;
  publisher: TestPublisher;
  reports: KafkaLogError[];
  /** Codes of the requests node's HTTP parser refused (`clientError`), in order. */
  parserErrors: string[];
  server: http.Server;
  /** Delivered entries, each checked against the schema. */
  entries(): Promise<LogEntry[]>;
}

let harness: Harness | undefined;

async function start(options: Partial<KafkaLogHttpOptions> = {}, serverOptions: http.ServerOptions = {}): Promise<Harness> {
  const publisher = createTestPublisher({ flushTimeout: 10, maxCoalescingDelay: 10 });
  const reports: KafkaLogError[] = [];
  const sink = {
    publish: (entry: LogEntry) => publisher.publish(entry),
    reportError: (error: KafkaLogError) => {
      reports.push(error);
      publisher.reportError(error); // counted in stats().reported, by code
    },
  };
  const listener = withKafkaLog(
    (req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    },
    { sink, ...options },
  );
  const server = http.createServer(serverOptions, listener);
  // Records what node's parser refused, answering as node does without a listener (431 for too many header
  // bytes, else 400). No request reaches the adapter in that case: it only wraps the request listener.
  const parserErrors: string[] = [];
  server.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
    parserErrors.push(String(error.code));
    if (socket.writable && socket.bytesWritten === 0) {
      socket.write(error.code === 'HPE_HEADER_OVERFLOW' ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    }
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  harness = {
    url: `http://127.0.0.1:${port}`,
    port,
    publisher,
    reports,
    parserErrors,
    server,
    async entries() {
      await new Promise((r) => setTimeout(r, 20));
      await publisher.flush();
      const entries = publisher.entries();
      for (const entry of entries) expect(validateLogEntry(entry).errors).toEqual([]);
      return entries;
    },
  };
  return harness;
}

beforeEach(() => {
  cases += 1;
});

afterEach(async () => {
  const h = harness;
  harness = undefined;
  if (!h) return;
  // the server still answers a plain request after the hostile one
  const res = await fetch(`${h.url}/after`);
  expect(res.status).toBe(200);
  await res.text();
  await h.publisher.close();
  h.server.closeAllConnections();
  await new Promise<void>((r) => h.server.close(() => r()));
});

/** Writes raw bytes, resolves with the whole answer (the server closes after `Connection: close`). */
function raw(port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e)));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.end(bytes);
  });
}

describe('hostile requests on a real server (http adapter, in-memory publisher)', () => {
  it('a 100 MB request body streamed in: capture keeps maxBodySize, memory as without the adapter, the entry says it was cut', async () => {
    // control: the same upload to the same listener without the adapter (loopback buffers, client and server
    // in this process); the adapter must not add more than its one captured body
    const control = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    const plain = await upload100MiB(`http://127.0.0.1:${(control.address() as AddressInfo).port}`);
    await new Promise<void>((r) => control.close(() => r()));

    const h = await start({ logRequestBody: true });
    const logged = await upload100MiB(h.url);
    const [entry] = await h.entries();
    expect(entry?.request.body_truncated).toBe(true);
    expect(String(entry?.request.body).length).toBe(65_536);
    expect(entry?.request.size).toBeGreaterThanOrEqual(100 * MiB);
    const mib = (xs: number[]) => xs.map((d) => (d / MiB).toFixed(1)).join(', ');
    console.log(`hostile-http 100 MB body: retained growth while streaming, MiB: without adapter ${mib(plain)}; with ${mib(logged)}`);
    expect(Math.max(...logged)).toBeLessThan(Math.max(...plain) + 4 * MiB);
    expect(Math.max(...logged)).toBeLessThan(40 * MiB);
  });

  it('10,000 headers: node refuses them with its default limits (header overflow, 431; no entry, no crash)', async () => {
    const h = await start();
    const headers = Array.from({ length: 10_000 }, (_, i) => `X-H-${i}: v${i}\r\n`).join('');
    await raw(h.port, `GET /many HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
    expect(h.parserErrors).toEqual(['HPE_HEADER_OVERFLOW']);
    expect(await h.entries()).toEqual([]);
  });

  it(`10,000 headers with a raised maxHeaderSize: ${NODE_CAPS_HEADER_LINES ? `Node ${NODE_MAJOR} refuses more than 1,000 lines (431, no entry)` : `Node ${NODE_MAJOR} passes them and the entry keeps Kong's 100`}`, async () => {
    const h = await start({}, { maxHeaderSize: 4 * MiB });
    const answers: string[] = [];
    for (const name of ['distinct', 'same']) {
      const headers = Array.from({ length: 10_000 }, (_, i) => `${name === 'same' ? 'X-Same' : `X-H-${i}`}: v${i}\r\n`).join('');
      answers.push(await raw(h.port, `GET /${name} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`));
    }
    if (NODE_CAPS_HEADER_LINES) {
      expect(h.parserErrors).toEqual(['HPE_HEADER_OVERFLOW', 'HPE_HEADER_OVERFLOW']);
      expect(await h.entries()).toEqual([]);
      return;
    }
    expect(h.parserErrors).toEqual([]);
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    const [distinct, same] = await h.entries();
    expect(Object.keys(distinct?.request.headers ?? {})).toHaveLength(100);
    expect(same?.request.headers['x-same']).toHaveLength(99); // Host is the first of the 100 lines
  });

  it('990 headers with a raised maxHeaderSize: node passes them on every line, the entry keeps Kong\'s 100 (repeats of a name included)', async () => {
    const h = await start({}, { maxHeaderSize: 4 * MiB });
    for (const name of ['distinct', 'same']) {
      const headers = Array.from({ length: 990 }, (_, i) => `${name === 'same' ? 'X-Same' : `X-H-${i}`}: v${i}\r\n`).join('');
      expect(await raw(h.port, `GET /${name} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200 /);
    }
    expect(h.parserErrors).toEqual([]);
    const [distinct, same] = await h.entries();
    expect(Object.keys(distinct?.request.headers ?? {})).toHaveLength(100);
    expect(same?.request.headers['x-same']).toEqual(Array.from({ length: 99 }, (_, i) => `v${i}`));
  });

  it('control characters in header values: node refuses them (invalid header token, 400); with insecureHTTPParser the entry keeps them, valid JSON', async () => {
    const request = 'GET /ctl HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x01b\x1bc\x7fd\x00e\r\nConnection: close\r\n\r\n';
    const strict = await start();
    await raw(strict.port, request);
    expect(strict.parserErrors).toEqual(['HPE_INVALID_HEADER_TOKEN']);
    expect(await strict.entries()).toEqual([]);
    await closeHarness();
    const lax = await start({}, { insecureHTTPParser: true });
    expect(await raw(lax.port, request)).toMatch(/^HTTP\/1\.1 200 /);
    expect(lax.parserErrors).toEqual([]);
    const entries = await lax.entries(); // each validated against the schema, so valid JSON
    expect(entries).toHaveLength(1);
    expect(entries[0]?.request.headers['x-ctl']).toBe('a\x01b\x1bc\x7fd\x00e'); // as received
  });

  it('invalid UTF-8 bytes in the request line are refused by node (400); in header values, with malformed percent-encoding in the URL, a valid entry, uri as received', async () => {
    const h = await start();
    const uri = '/a%zz/%E0%A4%A?x=%%&y=%FF%FE&z=%C3%28';
    const badBytes = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
    await raw(h.port, Buffer.concat([Buffer.from(`GET ${uri}&`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]));
    expect(h.parserErrors).toEqual(['HPE_INVALID_URL']);
    expect(await h.entries()).toEqual([]);
    const answer = await raw(h.port, Buffer.concat([Buffer.from(`GET ${uri} HTTP/1.1\r\nHost: x\r\nX-Bytes: `), badBytes, Buffer.from('\r\nConnection: close\r\n\r\n')]));
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(h.parserErrors).toEqual(['HPE_INVALID_URL']);
    const [entry] = await h.entries();
    expect(entry?.request.uri).toBe(uri);
    // node reads header bytes as latin1: each byte one character, none lost
    expect(entry?.request.headers['x-bytes']).toBe(badBytes.toString('latin1'));
  });

  it('a 100,000-deep JSON body: Kong\'s "not sent", counted through reportError; with bodyParseFailure keep, sent with the reason', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const skip = await start({ logRequestBody: true, maxBodySize: MiB });
    await (await fetch(`${skip.url}/deep`, { method: 'POST', body: deep, headers: { 'content-type': 'application/json' } })).text();
    expect(await skip.entries()).toEqual([]);
    expect(skip.reports.map((r) => r.code)).toEqual(['KAFKA_LOG_ERR_BODY_PARSE']);
    expect(skip.publisher.stats().reported).toEqual({ total: 1, byCode: { KAFKA_LOG_ERR_BODY_PARSE: 1 } });
    await closeHarness();
    const keep = await start({ logRequestBody: true, maxBodySize: MiB, bodyParseFailure: 'keep' });
    await (await fetch(`${keep.url}/deep`, { method: 'POST', body: deep, headers: { 'content-type': 'application/json' } })).text();
    const [entry] = await keep.entries();
    expect(entry?.request.body_args_error).toContain('nesting deeper than 64');
    expect(keep.reports).toEqual([]);
  });

  it('multipart without a boundary, and with 5,000 parts: "not sent" counted, and at most 1,000 fields', async () => {
    const h = await start({ logRequestBody: true, maxBodySize: 4 * MiB });
    const parts = Array.from({ length: 5000 }, (_, i) => `--B\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv${i}\r\n`).join('');
    const body = `${parts}--B--\r\n`;
    await (await fetch(`${h.url}/nob`, { method: 'POST', body, headers: { 'content-type': 'multipart/form-data' } })).text();
    await (await fetch(`${h.url}/many`, { method: 'POST', body, headers: { 'content-type': 'multipart/form-data; boundary=B' } })).text();
    const entries = await h.entries();
    expect(h.reports.map((r) => r.code)).toEqual(['KAFKA_LOG_ERR_BODY_PARSE']);
    expect(entries).toHaveLength(1);
    expect(Object.keys(entries[0]?.request.body_args as object).length).toBeLessThanOrEqual(1000);
  });

  it('a huge custom field value: the field is a counted CUSTOM_FIELD error, the entry is still sent', async () => {
    const h = await start({ customFields: { huge: () => 'x'.repeat(20 * MiB), 'request.tenant': () => 'acme' } });
    await (await fetch(`${h.url}/cf`)).text();
    const [entry] = await h.entries();
    expect(entry?.request).toMatchObject({ tenant: 'acme' });
    expect((entry as unknown as { huge?: string }).huge).toBeUndefined();
    expect(h.reports.map((r) => r.code)).toEqual(['KAFKA_LOG_ERR_CUSTOM_FIELD']);
  });
});

/** Streams 100 MiB (one 1 MiB buffer written 100 times) and samples retained memory every 10 MiB. */
async function upload100MiB(url: string): Promise<number[]> {
  const chunk = Buffer.alloc(MiB, 0x61);
  const before = retained();
  const during: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const headers = { 'content-type': 'text/plain', 'content-length': String(100 * MiB) };
    const req = http.request(`${url}/upload`, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < 100) {
        sent += 1;
        if (sent % 10 === 0) during.push(retained() - before);
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
  return during;
}

async function closeHarness(): Promise<void> {
  const h = harness;
  harness = undefined;
  if (!h) return;
  await h.publisher.close();
  h.server.closeAllConnections();
  await new Promise<void>((r) => h.server.close(() => r()));
}
