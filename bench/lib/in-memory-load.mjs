// Load without a network: HTTP/1.1 requests written into node's HTTP server through in-memory connections (a
// Duplex per connection, handed to the server as its 'connection' event), at a fixed rate. node's own parser,
// request and response objects and the application run exactly as for a socket; what is left out is the kernel,
// the load generator and their noise. Each connection sends its next request once the previous response is
// complete (keep-alive, no pipelining), as autocannon does. The connections' own reading of the responses runs in
// the server process, the same for every variant: it cancels out of the differences to no logging.
import { Duplex } from 'node:stream';

const REQUEST = Buffer.from(
  'GET /users/42?fields=name HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\naccept: application/json\r\n' +
    'user-agent: kafka-log-bench\r\nx-request-id: bench-request\r\n\r\n',
);
const HEADER_END = '\r\n\r\n';
// Requests due are sent every 10 ms, in a burst: a timer per millisecond would wake the process more often than
// the requests do and add its own cost to every variant.
const TICK_MS = 10;

/** One client connection: counts the response's bytes from its Content-Length and reports when it is complete. */
class InMemoryConnection extends Duplex {
  constructor(onResponse) {
    super();
    this.onResponse = onResponse;
    this.remoteAddress = '127.0.0.1';
    this.remotePort = 50000;
    this.remoteFamily = 'IPv4';
    this.localAddress = '127.0.0.1';
    this.localPort = 8080;
    this.head = '';
    this.bodyLeft = -1;
  }

  send() {
    this.push(REQUEST);
  }

  _read() {}

  _write(chunk, _encoding, callback) {
    this.take(chunk);
    callback();
  }

  _writev(chunks, callback) {
    for (const { chunk } of chunks) this.take(chunk);
    callback();
  }

  /** Reads response bytes: the header block up to its blank line, then Content-Length bytes of body. */
  take(chunk) {
    let rest = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    while (rest.length > 0) {
      if (this.bodyLeft < 0) {
        this.head += rest;
        const end = this.head.indexOf(HEADER_END);
        if (end === -1) return;
        const length = /\r\ncontent-length: *(\d+)/i.exec(this.head.slice(0, end));
        if (length === null) throw new Error('in-memory load: a response without Content-Length');
        rest = this.head.slice(end + HEADER_END.length);
        this.head = '';
        this.bodyLeft = Number(length[1]);
      }
      const used = Math.min(this.bodyLeft, rest.length);
      this.bodyLeft -= used;
      rest = rest.slice(used);
      if (this.bodyLeft === 0) {
        this.bodyLeft = -1;
        this.onResponse(this);
      }
    }
  }

  setTimeout() {
    return this;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
}

/**
 * Feeds `requests` requests into `server` at `rate` per second over `connections` in-memory connections (rate 0:
 * each connection sends its next request once its response is complete); resolves with the number of responses
 * once every one is complete. A due request waits for a free connection.
 */
export function feedRequests(server, { requests, rate, connections = 32 }) {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = 0;
    const idle = [];
    const start = performance.now();
    const sendDue = () => {
      const due = rate > 0 ? Math.min(requests, Math.floor(((performance.now() - start) * rate) / 1000) + 1) : requests;
      while (sent < due && idle.length > 0) {
        sent++;
        idle.pop().send();
      }
    };
    const onResponse = (connection) => {
      answered++;
      idle.push(connection);
      // Unpaced: the connection's next request goes out once this response is complete.
      if (rate <= 0) setImmediate(sendDue);
      if (answered === requests) {
        clearInterval(timer);
        for (const each of pool) each.destroy();
        resolve(answered);
      }
    };
    const pool = Array.from({ length: connections }, () => new InMemoryConnection(onResponse));
    for (const connection of pool) {
      server.emit('connection', connection);
      idle.push(connection);
    }
    const timer = rate > 0 ? setInterval(sendDue, TICK_MS) : undefined;
    sendDue();
  });
}
