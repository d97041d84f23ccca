/**
 * The worker transport: the Kafka client runs in a thread of its own (pino's model for its transports), so its
 * record encoding, checksums, socket writes and garbage stay off the thread that serves requests. The request
 * thread keeps everything that decides what is sent and counts it (the publisher's queue, bounds, retries and
 * stats); per produce request it copies the records' bytes once into one buffer and transfers it.
 *
 * - Retries: the delivery thread keeps a request until it is acknowledged or the publisher lets go of it, so a
 *   retry reuses its partition choices (and an idempotent producer's sequence numbers).
 * - A delivery thread that dies (an uncaught error in the client, say) fails its requests in flight as
 *   retriable, is logged, and is started again by the next request: the publisher retries those requests with
 *   its usual backoff, and counts them in `retried`, or drops them counted when `maxRetryTime` runs out.
 * - `close()` closes the client in its thread (after the publisher delivered what it holds), then ends the thread.
 * - OAUTHBEARER tokens are still fetched by the request thread's provider; `tls.secureContext` cannot cross
 *   threads (give `ca`, `cert` and `key` instead).
 *
 * @module
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TransportName } from './select.js';
import {
  type FromWorker,
  type ToWorker,
  type WireConfig,
  type WorkerData,
  packRecords,
} from './worker-protocol.js';
import {
  type ProduceRequest,
  type Transport,
  type TransportConfig,
  TransportError,
  type TransportFactory,
  type TransportHooks,
} from './transport.js';

/** The delivery thread, as the worker transport uses it (a `Worker`; tests give an in-process one). */
export interface DeliveryThread {
  postMessage(message: ToWorker, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: FromWorker) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** @internal How a worker transport starts its threads. */
export interface WorkerTransportSetup {
  /** The Kafka client the delivery thread runs. */
  client: TransportName;
  /** Starts one delivery thread. Default: a `Worker` running `dist/transport-worker.js`. */
  spawn?: (data: WorkerData) => DeliveryThread;
}

/** Most buffers kept for reuse (bounded memory: a request is at most `maxBytesPerRequest`). */
const MAX_SPARES = 2;

/** Longest wait for the delivery thread to close its client before the thread is ended anyway, ms. */
const CLOSE_WAIT_MS = 10_000;

/**
 * A transport factory (the publisher's `transport` option) that runs `client` (`kafkajs`, the default, or
 * `platformatic`) in a worker thread:
 *
 * ```ts
 * new KafkaLogPublisher({ brokers, topic, transport: workerTransport('kafkajs') });
 * ```
 */
export function workerTransport(client: TransportName = 'kafkajs'): TransportFactory {
  return (config, hooks) => createWorkerTransport(config, hooks, { client });
}

/** @internal Creates a worker transport (see {@link workerTransport}). */
export function createWorkerTransport(config: TransportConfig, hooks: TransportHooks, setup: WorkerTransportSetup): Transport {
  if (config.tls?.secureContext !== undefined) {
    throw new TransportError('broker', 'a worker transport cannot take tls.secureContext to its thread: give tls ca, cert and key instead', false);
  }
  return new WorkerTransport(config, hooks, setup);
}

interface PendingProduce {
  readonly request: ProduceRequest;
  resolve(): void;
  reject(error: TransportError): void;
}

/** A connect attempt and its settlement. */
interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: TransportError): void;
}

/** Per request: its id, and the thread generation that holds its records. */
interface RequestState {
  readonly id: number;
  generation: number;
}

class WorkerTransport implements Transport {
  readonly #config: TransportConfig;
  readonly #hooks: TransportHooks;
  readonly #data: WorkerData;
  readonly #spawn: (data: WorkerData) => DeliveryThread;
  readonly #requests = new WeakMap<ProduceRequest, RequestState>();
  readonly #pending = new Map<number, PendingProduce>();
  // A request the publisher let go of (delivered elsewhere or dropped) is forgotten by the thread too.
  readonly #forget = new FinalizationRegistry<number>((id) => this.#thread?.postMessage({ type: 'forget', id }));
  /** Buffers the delivery thread gave back, written again by the next requests. */
  readonly #spares: ArrayBuffer[] = [];
  #thread: DeliveryThread | undefined;
  #generation = 0;
  #ids = 0;
  #connecting: Deferred | undefined;
  #closing: Promise<void> | undefined;
  #onClosed: (() => void) | undefined;

  constructor(config: TransportConfig, hooks: TransportHooks, setup: WorkerTransportSetup) {
    this.#config = config;
    this.#hooks = hooks;
    this.#data = { transport: setup.client, config: wireConfig(config) };
    this.#spawn = setup.spawn ?? spawnWorker;
  }

