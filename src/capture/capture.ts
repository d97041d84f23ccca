/**
 * The node:http capture every adapter shares: it watches one `IncomingMessage`/`ServerResponse` pair and, when
 * the response is over, turns what it saw into an {@link HttpExchange}.
 *
 * How it watches without changing what the application sees:
 * - the request body is observed where node's HTTP parser hands it to the stream (`req.push`), so the stream's
 *   flow mode is untouched and a reader that starts late still gets every byte;
 * - the response body is observed by wrapping `res.write`/`res.end` (every signature forwarded as given; bytes
 *   are counted as handed to node, so after any compression middleware installed later; a response class whose
 *   `end(chunk)` calls its own `write(chunk)` is counted once, at `end`);
 * - the end is the response's `'close'` event (node emits it after `'finish'`, and also when the client went
 *   away first: that is an aborted exchange, logged with status 499).
 *
 * Two ways to wrap: on the instance (plain node objects), or once on a framework's own request/response
 * prototypes ({@link tapPrototypes}). The second matters for Express: it re-parents every req/res with
 * `Object.setPrototypeOf`, after which every property added to one gives it a map (V8's hidden class) of its own.
 * Each such object then costs V8 a generic look-up (a few hundred ns) at every property read, and a new map at
 * every property added, so nothing is ever added to them and what the capture needs is read from them as few
 * times as it can: the request's facts once, at the start; the response's state through node's own getters,
 * called directly. Their captures are listed on the connection's socket (a plain object, one property added per
 * connection) rather than in a WeakMap, whose entries keyed by short-lived objects cost the garbage collector
 * several microseconds each. Plain node objects carry their capture in a symbol property.
 * The per-request path allocates one capture object and no closures.
 *
 * @module
 */

import { IncomingMessage, OutgoingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ExchangeBody, ExchangeTls, ExchangeUpstream, HttpExchange, RawHeaders } from '../entry/exchange.js';
import { headerBlockSize } from '../entry/headers.js';
import type { AuthenticatedEntity, JsonObject, ResponseSource } from '../entry/log-entry.js';
import { CLIENT_CLOSED_REQUEST } from './client-closed.js';
import type { GatewayCapture } from './gateway-capture.js';
import { tlsFactsOf } from './tls-facts.js';

/** What a capture keeps besides sizes and timings. */
export interface CaptureSettings {
  /** Keep the first `maxBodySize` bytes of the request body. */
  readonly captureRequestBody: boolean;
  /** Keep the first `maxBodySize` bytes of the response body. */
  readonly captureResponseBody: boolean;
  /** Most body bytes kept per side. */
  readonly maxBodySize: number;
}

/** Told once per capture, when the response is over (finished or aborted). */
export interface CaptureCompletion<TContext> {
  /** Called from the response's `'close'` event; must not throw. */
  complete(capture: ExchangeCapture<TContext>): void;
  /** Reads or generates the request id (stored in `capture.requestId`) when asked before the end; must not throw. */
  requestId?(capture: ExchangeCapture<TContext>): string | undefined;
}

/** The live captures of a connection: usually one, several while pipelined requests overlap. */
const kLive = Symbol('kafka-log.liveCaptures');
type Live = ExchangeCapture<unknown> | ExchangeCapture<unknown>[] | undefined;
type LiveHolder = { [kLive]?: Live };
/** The capture of a plain node request/response, wrapped on the instance (cheap there), for its whole life. */
const kCapture = Symbol('kafka-log.capture');
type Tapped = { [kCapture]?: ExchangeCapture<unknown> };

/** The internals of node's `OutgoingMessage` the capture reads (stable since node 0.x, absent on HTTP/2). */
interface OutgoingInternals {
  _header?: string | null;
  _hasBody?: boolean;
}

type WriteFunction = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
type EndFunction = (chunk?: unknown, encoding?: unknown, callback?: unknown) => ServerResponse;
type PushFunction = (chunk: unknown, encoding?: BufferEncoding) => boolean;

