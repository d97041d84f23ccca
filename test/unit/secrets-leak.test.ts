// Secrets never leave through what kafka-log emits. Each scenario fails on purpose (unreachable broker, token
// endpoint down or refusing, schema registry down or refusing) while EVERYTHING observable is captured: every
// publisher event, the logger at debug level, errors (message, stack, cause chain, own properties, via
// util.inspect with hidden fields), sync-mode rejections, stats JSON, and whatever is written to stdout/stderr.
// The capture is then searched for each secret, raw and in the encodings it travels in (URL form encoding,
// HTTP basic's base64 of user:password).
//
// The servers that refuse are hostile on purpose: they echo the request (headers and body) back in their error
// answers, as some proxies and identity providers do. Loopback only.
//
// Errors must be built clean, not cleaned afterwards: V8 formats `stack` from the message of the moment it is
// first read, so a message edited later leaves the secret in any stack read before. The last suite therefore
// reads message, stack and causes of every error at the first point code outside kafka-log can hold it (what a
// transport rejects with, what the token provider rejects with, what the registry encoder rejects with), and
// again in everything the publisher emits afterwards.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { PublisherEvents } from '../../src/publisher/events.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { createRegistryEncoder } from '../../src/registry/index.js';
import type { RegistryOptions } from '../../src/registry/registry-options.js';
import { exchangeFixture } from '../../src/testing/exchange-fixture.js';
import { buildLogEntry } from '../../src/entry/build.js';
import { KafkaLogError } from '../../src/errors.js';
import { TRANSPORT_NAMES, type TransportName } from '../../src/transport/select.js';
import { type TransportFactory, TransportError } from '../../src/transport/transport.js';
import { startEchoingBroker } from '../support/echoing-broker.js';
import { spyingTransport } from '../support/spying-transport.js';

// Characters that change under URL and JSON encoding, so an encoded leak is told apart from a raw one.
const secret = (name: string) => `${name}-S3cr3t+/=&"é-${Math.random().toString(36).slice(2, 10)}`;
const SASL_PASSWORD = secret('sasl');
const OAUTH_SECRET = secret('oauth');
// (OAUTHBEARER against a token endpoint that echoes the request: test/integration/reliability-secrets.test.ts,
// since kafkajs asks for a token only once a broker answered)
const REGISTRY_PASSWORD = secret('registry');
const REGISTRY_OAUTH_SECRET = secret('registry-oauth');
const REGISTRY_GRANT_PASSWORD = secret('registry-grant');

/** Every form a secret may travel in. */
function forms(value: string, user?: string): string[] {
  const out = [value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), JSON.stringify(value).slice(1, -1)];
  if (user !== undefined) out.push(Buffer.from(`${user}:${value}`).toString('base64'));
  return out;
}

