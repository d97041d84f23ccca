// A small reverse proxy on node:http that logs like Kong: every request is forwarded to one upstream and
// logged with the real `upstream_uri`, `upstream_status` and `latencies.proxy` (the time the upstream took to
// answer with its response headers, measured here).
//
//   KAFKA_BROKERS=127.0.0.1:9092 KAFKA_TOPIC=gateway-logs UPSTREAM=http://127.0.0.1:3000 npm run example:gateway
//
// Also a module: `createGateway({ upstream, sink })` returns the (not yet listening) server.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { getExchangeCapture, withKafkaLog } from 'kafka-log/http';

// Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are not forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * @param {{ upstream: string, sink: import('kafka-log/http').LogSink, stripPrefix?: string } & Record<string, unknown>} options
 *   `upstream`: base URL of the upstream; `stripPrefix`: a path prefix removed before forwarding (like a
 *   Kong route with `strip_path`); the rest are kafka-log options.
 * @returns {http.Server}
 */
export function createGateway({ upstream, stripPrefix = '', ...logOptions }) {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });

  const proxy = (req, res) => {
    const capture = getExchangeCapture(req);
    const path = stripPrefix && req.url.startsWith(stripPrefix) ? req.url.slice(stripPrefix.length) || '/' : req.url;
    const upstreamUri = `${target.pathname.replace(/\/$/, '')}${path}`;
    const forwardedFor = req.headers['x-forwarded-for'];
    const client = req.socket.remoteAddress ?? '';
    const sentAt = performance.now();

    const upstreamRequest = http.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: upstreamUri,
        agent,
        headers: {
          ...forwardable(req.headers),
          host: target.host,
          'x-forwarded-for': forwardedFor ? `${forwardedFor}, ${client}` : client,
          'x-forwarded-proto': 'http',
          'x-forwarded-host': req.headers.host ?? '',
        },
      },
      (upstreamResponse) => {
        if (capture) {
          capture.upstream = { uri: upstreamUri, status: upstreamResponse.statusCode };
          capture.upstreamLatency = performance.now() - sentAt;
        }
        res.writeHead(upstreamResponse.statusCode ?? 502, forwardable(upstreamResponse.headers));
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on('error', () => {
      // The gateway answers itself: Kong's 502, `source: "kong"`, no upstream time.
      if (capture) {
        capture.upstream = { uri: upstreamUri };
        capture.clearUpstream();
        capture.source = 'kong';
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ message: 'An invalid response was received from the upstream server' }));
    });
    // If the client goes away, stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstreamRequest.destroy();
    });
    req.pipe(upstreamRequest);
  };

  const server = http.createServer(withKafkaLog(proxy, logOptions));
  server.on('close', () => agent.destroy());
  return server;
}

async function main() {
  const { KafkaLogPublisher } = await import('kafka-log');
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const publisher = new KafkaLogPublisher({ brokers, topic: process.env.KAFKA_TOPIC ?? 'kong-log' });
  const server = createGateway({ upstream: process.env.UPSTREAM ?? 'http://127.0.0.1:3000', sink: publisher });
  const port = Number(process.env.PORT ?? 8000);
  server.listen(port, '127.0.0.1', () => console.log(`gateway on http://127.0.0.1:${port} -> ${process.env.UPSTREAM ?? 'http://127.0.0.1:3000'}`));
  process.once('SIGTERM', () => {
    // Stop taking requests, let open ones finish, then deliver what is buffered.
    server.close(() => publisher.close().then(() => process.exit(0)));
    server.closeIdleConnections();
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
