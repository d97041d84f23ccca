// The one HTTP client (registry and token endpoints) and the one OAuth token source, against loopback servers:
// a deadline for the whole call (not an idle timeout), a capped body, the TLS policy, errors free of secrets;
// tokens fetched once for concurrent callers, renewed by one rule, failures classified, only the current token
// kept as a secret.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, KafkaLogError, RegistryError, ResponseTooLargeError } from '../../src/errors.js';
import { TOKEN_RENEWAL_MARGIN_MS, renewalMargin } from '../../src/auth/token-source.js';
import { OAuthTokenSource } from '../../src/http-client/oauth-token-source.js';
import { HttpClient, type HttpClientOptions } from '../../src/http-client/request.js';
import { REDACTED, SecretSet } from '../../src/secrets.js';
import { caught } from '../support/caught.js';
import { makeTlsMaterial } from './adapters-support.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Handler, tls?: { key: string; cert: string }): Promise<{ url: string; requests: string[]; closed: number }> {
  const state = { requests: [] as string[], closed: 0 };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      state.requests.push(body);
      handler(req, res, body);
    });
  };
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      state.closed += 1;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  });
  return Object.assign(state, { url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

function client(overrides: Partial<HttpClientOptions> = {}): HttpClient {
  const c = new HttpClient({
    target: 'test server',
    tlsVerify: true,
    keepAlive: false,
    deadlineMs: 400,
    maxBodyBytes: 1024,
    secrets: new SecretSet(),
    fail: (message, options) => new RegistryError(message, options),
    ...overrides,
  });
  servers.push({ close: async () => c.close() });
  return c;
}


describe('HttpClient', () => {
  it('answers any status with its body', async () => {
    const server = await serve((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"a":1}'));
    await expect(client().send({ method: 'GET', url: `${server.url}/x` })).resolves.toEqual({ status: 404, text: '{"a":1}' });
  });

  it('has a deadline for the whole call: a body trickled byte by byte (never idle) still ends the call', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(timer));
    });
    const error = await caught(client({ deadlineMs: 300 }).send({ method: 'GET', url: `${server.url}/slow?x=1` }));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.retriable).toBe(true);
    expect(error.message).toBe(`test server at ${server.url}/slow gave no complete answer within 300 ms`);
    await expect.poll(() => server.closed).toBe(1); // the connection was cut, not left trickling
  });

  it('has a deadline when no answer comes at all (connected, then silence)', async () => {
    let closed = 0;
    const silent = net.createServer((socket) => {
      socket.resume(); // read and ignore the request
      socket.on('close', () => {
        closed += 1;
      });
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    servers.push({ close: () => new Promise<void>((r) => silent.close(() => r())) });
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const error = await caught(client({ deadlineMs: 200 }).send({ method: 'POST', url, body: 'x' }));
    expect(error.message).toContain('gave no complete answer within 200 ms');
    await expect.poll(() => closed).toBe(1);
  });

  it('refuses a body announced larger than the cap, and cuts a streamed one at the cap', async () => {
    const announced = await serve((_req, res) => res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000)));
    // A long deadline: the cap is under test, and a busy machine must not hit the deadline first.
    const tooLarge = await caught(client({ deadlineMs: 30_000 }).send({ method: 'GET', url: announced.url }));
    expect(tooLarge).toBeInstanceOf(ResponseTooLargeError);
    expect(tooLarge.code).toBe(ErrorCodes.RESPONSE_TOO_LARGE);
    expect(tooLarge.retriable).toBe(false);
    expect((tooLarge as ResponseTooLargeError).limitBytes).toBe(1024);
    expect(tooLarge.message).toBe(`test server at ${announced.url}/ answered more than 1024 bytes`);

    let written = 0;
    const endless = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'y'.repeat(256);
      const pump = () => {
        while (!res.destroyed && written < 50_000_000 && res.write(chunk)) written += chunk.length;
        if (!res.destroyed && written < 50_000_000) res.once('drain', pump);
      };
      pump();
    });
    const streamed = await caught(client({ deadlineMs: 30_000 }).send({ method: 'GET', url: endless.url }));
    expect(streamed.code).toBe(ErrorCodes.RESPONSE_TOO_LARGE);
    await expect.poll(() => endless.closed).toBe(1);
    expect(written).toBeLessThan(50_000_000);
  });

  it('unreachable: retriable, the socket error code named, its cause a copy without secrets', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    // A "secret" the socket error's own message contains, to see it removed from the cause too.
    const secrets = new SecretSet().add(`127.0.0.1:${port}`);
    const error = await caught(client({ secrets }).send({ method: 'GET', url: `http://127.0.0.1:${port}/subjects` }));
    expect(error.retriable).toBe(true);
    expect(error.message).toContain('could not be reached: ECONNREFUSED');
    const cause = error.cause as NodeJS.ErrnoException;
    expect(cause.code).toBe('ECONNREFUSED');
    expect(cause.message).toContain(REDACTED);
    expect(inspect(error, { showHidden: true, depth: 10 })).not.toContain(`127.0.0.1:${port}`);
  });

  it('verifies TLS certificates unless told not to', async () => {
    const tls = await makeTlsMaterial(); // a CA the client does not trust
    const server = await serve((_req, res) => res.end('{}'), { key: tls.serverKey, cert: tls.serverCert });
    const refused = await caught(client({ tlsVerify: true }).send({ method: 'GET', url: server.url }));
    expect(refused.message).toMatch(/could not be reached: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|DEPTH_ZERO)/);
    await expect(client({ tlsVerify: false }).send({ method: 'GET', url: server.url })).resolves.toEqual({ status: 200, text: '{}' });
  });
});

