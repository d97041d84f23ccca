/**
 * The user's OAUTHBEARER token provider (`authentication.oauthBearer.provider`) as a fetch for a
 * {@link TokenSource}: each call is bounded by a deadline, the token it gives is checked, and every failure
 * becomes an authentication error that says whether a retry may help.
 *
 * - A provider that throws or rejects: retriable (an identity provider or a credentials service being down is
 *   the common cause), unless it throws a {@link KafkaLogError} saying `retriable: false`. Its message is kept
 *   (secrets known to the publisher removed); it names the cause.
 * - A token of the wrong shape: not retriable (the same code gives the same shape again).
 * - No answer within the deadline: retriable. A provider call that hangs is never started twice: later fetches
 *   wait on the same call (each with a deadline of its own) until it settles, so a provider that never answers
 *   costs one pending call, not one per retry.
 *
 * @module
 */
import type { FetchedToken } from '../auth/token-source.js';
import { ErrorCodes, KafkaLogError } from '../errors.js';
import { describeValue, isPlainObject } from '../options/check.js';
import type { SecretSet } from '../secrets.js';
import { describeSafely } from './log.js';

/** What an OAUTHBEARER token provider gives: one token and how long it is valid. */
export interface OAuthBearerToken {
  /**
   * The token, as sent after `auth=Bearer ` (RFC 7628): a JWT, AWS MSK IAM's base64url signed URL, ... Only the
   * characters of RFC 6750's `b64token`: letters, digits, `-._~+/`, then `=` padding. Treated as a secret.
   */
  value: string;
  /** How long the token stays valid from now, ms (not an expiry time since the epoch). At most a year. */
  lifetimeMs: number;
  /**
   * The principal the token stands for, when known: shown in kafka-log's debug lines, never sent (the broker
   * reads the principal from the token itself).
   */
  principal?: string;
  /** SASL extensions sent with this token (e.g. `logicalCluster`); they win over `oauthBearer.extensions`. */
  extensions?: Record<string, string>;
}

/** Gives an OAUTHBEARER token; called when the current one is due for renewal (see the README's token providers). */
export type OAuthBearerTokenProvider = () => Promise<OAuthBearerToken> | OAuthBearerToken;

/** What the error messages call the provider. */
const PROVIDER = 'the OAUTHBEARER token provider';
/** Longest lifetime taken: a larger number is most likely an expiry time since the epoch. */
const MAX_LIFETIME_MS = 365 * 24 * 3600 * 1000;
/** RFC 6750's b64token: what Kafka's broker takes after `auth=Bearer `. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 7628 (and Kafka's broker): extension keys are letters, values printable ASCII, spaces and line breaks. */
const EXTENSION_KEY = /^[A-Za-z]+$/;
const EXTENSION_VALUE = /^[\x21-\x7E \t\r\n]+$/;

/** Options of {@link ProviderTokens}. */
export interface ProviderTokensOptions {
  /** The user's provider. */
  provider: OAuthBearerTokenProvider;
  /** Longest wait for one token, ms. */
  deadlineMs: number;
  /** The publisher's secrets: provider error messages and causes are scrubbed with them. */
  secrets: SecretSet;
  /** Clock, ms (tests). */
  now?: () => number;
}

interface ProviderCall {
  readonly promise: Promise<FetchedToken>;
  readonly requestedAt: number;
}

interface Waiter {
  readonly timer: NodeJS.Timeout;
  readonly reject: (error: KafkaLogError) => void;
}

function failure(message: string, retriable: boolean, cause?: unknown): KafkaLogError {
  return new KafkaLogError(ErrorCodes.AUTHENTICATION, message, cause === undefined ? { retriable } : { retriable, cause });
}

