/**
 * OAuth 2 bearer tokens for the registry: fetched with the client-credentials (or password) grant, kept until
 * shortly before they expire, fetched once for concurrent callers.
 *
 * @module
 */

import { RegistryError } from '../errors.js';
import { type HttpAgents, describeUrl, isRetriableStatus, sendHttp } from './http.js';
import type { RegistryOAuth2Auth } from './options.js';

/** Renew this long before a token expires, so no request goes out with a token about to lapse. */
const EXPIRY_MARGIN_MS = 30_000;
/** Lifetime assumed when the endpoint does not say (`expires_in` absent). */
const DEFAULT_LIFETIME_MS = 300_000;

/** Hands out a valid bearer token, fetching a new one when needed. */
export class OAuth2TokenSource {
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly auth: RegistryOAuth2Auth,
    private readonly agents: HttpAgents,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token valid for at least the next 30 s. */
  async current(): Promise<string> {
    if (this.token && this.token.expiresAt - EXPIRY_MARGIN_MS > this.now()) return this.token.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets the token (the registry refused it), so the next call fetches a new one. */
  invalidate(): void {
    this.token = undefined;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({ grant_type: this.auth.grantType ?? 'client_credentials' });
    form.set('client_id', this.auth.clientId);
    form.set('client_secret', this.auth.clientSecret);
    if (this.auth.scopes && this.auth.scopes.length > 0) form.set('scope', this.auth.scopes.join(' '));
    if (this.auth.audience) form.set('audience', this.auth.audience);
    if (this.auth.grantType === 'password') {
      form.set('username', this.auth.username ?? '');
      form.set('password', this.auth.password ?? '');
    }
    const where = describeUrl(this.auth.tokenEndpoint);
    const answer = await sendHttp(
      {
        method: 'POST',
        url: this.auth.tokenEndpoint,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        timeoutMs: this.timeoutMs,
        target: 'OAuth token endpoint',
      },
      this.agents,
    );
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown } = {};
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch {
      // A non-JSON answer is reported by status below.
    }
    if (answer.status !== 200 || typeof body.access_token !== 'string') {
      // Only the OAuth `error` code is quoted: descriptions may echo what was sent.
      const reason = typeof body.error === 'string' ? ` (${body.error})` : '';
      throw new RegistryError(`OAuth token endpoint at ${where} answered ${answer.status}${reason}`, {
        status: answer.status,
        retriable: isRetriableStatus(answer.status),
      });
    }
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : DEFAULT_LIFETIME_MS;
    this.token = { value: body.access_token, expiresAt: this.now() + lifetimeMs };
    return body.access_token;
  }
}