/** Keeps the first `limit` bytes of a body. */
class BodyTap {
  private readonly chunks: Buffer[] = [];
  private kept = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    const room = this.limit - this.kept;
    if (room <= 0 || chunk.length === 0) return;
    // Copied: a writer may reuse its buffer once write() returns.
    const part = Buffer.from(chunk.length <= room ? chunk : chunk.subarray(0, room));
    this.chunks.push(part);
    this.kept += part.length;
  }

  body(totalSize: number): ExchangeBody {
    const bytes = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.kept);
    return { bytes, totalSize };
  }
}

/**
 * One request/response being watched. Adapters annotate it (handler start, source, route) through its fields
 * and methods, gateways through the narrower {@link GatewayCapture} it implements (the only part of it
 * `kafka-log/http` publishes); {@link ExchangeCapture.toExchange} reads it out. `TContext` is the framework's
 * request object, handed to user hooks and custom fields.
 */
export class ExchangeCapture<TContext = IncomingMessage> implements GatewayCapture {
  /** node's request. */
  readonly request: IncomingMessage;
  /** node's response. */
  readonly response: ServerResponse;
  /** The framework's request object (hooks and custom fields receive it). */
  context: TContext;
  /** Wall-clock start, ms since the epoch. */
  readonly startedAt: number;
  /** Monotonic start (`performance.now()`), ≈ when the request's headers had been read. */
  readonly startTime: number;
  /** When the parser delivered the end of the request body (0 until then). */
  requestEndTime = 0;
  /** When the application first called `write` (0 until then, or when it sent everything with `end`). */
  firstWriteTime = 0;
  /** When the route handler (the app as upstream) began; 0 when it never ran. */
  handlerStartTime = 0;
  /** When the response was over (0 until then). */
  endTime = 0;
  /** True when the client went away before the response finished. */
  aborted = false;
  /** Who produced the response, when the adapter knows better than the default. */
  source: ResponseSource | undefined = undefined;
  /** The matched route. */
  route: JsonObject | undefined = undefined;
  /** The service. */
  service: JsonObject | undefined = undefined;
  /** The consumer. */
  consumer: JsonObject | undefined = undefined;
  /** The authenticated credential. */
  authenticatedEntity: AuthenticatedEntity | undefined = undefined;
  /** Upstream facts (gateways). */
  upstream: ExchangeUpstream | undefined = undefined;
  /** Measured upstream time, ms (gateways); overrides the handler time. */
  upstreamLatency: number | undefined = undefined;
  /** Bytes of request body the parser delivered. */
  requestBodyBytes = 0;
  /** Bytes of response body handed to node. */
  responseBodyBytes = 0;
  /** The framework's own matched-route object, for adapters that track it (Express's `req.route`). */
  matchedRoute: unknown = undefined;
  /** The trace id of the OpenTelemetry span active when the request reached the adapter (`trace_id.w3c`). */
  activeTraceId: string | undefined = undefined;
  /** The entry's `request.id`, once asked for before the end ({@link ExchangeCapture.readRequestId}). */
  requestId: string | undefined = undefined;
  /** The request's header list as node parsed it (`rawHeaders`), read once. */
  readonly rawHeaders: readonly string[];

  private readonly method: string;
  private readonly uri: string;
  private readonly httpVersion: string;
  private readonly remoteAddress: string;
  private readonly localPort: number | undefined;
  private readonly tls: ExchangeTls | undefined;
  private readonly completion: CaptureCompletion<TContext>;
  private readonly requestTap: BodyTap | undefined;
  private readonly responseTap: BodyTap | undefined;
  /** Whether the capture is listed on its socket (prototype taps), to be removed when it settles. */
  private registered: boolean;
  /** Chunked-encoding framing of the chunks node has framed so far (`<hex size>\r\n` + `\r\n` each). */
  private chunkFraming = 0;
  /**
   * Body bytes node holds while the response is corked, sent as ONE chunk when it uncorks: node 24.22 and later
   * cork a response at its first write until the next tick (a `write` then `end` in one tick is one chunk on the
   * wire), and every version pools the writes of a response the application corked. A pool is seen as sent at the
   * next chunk written uncorked or at the end; on node 24.22 and later, a response the application corks again
   * before that is counted as one pool (a few bytes of framing fewer than the wire).
   */
  private pooledBytes = 0;
  /** @internal True once the application's `end` went through a tap: writes after it are not counted. */
  responseEnded = false;
  /**
   * @internal True while the wrapped `end` runs: some responses' `end(chunk)` hands the chunk to `this.write`
   * (light-my-request's, behind Fastify's `inject()`), which must not count what `end` already counted.
   */
  ending = false;
  /** @internal The functions an instance tap wrapped (undefined when the prototypes are tapped). */
  originalPush: PushFunction | undefined = undefined;
  /** @internal */
  originalWrite: WriteFunction | undefined = undefined;
  /** @internal */
  originalEnd: EndFunction | undefined = undefined;

