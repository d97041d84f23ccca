// OAUTHBEARER with a token provider of the user's, against the local broker's OAUTHBEARER listener (Kafka's
// unsecured validator: it takes unsigned JWTs with `sub` and `exp` and refuses expired ones), over every transport:
// delivery, a provider that fails and then recovers (the entries wait and are all delivered once), a token the
// broker refuses, and a provider that never answers.
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ErrorCodes, type KafkaLogError } from '../../src/errors.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { OAuthBearerToken } from '../../src/publisher/token-provider.js';
import { runChild } from './children.js';
import { createTopics, readTopic, realisticEntry, uniqueTopic } from './publisher-support.js';
import { TRANSPORTS } from './transports.js';

const kafka = inject('kafka');
const sasl = [kafka.listeners.sasl];

/** An unsigned JWT (alg "none") for `sub`, expiring `lifetimeS` seconds from now (negative: already expired). */
function unsecuredJwt(sub: string, lifetimeS: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none' })}.${b64({ sub, iat: now, exp: now + lifetimeS })}.`;
}

function token(lifetimeS = 3600): OAuthBearerToken {
  return { value: unsecuredJwt('admin', lifetimeS), lifetimeMs: lifetimeS * 1000, principal: 'admin' };
}

/** Every line and event the publisher gives, as text. */
function everythingSaid(publisher: KafkaLogPublisher): string[] {
  const said: string[] = [];
  publisher.on('publisher.log', (e) => said.push(`${e.message} ${JSON.stringify(e.extra ?? {})}`));
  publisher.on('publisher.retry', (e) => said.push(`${e.error.message} ${e.error.stack}`));
  publisher.on('publisher.delivery_failure', (e) => said.push(`${e.error.message} ${e.error.stack}`));
  publisher.on('publisher.drop', (e) => said.push(`${e.error?.message} ${e.error?.stack}`));
  return said;
}

/** The child's misbehaving providers: whether their failure is retriable and what the error says. */
const HOSTILE_CASES = {
  throwsSync: { retriable: true, says: 'the OAUTHBEARER token provider failed: Error: thrown synchronously' },
  rejectsWithNothing: { retriable: true, says: 'the OAUTHBEARER token provider failed: undefined' },
  rejectsWithAHostileObject: { retriable: true, says: 'the OAUTHBEARER token provider failed' },
  hangs: { retriable: true, says: 'the OAUTHBEARER token provider gave no token within 500 ms' },
  returnsNull: { retriable: false, says: 'returned null, not a token object { value, lifetimeMs }' },
  returnsATokenOfTheWrongShape: { retriable: false, says: 'returned a token whose value is not a non-empty string' },
  returnsABearerPrefixedValue: { retriable: false, says: 'give the token alone, without "Bearer "' },
  returnsAnExpiryTimeAsLifetime: { retriable: false, says: 'not an expiry time since the epoch' },
  returnsAThenableThatThrows: { retriable: true, says: 'the OAUTHBEARER token provider failed: Error: then threw' },
} as const;

