// A TCP proxy on loopback in front of one real Kafka broker, which a test can cut off and bring back: the network
// between an app and its cluster failing, while the broker itself (shared with other test files) runs on.
//
// Kafka clients connect to the bootstrap address only to learn the cluster's brokers from a Metadata response, then
// connect to the addresses it advertises. So the proxy rewrites every broker address in Metadata responses to its
// own: the client's every connection goes through it. Other responses pass through unchanged.
//
// - `cut('reset')`: the broker unreachable as a stopped broker or a rejecting firewall makes it: every connection is
//   reset, and so is each new one until `restore()`.
// - `cut('silent')`: a network partition. Every connection stops carrying data both ways (nothing is closed or
//   reset: the client sees silence, as behind a dead link or a black-holed route), and new connections are accepted
//   and never answered. Connections frozen by it stay silent after `restore()` (a partition that heals does not
//   revive a socket the client gave up on); the client has to time them out and reconnect.
// - `restore()`: new connections reach the broker again.
// - `loseProduceAnswers(true)`: Produce requests reach the broker, which writes them, but each answer is lost with its
//   connection (the proxy closes it instead of passing the answer on): a broker that went away after writing, as the
//   client sees it. `loseProduceAnswers(false)` passes answers on again.
//
// Wire format: Kafka protocol guide (kafka.apache.org/protocol), Metadata request/response v0-v12: request header
// v1/v2 (api key, api version, correlation id first), response header v0 (correlation id) or v1 (plus tagged
// fields) from Metadata v9 (flexible versions: compact arrays and strings, tagged fields).
import * as net from 'node:net';
import { int16, int32, readUvarint, uvarint } from './kafka-wire.js';

const PRODUCE = 0;
const METADATA = 3;
const FIRST_FLEXIBLE_METADATA = 9;