  /** @internal Adapters start captures through their pipeline (`startCapture`). */
  constructor(
    request: IncomingMessage,
    response: ServerResponse,
    context: TContext,
    settings: CaptureSettings,
    completion: CaptureCompletion<TContext>,
    prototypesTapped: boolean,
  ) {
    // One clock read per event that needs one: clock reads are system calls in some sandboxes.
    this.startTime = performance.now();
    this.startedAt = TIME_ORIGIN + this.startTime;
    this.request = request;
    this.response = response;
    this.context = context;
    this.completion = completion;
    // Read now: express rewrites req.url under mounted routers, and an aborted socket forgets its peer.
    this.method = request.method ?? 'GET';
    this.uri = request.url ?? '/';
    this.httpVersion = request.httpVersion || '1.1';
    this.rawHeaders = request.rawHeaders;
    const socket = request.socket;
    this.remoteAddress = socket?.remoteAddress ?? '';
    this.localPort = socket?.localPort;
    this.tls = socket === undefined ? undefined : tlsFactsOf(socket);
    this.requestTap = settings.captureRequestBody ? new BodyTap(settings.maxBodySize) : undefined;
    this.responseTap = settings.captureResponseBody ? new BodyTap(settings.maxBodySize) : undefined;
    // A request whose body the parser already delivered (a capture started late) has nothing left to observe.
    if (request.complete) this.requestEndTime = this.startTime;

    lastStarted = this as ExchangeCapture<unknown>;
    this.registered = prototypesTapped && socket !== undefined && socket !== null;
    if (this.registered) register(socket as LiveHolder, this as ExchangeCapture<unknown>);
    if (!prototypesTapped) this.tapInstances();
  }

  /**
   * @internal Wraps `push`, `write` and `end` on the request and response themselves and listens for the
   * response's `'close'`: for objects whose prototypes carry no taps. A capture started on tapped prototypes
   * switches to this when its objects turn out not to inherit them after all (see `kafka-log/http`); what was
   * written before the switch is not counted.
   */
  tapInstances(): void {
    if (this.originalWrite !== undefined) return;
    instanceTapped++;
    const request = this.request;
    const response = this.response;
    if (this.registered) {
      unregister(request.socket as LiveHolder, this as ExchangeCapture<unknown>);
      this.registered = false;
    }
    (request as IncomingMessage & Tapped)[kCapture] = this as ExchangeCapture<unknown>;
    (response as ServerResponse & Tapped)[kCapture] = this as ExchangeCapture<unknown>;
    this.originalPush = request.push as PushFunction;
    this.originalWrite = response.write as WriteFunction;
    this.originalEnd = response.end as EndFunction;
    request.push = instanceTaps.push;
    response.write = instanceTaps.write as ServerResponse['write'];
    response.end = instanceTaps.end as ServerResponse['end'];
    response.on('close', onResponseClose);
  }

  /**
   * The request id the entry will carry: from the request id header, else generated, as the adapter's options say;
   * read the first time it is asked for (an application reading it, an echoed header), then kept.
   */
  readRequestId(): string | undefined {
    return this.requestId ?? this.completion.requestId?.(this);
  }

  /** Marks the moment the route handler began (the first call wins). */
  markHandlerStart(): void {
    if (this.handlerStartTime === 0) this.handlerStartTime = performance.now();
  }