  connect(): Promise<void> {
    if (this.#closing) return Promise.reject(closedError());
    if (this.#connecting) return this.#connecting.promise;
    let settle!: Omit<Deferred, 'promise'>;
    const promise = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.#connecting = { promise, ...settle };
    // A failed attempt is forgotten so the next call tries again.
    promise.catch(() => {
      if (this.#connecting?.promise === promise) this.#connecting = undefined;
    });
    this.#ensureThread().postMessage({ type: 'connect' });
    return promise;
  }

  produce(request: ProduceRequest): Promise<void> {
    if (this.#closing) return Promise.reject(closedError());
    const thread = this.#ensureThread();
    let state = this.#requests.get(request);
    if (state === undefined) {
      state = { id: ++this.#ids, generation: 0 };
      this.#requests.set(request, state);
      this.#forget.register(request, state.id);
    }
    const { id } = state;
    if (this.#pending.has(id)) return Promise.reject(new TransportError('broker', 'the request is already being produced', false));
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { request, resolve, reject });
      this.#send(thread, request, state);
    });
  }

  /** Sends a produce of `request`, with its records unless this thread already holds them. */
  #send(thread: DeliveryThread, request: ProduceRequest, state: RequestState): void {
    if (state.generation === this.#generation) {
      thread.postMessage({ type: 'produce', id: state.id });
      return;
    }
    const { records, transfer } = packRecords(request, this.#spares.pop());
    state.generation = this.#generation;
    thread.postMessage({ type: 'produce', id: state.id, records }, [transfer]);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const thread = this.#thread;
    if (thread !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onClosed = resolve;
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
        thread.postMessage({ type: 'close' });
      });
      clearTimeout(timer);
      this.#thread = undefined;
      await thread.terminate().catch(() => undefined);
    }
    this.#failAll(closedError());
  }

  /** The close deadline passed: the thread ends now, its requests fail as closed. */
  destroy(): void {
    const thread = this.#thread;
    this.#thread = undefined;
    this.#onClosed?.();
    if (thread !== undefined) thread.terminate().catch(() => undefined);
    this.#failAll(closedError());
  }

  #ensureThread(): DeliveryThread {
    if (this.#thread !== undefined) return this.#thread;
    const thread = this.#spawn(this.#data);
    this.#thread = thread;
    this.#generation += 1;
    let failure: string | undefined;
    let started = false;
    thread.on('message', (message) => {
      if (message.type === 'ready') started = true;
      else if (this.#thread === thread) this.#onMessage(thread, message);
    });
    thread.on('error', (error) => {
      failure = error instanceof Error ? error.message : String(error);
    });
    thread.on('exit', (code) => {
      if (this.#thread !== thread) return;
      this.#thread = undefined;
      this.#onClosed?.();
      if (this.#closing) return;
      const reason = failure ?? `exit code ${code}`;
      if (!started) {
        // Never ran (its script missing from a bundle, say): starting it again would fail the same way.
        const message = `the delivery thread could not start (${reason}); a bundled application must ship kafka-log's dist/transport-worker.js beside the ` +
          `module that loads it`;
        this.#hooks.log('error', 'worker', message);
        this.#failAll(new TransportError('missing_dependency', message, false));
        return;
      }
      const line = `the delivery thread stopped (${reason}); ${this.#pending.size} request(s) in flight fail and are retried on a new thread`;
      if (this.#hooks.notice) this.#hooks.notice('error', line);
      else this.#hooks.log('error', 'worker', line);
      this.#failAll(new TransportError('broker', `the delivery thread stopped (${reason})`, true));
    });
    return thread;
  }

  #onMessage(thread: DeliveryThread, message: FromWorker): void {
    switch (message.type) {
      case 'connected':
        this.#connecting?.resolve();
        return;
      case 'connect-failed':
        this.#connecting?.reject(new TransportError(message.error.kind, message.error.message, message.error.retriable));
        return;
      case 'produced': {
        if (message.spare !== undefined && this.#spares.length < MAX_SPARES) this.#spares.push(message.spare);
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        pending?.resolve();
        return;
      }
      case 'produce-failed': {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        const state = this.#requests.get(pending.request);
        if (message.unknown && state !== undefined && state.generation === this.#generation) {
          // The thread lost the records (it was not the one they were sent to): send them again.
          state.generation = 0;
          this.#send(thread, pending.request, state);
          return;
        }
        this.#pending.delete(message.id);
        pending.reject(new TransportError(message.error.kind, message.error.message, message.error.retriable));
        return;
      }
      case 'log':
        this.#hooks.log(message.level, message.namespace, message.message, message.extra);
        return;
      case 'token-request':
        this.#answerToken(thread, message.id);
        return;
      case 'closed':
        this.#onClosed?.();
        return;
    }
  }

  #answerToken(thread: DeliveryThread, id: number): void {
    const provider = this.#config.sasl?.oauthBearerToken;
    if (provider === undefined) {
      thread.postMessage({ type: 'token', id, error: 'no OAUTHBEARER token provider' });
      return;
    }
    provider().then(
      (token) => thread.postMessage({ type: 'token', id, token: { value: token.value, ...(token.extensions ? { extensions: token.extensions } : {}) } }),
      (error: unknown) => thread.postMessage({ type: 'token', id, error: error instanceof Error ? error.message : String(error) }),
    );
  }

  #failAll(error: TransportError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
    this.#connecting?.reject(error);
    this.#connecting = undefined;
  }
}

function closedError(): TransportError {
  return new TransportError('broker', 'the transport is closed', false);
}

/** The configuration without what cannot cross threads: the token provider stays here, answering requests. */
function wireConfig(config: TransportConfig): WireConfig {
  const { sasl, tls, ...rest } = config;
  let wireSasl: WireConfig['sasl'];
  if (sasl !== undefined) {
    const { oauthBearerToken, ...saslRest } = sasl;
    wireSasl = { ...saslRest, oauthBearer: oauthBearerToken !== undefined };
  }
  let wireTls: WireConfig['tls'];
  if (tls !== undefined) {
    const { secureContext: _secureContext, ...tlsRest } = tls;
    wireTls = tlsRest;
  }
  return { ...rest, sasl: wireSasl, tls: wireTls };
}

/** A `Worker` running the built delivery thread, which sits next to every module of the build. */
function spawnWorker(data: WorkerData): DeliveryThread {
  return new Worker(path.join(path.dirname(__filename), 'transport-worker.js'), { workerData: data }) as unknown as DeliveryThread;
}
