// A realistic API exchange for the entry benchmarks: 12 request headers, 8 response headers, a 1 KiB JSON body.
const items = [];
for (let i = 0; items.length === 0 || JSON.stringify({ order: 42, items }).length < 1000; i++) {
  items.push({ sku: `SKU-${1000 + i}`, name: `Item number ${i}`, qty: (i % 3) + 1, price: 9.99 + i });
}
const json = JSON.stringify({ order: 42, items }).slice(0, 1024);
export const requestBody = Buffer.from(JSON.stringify({ order: 42, items }));

/** Returns the exchange (fresh timings each call are not needed: the builder is pure). */
export function realisticExchange() {
  return {
    request: {
      method: 'POST',
      uri: '/api/v1/orders/42/items?expand=product&limit=20&debug',
      scheme: 'https',
      port: 8443,
      headers: [
        'Host', 'api.shop.test:8443',
        'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
        'Accept', 'application/json, text/plain, */*',
        'Accept-Language', 'en-GB,en;q=0.9,de;q=0.8',
        'Accept-Encoding', 'gzip, deflate, br, zstd',
        'Content-Type', 'application/json; charset=utf-8',
        'Content-Length', String(requestBody.length),
        'Authorization', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc',
        'X-Request-Id', '7f3c9a2e-1b4d-4e8f-9a6b-2c5d8e1f0a3b',
        'Traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'Cookie', 'session=abc123; theme=dark',
        'Cookie', 'ab_test=variant-b',
      ],
      body: { bytes: requestBody },
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', clientVerify: 'NONE' },
    },
    response: {
      status: 201,
      headers: [
        'Content-Type', 'application/json; charset=utf-8',
        'Content-Length', '512',
        'Date', 'Fri, 27 Nov 2026 01:00:00 GMT',
        'ETag', 'W/"200-1f2e3d4c"',
        'Cache-Control', 'no-store',
        'Vary', 'Accept-Encoding, Origin',
        'X-Response-Time', '11ms',
        'Connection', 'keep-alive',
      ],
      size: 740,
    },
    remoteAddress: '::ffff:198.51.100.23',
    timings: { startedAt: 1795000000123, total: 12.6, receive: 0.4, upstream: 10.9 },
    route: { path: '/api/v1/orders/:id/items' },
    requestId: '7f3c9a2e-1b4d-4e8f-9a6b-2c5d8e1f0a3b',
    traceIds: { w3c: '0af7651916cd43dd8448eb211c80319c' },
  };
}
export { json as sampleJson };