/** Everything emitted during a scenario, as text. */
class Capture {
  readonly texts: string[] = [];
  add(label: string, value: unknown): void {
    this.texts.push(`${label}: ${inspect(value, { depth: 30, showHidden: true, getters: true, breakLength: Number.POSITIVE_INFINITY })}`);
    if (value instanceof Error) this.addError(label, value, 0);
    try {
      this.texts.push(`${label} json: ${JSON.stringify(value)}`);
    } catch {
      // cyclic: inspect above has it
    }
  }
  private addError(label: string, error: Error, depth: number): void {
    this.texts.push(`${label} message: ${error.message}`, `${label} stack: ${error.stack ?? ''}`, `${label} string: ${String(error)}`);
    if (depth < 10 && error.cause instanceof Error) this.addError(`${label} cause`, error.cause, depth + 1);
    else if (error.cause !== undefined) this.texts.push(`${label} cause: ${inspect(error.cause, { depth: 30, showHidden: true })}`);
  }
  /** Secrets found, with where. */
  leaks(secrets: Record<string, string[]>): string[] {
    const found: string[] = [];
    for (const [name, variants] of Object.entries(secrets)) {
      for (const variant of variants) {
        const where = this.texts.find((t) => t.includes(variant));
        if (where !== undefined) found.push(`${name} (${JSON.stringify(variant)}) in: ${where.slice(0, 300)}`);
      }
    }
    return found;
  }
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;

/**
 * Captures, while `run` runs, what reaches process stdout/stderr and every `console` call (the test runner gives
 * its workers a console of its own that does not write through process.stdout, so a dependency's console output is
 * captured at `console` itself), plus process warnings. Everything still goes where it went.
 */
async function capturingOutput(capture: Capture, run: () => Promise<void>): Promise<void> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tap =
    (label: string, original: typeof out) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      capture.texts.push(`${label}: ${String(chunk)}`);
      return (original as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tap('stdout', out) as typeof process.stdout.write;
  process.stderr.write = tap('stderr', err) as typeof process.stderr.write;
  const consoleMethods = new Map<(typeof CONSOLE_METHODS)[number], (...args: unknown[]) => void>();
  for (const method of CONSOLE_METHODS) {
    const original = console[method] as (...args: unknown[]) => void;
    consoleMethods.set(method, original);
    console[method] = (...args: unknown[]) => {
      capture.add(`console.${method}`, args);
      original.apply(console, args);
    };
  }
  const onWarning = (w: Error) => capture.add('process warning', w);
  process.on('warning', onWarning);
  try {
    await run();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const [method, original] of consoleMethods) console[method] = original;
    process.off('warning', onWarning);
  }
}

const entry = (): LogEntry => buildLogEntry(exchangeFixture());

/** Runs a publisher through a failing connect, async and sync publishes, flush and close; captures it all. */
async function exercisePublisher(capture: Capture, options: KafkaLogPublisherOptions): Promise<void> {
  // Called as pino is: (fields, message) or (message).
  const logger = {
    error: (...args: unknown[]) => capture.add('logger.error', args),
    warn: (...args: unknown[]) => capture.add('logger.warn', args),
    info: (...args: unknown[]) => capture.add('logger.info', args),
    debug: (...args: unknown[]) => capture.add('logger.debug', args),
  };
  const publisher = new KafkaLogPublisher({ ...options, logger, logLevel: 'debug', timeout: 500, requestTimeout: 500, maxRetryTime: 1200, maxRetryDelay: 200, maxRequestRetries: 1 });
  for (const name of Object.values(PublisherEvents)) publisher.on(name, (event) => capture.add(`event ${name}`, event));
  await publisher.connect().then(
    () => capture.add('connect', 'resolved'),
    (error: unknown) => capture.add('connect rejected', error),
  );
  publisher.publish(entry());
  await publisher.flush();
  const sync = new KafkaLogPublisher({ ...options, async: false, timeout: 500, requestTimeout: 500, maxRetryTime: 600, maxRetryDelay: 200, maxRequestRetries: 1 });
  await sync.publish(entry())?.then(
    () => capture.add('sync publish', 'resolved'),
    (error: unknown) => capture.add('sync publish rejected', error),
  );
  await sync.close({ timeoutMs: 1000 });
  capture.add('sync stats', sync.stats());
  await publisher.close({ timeoutMs: 1000 });
  capture.add('stats', publisher.stats());
  capture.add('stats json', JSON.stringify(publisher.stats()));
}