  /**
   * Says no upstream was reached (a gateway whose upstream failed): `latencies.proxy` is -1 and the whole
   * exchange is the gateway's own time.
   */
  clearUpstream(): void {
    this.handlerStartTime = 0;
    this.upstreamLatency = undefined;
  }

  /** The snapshot of what was seen, for the entry builder. Call once the capture is complete. */
  toExchange(): HttpExchange {
    const response = this.response as ServerResponse & OutgoingInternals;
    const endTime = this.endTime === 0 ? performance.now() : this.endTime;
    const total = endTime - this.startTime;
    const headerText = typeof response._header === 'string' ? response._header : undefined;
    const hasBody = response._hasBody !== false;
    const bodyBytes = hasBody ? this.responseBodyBytes : 0;
    // Chunked framing counts only when node chose chunked encoding, plus the closing `0\r\n\r\n`.
    const pooled = this.pooledBytes === 0 ? 0 : hexDigits(this.pooledBytes) + 4;
    const framing = hasBody && response.chunkedEncoding ? this.chunkFraming + pooled + 5 : 0;
    const httpVersion = this.httpVersion;
    const rawHeaders = this.rawHeaders;

    const exchange: HttpExchange = {
      request: {
        method: this.method,
        uri: this.uri,
        httpVersion,
        scheme: this.tls === undefined ? 'http' : 'https',
        port: this.localPort,
        headers: rawHeaders,
        // `METHOD SP uri SP HTTP/x.y CRLF`, the header block, then the body bytes the parser delivered.
        size:
          this.method.length +
          this.uri.length +
          httpVersion.length +
          9 +
          headerBlockSize(rawHeaders) +
          this.requestBodyBytes,
        tls: this.tls,
      },
      response: {
        status: this.aborted ? CLIENT_CLOSED_REQUEST : response.statusCode,
        headers: headerText === undefined ? (response.getHeaders() as RawHeaders) : headerListOf(headerText),
        size: (headerText === undefined ? 0 : headerText.length) + bodyBytes + framing,
      },
      remoteAddress: this.remoteAddress,
      timings: this.timings(total, endTime),
    };
    if (this.requestTap !== undefined) exchange.request.body = this.requestTap.body(this.requestBodyBytes);
    if (this.responseTap !== undefined && hasBody) exchange.response.body = this.responseTap.body(bodyBytes);
    if (this.source !== undefined) exchange.source = this.source;
    if (this.route !== undefined) exchange.route = this.route;
    if (this.service !== undefined) exchange.service = this.service;
    if (this.consumer !== undefined) exchange.consumer = this.consumer;
    if (this.authenticatedEntity !== undefined) exchange.authenticatedEntity = this.authenticatedEntity;
    if (this.upstream !== undefined) exchange.upstream = this.upstream;
    return exchange;
  }

  /**
   * - receive: start to the end of the request body (the whole exchange when the body never ended);
   * - upstream: a gateway's measured time, else handler start to the first response byte (Kong's waiting time):
   *   the first `write`, or the end of a response sent in one piece;
   * - own: the time before the handler began; the whole exchange when no handler ran.
   */
  private timings(total: number, endTime: number): HttpExchange['timings'] {
    const receive = this.requestEndTime === 0 ? total : this.requestEndTime - this.startTime;
    const timings: HttpExchange['timings'] = { startedAt: this.startedAt, total, receive };
    if (this.upstreamLatency !== undefined) {
      timings.upstream = this.upstreamLatency;
    } else if (this.handlerStartTime !== 0) {
      const answeredAt = this.firstWriteTime === 0 ? endTime : this.firstWriteTime;
      timings.upstream = Math.max(0, answeredAt - this.handlerStartTime);
      timings.own = this.handlerStartTime - this.startTime;
    } else {
      timings.own = total;
    }
    return timings;
  }

