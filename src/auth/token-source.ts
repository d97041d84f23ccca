/**
 * One renewal rule for every bearer token kafka-log holds, whatever fetches it (an OAuth token endpoint, a token
 * provider function): a token is used until {@link renewalMargin} before it expires (30 s, or a fifth of its
 * lifetime when that is shorter), then the next caller fetches a new one. Concurrent callers share one fetch.
 * When a renewal fails retriably while the old token has not yet expired, the old token is still handed out (the
 * next call tries again); a failure no retry can mend shows at once.
 *
 * Only the token in use is in the owner's {@link SecretSet}; a new token replaces it there.
 *
 * @module
 */
import { ErrorCodes, KafkaLogError } from '../errors.js';
import type { SecretSet } from '../secrets.js';

/** Renew this long before expiry at most. */
export const TOKEN_RENEWAL_MARGIN_MS = 30_000;

/** How long before expiry a token of `lifetimeMs` is renewed: 30 s, or a fifth of its lifetime when shorter. */
export function renewalMargin(lifetimeMs: number): number {
  return Math.min(TOKEN_RENEWAL_MARGIN_MS, lifetimeMs / 5);
}

/** A bearer token as fetched. */
export interface FetchedToken {
  /** The token itself (a secret). */
  readonly value: string;
  /** How long it is valid, ms, counted from `requestedAt`. */
  readonly lifetimeMs: number;
  /** SASL extensions to send with it. */
  readonly extensions?: Readonly<Record<string, string>>;
  /** The principal it stands for, when its issuer said. */
  readonly principal?: string;
  /**
   * When the request for it started (clock of the source, ms): a lifetime counts from then, so a slow answer does
   * not make the token look younger. Default: when this fetch started.
   */
  readonly requestedAt?: number;
}

/** Options of a {@link TokenSource}. */
export interface TokenSourceOptions {
  /** Fetches a new token; rejects with a {@link KafkaLogError} that says whether a retry may help. */
  fetch: () => Promise<FetchedToken>;
  /** The owner's secrets: the current token is kept there. */
  secrets: SecretSet;
  /** Called with each new token (its value is a secret: never print it). */
  onToken?: (token: FetchedToken) => void;
  /** Clock, ms (tests). */
  now?: () => number;
}

interface CurrentToken {
  token: FetchedToken;
  renewAt: number;
  expiresAt: number;
}

/** Hands out a valid token, fetching a new one when the current one is due for renewal. */
export class TokenSource {
  readonly #options: TokenSourceOptions;
  readonly #now: () => number;
  #current: CurrentToken | undefined;
  #pending: Promise<FetchedToken> | undefined;
  #closed = false;

  constructor(options: TokenSourceOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** A token valid for at least the renewal margin (or the old one, still valid, while a renewal fails retriably). */
  token(): Promise<FetchedToken> {
    if (this.#closed) return Promise.reject(new KafkaLogError(ErrorCodes.CLOSED, 'the token source is closed'));
    const current = this.#current;
    const now = this.#now();
    if (current !== undefined && now < current.renewAt) return Promise.resolve(current.token);
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    if (current === undefined || now >= current.expiresAt) return this.#pending;
    return this.#pending.catch((error: KafkaLogError) => {
      if (error.retriable && this.#now() < current.expiresAt) return current.token;
      throw error;
    });
  }

  /** Forgets the current token (the server refused it), so the next call fetches a new one. */
  invalidate(): void {
    this.#current = undefined;
  }

  /** Refuses later calls. */
  close(): void {
    this.#closed = true;
  }

  async #fetch(): Promise<FetchedToken> {
    const startedAt = this.#now();
    const token = await this.#options.fetch();
    if (this.#closed) throw new KafkaLogError(ErrorCodes.CLOSED, 'the token source is closed');
    const expiresAt = (token.requestedAt ?? startedAt) + token.lifetimeMs;
    this.#current = { token, expiresAt, renewAt: expiresAt - renewalMargin(token.lifetimeMs) };
    this.#options.secrets.setCurrent(this, token.value);
    try {
      this.#options.onToken?.(token);
    } catch {
      // A report about a good token must not turn it into a failure.
    }
    return token;
  }
}
