// Support of the publisher's unit tests: small entries, a fake transport that records what it is asked to send and
// answers as told, and the accounting identity.
import type { LogEntry } from '../../src/entry/log-entry.js';
import type { KafkaLogPublisherOptions } from '../../src/publisher/publisher-options.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import type { PublisherStats } from '../../src/publisher/stats.js';
import type { ProduceRequest, Transport, TransportFactory } from '../../src/transport/transport.js';

export function entry(i: number, query: Record<string, string> = {}): LogEntry {
  return {
    request: {
      id: `req-${i}`,
      uri: `/items/${i}`,
      url: `http://svc:8080/items/${i}`,
      querystring: query,
      method: 'GET',
      headers: { host: 'svc:8080' },
      size: 80,
    },
    upstream_uri: `/items/${i}`,
    upstream_status: '200',
    response: { status: 200, headers: { 'content-type': 'application/json' }, size: 120 },
    latencies: { request: 3, proxy: 2, kong: 1, receive: 0 },
    client_ip: '127.0.0.1',
    started_at: 1_700_000_000_000 + i,
    source: 'upstream',
  };
}

/** A transport that records requests and answers as told. */
export class FakeTransport implements Transport {
  readonly requests: ProduceRequest[] = [];
  readonly calls: ProduceRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closed = false;
  answer: (request: ProduceRequest, call: number) => Promise<void> = () => Promise.resolve();
  async connect(): Promise<void> {}
  async produce(request: ProduceRequest): Promise<void> {
    this.calls.push(request);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.answer(request, this.calls.length);
      if (!this.requests.includes(request)) this.requests.push(request);
    } finally {
      this.inFlight -= 1;
    }
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  values(): string[] {
    return this.requests.flatMap((r) => r.records.map((m) => m.value.toString()));
  }
}

export function setup(options: Partial<KafkaLogPublisherOptions> = {}) {
  const fake = new FakeTransport();
  const factory: TransportFactory = () => fake;
  const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9'], topic: 'logs', transport: factory, ...options });
  return { fake, publisher };
}

export function balanced(s: PublisherStats): boolean {
  return s.accepted === s.sent + s.dropped.total + s.spooled + s.buffered + s.inFlight;
}
