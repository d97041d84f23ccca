// An OAUTHBEARER token provider of the user's, as the publisher holds it: the token's shape checked, each call
// bounded by a deadline, failures classified and scrubbed, tokens renewed before they expire, only the current
// one kept as a secret. Then through a publisher, with a transport that asks for tokens as a Kafka client does.
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenSource } from '../../src/auth/token-source.js';
import { ErrorCodes, KafkaLogError } from '../../src/errors.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { type OAuthBearerToken, type OAuthBearerTokenProvider, ProviderTokens, tokenProblem } from '../../src/publisher/token-provider.js';
import { REDACTED, SecretSet } from '../../src/secrets.js';
import type { TransportConfig, TransportOAuthToken } from '../../src/transport/transport.js';
import { caught } from '../support/caught.js';
import { entry } from './publisher-support.js';

const VALID: OAuthBearerToken = { value: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', lifetimeMs: 60_000 };

function providerTokens(provider: OAuthBearerTokenProvider, overrides: { deadlineMs?: number; secrets?: SecretSet; now?: () => number } = {}) {
  return new ProviderTokens({ provider, deadlineMs: overrides.deadlineMs ?? 1000, secrets: overrides.secrets ?? new SecretSet(), ...(overrides.now ? { now: overrides.now } : {}) });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the token a provider gives', () => {
  it('is taken when it has a bearer value and a lifetime; principal and extensions are optional', () => {
    expect(tokenProblem(VALID)).toBeUndefined();
    expect(tokenProblem({ ...VALID, value: 'a-b_c.d~e+f/g==', principal: 'svc', extensions: { logicalCluster: 'lkc-1', traceId: 'a b' } })).toBeUndefined();
  });

  it("takes AWS MSK IAM's shape (a SigV4-presigned URL in unpadded base64url, as the README's adapter gives it)", () => {
    const url =
      'https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      '&X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Feu-west-1%2Fkafka-cluster%2Faws4_request&X-Amz-Date=20260101T000000Z' +
      '&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd&User-Agent=aws-msk-iam-sasl-signer-js%2F1.0.3';
    // The signer's answer: { token, expiryTime } with expiryTime in ms since the epoch.
    const signed = { token: Buffer.from(url).toString('base64url'), expiryTime: Date.now() + 900_000 };
    expect(tokenProblem({ value: signed.token, lifetimeMs: signed.expiryTime - Date.now() })).toBeUndefined();
    // Handing the expiry time over as the lifetime is the likely slip; it is named.
    expect(tokenProblem({ value: signed.token, lifetimeMs: signed.expiryTime })).toContain('not an expiry time since the epoch (subtract Date.now())');
  });

  it.each([
    [undefined, 'returned undefined, not a token object { value, lifetimeMs }'],
    ['eyJ.eyJ.', 'returned "eyJ.eyJ.", not a token object { value, lifetimeMs }'],
    [{ lifetimeMs: 1000 }, 'returned a token whose value is not a non-empty string'],
    [{ value: '', lifetimeMs: 1000 }, 'returned a token whose value is not a non-empty string'],
    [{ value: 'Bearer abc', lifetimeMs: 1000 }, 'characters a bearer token cannot hold'],
    [{ value: 'abc', lifetimeMs: 0 }, 'lifetimeMs is not a positive number of milliseconds, got 0'],
    [{ value: 'abc', lifetimeMs: '60000' }, 'lifetimeMs is not a positive number of milliseconds, got "60000"'],
    [{ value: 'abc', lifetimeMs: Number.NaN }, 'lifetimeMs is not a positive number of milliseconds, got NaN'],
    [{ value: 'abc', lifetimeMs: 1_767_225_600_000 }, 'not an expiry time since the epoch'],
    [{ value: 'abc', lifetimeMs: 1000, principal: 7 }, 'returned a principal that is not a string, got 7'],
    [{ value: 'abc', lifetimeMs: 1000, extensions: ['x'] }, 'returned extensions that are not an object of strings'],
    [{ value: 'abc', lifetimeMs: 1000, extensions: { auth: 'x' } }, 'returned an extension named "auth"'],
    [{ value: 'abc', lifetimeMs: 1000, extensions: { 'logical-cluster': 'x' } }, 'returned an extension named "logical-cluster"'],
    [{ value: 'abc', lifetimeMs: 1000, extensions: { cluster: 3 } }, 'returned extension "cluster" whose value is not a non-empty string'],
    [{ value: 'abc', lifetimeMs: 1000, extensions: { cluster: 'a\u0000b' } }, 'returned extension "cluster" whose value is not a non-empty string'],
  ])('%j is refused: %s', (token, problem) => {
    expect(tokenProblem(token)).toContain(problem);
  });

  it('a malformed token is a non-retriable authentication error that never quotes the value', async () => {
    const value = 'Bearer s3cr3t-token-value';
    const error = await caught(providerTokens(() => ({ value, lifetimeMs: 60_000 })).fetch());
    expect(error).toBeInstanceOf(KafkaLogError);
    expect(error).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: false });
    expect(error.message).toMatch(/^the OAUTHBEARER token provider returned a token whose value has characters/);
    expect(`${inspect(error, { showHidden: true, depth: 10 })} ${error.stack}`).not.toContain('s3cr3t-token-value');
  });
});

