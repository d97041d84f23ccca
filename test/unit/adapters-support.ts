// Shared helpers of the adapter tests: a recording sink, listening on 127.0.0.1, raw HTTP clients that count
// the bytes on the wire.
import net from 'node:net';
import type { Server } from 'node:http';
import tls from 'node:tls';
import type { KafkaLogError } from '../../src/errors.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { LogSink } from '../../src/capture/sink.js';

/** A sink that keeps what it gets; `next()` resolves with the next entry (or one already received). */
export interface RecordingSink extends LogSink {
  entries: LogEntry[];
  errors: KafkaLogError[];
  next(timeoutMs?: number): Promise<LogEntry>;
}

export function recordingSink(): RecordingSink {
  const entries: LogEntry[] = [];
  const errors: KafkaLogError[] = [];
  let taken = 0;
  let waiter: (() => void) | undefined;
  return {
    entries,
    errors,
    publish(entry) {
      entries.push(entry);
      waiter?.();
    },
    reportError(error) {
      errors.push(error);
    },
    async next(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (entries.length <= taken) {
        if (Date.now() > deadline) throw new Error(`no entry within ${timeoutMs} ms (errors: ${errors.map((e) => e.message)})`);
        await new Promise<void>((resolve) => {
          waiter = resolve;
          setTimeout(resolve, 20);
        });
      }
      return entries[taken++] as LogEntry;
    },
  };
}

export async function listen(server: Server | tls.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function close(server: Server | tls.Server): Promise<void> {
  (server as Server).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends `request` as raw bytes and collects every byte the server sends until it closes the connection. */
export function rawExchange(port: number, request: string | Buffer, options: tls.ConnectionOptions | undefined = undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = options === undefined ? net.connect(port, '127.0.0.1') : tls.connect({ port, host: '127.0.0.1', ...options });
    socket.on(options === undefined ? 'connect' : 'secureConnect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Opens a connection, sends `request`, and destroys the socket after `afterMs` (an impatient client). */
export function abandonedExchange(port: number, request: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(request);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, afterMs);
    });
    socket.on('error', () => undefined);
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The header block (status line through the blank line) of a raw response. */
export function headerBlockOf(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end + 4).toString('latin1');
}

export interface TlsMaterial {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
}

/** Generates a CA, a server certificate for 127.0.0.1 and client certificates with openssl in a temp folder. */
export async function makeTlsMaterial(): Promise<TlsMaterial> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'kafka-log-adapters-tls-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  try {
    for (const ca of ['ca', 'stranger-ca']) {
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-keyout', file(`${ca}-key.pem`),
        '-out', file(`${ca}.pem`), '-subj', `/CN=kafka-log test ${ca}`);
    }
    writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    const issue = (name: string, ca: string, ext?: string) => {
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', file(`${name}-key.pem`), '-out', file(`${name}.csr`),
        '-subj', `/CN=kafka-log test ${name}`);
      openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}-key.pem`),
        '-set_serial', String(Date.now()), '-days', '2', '-sha256', '-out', file(`${name}.pem`), ...(ext ? ['-extfile', file(ext)] : []));
    };
    issue('server', 'ca', 'server.ext');
    issue('client', 'ca');
    issue('stranger', 'stranger-ca');
    const read = (name: string) => readFileSync(file(name), 'utf8');
    return {
      ca: read('ca.pem'),
      serverCert: read('server.pem'),
      serverKey: read('server-key.pem'),
      clientCert: read('client.pem'),
      clientKey: read('client-key.pem'),
      strangerCert: read('stranger.pem'),
      strangerKey: read('stranger-key.pem'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
