/**
 * OAuth 2 access tokens from a token endpoint (RFC 6749 section 4.4 client credentials, or 4.3 the resource
 * owner's password), for both the publisher's SASL OAUTHBEARER and the schema registry's `oauth2` mode.
 *
 * Renewal, shared fetches and the secret kept are {@link TokenSource}'s. Failures are classified: unreachable,
 * past the deadline, 408, 429 and 5xx are retriable; any other status, an answer without `access_token` and an
 * oversized answer are not.
 *
 * @module
 */
import { type FetchedToken, TokenSource } from '../auth/token-source.js';
import type { SecretSet } from '../secrets.js';
import { HttpClient, type HttpFailure, describeUrl, isRetriableStatus } from './request.js';

/** Lifetime assumed when the endpoint does not say (`expires_in` absent). */
const DEFAULT_TOKEN_LIFETIME_MS = 300_000;
/** Longest token endpoint answer read, bytes: a token answer is a few kilobytes even with a large JWT. */
const TOKEN_RESPONSE_MAX_BYTES = 64 * 1024;

/** What is asked of the token endpoint. */
export interface OAuthGrant {
  /** Token endpoint URL. */
  tokenEndpoint: string;
  /** OAuth client id. */
  clientId: string;
  /** OAuth client secret. */
  clientSecret: string;
  /** Scopes, sent space-separated. */
  scopes?: readonly string[] | undefined;
  /** Audience, when the identity provider needs one. */
  audience?: string | undefined;
  /** Grant type; default `client_credentials`. */
  grantType?: 'client_credentials' | 'password' | undefined;
  /** Resource owner, for the `password` grant. */
  username?: string | undefined;
  /** Resource owner's password, for the `password` grant. */
  password?: string | undefined;
}

/** Options of an {@link OAuthTokenSource}. */
export interface OAuthTokenSourceOptions {
  /** What to ask for. */
  grant: OAuthGrant;
  /** Verify the token endpoint's TLS certificate. */
  tlsVerify: boolean;
  /** Deadline of one token request, ms. */
  deadlineMs: number;
  /** The owner's secrets: the grant's secrets are added, and the current token is kept there. */
  secrets: SecretSet;
  /** Builds the owner's error (authentication error for Kafka, registry error for the registry). */
  fail: HttpFailure;
  /** Called with each new token (see {@link TokenSourceOptions.onToken}). */
  onToken?: (token: FetchedToken) => void;
  /** Clock, ms (tests). */
  now?: () => number;
}

/** An OAuth error code as RFC 6749 section 5.2 defines them; anything else in `error` is not quoted. */
const OAUTH_ERROR_CODE = /^[a-z0-9_.-]{1,64}$/i;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function lifetimeOf(expiresIn: unknown): number {
  const seconds = typeof expiresIn === 'string' && expiresIn.trim() !== '' ? Number(expiresIn) : expiresIn;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_TOKEN_LIFETIME_MS;
}

/** Hands out a valid access token, fetching a new one when the current one is due for renewal. */
export class OAuthTokenSource {
  readonly #options: OAuthTokenSourceOptions;
  readonly #http: HttpClient;
  readonly #now: () => number;
  readonly #source: TokenSource;

  constructor(options: OAuthTokenSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#source = new TokenSource({
      fetch: () => this.#fetch(),
      secrets: options.secrets,
      ...(options.onToken ? { onToken: options.onToken } : {}),
      now: this.#now,
    });
    const { grant, secrets } = options;
    secrets.add(grant.clientSecret).add(grant.password, grant.username);
    // Credentials written into the endpoint URL are sent as basic auth: secrets too.
    const url = new URL(grant.tokenEndpoint);
    if (url.password) secrets.add(url.password).add(decoded(url.password), decoded(url.username));
    // Tokens are fetched a few times an hour: no connection is kept open between fetches.
    this.#http = new HttpClient({
      target: 'OAuth token endpoint',
      tlsVerify: options.tlsVerify,
      keepAlive: false,
      deadlineMs: options.deadlineMs,
      maxBodyBytes: TOKEN_RESPONSE_MAX_BYTES,
      secrets,
      fail: options.fail,
    });
  }

  /** A token valid for at least the renewal margin (or the old one, still valid, while a renewal fails retriably). */
  async token(): Promise<string> {
    return (await this.#source.token()).value;
  }

  /** The token with its lifetime (see {@link TokenSource.token}). */
  fetched(): Promise<FetchedToken> {
    return this.#source.token();
  }

  /** Refuses later calls and aborts a request in flight: its connection is released at once. */
  close(): void {
    this.#source.close();
    this.#http.close();
  }

  /** Forgets the current token (the server refused it), so the next call fetches a new one. */
  invalidate(): void {
    this.#source.invalidate();
  }

  async #fetch(): Promise<FetchedToken> {
    const { grant, secrets, fail } = this.#options;
    const form = new URLSearchParams({ grant_type: grant.grantType ?? 'client_credentials', client_id: grant.clientId, client_secret: grant.clientSecret });
    if (grant.scopes && grant.scopes.length > 0) form.set('scope', grant.scopes.join(' '));
    if (grant.audience) form.set('audience', grant.audience);
    if (grant.grantType === 'password') {
      form.set('username', grant.username ?? '');
      form.set('password', grant.password ?? '');
    }
    const startedAt = this.#now();
    const answer = await this.#http.send({
      method: 'POST',
      url: grant.tokenEndpoint,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    });
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown } | undefined;
    try {
      const parsed: unknown = JSON.parse(answer.text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed as typeof body;
    } catch {
      // Reported below by status.
    }
    const where = `OAuth token endpoint at ${describeUrl(grant.tokenEndpoint)}`;
    const ok = answer.status >= 200 && answer.status < 300;
    if (!ok || typeof body?.access_token !== 'string' || body.access_token.length === 0) {
      // Only an RFC 6749 error code is quoted (scrubbed too): descriptions and bodies may echo what was sent.
      const code = typeof body?.error === 'string' && OAUTH_ERROR_CODE.test(body.error) ? ` (${body.error})` : '';
      const problem = ok ? (body === undefined ? ' with a body that is not a JSON object' : ' without an access_token') : code;
      throw fail(secrets.scrub(`${where} answered ${answer.status}${problem}`), {
        status: answer.status,
        retriable: !ok && isRetriableStatus(answer.status),
      });
    }
    return { value: body.access_token, lifetimeMs: lifetimeOf(body.expires_in), requestedAt: startedAt };
  }
}
