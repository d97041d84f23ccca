/**
 * The one HTTP client kafka-log calls servers with itself: schema registries and OAuth token endpoints. It uses
 * node:http(s), so a TLS policy (`sslVerify: false`) needs no extra package, and every call is bounded:
 *
 * - a deadline for the whole exchange (connect, TLS handshake, headers and body), not an idle timeout: a server
 *   trickling bytes cannot hold a call longer than `deadlineMs`;
 * - a cap on the response body: a longer answer (announced or streamed) is cut off and fails with
 *   {@link ResponseTooLargeError} (`KAFKA_LOG_ERR_RESPONSE_TOO_LARGE`);
 * - errors built clean: they name the target and the URL's origin and path only, never a header, a credential
 *   or a body, and the socket error they carry as `cause` is a scrubbed copy.
 *
 * @module
 */
import { Agent as HttpAgent, type IncomingMessage, type ClientRequest, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type KafkaLogError, ResponseTooLargeError, describeError } from '../errors.js';
import type { Redactor } from '../secrets.js';

/** How a failed call is reported: the caller's error class and code (a registry error, an authentication error). */
export type HttpFailure = (message: string, options: { retriable: boolean; status?: number; cause?: unknown }) => KafkaLogError;

/** A client for one kind of server. */
export interface HttpClientOptions {
  /** What is being called, for messages: e.g. `schema registry`, `OAuth token endpoint`. */
  target: string;
  /** Verify the server's TLS certificate. */
  tlsVerify: boolean;
  /** Keep connections open between calls (frequent calls); otherwise one connection per call. */
  keepAlive: boolean;
  /** Deadline of one whole call, ms. */
  deadlineMs: number;
  /** Longest response body read, bytes. */
  maxBodyBytes: number;
  /** Scrubs the text and causes of errors. */
  secrets: Redactor;
  /** Builds the error of a call that could not complete (unreachable, reset, past its deadline): always retriable. */
  fail: HttpFailure;
}

/** One request. */
interface HttpRequest {
  /** HTTP method. */
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute URL. */
  url: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Request body, already encoded. */
  body?: string;
}

/** The answer to an {@link HttpRequest}, whatever its status. */
interface HttpAnswer {
  /** HTTP status. */
  status: number;
  /** Body as text. */
  text: string;
}

/** Whether an HTTP status means "try again later". */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Origin and path only: the part of a URL that may appear in messages (no credentials, no query). */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** Sends requests to one kind of server with one TLS policy, deadline and body cap. */
export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#http = new HttpAgent({ keepAlive: options.keepAlive });
    this.#https = new HttpsAgent({ keepAlive: options.keepAlive, rejectUnauthorized: options.tlsVerify });
  }

  /** Sends one request. Resolves with any HTTP status; rejects when no complete answer came within the deadline. */
  send(request: HttpRequest): Promise<HttpAnswer> {
    const url = new URL(request.url);
    const secure = url.protocol === 'https:';
    const headers = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let req: ClientRequest | undefined;
      const settle = (error: KafkaLogError | undefined, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve(answer as HttpAnswer);
        else {
          req?.destroy();
          reject(error);
        }
      };
      const deadline = this.#options.deadlineMs;
      timer = setTimeout(() => settle(this.#failure(request, `gave no complete answer within ${deadline} ms`)), deadline);
      req = (secure ? httpsRequest : httpRequest)(url, { method: request.method, headers, agent: secure ? this.#https : this.#http }, (res) =>
        this.#read(request, res, settle),
      );
      req.on('error', (error) => settle(this.#failure(request, 'could not be reached', error)));
      req.end(request.body);
    });
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  #read(request: HttpRequest, res: IncomingMessage, settle: (error: KafkaLogError | undefined, answer?: HttpAnswer) => void): void {
    const cap = this.#options.maxBodyBytes;
    const tooLarge = () =>
      new ResponseTooLargeError(`${this.#options.target} at ${describeUrl(request.url)} answered more than ${cap} bytes`, cap);
    const announced = Number(res.headers['content-length']);
    if (Number.isFinite(announced) && announced > cap) {
      settle(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    res.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > cap) settle(tooLarge());
      else chunks.push(chunk);
    });
    res.on('end', () => settle(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    res.on('error', (error) => settle(this.#failure(request, 'broke off its answer', error)));
    res.on('close', () => settle(this.#failure(request, 'closed the connection before the answer was complete')));
  }

  /** "schema registry at http://host/path could not be reached: ECONNREFUSED", with a scrubbed copy of the cause. */
  #failure(request: HttpRequest, problem: string, cause?: unknown): KafkaLogError {
    const { target, secrets, fail } = this.#options;
    let text = `${target} at ${describeUrl(request.url)} ${problem}`;
    if (cause !== undefined) {
      const code = (cause as { code?: unknown }).code;
      text += `: ${typeof code === 'string' ? code : describeError(cause)}`;
    }
    const message = secrets.scrub(text);
    return fail(message, cause === undefined ? { retriable: true } : { retriable: true, cause: secrets.cleanError(cause) });
  }
}
