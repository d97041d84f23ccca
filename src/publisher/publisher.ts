/**
 * {@link KafkaLogPublisher}: owns delivery to Kafka. `publish` never blocks and never throws: it serializes the
 * entry once, routes it and queues it, or counts a drop with its reason. Requests go out `concurrencyLimit` at a
 * time and are retried with backoff until `maxRetryTime`. With a schema registry, entries are queued as objects
 * and encoded when their request goes out (see `registry-stage.ts`); a registry outage is retried like a broker
 * outage. Every socket and timer is released by `close()`.
 *
 * @module
 */
import type { LogEntry } from '../entry/log-entry.js';
import { CustomFieldError, DroppedError, ErrorCodes, KafkaLogError, describeError } from '../errors.js';
import { OAuthTokenSource } from '../http-client/oauth-token-source.js';
import { addRegistrySecrets } from '../registry/client.js';
import type { KongSchemaRegistryConfig } from '../registry/kong-config.js';
import type { RegistryOptions } from '../registry/options.js';
import { SecretSet } from '../secrets.js';
import type { Transport, TransportConfig, TransportFactory } from '../transport/transport.js';
import { TransportError } from '../transport/transport.js';
import { loadTransportFactory } from '../transport/select.js';
import {
  type PublisherEventMap,
  type PublisherListener,
  type PublisherLogLevel,
  PublisherEvents,
  TypedEmitter,
} from './events.js';
import { routeEntry } from './keys.js';
import {
  type KafkaLogPublisherOptions,
  type PublishMeta,
  type ResolvedPublisherOptions,
  resolvePublisherOptions,
} from './options.js';
import { BatchQueue, type EntrySettler, type QueuedBatch } from './queue.js';
import { RegistryStage, type RegistryMisfit } from './registry-stage.js';
import { type BackoffPolicy, mayRetry, retryDelay } from './retry.js';
import { serializeEntry } from './serialize-entry.js';
import { type DropReason, type PublisherStats, StatsCounters } from './stats.js';

/** Options of {@link KafkaLogPublisher.close}. */
export interface CloseOptions {
  /** Longest wait for buffered entries to be delivered, ms; what is left is dropped (`close_timeout`). Default 10000. */
  timeoutMs?: number;
}

const LEVEL_RANK: Record<PublisherLogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Deadline of one OAUTHBEARER token request (connect, answer and body). */
const TOKEN_REQUEST_DEADLINE_MS = 10_000;
const noop = () => undefined;

/** One produce request from first attempt to settlement. */
interface Delivery {
  batch: QueuedBatch;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Publishes Kong-format log entries to Kafka. */
export class KafkaLogPublisher {
  readonly #options: ResolvedPublisherOptions;
  readonly #counters = new StatsCounters();
  readonly #events: TypedEmitter;
  readonly #queue: BatchQueue;
  readonly #policy: BackoffPolicy;
  /** Credentials and the OAuth token in use: removed from every error, event and log line before it is built. */
  readonly #secrets = new SecretSet();
  readonly #deliveries = new Set<Delivery>();
  readonly #flushWaiters: Array<{ target: number; resolve: () => void }> = [];
  readonly #logRank: number;
  readonly #registry: RegistryStage | undefined;
  #transport: Promise<Transport> | undefined;
  #connected = false;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #flushing = 0;
  #coalesceTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #flushTimerAt = 0;

  /**
   * Validates the options (throwing {@link InvalidOptionError} naming a bad field) and prepares the queue.
   * Nothing connects until the first request is due (or {@link KafkaLogPublisher.connect} is called).
   */
  constructor(options: KafkaLogPublisherOptions) {
    const o = resolvePublisherOptions(options);
    this.#options = o;
    this.#secrets.add(o.authentication?.password, o.authentication?.username).add(o.authentication?.oauthBearer?.clientSecret);
    this.#logRank = LEVEL_RANK[o.logLevel];
    this.#events = new TypedEmitter((error) => this.#log('error', 'publisher', `an event listener threw: ${String(error)}`));
    this.#queue = new BatchQueue(o, this.#counters);
    this.#policy = o;
    if (o.registry) {
      addRegistrySecrets(this.#secrets, o.registry.auth);
      this.#registry = new RegistryStage(o.registry, {
        onDroppedField: (path) => this.#log('debug', 'registry', `"${path}" has no place in the value schema: left out of the message`),
      });
      // A schema describes one entry: Kong writes arrays only for JSON values, so a registry sends entries one by one.
      if (o.maxBatchSize > 1) this.#log('info', 'publisher', `maxBatchSize ${o.maxBatchSize} ignored with schemaRegistry: one message per entry`);
    }
  }

