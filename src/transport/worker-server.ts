/**
 * The delivery thread's side of the worker transport: runs the chosen Kafka client's transport and answers the
 * request thread's messages (see `worker-protocol.ts`). It holds each request until the broker acknowledged it
 * or the request thread says it will not be produced again, so a retry reuses the same request object and the
 * transport keeps its partition choices.
 *
 * @module
 */
import { loadTransportFactory } from './select.js';
import type { FromWorker, ToWorker, WireError, WorkerData } from './worker-protocol.js';
import { unpackRecords } from './worker-protocol.js';
import type { ProduceRequest, Transport, TransportConfig, TransportFactory, TransportOAuthToken } from './transport.js';

/** The delivery thread's end of the channel (`parentPort`, or a `MessagePort` in tests). */
export interface WorkerPort {
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: ToWorker) => void): unknown;
}

/** Serves one transport over `port`. `load` is replaceable for tests. */
export function serveTransport(
  port: WorkerPort,
  data: WorkerData,
  load: (name: WorkerData['transport']) => Promise<TransportFactory> = loadTransportFactory,
): void {
  // Each request with the buffer its bytes arrived in (given back once the broker acknowledged them).
  const requests = new Map<number, { request: ProduceRequest; bytes: ArrayBuffer }>();
  const tokenWaiters = new Map<number, { resolve: (token: TransportOAuthToken) => void; reject: (error: Error) => void }>();
  let tokenIds = 0;
  const post = (message: FromWorker) => port.postMessage(message);

  const config: TransportConfig = { ...data.config, sasl: undefined, tls: data.config.tls };
  const sasl = data.config.sasl;
  if (sasl !== undefined) {
    const { oauthBearer, ...rest } = sasl;
    config.sasl = oauthBearer
      ? {
          ...rest,
          // The token provider lives in the request thread: ask it for each token.
          oauthBearerToken: () =>
            new Promise<TransportOAuthToken>((resolve, reject) => {
              const id = ++tokenIds;
              tokenWaiters.set(id, { resolve, reject });
              post({ type: 'token-request', id });
            }),
        }
      : rest;
  }
  const transport: Promise<Transport> = load(data.transport).then((factory) =>
    factory(config, {
      log: (level, namespace, message, extra) => post({ type: 'log', level, namespace, message, ...cloneable(extra) }),
    }),
  );
  // A failed load is reported through every connect and produce; not an unhandled rejection.
  transport.catch(() => undefined);

  port.on('message', (message) => {
    switch (message.type) {
      case 'connect':
        transport.then((t) => t.connect()).then(
          () => post({ type: 'connected' }),
          (error: unknown) => post({ type: 'connect-failed', error: toWire(error) }),
        );
        return;
      case 'produce': {
        const { id } = message;
        let held = requests.get(id);
        if (message.records !== undefined) {
          held = { request: { records: unpackRecords(message.records) }, bytes: message.records.bytes.buffer as ArrayBuffer };
          requests.set(id, held);
        }
        if (held === undefined) {
          post({ type: 'produce-failed', id, error: { kind: 'broker', message: 'unknown request', retriable: true }, unknown: true });
          return;
        }
        const { request, bytes } = held;
        transport.then((t) => t.produce(request)).then(
          () => {
            requests.delete(id);
            // Acknowledged: the client is done with these bytes (it answers after writing them), so the buffer
            // goes back to be written again.
            port.postMessage({ type: 'produced', id, spare: bytes }, [bytes]);
          },
          (error: unknown) => post({ type: 'produce-failed', id, error: toWire(error) }),
        );
        return;
      }
      case 'forget':
        requests.delete(message.id);
        return;
      case 'token': {
        const waiter = tokenWaiters.get(message.id);
        tokenWaiters.delete(message.id);
        if (message.token !== undefined) waiter?.resolve(message.token);
        else waiter?.reject(new Error(message.error ?? 'no token'));
        return;
      }
      case 'close':
        transport
          .then((t) => t.close())
          .catch(() => undefined)
          .then(() => post({ type: 'closed' }));
        return;
    }
  });
  post({ type: 'ready' });
}

/** A transport failure as plain data (transports reject with `TransportError`s; anything else is a broker error). */
function toWire(error: unknown): WireError {
  const e = error as { kind?: unknown; message?: unknown; retriable?: unknown } | null;
  if (e !== null && typeof e === 'object' && typeof e.kind === 'string' && typeof e.retriable === 'boolean') {
    return { kind: e.kind as WireError['kind'], message: String(e.message), retriable: e.retriable };
  }
  return { kind: 'broker', message: error instanceof Error ? error.message : String(error), retriable: true };
}

/** A log line's extra fields as data that survives the crossing (a client may log errors or functions). */
function cloneable(extra: Record<string, unknown> | undefined): { extra?: Record<string, unknown> } {
  if (extra === undefined) return {};
  try {
    return { extra: JSON.parse(JSON.stringify(extra)) as Record<string, unknown> };
  } catch {
    return {};
  }
}