  /**
   * @internal Request body bytes as the parser delivers them; `null` is the end of the body. Strings (pushed
   * by in-process request streams such as Fastify's `inject()`) count as the bytes they encode to.
   */
  onRequestChunk(chunk: unknown, encoding?: unknown): void {
    if (chunk === null) {
      // A request without a body has nothing to receive: its end is its start (and costs no clock read).
      if (this.requestEndTime === 0) this.requestEndTime = this.requestBodyBytes === 0 ? this.startTime : performance.now();
      return;
    }
    if (typeof chunk === 'string') {
      if (chunk.length === 0) return;
      const bytes = Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      this.requestBodyBytes += bytes.length;
      this.requestTap?.add(bytes);
      return;
    }
    if (!(chunk instanceof Uint8Array)) return;
    this.requestBodyBytes += chunk.length;
    this.requestTap?.add(chunk as Buffer);
  }

  /**
   * @internal Before a chunk goes to node (`corked`: the response's own corks now): what node pooled has gone out
   * as one chunk once the response is no longer corked. Returns whether a pool is still open.
   */
  framePooled(corked: number): boolean {
    if (this.pooledBytes === 0) return false;
    if (corked > 0) return true;
    this.chunkFraming += hexDigits(this.pooledBytes) + 4;
    this.pooledBytes = 0;
    return false;
  }

