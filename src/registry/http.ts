/**
 * One HTTP exchange with a registry or token endpoint, over node:http(s), with a deadline and TLS verification
 * as configured. Failures become {@link RegistryError}s: unreachable, timed out, 408, 429 and 5xx are
 * retriable; other statuses are not. No error message carries a header, a credential or a request body.
 *
 * @module
 */

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RegistryError, describeError } from '../errors.js';

/** One HTTP request. */
export interface HttpCall {
  /** HTTP method. */
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute URL. */
  url: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Request body, already encoded. */
  body?: string;
  /** Deadline, ms. */
  timeoutMs: number;
  /** What is being called, for messages: e.g. `schema registry`, `token endpoint`. */
  target: string;
}

/** The answer to an {@link HttpCall}. */
export interface HttpAnswer {
  /** HTTP status. */
  status: number;
  /** Body as text. */
  text: string;
}

/** Agents (kept-alive connections) for one TLS policy. */
export interface HttpAgents {
  /** For http: URLs. */
  http: HttpAgent;
  /** For https: URLs. */
  https: HttpsAgent;
}

/** Creates kept-alive agents; `sslVerify` false accepts any certificate (Kong's `ssl_verify = false`). */
export function createHttpAgents(sslVerify: boolean): HttpAgents {
  return {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true, rejectUnauthorized: sslVerify }),
  };
}

/** Whether an HTTP status means "try again later". */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Origin and path only: the part of a URL that may appear in messages. */
export function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** Sends one request. Resolves with any HTTP status; rejects with a retriable {@link RegistryError} when unreachable. */
export function sendHttp(call: HttpCall, agents: HttpAgents): Promise<HttpAnswer> {
  const url = new URL(call.url);
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = send(
      url,
      {
        method: call.method,
        headers: { ...call.headers, ...(call.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(call.body)) }) },
        agent: secure ? agents.https : agents.http,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(unreachable(call, error)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(call.timeoutMs, () => req.destroy(new Error(`no answer within ${call.timeoutMs} ms`)));
    req.on('error', (error) => reject(unreachable(call, error)));
    req.end(call.body);
  });
}

function unreachable(call: HttpCall, error: unknown): RegistryError {
  const code = (error as { code?: unknown }).code;
  const reason = typeof code === 'string' ? code : describeError(error);
  return new RegistryError(`${call.target} at ${describeUrl(call.url)} could not be reached: ${reason}`, {
    retriable: true,
    cause: error,
  });
}
