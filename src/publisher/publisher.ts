/**
 * {@link KafkaLogPublisher}: owns delivery to Kafka. `publish` never blocks and never throws: it serializes the
 * entry once (with a schema registry whose schema is known, in the wire format), routes it and queues those bytes,
 * or counts a drop with its reason. Requests go out `concurrencyLimit` at a time and are retried with backoff until
 * `maxRetryTime`; a message the broker refuses as too large is dropped alone and its neighbours resent (see
 * `registry-stage.ts` for the registry, `queue.ts` for what is counted). `close()` keeps to its deadline for
 * everything it does and releases every socket and timer.
 *
 * @module
 */
import type { LogEntry } from '../entry/log-entry.js';
import { serializeLogEntry } from '../entry/serialize.js';
import { CustomFieldError, DroppedError, ErrorCodes, KafkaLogError } from '../errors.js';
import { type FetchedToken, TokenSource } from '../auth/token-source.js';
import { OAuthTokenSource } from '../http-client/oauth-token-source.js';
import { addRegistrySecrets } from '../registry/client.js';
import type { KongSchemaRegistryConfig } from '../registry/kong-schema-registry-config.js';
import type { RegistryOptions } from '../registry/registry-options.js';
import { SecretSet } from '../secrets.js';
import type { SpoolRecord } from '../spool/format.js';
import type { ProduceRequest, Transport, TransportConfig, TransportFactory } from '../transport/transport.js';
import { TransportError } from '../transport/transport.js';
import { loadTransportFactory } from '../transport/select.js';
import { describeValue } from '../options/check.js';
import { type DroppedRecord, type PublisherEventMap, type PublisherListener, PublisherEvents, TypedEmitter } from './events.js';
import { routeEntry } from './keys.js';
import { PublisherLog, describeSafely } from './log.js';
import { PublisherNotices } from './notices.js';
import {
  type KafkaLogPublisherOptions,
  type OAuthBearerOptions,
  type PublishMeta,
  type ResolvedPublisherOptions,
  resolvePublisherOptions,
} from './publisher-options.js';
import { BatchQueue, type EntrySettler, type QueuedBatch, type QueuedEntry, type QueuedMessage, ownBuffer, ownBytes, splitMessage } from './queue.js';
import { RegistryStage, type RegistryMisfit, isSchemaMismatch } from './registry-stage.js';
import { type BackoffPolicy, mayRetry, retryDelay } from './retry.js';
import { type SpoolCandidate, SpoolStage, droppedRecordOf } from './spool-stage.js';
import { type DropReason, type PublisherStats, SKIP_REASONS, type SkipReason, StatsCounters } from './stats.js';
import { ProviderTokens } from './token-provider.js';