  /**
   * @internal A chunk the application handed to `write`/`end` while the response was still open. `ending`: a
   * response sent in one piece by `end()` has its first byte at its end, so no clock is read for it. `pooled`:
   * node holds the chunk with the response corked, to send it in one chunk with the ones that follow.
   */
  onResponseChunk(chunk: unknown, encoding: unknown, ending: boolean, pooled: boolean): void {
    if (this.firstWriteTime === 0 && !ending) this.firstWriteTime = performance.now();
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    let length: number;
    if (typeof chunk === 'string') {
      length = Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      if (this.responseTap !== undefined && length > 0) {
        this.responseTap.add(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
      }
    } else if (chunk instanceof Uint8Array) {
      length = chunk.length;
      if (this.responseTap !== undefined) this.responseTap.add(chunk as Buffer);
    } else {
      return;
    }
    if (length === 0) return;
    this.responseBodyBytes += length;
    if (pooled) this.pooledBytes += length;
    else this.chunkFraming += hexDigits(length) + 4;
  }

  /** @internal The response is over: record the end and hand the capture on, once. */
  settle(): void {
    if (this.endTime !== 0) return;
    this.endTime = performance.now();
    const response = this.response;
    // Ended onto a socket still open counts as finished too: in-process responses (Fastify's `inject()`) close
    // before their null socket has drained, which a real client that went away never does (its socket is gone).
    this.aborted =
      !writableFinished.call(response) && !(writableEnded.call(response) && response.socket?.destroyed === false);
    try {
      this.completion.complete(this);
    } finally {
      // After completion: hooks that run there may still read through the capture (Express's `req.route`).
      if (this.registered) unregister(this.request.socket as LiveHolder, this as ExchangeCapture<unknown>);
      if (this.originalWrite !== undefined) instanceTapped--;
      if (lastStarted === (this as ExchangeCapture<unknown>)) lastStarted = undefined;
    }
  }
}

/**
 * Starts watching one request/response. Returns the capture already attached when called twice for the same
 * request (two adapters stacked), so nothing is counted twice. `prototypesTapped`: the request's and response's
 * prototypes carry {@link tapPrototypes}' wrappers, so nothing is wrapped on the instances.
 */
export function startCapture<TContext>(
  request: IncomingMessage,
  response: ServerResponse,
  context: TContext,
  settings: CaptureSettings,
  completion: CaptureCompletion<TContext>,
  prototypesTapped = false,
): ExchangeCapture<TContext> {
  const existing = responseCapture(response, request);
  if (existing !== undefined) return existing as ExchangeCapture<TContext>;
  return new ExchangeCapture(request, response, context, settings, completion, prototypesTapped);
}

/** The capture watching `request` (or its response), if any: how adapters and gateways annotate it. */
export function captureOf<TContext = unknown>(
  message: IncomingMessage | ServerResponse,
): ExchangeCapture<TContext> | undefined {
  return lookUp(message) as ExchangeCapture<TContext> | undefined;
}

/** Live captures wrapped on their instances ({@link ExchangeCapture.tapInstances}), not yet settled. */
let instanceTapped = 0;

/** `performance.timeOrigin`, read once (a getter on every read). */
const TIME_ORIGIN = performance.timeOrigin;

/** The capture started last, until it settles: found without reading the request or response at all. */
let lastStarted: ExchangeCapture<unknown> | undefined;

/**
 * The live capture of a request or of a response. Captures of re-parented objects (prototype taps) are found
 * through the connection's socket first: on those objects a property that is not their own (`kCapture`, or
 * `req` on a request) is a miss that walks the whole prototype chain at run time, about a microsecond each.
 */
function lookUp(message: IncomingMessage | ServerResponse): ExchangeCapture<unknown> | undefined {
  return message instanceof ServerResponse ? responseCapture(message) : requestCapture(message);
}

/**
 * {@link lookUp} of a response (the response wrappers' `this`). node links every response to its request
 * (`res.req`), whose socket lists the capture; a caller that has the request at hand passes it.
 */
function responseCapture(
  response: ServerResponse,
  request = response.req as IncomingMessage | undefined,
): ExchangeCapture<unknown> | undefined {
  // Most look-ups come in a burst for the capture started last (routing, then the handler's response).
  const last = lastStarted;
  if (last !== undefined && last.response === response) return last;
  return liveCapture(request, response);
}

/** {@link lookUp} of a request (the request wrapper's `this`). */
function requestCapture(request: IncomingMessage): ExchangeCapture<unknown> | undefined {
  const last = lastStarted;
  if (last !== undefined && last.request === request) return last;
  return liveCapture(request, request);
}

/** The capture of `message` (`request` or its response) listed on the request's socket, or kept on `message`. */
function liveCapture(request: IncomingMessage | undefined, message: object): ExchangeCapture<unknown> | undefined {
  const live = (request?.socket as (LiveHolder & object) | null | undefined)?.[kLive];
  if (live !== undefined) {
    if (!Array.isArray(live)) {
      if (live.request === message || live.response === message) return live;
    } else {
      for (const capture of live) if (capture.request === message || capture.response === message) return capture;
    }
  }
  // Own properties only: on a re-parented object a miss would walk the prototype chain (see above). None to look
  // for while no capture is wrapped on its instances.
  return instanceTapped > 0 && Object.hasOwn(message, kCapture) ? (message as Tapped)[kCapture] : undefined;
}

function register(socket: LiveHolder, capture: ExchangeCapture<unknown>): void {
  const live = socket[kLive];
  if (live === undefined) socket[kLive] = capture;
  else if (Array.isArray(live)) live.push(capture);
  else socket[kLive] = [live, capture];
}

function unregister(socket: LiveHolder, capture: ExchangeCapture<unknown>): void {
  const live = socket[kLive];
  if (live === capture) {
    socket[kLive] = undefined;
  } else if (Array.isArray(live)) {
    const index = live.indexOf(capture);
    if (index !== -1) live.splice(index, 1);
    if (live.length === 1) socket[kLive] = live[0];
  }
}

/**
 * Whether two objects are an app's own request and response prototypes, the only prototypes {@link tapPrototypes}
 * is given: each inherits node's (`IncomingMessage.prototype`, `ServerResponse.prototype`) and owns `app`, as an
 * Express app's `app.request` and `app.response` do. node's shared prototypes are never tapped.
 */
export function isAppPrototypePair(requestPrototype: unknown, responsePrototype: unknown): boolean {
  return isAppPrototype(requestPrototype, IncomingMessage.prototype) && isAppPrototype(responsePrototype, ServerResponse.prototype);
}

function isAppPrototype(candidate: unknown, base: object): boolean {
  return typeof candidate === 'object' && candidate !== null && Object.hasOwn(candidate, 'app') && inherits.call(base, candidate);
}

const inherits = Object.prototype.isPrototypeOf;

/**
 * Wraps `push` on a framework's request prototype and `write`, `end` and `emit` on its response prototype,
 * once, so captures of requests inheriting them need no per-instance wrapping. The wrappers look the capture up
 * and otherwise call the parent prototype's function unchanged. Returns false (and changes nothing) when one of
 * these is already an own property of the prototypes (wrapped by someone else); true at once when they were
 * wrapped before.
 */
export function tapPrototypes(requestPrototype: object, responsePrototype: object): boolean {
  if (tappedPrototypes.has(requestPrototype) && tappedPrototypes.has(responsePrototype)) return true;
  for (const [prototype, name] of [
    [requestPrototype, 'push'],
    [responsePrototype, 'write'],
    [responsePrototype, 'end'],
    [responsePrototype, 'emit'],
  ] as const) {
    if (Object.hasOwn(prototype, name)) return false;
  }
  const requestParent = Object.getPrototypeOf(requestPrototype) as { push: PushFunction };
  const responseParent = Object.getPrototypeOf(responsePrototype) as {
    write: WriteFunction;
    end: EndFunction;
    emit: (event: string | symbol, ...args: unknown[]) => boolean;
  };
  const define = (prototype: object, name: string, value: unknown) =>
    Object.defineProperty(prototype, name, { value, writable: true, configurable: true, enumerable: false });

  const taps = createTaps({ push: requestParent.push, write: responseParent.write, end: responseParent.end });
  define(requestPrototype, 'push', taps.push);
  define(responsePrototype, 'write', taps.write);
  define(responsePrototype, 'end', taps.end);
  const parentEmit = responseParent.emit;
  // Every event of every response passes here: `arguments` handed straight to `apply` copies nothing (rest
  // parameters and a spread would allocate an array per emit).
  define(responsePrototype, 'emit', function emit(this: ServerResponse, event: string | symbol): boolean {
    // biome-ignore lint/complexity/noArguments: forwarded as is, see above
    if (event !== 'close') return Reflect.apply(parentEmit, this, arguments);
    try {
      // biome-ignore lint/complexity/noArguments: forwarded as is, see above
      return Reflect.apply(parentEmit, this, arguments);
    } finally {
      responseCapture(this)?.settle();
    }
  });
  tappedPrototypes.add(requestPrototype);
  tappedPrototypes.add(responsePrototype);
  return true;
}

/** Prototypes {@link tapPrototypes} wrapped. */
const tappedPrototypes = new WeakSet<object>();

/** The functions a tap forwards to: the ones it replaced. */
interface Forwards {
  readonly push: PushFunction;
  readonly write: WriteFunction;
  readonly end: EndFunction;
}

/**
 * The counting wrappers of `push`, `write` and `end`, one implementation for both ways to wrap. `forwards`: a
 * prototype tap's parent functions (created once per tapped prototype pair); `undefined`: the instance taps,
 * which forward to the functions their capture kept. Each set feeds only the captures wrapped its way: a
 * capture wrapped on the instance (another adapter stacked outside a tapped framework) is counted by its
 * instance wrappers alone, and the tapped prototype below them just forwards.
 */
function createTaps(forwards: Forwards | undefined): Forwards {
  const prototypeTap = forwards !== undefined;
  return {
    push(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
      const capture = requestCapture(this);
      const instanceTapped = capture !== undefined && capture.originalPush !== undefined;
      if (capture !== undefined && instanceTapped !== prototypeTap) capture.onRequestChunk(chunk, encoding);
      const next = prototypeTap ? forwards.push : (capture?.originalPush ?? Readable.prototype.push);
      return next.call(this, chunk, encoding);
    },
    write(this: ServerResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
      const capture = responseCapture(this);
      const next = prototypeTap ? forwards.write : (capture?.originalWrite ?? (ServerResponse.prototype.write as WriteFunction));
      // Not while the capture's own `end` runs: its chunk was counted there.
      if (capture === undefined || (capture.originalWrite !== undefined) === prototypeTap || capture.responseEnded || capture.ending) {
        return next.call(this, chunk, encoding, callback);
      }
      const corked = corksOf(this);
      const headerSent = headersSent.call(this);
      const poolOpen = capture.framePooled(corked);
      const accepted = next.call(this, chunk, encoding, callback);
      // node pools a chunk while the response is corked: one it corked itself at this write (node 24.22 and
      // later), an open pool, or (every version) one the application corked once the header is out.
      const pooled = corksOf(this) > 0 && (corked === 0 || poolOpen || headerSent);
      capture.onResponseChunk(chunk, typeof encoding === 'function' ? undefined : encoding, false, pooled);
      return accepted;
    },
    end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): ServerResponse {
      const capture = responseCapture(this);
      const next = prototypeTap ? forwards.end : (capture?.originalEnd ?? (ServerResponse.prototype.end as EndFunction));
      if (capture === undefined || (capture.originalEnd !== undefined) === prototypeTap || capture.responseEnded || capture.ending) {
        return next.call(this, chunk, encoding, callback);
      }
      // Counted before the call: ending may complete the response synchronously.
      const corked = corksOf(this);
      const pooled = capture.framePooled(corked) || (corked > 0 && headersSent.call(this));
      capture.onResponseChunk(chunk, typeof encoding === 'function' ? undefined : encoding, true, pooled);
      capture.responseEnded = true;
      capture.ending = true;
      try {
        return next.call(this, chunk, encoding, callback);
      } finally {
        capture.ending = false;
      }
    },
  };
}