/** A server that refuses everything and echoes the request (headers and body) back in its error answer. */
async function echoingRefuser(status: number): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      state.requests += 1;
      const echo = `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${body}`;
      res.writeHead(status, { 'content-type': 'application/json', 'x-echo': encodeURIComponent(echo) });
      res.end(JSON.stringify({ error: 'invalid_client', error_description: echo, message: echo, error_code: status }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return state.requests;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let refuser401: Awaited<ReturnType<typeof echoingRefuser>>;
let deadPort: number;
beforeAll(async () => {
  refuser401 = await echoingRefuser(401);
  deadPort = await closedPort();
});
afterAll(async () => {
  await refuser401.close();
});

describe('the capture', () => {
  it('sees console calls, process stdout and stderr writes, and process warnings', async () => {
    const capture = new Capture();
    await capturingOutput(capture, async () => {
      console.log('probe-console-log');
      console.error(new Error('probe-console-error'));
      process.stdout.write('probe-stdout\n');
      process.stderr.write('probe-stderr\n');
      process.emitWarning('probe-warning');
      await new Promise((resolve) => setImmediate(resolve));
    });
    const text = capture.texts.join('\n');
    for (const probe of ['probe-console-log', 'probe-console-error', 'probe-stdout', 'probe-stderr', 'probe-warning']) expect(text).toContain(probe);
  });
});

describe('publisher: SASL and OAuth secrets', () => {
  it.each([['PLAIN'], ['SCRAM-SHA-256'], ['SCRAM-SHA-512']] as const)(
    '%s password with the broker unreachable: not in events, logs, errors, rejections, stats or output',
    async (mechanism) => {
      const capture = new Capture();
      await capturingOutput(capture, () =>
        exercisePublisher(capture, {
          brokers: [`127.0.0.1:${deadPort}`],
          topic: 't',
          authentication: { mechanism, username: 'svc-user', password: SASL_PASSWORD },
        }),
      );
      expect(capture.texts.join('\n')).toMatch(/ECONNREFUSED|Connection error|connect/i); // it did fail to connect
      expect(capture.leaks({ sasl: forms(SASL_PASSWORD, 'svc-user') })).toEqual([]);
    },
  );

  it('invalid options next to a password never quote the password', () => {
    const capture = new Capture();
    const attempts: Array<Partial<KafkaLogPublisherOptions>> = [
      { authentication: { mechanism: 'NOPE' as 'PLAIN', username: 'u', password: SASL_PASSWORD } },
      { authentication: { mechanism: 'PLAIN', username: SASL_PASSWORD as unknown as string, password: 42 as unknown as string } },
      { authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { tokenEndpointUrl: OAUTH_SECRET, clientId: 'c', clientSecret: OAUTH_SECRET } } },
      { authentication: { mechanism: 'PLAIN', username: 'u', password: SASL_PASSWORD }, timeout: -1 },
    ];
    for (const extra of attempts) {
      try {
        new KafkaLogPublisher({ brokers: ['127.0.0.1:1'], topic: 't', ...extra } as KafkaLogPublisherOptions);
        capture.add('constructed', 'no error');
      } catch (error) {
        capture.add('constructor threw', error);
      }
    }
    // the second attempt names the secret as a user name: user names are not secrets, but it is not echoed either
    expect(capture.leaks({ sasl: forms(SASL_PASSWORD), oauth: forms(OAUTH_SECRET) })).toEqual([]);
  });
});

describe('schema registry: basic and OAuth 2 secrets', () => {
  const registry = (url: string, auth: RegistryOptions['auth']): RegistryOptions => ({
    url,
    auth,
    valueSchema: { subject: 'kong-log-value', version: 'latest' },
    requestTimeoutMs: 1000,
  });

  async function exerciseRegistry(capture: Capture, options: RegistryOptions): Promise<void> {
    const encoder = createRegistryEncoder(options, { onDroppedField: (path) => capture.add('dropped field', path) });
    for (let i = 0; i < 2; i++) {
      await encoder.encodeValue(entry()).then(
        () => capture.add('encode', 'resolved'),
        (error: unknown) => capture.add('encode rejected', error),
      );
    }
    await encoder.close();
  }

  it('basic password with the registry down, and with a registry that echoes the request (Authorization included)', async () => {
    for (const url of [`http://127.0.0.1:${deadPort}`, refuser401.url]) {
      const capture = new Capture();
      await capturingOutput(capture, () =>
        exerciseRegistry(capture, registry(url, { mode: 'basic', username: 'sr-user', password: REGISTRY_PASSWORD })),
      );
      expect(capture.texts.join('\n')).toMatch(/schema registry/);
      expect(capture.leaks({ registry: forms(REGISTRY_PASSWORD, 'sr-user') })).toEqual([]);
    }
  });

  it('OAuth 2 client secret and password-grant password, token endpoint down or echoing', async () => {
    for (const tokenEndpoint of [`http://127.0.0.1:${deadPort}/token`, `${refuser401.url}/token`]) {
      const capture = new Capture();
      await capturingOutput(capture, () =>
        exerciseRegistry(
          capture,
          registry(refuser401.url, {
            mode: 'oauth2',
            tokenEndpoint,
            clientId: 'sr-client',
            clientSecret: REGISTRY_OAUTH_SECRET,
            grantType: 'password',
            username: 'sr-owner',
            password: REGISTRY_GRANT_PASSWORD,
          }),
        ),
      );
      expect(capture.texts.join('\n')).toMatch(/token endpoint/i);
      expect(capture.leaks({ clientSecret: forms(REGISTRY_OAUTH_SECRET), grantPassword: forms(REGISTRY_GRANT_PASSWORD) })).toEqual([]);
    }
  });

  it('credentials written into the registry URL (user:password@host) stay out of errors', async () => {
    const capture = new Capture();
    await capturingOutput(capture, async () => {
      try {
        await exerciseRegistry(capture, registry(`http://sr-user:${encodeURIComponent(REGISTRY_PASSWORD)}@127.0.0.1:${deadPort}`, { mode: 'none' }));
      } catch (error) {
        capture.add('create threw', error);
      }
    });
    expect(capture.leaks({ registry: forms(REGISTRY_PASSWORD) })).toEqual([]);
  });
});

describe('errors are built clean: no secret in a stack read as early as code outside kafka-log can read it', () => {
  const spying = (name: TransportName, capture: Capture) => spyingTransport(name, (where, error) => capture.add(`${where} rejected`, error));

  let broker: Awaited<ReturnType<typeof startEchoingBroker>>;
  beforeAll(async () => {
    broker = await startEchoingBroker();
  });
  afterAll(async () => {
    await broker.close();
  });

  /** Runs a publisher against the echoing broker through a spied transport; everything captured. */
  async function throughEchoingBroker(name: TransportName, authentication: KafkaLogPublisherOptions['authentication']): Promise<Capture> {
    const capture = new Capture();
    await capturingOutput(capture, () =>
      exercisePublisher(capture, { brokers: [broker.address], topic: 't', transport: spying(name, capture), ...(authentication ? { authentication } : {}) }),
    );
    return capture;
  }

  it.each(TRANSPORT_NAMES)('%s: a broker quoting the SASL PLAIN bytes (the password) back in its refusal', async (name) => {
    const before = broker.echoed;
    const capture = await throughEchoingBroker(name, { mechanism: 'PLAIN', username: 'svc-user', password: SASL_PASSWORD });
    expect(broker.echoed).toBeGreaterThan(before); // the password was sent and quoted back
    expect(capture.texts.some((t) => t.startsWith('transport connect rejected stack:'))).toBe(true);
    expect(capture.texts.join('\n')).toContain('KAFKA_LOG_ERR_AUTHENTICATION');
    expect(capture.leaks({ sasl: forms(SASL_PASSWORD, 'svc-user') })).toEqual([]);
  });

  it.each(TRANSPORT_NAMES)('%s: a broker quoting the OAUTHBEARER token back; a token endpoint quoting the client secret', async (name) => {
    const token = secret('token');
    const codeLikeSecret = `invalid_client_${Math.random().toString(36).slice(2, 12)}`;
    let refuse = false;
    const endpoint = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        res.writeHead(refuse ? 401 : 200, { 'content-type': 'application/json' });
        // Refusing, it answers with the secret as its `error` code (code-shaped), and the whole request as description.
        res.end(JSON.stringify(refuse ? { error: codeLikeSecret, error_description: body } : { access_token: token, expires_in: 3600 }));
      });
    });
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    const tokenEndpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`;
    try {
      const capture = await throughEchoingBroker(name, { mechanism: 'OAUTHBEARER', oauthBearer: { tokenEndpointUrl, clientId: 'svc', clientSecret: OAUTH_SECRET } });
      expect(capture.texts.some((t) => t.startsWith('transport connect rejected stack:'))).toBe(true);
      expect(capture.leaks({ token: forms(token), clientSecret: forms(OAUTH_SECRET) })).toEqual([]);

      refuse = true;
      const refused = await throughEchoingBroker(name, { mechanism: 'OAUTHBEARER', oauthBearer: { tokenEndpointUrl, clientId: 'svc', clientSecret: codeLikeSecret } });
      // The publisher fetches the token before the client needs one: the refusal leaves kafka-log from connect().
      expect(refused.texts.some((t) => t.startsWith('connect rejected stack:') && t.includes('answered 401'))).toBe(true);
      expect(refused.texts.join('\n')).toContain('KAFKA_LOG_ERR_AUTHENTICATION'); // an OAuth refusal stays an authentication failure
      expect(refused.leaks({ clientSecret: forms(codeLikeSecret) })).toEqual([]);
    } finally {
      await new Promise<void>((r) => endpoint.close(() => r()));
    }
  });

  it('a registry quoting the request back (the bearer token in use, the basic header): clean from the first rejection', async () => {
    const token = secret('sr-token');
    const tokens = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 3600 }));
    });
    await new Promise<void>((r) => tokens.listen(0, '127.0.0.1', r));
    try {
      const tokenEndpoint = `http://127.0.0.1:${(tokens.address() as AddressInfo).port}/token`;
      for (const auth of [
        { mode: 'oauth2' as const, tokenEndpoint, clientId: 'sr-client', clientSecret: REGISTRY_OAUTH_SECRET },
        { mode: 'basic' as const, username: 'sr-user', password: REGISTRY_PASSWORD },
      ]) {
        const capture = new Capture();
        const encoder = createRegistryEncoder({ url: refuser401.url, auth, valueSchema: { subject: 'kong-log-value', version: 'latest' }, requestTimeoutMs: 1000 });
        const requestsBefore = refuser401.requests;
        await encoder.encodeValue(entry()).then(
          () => capture.add('encode', 'resolved'),
          (error: unknown) => capture.add('encode rejected', error),
        );
        await encoder.close();
        expect(refuser401.requests).toBeGreaterThan(requestsBefore);
        expect(capture.texts.join('\n')).toContain('[REDACTED]'); // the echo was there, and cut out
        expect(capture.leaks({ token: forms(token), registry: forms(REGISTRY_PASSWORD, 'sr-user'), clientSecret: forms(REGISTRY_OAUTH_SECRET) })).toEqual([]);
      }
    } finally {
      await new Promise<void>((r) => tokens.close(() => r()));
    }
  });

  it('an error holding a secret from a custom transport is replaced by a clean copy, never edited in place', async () => {
    const originals: Error[] = [];
    const leaky: TransportFactory = () => ({
      connect: async () => {
        const error = new TransportError('authentication', `refused ${SASL_PASSWORD}`, false);
        Object.defineProperty(error, 'cause', { value: new Error(`client said ${encodeURIComponent(SASL_PASSWORD)}`) });
        void error.stack; // read before kafka-log sees it
        originals.push(error);
        throw error;
      },
      produce: async () => undefined,
      close: async () => undefined,
    });
    const capture = new Capture();
    await capturingOutput(capture, async () => {
      const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:1'], topic: 't', transport: leaky, authentication: { mechanism: 'PLAIN', username: 'u', password: SASL_PASSWORD } });
      for (const name of Object.values(PublisherEvents)) publisher.on(name, (event) => capture.add(`event ${name}`, event));
      const rejected = await publisher.connect().catch((error: unknown) => error);
      capture.add('connect rejected', rejected);
      expect(rejected).toBeInstanceOf(TransportError);
      expect(rejected).toBeInstanceOf(KafkaLogError);
      expect((rejected as TransportError).kind).toBe('authentication');
      expect(originals).not.toContain(rejected);
      await publisher.close({ timeoutMs: 100 });
    });
    expect(capture.leaks({ sasl: forms(SASL_PASSWORD, 'u') })).toEqual([]);
    expect(originals[0]?.message).toBe(`refused ${SASL_PASSWORD}`); // the publisher did not edit what it does not own
  });
});