describe('a provider that fails', () => {
  it('throwing or rejecting is retriable, names the cause, and keeps a scrubbed copy of it', async () => {
    const secrets = new SecretSet().add('aws-secret-key-123');
    const sync = await caught(
      providerTokens(
        () => {
          throw new Error('STS unreachable with aws-secret-key-123');
        },
        { secrets },
      ).fetch(),
    );
    expect(sync).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: true });
    expect(sync.message).toBe(`the OAUTHBEARER token provider failed: Error: STS unreachable with ${REDACTED}`);
    expect((sync.cause as Error).message).toBe(`STS unreachable with ${REDACTED}`);
    expect(`${inspect(sync, { showHidden: true, depth: 10 })} ${sync.stack}`).not.toContain('aws-secret-key-123');

    const rejected = await caught(providerTokens(() => Promise.reject(new TypeError('fetch failed'))).fetch());
    expect(rejected).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: true, message: 'the OAUTHBEARER token provider failed: TypeError: fetch failed' });
  });

  it('a KafkaLogError it throws says whether to retry', async () => {
    const revoked = new KafkaLogError(ErrorCodes.AUTHENTICATION, 'the role was revoked', { retriable: false });
    const error = await caught(providerTokens(() => Promise.reject(revoked)).fetch());
    expect(error).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: false, message: 'the OAUTHBEARER token provider failed: the role was revoked' });
  });

  it('whatever it throws: a string, null, an object whose toString throws', async () => {
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    for (const thrown of ['plain text', null, hostile]) {
      const error = await caught(providerTokens(() => Promise.reject(thrown)).fetch());
      expect(error).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: true });
      expect(error.message).toMatch(/^the OAUTHBEARER token provider failed: /);
    }
  });
});