/** The wrappers of plain node requests and responses, on the instance. */
const instanceTaps = createTaps(undefined);

function onResponseClose(this: ServerResponse): void {
  responseCapture(this)?.settle();
}

/** node 20's `writableCorked` adds the socket's corks to the response's own; later versions count the response's. */
const CORKS_INCLUDE_SOCKET = ((): boolean => {
  try {
    const probe = new OutgoingMessage();
    (probe as unknown as { socket: unknown }).socket = { writableCorked: 1, cork() {}, uncork() {} };
    return probe.writableCorked === 1;
  } catch {
    return false;
  }
})();

/**
 * node's getter of a response's `name`, to call directly: on a re-parented response (see above) reading the
 * property costs V8 a generic look-up of the accessor first. A subclass overriding it is not consulted (none of
 * the frameworks' responses does); a node without the getter reads the property.
 */
function outgoingGetter<T>(name: 'writableEnded' | 'writableFinished' | 'writableCorked' | 'headersSent'): (this: OutgoingMessage) => T {
  const get = Object.getOwnPropertyDescriptor(OutgoingMessage.prototype, name)?.get;
  if (typeof get === 'function') return get as (this: OutgoingMessage) => T;
  return function read(this: OutgoingMessage): T {
    return this[name] as T;
  };
}