  /** Custom fields from the options (Kong's `custom_fields_by_lua`, as JavaScript), carried for adapters. */
  get customFields(): Readonly<Record<string, string>> | undefined {
    return this.#options.customFields;
  }

  /** The `schemaRegistry` option as given (camelCase options or Kong's block), or `undefined`. */
  get schemaRegistry(): Readonly<RegistryOptions | KongSchemaRegistryConfig> | undefined {
    return this.#options.schemaRegistry;
  }

  /** The default topic. */
  get topic(): string {
    return this.#options.topic;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  /**
   * Queues one entry. Never throws and never blocks. In async mode (the default) returns `undefined`; with
   * `async: false` returns a promise that resolves once the broker acknowledged the entry and rejects with a
   * {@link DroppedError} when it was dropped. That promise never causes an unhandled rejection if ignored.
   */
  publish(entry: LogEntry, meta?: PublishMeta): Promise<void> | undefined {
    this.#counters.accepted += 1;
    let settler: EntrySettler | undefined;
    let promise: Promise<void> | undefined;
    if (!this.#options.async) {
      promise = new Promise<void>((resolve, reject) => {
        settler = { resolve, reject };
      });
      // Marks the promise handled: a caller that ignores it gets no unhandled rejection, one that awaits it still sees the error.
      promise.catch(noop);
    }
    try {
      this.#enqueue(entry, meta, settler);
    } catch (error) {
      this.#drop('serialize_failed', 1, error, settler ? [settler] : undefined);
    }
    return promise;
  }

  #enqueue(entry: LogEntry, meta: PublishMeta | undefined, settler: EntrySettler | undefined): void {
    const settlers = settler ? [settler] : undefined;
    if (this.#state !== 'open') {
      this.#drop('closed', 1, undefined, settlers);
      return;
    }
    let json: string;
    try {
      // With a registry the JSON is only the size estimate counted against maxBytes; the entry itself is queued.
      json = serializeEntry(entry);
    } catch (error) {
      this.#drop('serialize_failed', 1, error, settlers);
      return;
    }
    let routing: ReturnType<typeof routeEntry>;
    try {
      routing = routeEntry(entry, meta, this.#options);
    } catch (error) {
      this.#drop('routing_failed', 1, error, settlers);
      return;
    }
    if (routing.topic === null) {
      this.#drop('topic_not_allowed', 1, undefined, settlers);
      return;
    }
    const queued = {
      value: this.#registry ? entry : json,
      bytes: Buffer.byteLength(json),
      topic: routing.topic,
      key: routing.key,
      headers: routing.headers,
      ...(settler ? { settler } : {}),
    };
    const refused = this.#queue.add(queued, Date.now());
    if (refused) {
      this.#drop(refused, 1, undefined, settlers);
      return;
    }
    if (this.#queue.openMessages > 0 && this.#coalesceTimer === undefined) {
      this.#coalesceTimer = setTimeout(() => {
        this.#coalesceTimer = undefined;
        this.#queue.closeOpen(Date.now());
        this.#pump();
      }, this.#options.maxCoalescingDelay);
    }
    if (this.#queue.readyMessages > 0) this.#pump();
  }

  /**
   * Sends everything buffered now (without waiting for `flushTimeout` or `maxCoalescingDelay`) and resolves when
   * every entry accepted before the call is delivered or dropped. Never rejects.
   */
  async flush(): Promise<void> {
    if (this.#state === 'closed') return;
    const target = this.#counters.accepted;
    if (this.#settledCount() >= target) return;
    this.#flushing += 1;
    try {
      const done = new Promise<void>((resolve) => this.#flushWaiters.push({ target, resolve }));
      this.#closeOpen();
      this.#pump();
      await done;
    } finally {
      this.#flushing -= 1;
    }
  }

  /**
   * Stops accepting entries (later ones are dropped as `closed`), delivers what is buffered within `timeoutMs`
   * (dropping the rest as `close_timeout`), then releases every socket and timer. Safe to call twice. Never rejects.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#state = 'closing';
    this.#closeOpen();
    this.#pump();
    if (!this.#idle()) {
      let timer: NodeJS.Timeout | undefined;
      const target = this.#counters.accepted;
      await Promise.race([
        new Promise<void>((resolve) => this.#flushWaiters.push({ target, resolve })),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#state = 'closed';
    this.#abandonAll();
    this.#clearTimers();
    await this.#registry?.close().catch(noop);
    const transport = this.#transport;
    if (transport) {
      const t = await transport.catch(() => undefined);
      await t?.close().catch(noop);
      if (this.#connected) {
        this.#connected = false;
        this.#events.emit(PublisherEvents.DISCONNECT, { brokers: this.#options.brokers });
      }
    }
    this.#resolveWaiters(true);
  }

  /**
   * Connects now rather than on the first request, and resolves the registry's schemas when one is configured.
   * Rejects with a {@link KafkaLogError} (e.g. authentication, or a REGISTRY error).
   */
  async connect(): Promise<void> {
    if (this.#state !== 'open') throw new KafkaLogError(ErrorCodes.CLOSED, 'the publisher is closed');
    const transport = await this.#getTransport();
    try {
      await transport.connect();
      // Schemas resolved now show a registry or subject problem at start rather than on the first request.
      await this.#registry?.ready();
    } catch (error) {
      throw this.#asError(error);
    }
    this.#markConnected();
  }

  /**
   * Takes a failure an adapter met around an entry (the `LogSink` contract): counts it in `stats().reported` by
   * code and emits `publisher.reported` (not for a `CustomFieldError` marked `repeated`). Never throws.
   */
  reportError(error: KafkaLogError): void {
    try {
      const clean = this.#asError(error);
      this.#counters.report(clean.code);
      // Counted, but not announced again: the field was reported less than a minute ago.
      if (error instanceof CustomFieldError && error.repeated) return;
      this.#events.emit(PublisherEvents.REPORTED, { error: clean });
    } catch {
      // Reporting must never throw into the request path.
    }
  }

  /** A snapshot of the counters: `accepted = sent + dropped.total + buffered + inFlight` at every moment. */
  stats(): PublisherStats {
    return this.#counters.snapshot();
  }

  /** Adds an event listener. */
  on<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    this.#events.on(name, listener);
    return this;
  }

  /** Adds a listener called once. */
  once<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    this.#events.once(name, listener);
    return this;
  }

  /** Removes an event listener. */
  off<K extends keyof PublisherEventMap>(name: K, listener: PublisherListener<K>): this {
    this.#events.off(name, listener);
    return this;
  }

  // ---- sending ----

  #closeOpen(): void {
    if (this.#coalesceTimer !== undefined) {
      clearTimeout(this.#coalesceTimer);
      this.#coalesceTimer = undefined;
    }
    this.#queue.closeOpen(Date.now());
  }

  /** Starts as many requests as are due and allowed; arms the flush timer for the rest. */
  #pump(): void {
    const queue = this.#queue;
    while (this.#deliveries.size < this.#options.concurrencyLimit && queue.readyMessages > 0) {
      if (!this.#due()) {
        this.#armFlushTimer();
        return;
      }
      const batch = queue.take();
      if (batch) this.#start(batch);
    }
  }

  #due(): boolean {
    const o = this.#options;
    if (this.#flushing > 0 || this.#state !== 'open' || !o.async || this.#queue.requestFull) return true;
    return Date.now() - (this.#queue.oldestReadyAt ?? 0) >= o.flushTimeout;
  }

  #armFlushTimer(): void {
    const at = (this.#queue.oldestReadyAt ?? Date.now()) + this.#options.flushTimeout;
    if (this.#flushTimer !== undefined && this.#flushTimerAt <= at) return;
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimerAt = at;
    this.#flushTimer = setTimeout(
      () => {
        this.#flushTimer = undefined;
        this.#pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  #start(batch: QueuedBatch): void {
    const delivery: Delivery = { batch, settled: false, timer: undefined };
    this.#deliveries.add(delivery);
    this.#counters.inFlight += batch.entries;
    const request = { records: batch.messages.map((m) => m.record) };
    const startedAt = Date.now();
    let attempt = 0;
    const tryOnce = (): void => {
      delivery.timer = undefined;
      const sending = this.#registry ? this.#encodeThenProduce(delivery) : this.#produce(request);
      sending.then(
        () => {
          if (delivery.settled) return;
          this.#finish(delivery);
          const c = this.#counters;
          c.sent += batch.entries;
          c.bytesSent += batch.valueBytes;
          for (const m of batch.messages) for (const s of m.settlers ?? []) s.resolve();
          if (batch.messages.length > 0 && this.#events.has(PublisherEvents.DELIVERED)) {
            this.#events.emit(PublisherEvents.DELIVERED, {
              entries: batch.entries,
              messages: batch.messages.length,
              bytes: batch.valueBytes,
              durationMs: Date.now() - startedAt,
            });
          }
          this.#afterSettle();
        },
        (failure: unknown) => {
          if (delivery.settled) return;
          const error = this.#asError(failure);
          attempt += 1;
          const delay = retryDelay(this.#policy, attempt);
          const reason: DropReason | undefined = !error.retriable
            ? error instanceof TransportError && error.kind === 'message_too_large'
              ? 'message_too_large'
              : error.code === ErrorCodes.REGISTRY
                ? 'registry'
                : 'non_retriable'
            : this.#state === 'closed' || !mayRetry(this.#policy, startedAt, Date.now(), delay)
              ? 'retry_time_exceeded'
              : undefined;
          if (reason) {
            this.#finish(delivery);
            this.#events.emit(PublisherEvents.DELIVERY_FAILURE, {
              entries: batch.entries,
              messages: batch.messages.length,
              attempts: attempt,
              error,
            });
            this.#log('error', 'publisher', `dropping ${batch.entries} entries (${reason}): ${error.message}`);
            this.#dropBatch(batch, reason, error);
            this.#afterSettle();
            return;
          }
          this.#counters.retried += batch.entries;
          this.#events.emit(PublisherEvents.RETRY, {
            entries: batch.entries,
            messages: batch.messages.length,
            attempt,
            delayMs: delay,
            error,
          });
          this.#log('warn', 'publisher', `retrying ${batch.entries} entries in ${delay} ms: ${error.message}`);
          delivery.timer = setTimeout(tryOnce, delay);
        },
      );
    };
    tryOnce();
  }