describe('a provider that hangs', () => {
  it('is bounded by the deadline, and not called again while its call is still running', async () => {
    let calls = 0;
    let answer: ((token: OAuthBearerToken) => void) | undefined;
    const tokens = providerTokens(
      () => {
        calls += 1;
        return new Promise<OAuthBearerToken>((resolve) => {
          answer = resolve;
        });
      },
      { deadlineMs: 50 },
    );
    const first = await caught(tokens.fetch());
    expect(first).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: true, message: 'the OAUTHBEARER token provider gave no token within 50 ms' });
    const second = await caught(tokens.fetch());
    expect(second.message).toMatch(/gave no token within 50 ms \(its call of 0\.\d s ago is still running: it is not called again until that call settles\)$/);
    expect(calls).toBe(1);
    // the late answer serves the next fetch, and then a new call may start
    const pending = tokens.fetch();
    answer?.(VALID);
    await expect(pending).resolves.toMatchObject({ value: VALID.value, lifetimeMs: 60_000 });
    await tokens.fetch().catch(() => undefined);
    expect(calls).toBe(2);
  });

  it('close() fails the fetch waiting on it at once and leaves no timer', async () => {
    vi.useFakeTimers();
    const tokens = providerTokens(() => new Promise<OAuthBearerToken>(() => undefined), { deadlineMs: 10_000 });
    const waiting = tokens.fetch();
    expect(vi.getTimerCount()).toBe(1);
    tokens.close();
    await expect(waiting).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
    expect(vi.getTimerCount()).toBe(0);
    await expect(tokens.fetch()).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
  });
});

describe('renewal of provider tokens', () => {
  /** A provider issuing tok-1, tok-2, ... of `lifetimeMs`, failing while `fail` is set. */
  function counting(lifetimeMs: number) {
    const state = { calls: 0, fail: undefined as Error | undefined };
    const provider = async (): Promise<OAuthBearerToken> => {
      state.calls += 1;
      if (state.fail) throw state.fail;
      return { value: `tok-${state.calls}`, lifetimeMs, principal: 'svc' };
    };
    return { state, provider };
  }

  function source(provider: OAuthBearerTokenProvider, now: () => number, secrets = new SecretSet()) {
    const tokens = providerTokens(provider, { now, secrets });
    return new TokenSource({ fetch: () => tokens.fetch(), secrets, now });
  }

  it('renews 30 s before expiry, or a fifth of a short lifetime before it; concurrent callers share one call', async () => {
    for (const [lifetimeMs, margin] of [
      [900_000, 30_000], // AWS MSK IAM's 15 minutes
      [60_000, 12_000],
    ] as const) {
      const { state, provider } = counting(lifetimeMs);
      let now = 5_000_000;
      const tokens = source(provider, () => now);
      const first = await Promise.all(Array.from({ length: 10 }, () => tokens.token()));
      expect(new Set(first.map((t) => t.value))).toEqual(new Set(['tok-1']));
      expect(state.calls).toBe(1);
      now += lifetimeMs - margin - 1;
      await expect(tokens.token()).resolves.toMatchObject({ value: 'tok-1' });
      now += 1;
      await expect(tokens.token()).resolves.toMatchObject({ value: 'tok-2', principal: 'svc' });
      expect(state.calls).toBe(2);
    }
  });

  it('a failed renewal keeps the old token while it is valid; after expiry the failure shows; then it recovers', async () => {
    const { state, provider } = counting(100_000);
    let now = 0;
    const tokens = source(provider, () => now);
    await tokens.token();
    state.fail = new Error('identity provider down');
    now = 90_000; // within the 20 s margin, not expired
    await expect(tokens.token()).resolves.toMatchObject({ value: 'tok-1' });
    now = 100_000;
    const error = await caught(tokens.token());
    expect(error).toMatchObject({ retriable: true, message: 'the OAUTHBEARER token provider failed: Error: identity provider down' });
    state.fail = undefined;
    await expect(tokens.token()).resolves.toMatchObject({ value: 'tok-4' });
    expect(state.calls).toBe(4);
  });

  it('keeps only the current token among the secrets', async () => {
    const { provider } = counting(60_000);
    let now = 0;
    const secrets = new SecretSet();
    const tokens = source(provider, () => now, secrets);
    await tokens.token();
    const size = secrets.size;
    for (let i = 2; i <= 10; i++) {
      now += 60_000;
      await expect(tokens.token()).resolves.toMatchObject({ value: `tok-${i}` });
      expect(secrets.size).toBe(size);
    }
    expect(secrets.scrub('tok-10 tok-9')).toBe(`${REDACTED} tok-9`);
  });
});

