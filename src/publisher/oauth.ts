/**
 * OAUTHBEARER tokens through the OAuth 2 client-credentials grant: fetched on first use, cached, renewed
 * before they expire (at 80% of their lifetime), one request at a time. Uses node:http(s) rather than the
 * global fetch so `tokenEndpointTlsVerify: false` needs no extra dependency.
 *
 * @module
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { ErrorCodes, KafkaLogError } from '../errors.js';
import type { OAuthBearerOptions } from './options.js';

/** A token ready for the SASL exchange. */
export interface OAuthToken {
  /** The access token. */
  value: string;
  /** SASL extensions. */
  extensions?: Record<string, string>;
}

const RENEW_AT = 0.8;
const REQUEST_TIMEOUT_MS = 10_000;

function post(url: URL, body: string, verify: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'content-length': Buffer.byteLength(body),
      },
      timeout: REQUEST_TIMEOUT_MS,
    };
    if (url.protocol === 'https:') options.rejectUnauthorized = verify;
    const request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('token endpoint timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

/** Fetches and caches client-credentials tokens. `onSecret` learns each token so logs can strip it. */
export class OAuthTokenSource {
  readonly #options: OAuthBearerOptions;
  readonly #onSecret: (secret: string) => void;
  #token: OAuthToken | undefined;
  #renewAt = 0;
  #pending: Promise<OAuthToken> | undefined;

  /** `options` as validated by the publisher. */
  constructor(options: OAuthBearerOptions, onSecret: (secret: string) => void) {
    this.#options = options;
    this.#onSecret = onSecret;
  }

  /** A valid token, fetching a new one when the cached one is near its end. */
  token(): Promise<OAuthToken> {
    if (this.#token && Date.now() < this.#renewAt) return Promise.resolve(this.#token);
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<OAuthToken> {
    const o = this.#options;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret });
    if (o.scopes && o.scopes.length > 0) form.set('scope', o.scopes.join(' '));
    const fail = (problem: string) =>
      new KafkaLogError(ErrorCodes.AUTHENTICATION, `OAuth token request failed: ${problem}`, { retriable: true });
    let answer: { status: number; text: string };
    try {
      answer = await post(new URL(o.tokenEndpointUrl), form.toString(), o.tokenEndpointTlsVerify !== false);
    } catch (error) {
      throw fail(error instanceof Error ? error.message : String(error));
    }
    // The body of a failed answer is not echoed: it may quote the credentials back.
    if (answer.status < 200 || answer.status >= 300) throw fail(`token endpoint answered HTTP ${answer.status}`);
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch {
      throw fail('the answer is not JSON');
    }
    if (typeof body.access_token !== 'string' || body.access_token.length === 0) throw fail('no access_token in the answer');
    this.#onSecret(body.access_token);
    const lifetimeS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
    this.#renewAt = Date.now() + lifetimeS * 1000 * RENEW_AT;
    this.#token = o.extensions ? { value: body.access_token, extensions: { ...o.extensions } } : { value: body.access_token };
    return this.#token;
  }
}