/** The reason a provider's answer is not a usable token, or `undefined` when it is one. */
export function tokenProblem(token: unknown): string | undefined {
  if (!isPlainObject(token)) return `returned ${describeValue(token)}, not a token object { value, lifetimeMs }`;
  const { value, lifetimeMs, principal, extensions } = token;
  // The value is a secret: its problems are told without quoting it.
  if (typeof value !== 'string' || value === '') return 'returned a token whose value is not a non-empty string';
  if (!B64TOKEN.test(value)) {
    return 'returned a token whose value has characters a bearer token cannot hold (RFC 6750: letters, digits, -._~+/ and trailing =); give the token ' +
      'alone, without "Bearer "';
  }
  if (typeof lifetimeMs !== 'number' || !Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
    return `returned a token whose lifetimeMs is not a positive number of milliseconds, got ${describeValue(lifetimeMs)}`;
  }
  if (lifetimeMs > MAX_LIFETIME_MS) {
    return `returned a token whose lifetimeMs (${lifetimeMs}) is more than a year: lifetimeMs is how long the token stays valid from now, not an expiry ` +
      `time since the epoch (subtract Date.now())`;
  }
  if (principal !== undefined && typeof principal !== 'string') return `returned a principal that is not a string, got ${describeValue(principal)}`;
  if (extensions !== undefined) {
    if (!isPlainObject(extensions)) return `returned extensions that are not an object of strings, got ${describeValue(extensions)}`;
    for (const [key, item] of Object.entries(extensions)) {
      if (!EXTENSION_KEY.test(key) || key === 'auth') {
        return `returned an extension named ${describeValue(key)}: names are letters only, and "auth" is reserved (RFC 7628)`;
      }
      if (typeof item !== 'string' || !EXTENSION_VALUE.test(item)) {
        return `returned extension "${key}" whose value is not a non-empty string of printable ASCII`;
      }
    }
  }
  return undefined;
}

/** Fetches tokens from the user's provider, bounded and checked (see the module's description). */
export class ProviderTokens {
  readonly #options: ProviderTokensOptions;
  readonly #now: () => number;
  readonly #waiters = new Set<Waiter>();
  #call: ProviderCall | undefined;
  #closed = false;

  constructor(options: ProviderTokensOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** One checked token from the provider (or from its call still under way), within the deadline. */
  fetch(): Promise<FetchedToken> {
    if (this.#closed) return Promise.reject(new KafkaLogError(ErrorCodes.CLOSED, 'the token provider is closed'));
    const running = this.#call;
    const call = running ?? this.#start();
    const deadlineMs = this.#options.deadlineMs;
    return new Promise<FetchedToken>((resolve, reject) => {
      const waiter: Waiter = {
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          const since = ((this.#now() - call.requestedAt) / 1000).toFixed(1);
          const again = running === undefined ? '' : ` (its call of ${since} s ago is still running: it is not called again until that call settles)`;
          reject(failure(`${PROVIDER} gave no token within ${deadlineMs} ms${again}`, true));
        }, deadlineMs),
        reject,
      };
      this.#waiters.add(waiter);
      call.promise.then(
        (token) => {
          if (!this.#waiters.delete(waiter)) return;
          clearTimeout(waiter.timer);
          resolve(token);
        },
        (error: KafkaLogError) => {
          if (!this.#waiters.delete(waiter)) return;
          clearTimeout(waiter.timer);
          reject(error);
        },
      );
    });
  }

  /** Fails the fetches waiting now and refuses later ones; a provider call under way is left to settle unread. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new KafkaLogError(ErrorCodes.CLOSED, 'the token provider is closed'));
    }
    this.#waiters.clear();
  }

  #start(): ProviderCall {
    const requestedAt = this.#now();
    // Called in a microtask: a provider that throws synchronously rejects like one that rejects.
    const promise = Promise.resolve()
      .then(() => this.#options.provider())
      .then(
        (token: unknown) => this.#checked(token, requestedAt),
        (error: unknown) => {
          throw this.#failed(error);
        },
      );
    const call: ProviderCall = { promise, requestedAt };
    const forget = () => {
      if (this.#call === call) this.#call = undefined;
    };
    promise.then(forget, forget);
    this.#call = call;
    return call;
  }

  #checked(token: unknown, requestedAt: number): FetchedToken {
    const problem = tokenProblem(token);
    if (problem !== undefined) throw failure(`${PROVIDER} ${problem}`, false);
    const { value, lifetimeMs, principal, extensions } = token as unknown as OAuthBearerToken;
    return {
      value,
      lifetimeMs,
      requestedAt,
      ...(principal === undefined ? {} : { principal }),
      ...(extensions === undefined ? {} : { extensions: { ...extensions } }),
    };
  }

  /** The provider's own failure as an authentication error, scrubbed; retriable unless it said otherwise. */
  #failed(error: unknown): KafkaLogError {
    const { secrets } = this.#options;
    const retriable = error instanceof KafkaLogError ? error.retriable : true;
    const what = error instanceof KafkaLogError ? error.message : describeSafely(error);
    const cause = error instanceof Error || (typeof error === 'object' && error !== null) ? secrets.cleanError(error) : undefined;
    return failure(secrets.scrub(`${PROVIDER} failed: ${what}`), retriable, cause);
  }
}