/** A running proxy. */
export interface KafkaProxy {
  /** Its port on 127.0.0.1 (the bootstrap address to give the client). */
  port: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Connections accepted while cut. */
  readonly acceptedWhileCut: number;
  /** Bytes carried client to broker and back since start (frozen connections carry none). */
  readonly bytesCarried: number;
  /** Whether the link is cut. */
  readonly isCut: boolean;
  /** Produce answers lost (their connections closed) since start. */
  readonly produceAnswersLost: number;
  cut(mode: 'reset' | 'silent'): void;
  restore(): void;
  loseProduceAnswers(lose: boolean): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Skips the tagged fields at `offset` (flexible versions); returns the offset after them. */
function skipTaggedFields(buffer: Buffer, offset: number): number {
  let [count, at] = readUvarint(buffer, offset);
  for (; count > 0; count--) {
    [, at] = readUvarint(buffer, at); // tag
    let size: number;
    [size, at] = readUvarint(buffer, at);
    at += size;
  }
  return at;
}

/**
 * A Metadata response (the frame without its size prefix) with every broker's host and port replaced by
 * `127.0.0.1:port`.
 */
export function rewriteMetadata(frame: Buffer, version: number, port: number): Buffer {
  const flexible = version >= FIRST_FLEXIBLE_METADATA;
  let at = 4; // correlation id
  if (flexible) at = skipTaggedFields(frame, at);
  if (version >= 3) at += 4; // throttle_time_ms
  const head = frame.subarray(0, at);
  const host = Buffer.from('127.0.0.1');
  const brokers: Buffer[] = [];
  let count: number;
  if (flexible) {
    [count, at] = readUvarint(frame, at);
    count -= 1;
    brokers.push(uvarint(count + 1));
  } else {
    count = frame.readInt32BE(at);
    at += 4;
    brokers.push(int32(count));
  }
  for (let i = 0; i < count; i++) {
    const nodeId = frame.subarray(at, at + 4);
    at += 4;
    let hostLength: number;
    if (flexible) {
      [hostLength, at] = readUvarint(frame, at);
      hostLength -= 1;
    } else {
      hostLength = frame.readInt16BE(at);
      at += 2;
    }
    at += hostLength + 4; // host, port
    const restStart = at;
    if (version >= 1) {
      // rack: nullable string
      if (flexible) {
        const [length, next] = readUvarint(frame, at);
        at = next + Math.max(0, length - 1);
      } else {
        const length = frame.readInt16BE(at);
        at += 2 + Math.max(0, length);
      }
    }
    if (flexible) at = skipTaggedFields(frame, at);
    brokers.push(nodeId, flexible ? uvarint(host.length + 1) : int16(host.length), host, int32(port), frame.subarray(restStart, at));
  }
  return Buffer.concat([head, ...brokers, frame.subarray(at)]);
}

/** Splits a byte stream into size-prefixed Kafka frames (without the prefix). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

function sized(frame: Buffer): Buffer {
  return Buffer.concat([int32(frame.length), frame]);
}

/** Starts a proxy on a free port of 127.0.0.1 in front of `target` (`host:port` of a single-node cluster). */
export async function startKafkaProxy(target: string): Promise<KafkaProxy> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  let cut = false;
  let mode: 'reset' | 'silent' = 'reset';
  let accepted = 0;
  let acceptedWhileCut = 0;
  let bytesCarried = 0;
  let loseAnswers = false;
  let answersLost = 0;
  let port = 0;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    accepted += 1;
    track(client);
    if (cut) {
      acceptedWhileCut += 1;
      if (mode === 'reset') client.resetAndDestroy();
      else client.resume(); // read, never answer
      return;
    }
    // A link carries data until the next cut; frozen for good after it.
    const cutAtStart = cutEpoch;
    const live = () => !cut && cutEpoch === cutAtStart;
    const broker = net.connect(targetPort, targetHost);
    track(broker);
    const requests = new Map<number, number>(); // correlation id -> Metadata version
    const produces = new Set<number>(); // correlation ids of Produce requests
    const toBroker: Buffer[] = [];
    let connected = false;
    broker.on('connect', () => {
      connected = true;
      for (const chunk of toBroker.splice(0)) broker.write(chunk);
    });
    broker.on('close', () => client.destroy());
    client.on('close', () => broker.destroy());
    client.on(
      'data',
      framer((frame) => {
        if (!live()) return;
        if (frame.readInt16BE(0) === METADATA) requests.set(frame.readInt32BE(4), frame.readInt16BE(2));
        if (frame.readInt16BE(0) === PRODUCE) produces.add(frame.readInt32BE(4));
        const bytes = sized(frame);
        bytesCarried += bytes.length;
        if (connected) broker.write(bytes);
        else toBroker.push(bytes);
      }),
    );
    broker.on(
      'data',
      framer((frame) => {
        if (!live()) return;
        if (client.destroyed) return;
        const correlationId = frame.readInt32BE(0);
        if (produces.delete(correlationId) && loseAnswers) {
          answersLost += 1;
          client.destroy();
          return;
        }
        const metadataVersion = requests.get(correlationId);
        let out = frame;
        if (metadataVersion !== undefined) {
          requests.delete(correlationId);
          out = rewriteMetadata(frame, metadataVersion, port);
        }
        const bytes = sized(out);
        bytesCarried += bytes.length;
        client.write(bytes);
      }),
    );
  });
  let cutEpoch = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get acceptedWhileCut() {
      return acceptedWhileCut;
    },
    get bytesCarried() {
      return bytesCarried;
    },
    get isCut() {
      return cut;
    },
    get produceAnswersLost() {
      return answersLost;
    },
    loseProduceAnswers(lose) {
      loseAnswers = lose;
    },
    cut(how) {
      cut = true;
      mode = how;
      cutEpoch += 1;
      if (how === 'reset') for (const socket of sockets) socket.resetAndDestroy();
    },
    restore() {
      cut = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