describe.each(TRANSPORTS)('OAUTHBEARER token provider over %s', (transport) => {
  let topic: string;

  beforeAll(async () => {
    topic = uniqueTopic(`token-provider-${transport}`);
    await createTopics(kafka.brokers, [topic]);
  });

  function publisher(provider: () => Promise<OAuthBearerToken>, options: Partial<KafkaLogPublisherOptions> = {}) {
    return new KafkaLogPublisher({
      transport,
      brokers: sasl,
      topic,
      logger: false,
      logLevel: 'debug',
      authentication: { mechanism: 'OAUTHBEARER', oauthBearer: { provider } },
      ...options,
    });
  }

  it('connects with the provider\'s token and delivers; the token is asked for once while it is valid', async () => {
    let calls = 0;
    const issued = token();
    const p = publisher(async () => {
      calls += 1;
      return issued;
    });
    const said = everythingSaid(p);
    await p.connect();
    for (let i = 0; i < 3; i++) p.publish(realisticEntry(i));
    await p.flush();
    await p.close();
    expect(p.stats()).toMatchObject({ accepted: 3, sent: 3, dropped: { total: 0 } });
    expect(calls).toBe(1);
    expect(said.join('\n')).toContain('OAUTHBEARER token from the token provider for principal "admin", valid for 3600 s');
    expect(said.join('\n')).not.toContain(issued.value);
  });

  it('a provider that fails and then recovers: the entries wait, the failures are reported, all are delivered once', async () => {
    const failTopic = uniqueTopic(`token-provider-recover-${transport}`);
    await createTopics(kafka.brokers, [failTopic]);
    let failing = true;
    let failures = 0;
    let issued: OAuthBearerToken | undefined;
    const p = publisher(
      async () => {
        if (failing) {
          failures += 1;
          throw new Error('identity provider unavailable');
        }
        issued = token();
        return issued;
      },
      { topic: failTopic, flushTimeout: 0, initialRetryDelay: 50, maxRetryDelay: 200, maxRetryTime: 120_000 },
    );
    const said = everythingSaid(p);
    const retries: KafkaLogError[] = [];
    p.on('publisher.retry', (e) => retries.push(e.error));
    const ids = [101, 102, 103, 104, 105];
    for (const id of ids) p.publish(realisticEntry(id));
    await vi.waitFor(() => expect(retries.length).toBeGreaterThanOrEqual(3), { timeout: 30_000, interval: 50 });
    expect(failures).toBeGreaterThanOrEqual(3);
    expect(retries.every((e) => e.code === ErrorCodes.AUTHENTICATION && e.retriable)).toBe(true);
    expect(retries[0]?.message).toContain('the OAUTHBEARER token provider failed: Error: identity provider unavailable');
    expect(p.stats()).toMatchObject({ accepted: 5, sent: 0, dropped: { total: 0 } });
    expect(said.join('\n')).toMatch(/cannot reach Kafka at .*the OAUTHBEARER token provider failed/);
    failing = false;
    await p.flush();
    await p.close();
    expect(p.stats()).toMatchObject({ accepted: 5, sent: 5, dropped: { total: 0 }, buffered: 0, inFlight: 0 });
    expect(p.stats().retried).toBeGreaterThanOrEqual(retries.length);
    const messages = await readTopic({ brokers: kafka.brokers }, failTopic, 5);
    const received = messages.map((m) => (JSON.parse(m.value) as { started_at: number }).started_at % 1000).sort((a, b) => a - b);
    expect(received).toEqual(ids);
    expect(said.join('\n')).toMatch(/is reachable again after/);
    expect(said.join('\n')).not.toContain(issued?.value ?? '<none>');
  });

  it('a token the broker refuses (expired) is a non-retriable authentication error without the token; the next attempt asks again', async () => {
    let calls = 0;
    const expired = { value: unsecuredJwt('admin', -600), lifetimeMs: 3_600_000 };
    const p = publisher(async () => {
      calls += 1;
      return expired;
    });
    const first = (await p.connect().catch((e: unknown) => e)) as KafkaLogError;
    expect(first).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: false });
    expect(first.message).toBe('the broker refused the OAUTHBEARER token (invalid_token)');
    expect(`${first.message} ${first.stack}`).not.toContain(expired.value);
    await p.connect().catch(() => undefined);
    await p.close();
    expect(calls).toBe(2);
  });

  it('a provider that never answers: connect() fails at the timeout with a retriable authentication error', async () => {
    let calls = 0;
    const p = publisher(
      () => {
        calls += 1;
        return new Promise<OAuthBearerToken>(() => undefined);
      },
      { timeout: 1000 },
    );
    const started = Date.now();
    const error = (await p.connect().catch((e: unknown) => e)) as KafkaLogError;
    expect(Date.now() - started).toBeLessThan(6000);
    expect(error).toMatchObject({ code: ErrorCodes.AUTHENTICATION, retriable: true });
    expect(error.message).toContain('the OAUTHBEARER token provider gave no token within 1000 ms');
    await p.close();
    expect(calls).toBe(1);
  });

  it('hostile providers (throwing, rejecting, hanging, malformed, a thenable that throws) in a child process: no crash, no hang, every entry counted', async () => {
    const childTopic = uniqueTopic(`token-provider-hostile-${transport}`);
    await createTopics(kafka.brokers, [childTopic]);
    const run = runChild('hostile-token-provider.mjs', { KAFKA_SASL_BROKERS: sasl.join(','), KAFKA_TOPIC: childTopic, TRANSPORT: transport }, { timeoutMs: 80_000 });
    const { code, signal } = await run.exit;
    const stderr = run.stderr.map((l) => l.text).join('\n');
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    type Line = {
      name?: string;
      done?: boolean;
      connect?: { ok: boolean; code?: string; retriable?: boolean; message?: string };
      stats?: { accepted: number; sent: number; dropped: { total: number; byReason: Record<string, number> } };
    };
    const lines = run.stdout as Line[];
    expect(lines.at(-1)).toEqual({ done: true });
    // Every case ran (a case that stopped the loop would be missing here).
    expect(lines.slice(0, -1).map((l) => l.name)).toEqual([...Object.keys(HOSTILE_CASES), 'fine']);
    for (const { name, connect, stats } of lines.slice(0, -1)) {
      expect(stats?.accepted, name).toBe(3);
      if (name === 'fine') {
        expect(connect, name).toEqual({ ok: true });
        expect(stats, name).toMatchObject({ sent: 3, dropped: { total: 0 } });
        continue;
      }
      // Unusable answers are not retried (the same code answers the same); failures and hangs are, until
      // maxRetryTime. Either way every entry is a counted drop, none is left unaccounted.
      const { retriable, says } = HOSTILE_CASES[name as keyof typeof HOSTILE_CASES];
      expect(connect, name).toMatchObject({ ok: false, code: ErrorCodes.AUTHENTICATION, retriable });
      expect(connect?.message, name).toContain(says);
      expect(stats?.sent, name).toBe(0);
      expect(stats?.dropped.total, name).toBe(3);
      expect(stats?.dropped.byReason[retriable ? 'retry_time_exceeded' : 'non_retriable'], name).toBe(3);
    }
    // Only the well-behaved provider's entries reached the topic.
    const messages = await readTopic({ brokers: kafka.brokers }, childTopic, 3);
    const ids = messages.map((m) => (JSON.parse(m.value) as { request: { id: string } }).request.id).sort();
    expect(ids).toEqual(['fine-0', 'fine-1', 'fine-2']);
  });
});