const SECRET = 'cl1ent-S3cret+/=';

function tokenSource(url: string, overrides: { now?: () => number; secrets?: SecretSet; password?: boolean } = {}) {
  return new OAuthTokenSource({
    grant: {
      tokenEndpoint: `${url}/token`,
      clientId: 'kl',
      clientSecret: SECRET,
      scopes: ['openid', 'sr'],
      audience: 'api://sr',
      ...(overrides.password ? { grantType: 'password' as const, username: 'owner', password: 'owner-Pa55word' } : {}),
    },
    tlsVerify: true,
    deadlineMs: 1000,
    secrets: overrides.secrets ?? new SecretSet(),
    fail: (message, options) => new KafkaLogError(ErrorCodes.AUTHENTICATION, message, options),
    ...(overrides.now ? { now: overrides.now } : {}),
  });
}

/** A token endpoint issuing token-1, token-2, ... with the given lifetime, answering `failWith` when set. */
async function tokenEndpoint(expiresIn: unknown = 3600) {
  const state = { issued: 0, failWith: undefined as undefined | { status: number; body: string }, delayMs: 0 };
  const server = await serve((_req, res) => {
    setTimeout(() => {
      if (state.failWith) {
        res.writeHead(state.failWith.status, { 'content-type': 'application/json' }).end(state.failWith.body);
        return;
      }
      state.issued += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `token-${state.issued}`, expires_in: expiresIn, token_type: 'Bearer' }));
    }, state.delayMs);
  });
  return Object.assign(state, { url: server.url, requests: server.requests });
}

