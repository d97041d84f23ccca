// A hostile Kafka "broker" on loopback that speaks just enough of the protocol for a client to reach SASL
// authentication (ApiVersions, SaslHandshake, SaslAuthenticate), then refuses every SaslAuthenticate with
// SASL_AUTHENTICATION_FAILED and an error message that quotes the client's authentication bytes back: the PLAIN
// password or the OAUTHBEARER token, as a careless proxy or broker plugin might. Both clients put that message
// into their errors, so it proves kafka-log removes secrets that come from a dependency's error.
//
// Wire format: Kafka protocol guide (kafka.apache.org/protocol). Versions served: ApiVersions v0-v2 (kafkajs),
// SaslHandshake v0-v1, SaslAuthenticate v0 (kafkajs) and v2 (@platformatic/kafka, flexible encoding).
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { int16, int32, uvarint } from './kafka-wire.js';

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const SASL_AUTHENTICATION_FAILED = 58;
const UNSUPPORTED_VERSION = 35;

function string16(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([int16(body.length), body]);
}

function answer(apiKey: number, version: number, correlationId: number, echo: string): Buffer {
  const flexible = apiKey === SASL_AUTHENTICATE && version >= 2;
  // Response header v1 (flexible) ends with an empty tag buffer; ApiVersions always answers with header v0.
  const header = flexible ? Buffer.concat([int32(correlationId), uvarint(0)]) : int32(correlationId);
  let body: Buffer;
  if (apiKey === API_VERSIONS) {
    if (version > 2) body = Buffer.concat([int16(UNSUPPORTED_VERSION), int32(0)]);
    else {
      const apis = [
        [API_VERSIONS, 0, 2],
        [SASL_HANDSHAKE, 0, 1],
        [SASL_AUTHENTICATE, 0, 0],
      ];
      body = Buffer.concat([int16(0), int32(apis.length), ...apis.map(([k, min, max]) => Buffer.concat([int16(k as number), int16(min as number), int16(max as number)])), ...(version >= 1 ? [int32(0)] : [])]);
    }
  } else if (apiKey === SASL_HANDSHAKE) {
    const mechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];
    body = Buffer.concat([int16(0), int32(mechanisms.length), ...mechanisms.map(string16)]);
  } else if (flexible) {
    const message = Buffer.from(`refused: ${echo}`, 'utf8');
    body = Buffer.concat([int16(SASL_AUTHENTICATION_FAILED), uvarint(message.length + 1), message, uvarint(1), Buffer.alloc(8), uvarint(0)]);
  } else {
    body = Buffer.concat([int16(SASL_AUTHENTICATION_FAILED), string16(`refused: ${echo}`), int32(0)]);
  }
  const frame = Buffer.concat([header, body]);
  return Buffer.concat([int32(frame.length), frame]);
}

/** Starts the broker on 127.0.0.1; `address` is `127.0.0.1:port`; `echoed` counts the refusals that quoted bytes. */
export async function startEchoingBroker(): Promise<{ address: string; readonly echoed: number; close(): Promise<void> }> {
  const state = { echoed: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        const apiKey = frame.readInt16BE(0);
        const version = frame.readInt16BE(2);
        const correlationId = frame.readInt32BE(4);
        // Everything after the fixed header fields, client id included: the auth bytes are in there, raw.
        const echo = frame.subarray(8).toString('utf8');
        if (apiKey === SASL_AUTHENTICATE) state.echoed += 1;
        socket.write(answer(apiKey, version, correlationId, echo));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    get echoed() {
      return state.echoed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
