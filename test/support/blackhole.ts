// A TCP server on loopback that accepts connections, reads them and never answers: a broker, registry or token
// endpoint that stopped answering (a frozen process, a partition behind a load balancer). `connections` holds the
// connections still open, so a test can see its client release them.
import * as net from 'node:net';

/** A running blackhole. */
export interface Blackhole {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Connections still open. */
  connections: ReadonlySet<net.Socket>;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a blackhole on a free port of 127.0.0.1. */
export async function startBlackhole(): Promise<Blackhole> {
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => connections.delete(socket));
    socket.resume(); // read, never answer
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