/** Options of {@link KafkaLogPublisher.close}. */
export interface CloseOptions {
  /**
   * Deadline of the whole close, ms: delivering what is buffered, then releasing the registry, token and broker
   * connections. Entries not delivered by then are dropped (`close_timeout`) and connections still open are
   * destroyed. Default 10000.
   */
  timeoutMs?: number;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/**
 * With a spool, close() stops waiting for Kafka this long before its deadline (at most a quarter of it) and writes
 * what is left to the spool, synced, in the time that remains.
 */
const SPOOL_CLOSE_RESERVE_MS = 1000;
/** `connect()` settles within the socket `timeout` plus this (the first request's answer, TLS and SASL). */
const CONNECT_GRACE_MS = 5_000;
const noop = () => undefined;

/** Messages sent together in one produce request (the same request object on every retry). */
interface DeliveryPart {
  messages: QueuedMessage[];
  request: ProduceRequest | undefined;
}

/**
 * One produce request from first attempt to settlement. When the broker refuses messages for their size, the
 * ones it wrote are settled and the refused ones are resent in smaller parts, one part at a time.
 */
interface Delivery {
  /** What is still to be sent; the first part is the one in flight or waiting for its retry. */
  parts: DeliveryPart[];
  /** Entries not settled yet (counted in `inFlight`). */
  entries: number;
  /** Settled for good (sent, dropped, or abandoned at the close deadline): later answers change nothing. */
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  startedAt: number;
  attempt: number;
}

/** Where OAUTHBEARER tokens come from (the token endpoint or the user's provider), renewed before they expire. */
interface BearerTokens {
  token(): Promise<FetchedToken>;
  invalidate(): void;
  close(): void;
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
  readonly #log: PublisherLog;
  readonly #notices: PublisherNotices;
  readonly #registry: RegistryStage | undefined;
  readonly #spool: SpoolStage | undefined;
  /** A background replay request holds one of the `concurrencyLimit` slots. */
  #replaying = false;
  #replayWaiter: (() => void) | undefined;
  /** `publisher.dropped_records` payloads of this turn of the event loop, emitted on the next. */
  #droppedRecords: Array<{ reason: DropReason; entries: number; records: DroppedRecord[] }> = [];
  #transport: Promise<Transport> | undefined;
  #transportInstance: Transport | undefined;
  #tokens: BearerTokens | undefined;
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
    for (const value of o.secrets ?? []) this.#secrets.add(value);
    this.#events = new TypedEmitter((failure) => this.#notices.listenerFailed(failure));
    this.#log = new PublisherLog({ logger: o.logger, logLevel: o.logLevel, redact: (text) => this.#redact(text), events: this.#events });
    this.#notices = new PublisherNotices({
      line: (level, text, fields, toListeners) => this.#log.line(level, text, { fields, toListeners }),
      brokers: o.brokers,
      bounds: o,
      waiting: () => this.#counters.buffered + this.#counters.inFlight,
      now: Date.now,
    });
    // A schema describes one entry: Kong writes arrays only for JSON values, so a registry sends entries one by one.
    this.#queue = new BatchQueue(o.registry ? { ...o, maxBatchSize: 1 } : o, this.#counters);
    this.#policy = o;
    if (o.registry) {
      addRegistrySecrets(this.#secrets, o.registry.auth);
      this.#registry = new RegistryStage(o.registry, {
        onDroppedField: (path) => this.#log.line('debug', `"${path}" has no place in the value schema: left out of the message`, { source: 'registry' }),
      });
      if (o.maxBatchSize > 1) this.#log.line('info', `maxBatchSize ${o.maxBatchSize} ignored with schemaRegistry: one message per entry`);
    }
    if (o.spool) {
      this.#spool = new SpoolStage(o.spool, {
        counters: this.#counters,
        drop: (reason, count, cause, settlers, records) => this.#drop(reason, count, cause, settlers, records),
        settled: () => this.#afterSettle(),
        line: (level, text, fields) => this.#log.line(level, text, { source: 'spool', ...(fields ? { fields } : {}) }),
        send: (records) => this.#replaySend(records),
        maxRequestRecords: o.maxMessagesPerRequest,
        maxRequestBytes: o.maxBytesPerRequest,
        // What the buffer and the requests in flight may hold: the close deadline or a failed request hands the
        // spool that much at once. The disk falling further behind than that drops entries rather than grow.
        maxPendingBytes: o.maxBytes + o.concurrencyLimit * o.maxBytesPerRequest,
        maxRetryDelay: o.maxRetryDelay,
      });
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
    const registry = this.#registry;
    let json: string | undefined;
    if (registry === undefined) {
      try {
        json = serializeLogEntry(entry);
      } catch (error) {
        this.#drop('serialize_failed', 1, error, settlers);
        return;
      }
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
    // The queue holds (and counts) the bytes it will send: the JSON, or with a registry whose schema is known
    // the wire format; until the schema is known, the JSON, encoded when the request goes out.
    let value: Buffer | undefined;
    let key = routing.key;
    if (registry !== undefined) {
      try {
        const encoded = registry.encodeNow(entry, key);
        if (encoded !== undefined) {
          value = ownBuffer(encoded.value);
          key = encoded.key;
        } else {
          json = serializeLogEntry(entry);
        }
      } catch (error) {
        this.#drop(isSchemaMismatch(error) ? 'schema_mismatch' : 'serialize_failed', 1, error, settlers);
        return;
      }
    }
    const pendingSchema = value === undefined && registry !== undefined;
    const bytes = value === undefined ? Buffer.byteLength(json as string) : value.length;
    // ASCII JSON waits as its text, written into its request's buffer when the request is made (see queue.ts).
    const waitsAsText = value === undefined && !pendingSchema && bytes === (json as string).length;
    const queued: QueuedEntry = {
      value: waitsAsText ? undefined : (value ?? ownBytes(json as string, bytes)),
      json: waitsAsText ? json : undefined,
      bytes,
      pendingSchema,
      topic: routing.topic,
      key: key === null ? null : ownBuffer(key),
      headers: routing.headers,
      settler,
    };
    const refused = this.#queue.add(queued, Date.now());
    if (refused) {
      const refusedValue = queued.value ?? ownBytes(json as string, bytes);
      this.#spoolOrDrop([{ ...queued, value: refusedValue, entries: 1, settlers }], refused, undefined);
      return;
    }
    if (this.#queue.openMessages > 0 && this.#coalesceTimer === undefined) {
      this.#coalesceTimer = setTimeout(() => {
        this.#coalesceTimer = undefined;
        this.#safely('the coalescing timer', () => {
          this.#queue.closeOpen(Date.now());
          this.#pump();
        });
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
      this.#safely('flush', () => {
        this.#closeOpen();
        this.#pump();
      });
      await done;
    } finally {
      this.#flushing -= 1;
    }
  }

  /**
   * Stops accepting entries (later ones are dropped as `closed`), delivers what is buffered within `timeoutMs`
   * (dropping the rest as `close_timeout`), then releases every socket and timer. Safe to call twice. Never rejects.
   * Drops held back by the log's rate limit are logged now.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS).then(
      () => this.#notices.close(),
      (error: unknown) => {
        // E.g. a transport of one's own whose close() threw: still closed, and no flush() left waiting.
        this.#internalError('close', error);
        this.#state = 'closed';
        this.#resolveWaiters(true);
        this.#notices.close();
      },
    );
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.#state = 'closing';
    const spool = this.#spool;
    const replayStopped = spool?.stopReplay();
    this.#wakeReplay();
    this.#closeOpen();
    this.#pump();
    if (!this.#idle()) {
      const target = this.#counters.accepted;
      const kafkaDeadline = spool === undefined ? deadline : deadline - Math.min(SPOOL_CLOSE_RESERVE_MS, timeoutMs / 4);
      await this.#until(kafkaDeadline, new Promise<void>((resolve) => this.#flushWaiters.push({ target, resolve })));
    }
    this.#state = 'closed';
    // From here on no answer changes the counts: one still coming for an abandoned request is ignored. What is
    // abandoned goes to the spool when there is one; its writes settle within the deadline, or are abandoned too.
    this.#abandonAll();
    this.#clearTimers();
    this.#tokens?.close();
    const spoolClosed = spool === undefined ? Promise.resolve() : Promise.all([replayStopped, spool.close()]);
    const [released, spooled] = await Promise.all([this.#until(deadline, this.#release()), this.#until(deadline, spoolClosed)]);
    if (!spooled) spool?.abandon();
    if (!released) this.#destroyTransport();
    if (this.#connected) {
      this.#connected = false;
      this.#events.emit(PublisherEvents.DISCONNECT, { brokers: this.#options.brokers });
    }
    this.#resolveWaiters(true);
  }

  /** Waits for `promise`, but not past `deadline` (ms since the epoch); `true` when it settled in time. */
  async #until(deadline: number, promise: Promise<unknown>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      promise.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    return settled;
  }

  /** Closes the registry and the transport, letting them finish what is in flight. Never rejects. */
  async #release(): Promise<void> {
    const transport = this.#transport;
    await Promise.all([
      this.#registry?.close().catch(noop),
      transport?.then(
        (t) => t.close().catch(noop),
        noop,
      ),
    ]);
  }

  /** Destroys the transport's sockets at once; one still being created is closed as soon as it exists. */
  #destroyTransport(): void {
    const transport = this.#transportInstance;
    if (transport) {
      try {
        transport.destroy?.();
      } catch {
        // A custom transport's failure must not reach the caller of close().
      }
      return;
    }
    this.#transport?.then(
      (t) => {
        t.destroy?.();
        return t.close();
      },
      noop,
    ).catch(noop);
  }

  /**
   * Connects now rather than on the first request, and resolves the registry's schemas when one is configured:
   * `await publisher.connect()` at start-up makes a wrong address, credential or missing package fail at boot.
   * Settles within the `timeout` option plus 5 s. Rejects with a {@link KafkaLogError} carrying the real cause
   * and its code: `KAFKA_LOG_ERR_BROKER` (refused, unknown host), `..._TIMEOUT` (no answer in time),
   * `..._AUTHENTICATION`, `..._MISSING_DEPENDENCY` (a compression codec or transport package), `..._REGISTRY`.
   * The failure is also logged. A publisher whose `connect()` failed still takes entries and keeps trying.
   */
  async connect(): Promise<void> {
    if (this.#state !== 'open') throw new KafkaLogError(ErrorCodes.CLOSED, 'the publisher is closed');
    const deadlineMs = this.#options.timeout + CONNECT_GRACE_MS;
    try {
      await withDeadline(
        this.#connectNow(),
        deadlineMs,
        () => new KafkaLogError(ErrorCodes.TIMEOUT, `no answer from Kafka at ${this.#options.brokers.join(',')} within ${deadlineMs} ms`, { retriable: true }),
      );
    } catch (error) {
      const clean = this.#asError(error);
      this.#refusedAuthentication(clean);
      this.#notices.connectFailed(clean);
      throw clean;
    }
    this.#markConnected();
  }

  async #connectNow(): Promise<void> {
    const transport = await this.#getTransport();
    await this.#tokens?.token();
    await transport.connect();
    // Schemas resolved now show a registry or subject problem at start rather than on the first request.
    await this.#registry?.ready();
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
      this.#notices.reported(clean);
      this.#events.emit(PublisherEvents.REPORTED, { error: clean });
    } catch {
      // Reporting must never throw into the request path.
    }
  }

  /**
   * Counts entries an adapter decided not to publish (the `LogSink` contract): its `filter` said no (`filtered`) or
   * its `sampleRate` left them out (`sampled_out`). They count in `accepted` and `stats().skipped`, settled at once;
   * no event is emitted. Never throws; an unknown reason or a count that is not a positive whole number is not
   * counted and is reported instead (`KAFKA_LOG_ERR_INVALID_OPTION`, see {@link reportError}); a count of 0 is a no-op.
   */
  skipped(reason: SkipReason, count = 1): void {
    const known = SKIP_REASONS.includes(reason);
    if (known && Number.isSafeInteger(count) && count > 0) {
      this.#counters.skip(reason, count);
      return;
    }
    if (known && count === 0) return;
    const call = `skipped(${describeValue(reason)}, ${describeValue(count)})`;
    const rule = `the reason must be one of ${SKIP_REASONS.join(', ')} and the count a positive whole number`;
    this.reportError(new KafkaLogError(ErrorCodes.INVALID_OPTION, `${call} was not counted: ${rule}`));
  }

  /** A snapshot of the counters: `accepted = sent + dropped.total + skipped.total + spooled + buffered + inFlight` at every moment. */
  stats(): PublisherStats {
    if (this.#spool !== undefined) this.#counters.spoolBytes = this.#spool.bytes;
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
    while (this.#deliveries.size + (this.#replaying ? 1 : 0) < this.#options.concurrencyLimit && queue.readyMessages > 0) {
      if (!this.#due()) {
        this.#armFlushTimer();
        break;
      }
      const batch = queue.take();
      if (batch) this.#start(batch);
    }
    if (this.#replayWaiter !== undefined && this.#replayMayGo()) this.#wakeReplay();
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
        this.#safely('the flush timer', () => this.#pump());
      },
      Math.max(0, at - Date.now()),
    );
  }

  #start(batch: QueuedBatch): void {
    const delivery: Delivery = {
      parts: [{ messages: batch.messages, request: undefined }],
      entries: batch.entries,
      settled: false,
      timer: undefined,
      startedAt: Date.now(),
      attempt: 0,
    };
    this.#deliveries.add(delivery);
    this.#counters.inFlight += batch.entries;
    this.#attempt(delivery);
  }

  /** Sends the delivery's first part. */
  #attempt(delivery: Delivery): void {
    delivery.timer = undefined;
    const part = delivery.parts[0] as DeliveryPart;
    this.#send(delivery, part).then(
      () => this.#onSent(delivery, part),
      (failure: unknown) => this.#onFailed(delivery, part, failure),
    )
      // The handlers are written not to throw; should one ever do, the catch logs it: never an unhandled rejection.
      .catch((error: unknown) => this.#internalError('a delivery', error));
  }

  /**
   * Encodes what still waits for the registry (dropping the misfits: that entry only), then produces the part.
   * A REGISTRY error rejects like a broker failure: retried with backoff, or dropped as `registry`.
   */
  async #send(delivery: Delivery, part: DeliveryPart): Promise<void> {
    if (this.#registry !== undefined && part.messages.some((m) => m.pendingSchema)) {
      const misfits = await this.#registry.encode(part.messages);
      if (delivery.settled) return;
      if (misfits.length > 0) {
        this.#dropMisfits(delivery, part, misfits);
        part.request = undefined;
      }
    }
    if (part.messages.length === 0) return;
    part.request ??= { records: part.messages.map((m) => m.record) };
    const transport = await this.#getTransport();
    // A token is at hand before the client needs one (a cached promise while it is valid): a token source that
    // fails does so here, with its own cause, rather than inside the client's SASL exchange.
    await this.#tokens?.token();
    if (delivery.settled) return;
    await transport.produce(part.request);
    this.#markConnected();
  }

  #onSent(delivery: Delivery, part: DeliveryPart): void {
    if (delivery.settled) return;
    this.#settleSent(delivery, part.messages);
    delivery.parts.shift();
    this.#continue(delivery);
  }

  #onFailed(delivery: Delivery, part: DeliveryPart, failure: unknown): void {
    if (delivery.settled) return;
    const error = this.#asError(failure);
    this.#refusedAuthentication(error);
    if (error.retriable) this.#notices.failed(error);
    if (error instanceof TransportError && error.kind === 'message_too_large') {
      this.#resendRefused(delivery, part, error);
      return;
    }
    delivery.attempt += 1;
    const attempt = delivery.attempt;
    const delay = retryDelay(this.#policy, attempt);
    const reason: DropReason | undefined = !error.retriable
      ? error.code === ErrorCodes.REGISTRY
        ? 'registry'
        : 'non_retriable'
      : this.#state === 'closed' || !mayRetry(this.#policy, delivery.startedAt, Date.now(), delay)
        ? 'retry_time_exceeded'
        : undefined;
    const entries = delivery.entries;
    const messages = delivery.parts.reduce((sum, p) => sum + p.messages.length, 0);
    if (reason) {
      this.#events.emit(PublisherEvents.DELIVERY_FAILURE, { entries, messages, attempts: attempt, error });
      this.#log.line('debug', `dropping ${entries} entries (${reason}): ${error.message}`);
      this.#dropDelivery(delivery, reason, error);
      this.#afterSettle();
      return;
    }
    const retried = part.messages.reduce((sum, m) => sum + m.entries, 0);
    this.#counters.retried += retried;
    this.#events.emit(PublisherEvents.RETRY, { entries: retried, messages: part.messages.length, attempt, delayMs: delay, error });
    this.#log.line('debug', `retrying ${retried} entries in ${delay} ms: ${error.message}`);
    delivery.timer = setTimeout(() => this.#safely('a delivery retry', () => this.#attempt(delivery)), delay);
  }

  /**
   * The broker refused messages of the part for their size: the ones it wrote are settled, a refused message
   * alone is dropped (`message_too_large`), several refused ones are resent in two halves (a message holding
   * several entries is split in two), until each is delivered or dropped alone. Nothing is sent twice: the
   * transport never sends an acknowledged record again, and a refused one was not written.
   */
  #resendRefused(delivery: Delivery, part: DeliveryPart, error: TransportError): void {
    const refusedRecords = error.refused;
    const refused = refusedRecords === undefined ? part.messages : part.messages.filter((m) => refusedRecords.has(m.record));
    if (refusedRecords !== undefined) this.#settleSent(delivery, part.messages.filter((m) => !refusedRecords.has(m.record)));
    delivery.parts.shift();
    const only = refused.length === 1 ? (refused[0] as QueuedMessage) : undefined;
    if (only !== undefined && only.entries === 1) {
      this.#log.line('debug', `dropping 1 entry (message_too_large): ${error.message}`);
      this.#dropMessages(delivery, [only], 'message_too_large', error);
    } else if (refused.length > 0) {
      const middle = Math.ceil(refused.length / 2);
      const halves: QueuedMessage[][] = only !== undefined ? splitMessage(only).map((half) => [half]) : [refused.slice(0, middle), refused.slice(middle)];
      const entries = refused.reduce((sum, m) => sum + m.entries, 0);
      this.#counters.retried += entries;
      this.#log.line('debug', `resending ${entries} entries in two smaller requests: ${error.message}`);
      delivery.parts.unshift(...halves.map((messages) => ({ messages, request: undefined })));
    }
    this.#continue(delivery);
  }

  /** Sends the next part at once, or settles the delivery when nothing is left. */
  #continue(delivery: Delivery): void {
    if (delivery.parts.length > 0) {
      this.#attempt(delivery);
      return;
    }
    this.#finish(delivery);
    this.#afterSettle();
  }

  /** Counts acknowledged messages as sent and resolves their sync-mode promises. */
  #settleSent(delivery: Delivery, messages: readonly QueuedMessage[]): void {
    if (messages.length === 0) return;
    let entries = 0;
    let bytes = 0;
    for (const m of messages) {
      entries += m.entries;
      bytes += m.record.value.length;
      if (m.settlers !== undefined) for (const s of m.settlers) s.resolve();
    }
    const c = this.#counters;
    delivery.entries -= entries;
    c.inFlight -= entries;
    c.sent += entries;
    c.bytesSent += bytes;
    if (this.#events.has(PublisherEvents.DELIVERED)) {
      this.#events.emit(PublisherEvents.DELIVERED, { entries, messages: messages.length, bytes, durationMs: Date.now() - delivery.startedAt });
    }
    this.#resolveWaiters(false);
  }

  #dropMisfits(delivery: Delivery, part: DeliveryPart, misfits: RegistryMisfit[]): void {
    const dropped = new Set(misfits.map((misfit) => misfit.message));
    part.messages = part.messages.filter((m) => !dropped.has(m));
    for (const { message, error } of misfits) {
      this.#log.line('debug', `dropping ${message.entries} entry (schema_mismatch): ${error.message}`);
      this.#dropMessages(delivery, [message], 'schema_mismatch', error);
    }
  }

  #finish(delivery: Delivery): void {
    delivery.settled = true;
    if (delivery.timer !== undefined) clearTimeout(delivery.timer);
    this.#deliveries.delete(delivery);
  }

  #afterSettle(): void {
    this.#resolveWaiters(false);
    if (this.#state !== 'closed') this.#pump();
  }

  /** Drops (or spools) what is still buffered or in flight (the close deadline passed). */
  #abandonAll(): void {
    const error = new KafkaLogError(ErrorCodes.TIMEOUT, 'the publisher closed before delivery');
    for (const delivery of [...this.#deliveries]) this.#dropDelivery(delivery, 'close_timeout', error);
    for (const batch of this.#queue.drain()) this.#spoolOrDrop(batch.messages.map(candidateOf), 'close_timeout', error);
  }

  /** Drops everything a delivery still holds and settles it. */
  #dropDelivery(delivery: Delivery, reason: DropReason, cause: unknown): void {
    this.#finish(delivery);
    const messages = delivery.parts.flatMap((p) => p.messages);
    delivery.parts = [];
    this.#dropMessages(delivery, messages, reason, cause);
  }

  /** Drops (or spools) messages of a delivery (they leave `inFlight`). */
  #dropMessages(delivery: Delivery, messages: readonly QueuedMessage[], reason: DropReason, cause: unknown): void {
    const entries = messages.reduce((sum, m) => sum + m.entries, 0);
    delivery.entries -= entries;
    this.#counters.inFlight -= entries;
    this.#spoolOrDrop(messages.map(candidateOf), reason, cause);
  }

  /**
   * Hands messages that would be dropped for `reason` (counted nowhere now) to the spool, which counts what it
   * takes in `inFlight` until written; drops the rest (with the reason the spool gives) and rejects their sync-mode
   * promises.
   */
  #spoolOrDrop(candidates: readonly SpoolCandidate[], reason: DropReason, cause: unknown): void {
    const spool = this.#spool;
    if (spool === undefined) {
      // No spool: the whole batch is one drop (one event, one log line), as without the spool stage.
      let count = 0;
      const settlers: EntrySettler[] = [];
      for (const candidate of candidates) {
        count += candidate.entries;
        if (candidate.settlers !== undefined) settlers.push(...candidate.settlers);
      }
      this.#drop(reason, count, cause, settlers.length > 0 ? settlers : undefined, () => candidates.map(droppedRecordOf));
      return;
    }
    for (const candidate of candidates) {
      const refused = spool.take(candidate, reason);
      if (refused === undefined) continue;
      this.#drop(refused.reason, candidate.entries, refused.cause ?? cause, candidate.settlers, () => [droppedRecordOf(candidate)]);
    }
  }

  /**
   * Counts `count` entries dropped, rejects their sync-mode promises, fires `publisher.drop` and, while someone
   * listens, `publisher.dropped_records` (with `records`, on the next turn of the event loop).
   */
  #drop(reason: DropReason, count: number, cause: unknown, settlers: EntrySettler[] | undefined, records?: () => DroppedRecord[]): void {
    if (count === 0) return;
    this.#counters.drop(reason, count);
    this.#notices.dropped(reason, count, () => (cause === undefined ? undefined : this.#asError(cause)));
    const needError = settlers !== undefined || this.#events.has(PublisherEvents.DROP);
    if (needError) {
      const clean = cause === undefined ? undefined : this.#asError(cause);
      const detail = clean === undefined ? '' : `: ${clean.message}`;
      // The cause rides along (e.g. a SchemaMismatchError and its `path`), its message already free of secrets.
      const error = new DroppedError(reason, `${count} log entr${count === 1 ? 'y' : 'ies'} dropped (${reason})${detail}`, clean);
      if (settlers) for (const s of settlers) s.reject(error);
      this.#events.emit(PublisherEvents.DROP, { reason, count, error });
    }
    if (records !== undefined && this.#events.has(PublisherEvents.DROPPED_RECORDS)) this.#queueDroppedRecords(reason, count, records());
    this.#resolveWaiters(false);
  }

  /** Collects dropped records for `publisher.dropped_records`, emitted once this turn of the event loop ends. */
  #queueDroppedRecords(reason: DropReason, entries: number, records: DroppedRecord[]): void {
    const last = this.#droppedRecords[this.#droppedRecords.length - 1];
    if (last?.reason === reason) {
      last.entries += entries;
      for (const record of records) last.records.push(record);
    } else {
      this.#droppedRecords.push({ reason, entries, records });
    }
    if (this.#droppedRecords.length === 1 && last === undefined) {
      setImmediate(() => {
        const batches = this.#droppedRecords;
        this.#droppedRecords = [];
        for (const batch of batches) this.#events.emit(PublisherEvents.DROPPED_RECORDS, batch);
      });
    }
  }

  #settledCount(): number {
    return this.#counters.sent + this.#counters.droppedTotal + this.#counters.skippedTotal + this.#counters.spooled;
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

  // ---- background replay of the spool ----

  /** Whether a replay request may go now: open, no live message ready to go, a request slot free. */
  #replayMayGo(): boolean {
    return this.#state === 'open' && this.#queue.readyMessages === 0 && this.#deliveries.size < this.#options.concurrencyLimit;
  }

  #wakeReplay(): void {
    const waiter = this.#replayWaiter;
    this.#replayWaiter = undefined;
    waiter?.();
  }

  /**
   * Sends one replay request through the publisher's connection once live traffic leaves room (no live message
   * ready, a slot of `concurrencyLimit` free), holding that slot until it is answered. Rejects once closing.
   */
  async #replaySend(records: readonly SpoolRecord[]): Promise<void> {
    while (!this.#replayMayGo()) {
      if (this.#state !== 'open') throw new KafkaLogError(ErrorCodes.CLOSED, 'the publisher is closing');
      await new Promise<void>((resolve) => {
        this.#replayWaiter = resolve;
      });
    }
    this.#replaying = true;
    try {
      const transport = await this.#getTransport();
      await transport.produce({ records: records.map((r) => ({ topic: r.topic, key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) })) });
      this.#markConnected();
    } finally {
      this.#replaying = false;
      if (this.#state !== 'closed') this.#pump();
    }
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
    const transport = await factory(this.#transportConfig(), {
      log: (level, namespace, message, extra) => this.#log.clientLine(level, namespace, message, extra),
      notice: (level, message) => this.#log.line(level, message, { source: 'transport' }),
    });
    this.#transportInstance = transport;
    return transport;
  }

  #transportConfig(): TransportConfig {
    const o = this.#options;
    const auth = o.authentication;
    let sasl: TransportConfig['sasl'];
    if (auth?.mechanism === 'OAUTHBEARER' && auth.oauthBearer) {
      const tokens = this.#bearerTokens(auth.oauthBearer);
      const extensions = auth.oauthBearer.extensions;
      this.#tokens = tokens;
      sasl = {
        mechanism: 'OAUTHBEARER',
        oauthBearerToken: async () => {
          const token = await tokens.token();
          const all = extensions || token.extensions ? { ...extensions, ...token.extensions } : undefined;
          return all ? { value: token.value, extensions: all } : { value: token.value };
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
      // The client's lines are folded in at debug: below that the client need not build them.
      logLevel: this.#log.enabled('debug') || o.logLevel === 'debug' ? 'debug' : 'silent',
    };
  }

  /** The OAUTHBEARER tokens: from the token endpoint (client credentials) or the user's provider. */
  #bearerTokens(options: OAuthBearerOptions): BearerTokens {
    // One deadline for getting a token, whatever gets it: the connect and authentication timeout.
    const deadlineMs = this.#options.timeout;
    const onToken = (token: FetchedToken) => {
      const principal = token.principal === undefined ? '' : ` for principal "${token.principal}"`;
      const from = options.provider ? 'the token provider' : 'the OAuth token endpoint';
      this.#log.line('debug', `OAUTHBEARER token from ${from}${principal}, valid for ${Math.round(token.lifetimeMs / 1000)} s`);
    };
    if (options.provider) {
      const provider = new ProviderTokens({ provider: options.provider, deadlineMs, secrets: this.#secrets });
      const source = new TokenSource({ fetch: () => provider.fetch(), secrets: this.#secrets, onToken });
      return {
        token: () => source.token(),
        invalidate: () => source.invalidate(),
        close: () => {
          source.close();
          provider.close();
        },
      };
    }
    const { tokenEndpointUrl, clientId, clientSecret, scopes, tokenEndpointTlsVerify } = options;
    const source = new OAuthTokenSource({
      grant: { tokenEndpoint: tokenEndpointUrl, clientId, clientSecret, scopes },
      tlsVerify: tokenEndpointTlsVerify !== false,
      deadlineMs,
      secrets: this.#secrets,
      fail: (message, failOptions) => new KafkaLogError(ErrorCodes.AUTHENTICATION, message, failOptions),
      onToken,
    });
    return { token: () => source.fetched(), invalidate: () => source.invalidate(), close: () => source.close() };
  }

  /** The broker refused the token (or the provider's was unusable): the next attempt asks for a new one. */
  #refusedAuthentication(error: KafkaLogError): void {
    if (error.code === ErrorCodes.AUTHENTICATION && !error.retriable) this.#tokens?.invalidate();
  }

  #markConnected(): void {
    this.#notices.succeeded();
    this.#spool?.kick();
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
   * secret: it is replaced by a scrubbed copy (message, stack, every cause). Never throws, whatever was thrown.
   */
  #asError(error: unknown): KafkaLogError {
    if (error instanceof KafkaLogError) return this.#secrets.cleanError(error);
    return new KafkaLogError(ErrorCodes.BROKER, this.#redact(messageOf(error)), { retriable: true });
  }

  /** Runs timer work; what it throws is logged, never thrown out of the timer (that would crash the process). */
  #safely(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#internalError(what, error);
    }
  }

  #internalError(what: string, error: unknown): void {
    this.#log.line('error', `internal error in ${what}: ${describeSafely(error)}`);
  }
}

/** A queued message as the spool (or a drop) sees it. */
function candidateOf(message: QueuedMessage): SpoolCandidate {
  const { topic, key, headers, value } = message.record;
  return { topic, key, headers, value, pendingSchema: message.pendingSchema, entries: message.entries, settlers: message.settlers };
}

/** The message of anything thrown; never throws. */
function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return describeSafely(error);
  }
}

/**
 * `work`, or `timeout()`'s error after `ms`. The work goes on after the deadline (its outcome, a rejection
 * included, is then ignored); the timer never outlives the race.
 */
function withDeadline<T>(work: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  work.catch(noop);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