describe('OAuthTokenSource', () => {
  it('asks with the grant (client credentials, scopes, audience; or the password grant)', async () => {
    const endpoint = await tokenEndpoint();
    await expect(tokenSource(endpoint.url).token()).resolves.toBe('token-1');
    expect(Object.fromEntries(new URLSearchParams(endpoint.requests[0]))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'kl',
      client_secret: SECRET,
      scope: 'openid sr',
      audience: 'api://sr',
    });
    await tokenSource(endpoint.url, { password: true }).token();
    expect(Object.fromEntries(new URLSearchParams(endpoint.requests[1]))).toMatchObject({ grant_type: 'password', username: 'owner', password: 'owner-Pa55word' });
  });

  it('concurrent callers share one fetch', async () => {
    const endpoint = await tokenEndpoint();
    endpoint.delayMs = 100;
    const source = tokenSource(endpoint.url);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.token()));
    expect(new Set(tokens)).toEqual(new Set(['token-1']));
    expect(endpoint.issued).toBe(1);
  });

  it('renews at the stated margin before expiry: 30 s, or a fifth of a short lifetime', async () => {
    expect(renewalMargin(3_600_000)).toBe(TOKEN_RENEWAL_MARGIN_MS);
    expect(renewalMargin(60_000)).toBe(12_000);
    for (const [expiresIn, margin] of [
      [3600, 30_000],
      [60, 12_000],
      ['120', 24_000], // a numeric string, as some identity providers send
    ] as const) {
      const endpoint = await tokenEndpoint(expiresIn);
      let now = 1_000_000;
      const source = tokenSource(endpoint.url, { now: () => now });
      await expect(source.token()).resolves.toBe('token-1');
      now += Number(expiresIn) * 1000 - margin - 1;
      await expect(source.token()).resolves.toBe('token-1');
      now += 1;
      await expect(source.token()).resolves.toBe('token-2');
      expect(endpoint.issued).toBe(2);
    }
  });

  it('a retriable renewal failure keeps the old token while it is valid; afterwards the failure shows', async () => {
    const endpoint = await tokenEndpoint(100);
    let now = 0;
    const source = tokenSource(endpoint.url, { now: () => now });
    await source.token();
    endpoint.failWith = { status: 503, body: '{"error":"temporarily_unavailable"}' };
    now = 90_000; // within the margin (20 s), not expired
    await expect(source.token()).resolves.toBe('token-1');
    now = 100_000; // expired
    const error = await caught(source.token());
    expect(error.retriable).toBe(true);
    expect(error.message).toBe(`OAuth token endpoint at ${endpoint.url}/token answered 503 (temporarily_unavailable)`);
  });

  it('classifies failures: refused or malformed answers are not retriable, 5xx, 429 and the unreachable are', async () => {
    const endpoint = await tokenEndpoint();
    const cases: Array<[number, string, boolean, string]> = [
      [401, '{"error":"invalid_client","error_description":"bad secret"}', false, 'answered 401 (invalid_client)'],
      [400, '{"error":"invalid_grant"}', false, 'answered 400 (invalid_grant)'],
      [429, '{}', true, 'answered 429'],
      [502, '<html>bad gateway</html>', true, 'answered 502'],
      [200, 'not json', false, 'answered 200 with a body that is not a JSON object'],
      [200, '{"token_type":"Bearer"}', false, 'answered 200 without an access_token'],
    ];
    for (const [status, body, retriable, text] of cases) {
      endpoint.failWith = { status, body };
      const error = await caught(tokenSource(endpoint.url).token());
      expect(error.code).toBe(ErrorCodes.AUTHENTICATION);
      expect([error.retriable, error.message.slice(error.message.indexOf('answered'))]).toEqual([retriable, text]);
    }
  });

  it('never quotes an echoed secret: descriptions are not quoted, and an `error` code is scrubbed', async () => {
    const endpoint = await tokenEndpoint();
    const codeLikeSecret = 'invalid_client_Zq8e3kd9';
    const secrets = new SecretSet();
    for (const body of [
      JSON.stringify({ error: codeLikeSecret, error_description: `you sent ${SECRET}` }),
      JSON.stringify({ error: `bad ${SECRET}` }),
    ]) {
      endpoint.failWith = { status: 401, body };
      const source = new OAuthTokenSource({
        grant: { tokenEndpoint: `${endpoint.url}/token`, clientId: 'kl', clientSecret: codeLikeSecret },
        tlsVerify: true,
        deadlineMs: 1000,
        secrets,
        fail: (message, options) => new RegistryError(message, options),
      });
      const error = await caught(source.token());
      const text = `${inspect(error, { showHidden: true, depth: 10 })} ${error.stack}`;
      expect(text).not.toContain(codeLikeSecret);
      expect(text).not.toContain(SECRET);
    }
  });

  it('keeps only the current token in the secrets: a renewed token replaces the old one there', async () => {
    const endpoint = await tokenEndpoint(60);
    let now = 0;
    const secrets = new SecretSet();
    const source = tokenSource(endpoint.url, { now: () => now, secrets });
    await source.token();
    const sizeWithOneToken = secrets.size;
    for (let i = 2; i <= 10; i++) {
      now += 60_000;
      await expect(source.token()).resolves.toBe(`token-${i}`);
      expect(secrets.size).toBe(sizeWithOneToken);
    }
    expect(secrets.scrub('token-10 token-9')).toBe(`${REDACTED} token-9`);
    expect(secrets.scrub(SECRET)).toBe(REDACTED); // the client secret stays
  });

  it('invalidate: the next call fetches a new token', async () => {
    const endpoint = await tokenEndpoint();
    const source = tokenSource(endpoint.url);
    await source.token();
    source.invalidate();
    await expect(source.token()).resolves.toBe('token-2');
  });
});