const writableEnded = outgoingGetter<boolean>('writableEnded');
const writableFinished = outgoingGetter<boolean>('writableFinished');
const writableCorked = outgoingGetter<number>('writableCorked');
const headersSent = outgoingGetter<boolean>('headersSent');

/** How many times the response itself is corked (not its socket). */
function corksOf(response: ServerResponse): number {
  const corked: unknown = writableCorked.call(response);
  if (typeof corked !== 'number') return 0;
  return CORKS_INCLUDE_SOCKET ? corked - (response.socket?.writableCorked ?? 0) : corked;
}

/** Hex digits of a chunk size, as chunked encoding writes it. */
function hexDigits(length: number): number {
  let digits = 1;
  while (length >= 16) {
    length = Math.floor(length / 16);
    digits++;
  }
  return digits;
}

/**
 * The header lines node wrote (`_header`: status line, `Name: value` lines, blank line) as a flat
 * `[name, value, ...]` list, repeats kept: exactly what went on the wire, including `Date`, `Connection` and
 * `Transfer-Encoding` that node adds itself.
 */
function headerListOf(block: string): string[] {
  const list: string[] = [];
  let lineStart = block.indexOf('\r\n') + 2;
  if (lineStart === 1) return list;
  while (lineStart < block.length) {
    const lineEnd = block.indexOf('\r\n', lineStart);
    const end = lineEnd === -1 ? block.length : lineEnd;
    if (end === lineStart) break;
    const colon = block.indexOf(':', lineStart);
    if (colon !== -1 && colon < end) {
      let valueStart = colon + 1;
      while (valueStart < end && (block.charCodeAt(valueStart) === 32 || block.charCodeAt(valueStart) === 9)) valueStart++;
      list.push(block.slice(lineStart, colon), block.slice(valueStart, end));
    }
    lineStart = end + 2;
  }
  return list;
}
