// A sink is any object with `publish`: one whose publish (or reportError) is async and rejects must not become an
// unhandled rejection (which ends the process under Node's default mode); the rejection is reported instead.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withKafkaLog } from '../../src/adapters/http.js';
import type { KafkaLogError } from '../../src/errors.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(sink: Parameters<typeof withKafkaLog>[1]['sink']): Promise<number> {
  const server = createServer(withKafkaLog((_req, res) => res.end('ok'), { sink }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('an async sink', () => {
  it('a publish that rejects is handed to reportError', async () => {
    const reported: KafkaLogError[] = [];
    const port = await serve({
      publish: async () => {
        throw new Error('sink is down');
      },
      reportError: (error) => reported.push(error),
    });
    expect(await get(port)).toBe(200);
    await settle();
    expect(reported.map((e) => e.message)).toEqual(['log entry could not be built: sink is down']);
  });

  it('a reportError that rejects too is swallowed, and the application still answers', async () => {
    let reports = 0;
    const port = await serve({
      publish: () => Promise.reject(new Error('sink is down')),
      reportError: async () => {
        reports += 1;
        throw new Error('reporter is down too');
      },
    });
    expect(await get(port)).toBe(200);
    expect(await get(port)).toBe(200);
    await settle();
    expect(reports).toBe(2);
  });
});