describe('a publisher with a token provider', () => {
  /** A publisher whose transport asks for a token before each produce call, as a Kafka client does per connection. */
  function publisherWith(provider: OAuthBearerTokenProvider, extensions?: Record<string, string>) {
    const sent: TransportOAuthToken[] = [];
    let config: TransportConfig | undefined;
    const publisher = new KafkaLogPublisher({
      brokers: ['127.0.0.1:9'],
      topic: 'logs',
      flushTimeout: 0,
      initialRetryDelay: 5,
      maxRetryDelay: 20,
      timeout: 200,
      logLevel: 'debug',
      logger: false,
      authentication: { mechanism: 'OAUTHBEARER', oauthBearer: extensions ? { provider, extensions } : { provider } },
      transport: (c) => {
        config = c;
        return {
          connect: async () => {},
          produce: async () => {
            const token = await c.sasl?.oauthBearerToken?.();
            if (token) sent.push(token);
          },
          close: async () => {},
        };
      },
    });
    return { publisher, sent, config: () => config };
  }

  it('sends the token with the static and the token\'s own extensions (the token\'s win)', async () => {
    const { publisher, sent } = publisherWith(
      async () => ({ ...VALID, extensions: { logicalCluster: 'lkc-token' } }),
      { logicalCluster: 'lkc-static', identityPoolId: 'pool-1' },
    );
    publisher.publish(entry(1));
    await publisher.flush();
    await publisher.close();
    expect(sent[0]).toEqual({ value: VALID.value, extensions: { logicalCluster: 'lkc-token', identityPoolId: 'pool-1' } });
  });

  it('failures are retried and reported as authentication errors; the entries wait and go out once it recovers', async () => {
    let failing = true;
    const { publisher, sent } = publisherWith(async () => {
      if (failing) throw new Error('identity provider down');
      return { ...VALID, principal: 'svc' };
    });
    const retries: KafkaLogError[] = [];
    const logs: string[] = [];
    publisher.on('publisher.retry', (event) => retries.push(event.error));
    publisher.on('publisher.log', (event) => logs.push(event.message));
    for (let i = 0; i < 3; i++) publisher.publish(entry(i));
    await vi.waitFor(() => expect(retries.length).toBeGreaterThanOrEqual(2), { timeout: 5000 });
    expect(publisher.stats()).toMatchObject({ accepted: 3, sent: 0, dropped: { total: 0 } });
    expect(retries[0]).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: true, message: 'the OAUTHBEARER token provider failed: Error: identity provider down' });
    failing = false;
    await publisher.flush();
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: 3, sent: 3, dropped: { total: 0 } });
    expect(sent.length).toBeGreaterThan(0);
    expect(logs.some((line) => /cannot reach Kafka .*the OAUTHBEARER token provider failed/.test(line))).toBe(true);
    expect(logs).toContain('OAUTHBEARER token from the token provider for principal "svc", valid for 60 s');
  });

  it('a malformed token drops the entries as non-retriable, and the next attempt asks the provider again', async () => {
    let calls = 0;
    const { publisher } = publisherWith(async () => {
      calls += 1;
      return calls === 1 ? { value: VALID.value, lifetimeMs: Date.now() + 60_000 } : VALID;
    });
    publisher.publish(entry(1));
    await publisher.flush();
    expect(publisher.stats().dropped.byReason.non_retriable).toBe(1);
    publisher.publish(entry(2));
    await publisher.flush();
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ sent: 1, dropped: { total: 1 } });
    expect(calls).toBe(2);
  });

  it('after close, no token is asked for', async () => {
    const { publisher, config } = publisherWith(async () => VALID);
    publisher.publish(entry(1));
    await publisher.close();
    await expect(config()?.sasl?.oauthBearerToken?.()).rejects.toMatchObject({ code: ErrorCodes.CLOSED });
  });
});