  /**
   * Encodes what the request still holds as entries, drops the misfits (that entry only), then produces the rest.
   * A REGISTRY error rejects like a broker failure: retried with backoff, or dropped as `registry`.
   */
  async #encodeThenProduce(delivery: Delivery): Promise<void> {
    const registry = this.#registry as RegistryStage;
    const misfits = await registry.encode(delivery.batch.messages);
    if (delivery.settled) return;
    if (misfits.length > 0) this.#dropMisfits(delivery.batch, misfits);
    delivery.batch.valueBytes = delivery.batch.messages.reduce((sum, m) => sum + m.record.value.length, 0);
    if (delivery.batch.messages.length === 0) return;
    await this.#produce({ records: delivery.batch.messages.map((m) => m.record) });
  }

  #dropMisfits(batch: QueuedBatch, misfits: RegistryMisfit[]): void {
    const dropped = new Set(misfits.map((misfit) => misfit.message));
    batch.messages = batch.messages.filter((m) => !dropped.has(m));
    for (const { message, error } of misfits) {
      batch.entries -= message.entries;
      this.#counters.inFlight -= message.entries;
      this.#log('warn', 'publisher', `dropping ${message.entries} entry (schema_mismatch): ${error.message}`);
      this.#drop('schema_mismatch', message.entries, error, message.settlers);
    }
  }

  async #produce(request: { records: QueuedBatch['messages'][number]['record'][] }): Promise<void> {
    const transport = await this.#getTransport();
    await transport.produce(request);
    this.#markConnected();
  }

  #finish(delivery: Delivery): void {
    delivery.settled = true;
    if (delivery.timer !== undefined) clearTimeout(delivery.timer);
    this.#deliveries.delete(delivery);
    this.#counters.inFlight -= delivery.batch.entries;
  }

  #afterSettle(): void {
    this.#resolveWaiters(false);
    if (this.#state !== 'closed') this.#pump();
  }

  /** Drops what is still buffered or in flight (close deadline passed). */
  #abandonAll(): void {
    const error = new KafkaLogError(ErrorCodes.TIMEOUT, 'the publisher closed before delivery');
    for (const delivery of [...this.#deliveries]) {
      this.#finish(delivery);
      this.#dropBatch(delivery.batch, 'close_timeout', error);
    }
    for (const batch of this.#queue.drain()) this.#dropBatch(batch, 'close_timeout', error);
  }

  #dropBatch(batch: QueuedBatch, reason: DropReason, cause: unknown): void {
    const settlers = batch.messages.flatMap((m) => m.settlers ?? []);
    this.#drop(reason, batch.entries, cause, settlers.length > 0 ? settlers : undefined);
  }

  #drop(reason: DropReason, count: number, cause: unknown, settlers: EntrySettler[] | undefined): void {
    this.#counters.drop(reason, count);
    const needError = settlers !== undefined || this.#events.has(PublisherEvents.DROP);
    if (needError) {
      const clean = cause === undefined ? undefined : this.#asError(cause);
      const detail = clean === undefined ? '' : `: ${clean.message}`;
      // The cause rides along (e.g. a SchemaMismatchError and its `path`), its message already free of secrets.
      const error = new DroppedError(reason, `${count} log entr${count === 1 ? 'y' : 'ies'} dropped (${reason})${detail}`, clean);
      if (settlers) for (const s of settlers) s.reject(error);
      this.#events.emit(PublisherEvents.DROP, { reason, count, error });
    }
    this.#resolveWaiters(false);
  }

  #settledCount(): number {
    return this.#counters.sent + this.#counters.droppedTotal;
  }

  #idle(): boolean {
    return this.#counters.buffered === 0 && this.#counters.inFlight === 0;
  }

  #resolveWaiters(all: boolean): void {
    if (this.#flushWaiters.length === 0) return;
    const settled = this.#settledCount();
    const idle = this.#idle();
    for (let i = this.#flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.#flushWaiters[i] as { target: number; resolve: () => void };
      if (all || idle || settled >= waiter.target) {
        this.#flushWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  #clearTimers(): void {
    if (this.#coalesceTimer !== undefined) clearTimeout(this.#coalesceTimer);
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#coalesceTimer = undefined;
    this.#flushTimer = undefined;
  }

  // ---- transport ----

  #getTransport(): Promise<Transport> {
    if (this.#transport === undefined) {
      const attempt = this.#createTransport();
      this.#transport = attempt;
      // A failed load (e.g. a missing codec package) is retried on the next request.
      attempt.catch(() => {
        if (this.#transport === attempt) this.#transport = undefined;
      });
    }
    return this.#transport;
  }

  async #createTransport(): Promise<Transport> {
    const o = this.#options;
    const factory: TransportFactory =
      typeof o.transport === 'function' ? o.transport : await loadTransportFactory(o.transport);
    return factory(this.#transportConfig(), {
      log: (level, namespace, message, extra) => this.#log(level, namespace, message, extra),
    });
  }

  #transportConfig(): TransportConfig {
    const o = this.#options;
    const auth = o.authentication;
    let sasl: TransportConfig['sasl'];
    if (auth?.mechanism === 'OAUTHBEARER' && auth.oauthBearer) {
      const { tokenEndpointUrl, clientId, clientSecret, scopes, extensions, tokenEndpointTlsVerify } = auth.oauthBearer;
      const tokens = new OAuthTokenSource({
        grant: { tokenEndpoint: tokenEndpointUrl, clientId, clientSecret, scopes },
        tlsVerify: tokenEndpointTlsVerify !== false,
        deadlineMs: TOKEN_REQUEST_DEADLINE_MS,
        secrets: this.#secrets,
        fail: (message, options) => new KafkaLogError(ErrorCodes.AUTHENTICATION, message, options),
      });
      sasl = {
        mechanism: 'OAUTHBEARER',
        oauthBearerToken: async () => {
          const value = await tokens.token();
          return extensions ? { value, extensions: { ...extensions } } : { value };
        },
      };
    } else if (auth) {
      sasl = { mechanism: auth.mechanism, username: auth.username ?? '', password: auth.password ?? '', tokenAuth: auth.tokenAuth ?? false };
    }
    const tls = o.tls;
    return {
      brokers: o.brokers,
      secrets: this.#secrets,
      clientId: o.clientId,
      connectionTimeout: o.timeout,
      keepAliveMs: o.keepaliveEnabled ? o.keepalive : undefined,
      tls: tls && {
        rejectUnauthorized: tls.verify,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
        ...(tls.secureContext === undefined ? {} : { secureContext: tls.secureContext }),
        ...(tls.servername === undefined ? {} : { servername: tls.servername }),
      },
      sasl,
      acks: o.acks,
      requestTimeout: o.requestTimeout,
      compression: o.compression,
      idempotent: o.idempotent,
      maxRequestRetries: o.maxRequestRetries,
      retryBackoff: o.retryBackoff,
      logLevel: o.logLevel,
    };
  }

  #markConnected(): void {
    if (this.#connected || this.#state === 'closed') return;
    this.#connected = true;
    this.#events.emit(PublisherEvents.CONNECT, { brokers: this.#options.brokers });
  }

  // ---- errors, logs, secrets ----

  #redact(text: string): string {
    return this.#secrets.scrub(text);
  }

  /**
   * Any failure as a KafkaLogError free of secrets. kafka-log's own errors are built clean and pass unchanged; one
   * holding a secret (from a custom transport, say) is never edited, since a stack read earlier would keep the
   * secret: it is replaced by a scrubbed copy (message, stack, every cause).
   */
  #asError(error: unknown): KafkaLogError {
    if (error instanceof KafkaLogError) return this.#secrets.cleanError(error);
    return new KafkaLogError(ErrorCodes.BROKER, this.#redact(describeError(error)), { retriable: true });
  }

  #log(level: Exclude<PublisherLogLevel, 'silent'>, source: string, message: string, extra?: Record<string, unknown>): void {
    if (LEVEL_RANK[level] > this.#logRank) return;
    const toLogger = this.#options.logger !== undefined;
    const toEvent = this.#events.has(PublisherEvents.LOG);
    if (!toLogger && !toEvent) return;
    const line = this.#redact(message);
    let cleanExtra: Record<string, unknown> | undefined;
    if (extra !== undefined && Object.keys(extra).length > 0) {
      try {
        cleanExtra = JSON.parse(this.#redact(JSON.stringify(extra))) as Record<string, unknown>;
      } catch {
        cleanExtra = undefined;
      }
    }
    if (toEvent) this.#events.emit(PublisherEvents.LOG, { level, source, message: line, ...(cleanExtra ? { extra: cleanExtra } : {}) });
    if (toLogger) {
      try {
        this.#options.logger?.[level](`[${source}] ${line}`, cleanExtra);
      } catch {
        // A failing logger must not reach the request path.
      }
    }
  }
}
