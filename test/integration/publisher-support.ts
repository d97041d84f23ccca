// Helpers of the publisher's integration tests: realistic entries, unique topics, reading a topic back.
import { randomUUID } from 'node:crypto';
import { type Admin, type IHeaders, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { registerKafkajsCodec } from '../../src/transport/kafkajs.js';

/** A realistic Kong entry of about 1.4 KB. */
export function realisticEntry(i: number, query: Record<string, string> = {}): LogEntry {
  return {
    request: {
      id: `7f9c2ba4e88f827d616045507605853e-${i}`,
      uri: `/api/v2/orders/${i}?expand=items&currency=EUR`,
      url: `https://shop.example.internal:8443/api/v2/orders/${i}?expand=items&currency=EUR`,
      querystring: { expand: 'items', currency: 'EUR', ...query },
      method: 'GET',
      headers: {
        host: 'shop.example.internal:8443',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
        accept: 'application/json, text/plain, */*',
        'accept-language': 'en-GB,en;q=0.9,de;q=0.8',
        'accept-encoding': 'gzip, deflate, br',
        authorization: 'REDACTED',
        'x-request-id': `7f9c2ba4e88f827d616045507605853e-${i}`,
        'x-forwarded-for': '203.0.113.7, 10.0.0.12',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        cookie: 'session=abc; theme=dark',
      },
      size: 734,
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', client_verify: 'NONE' },
    },
    upstream_uri: `/orders/${i}?expand=items&currency=EUR`,
    upstream_status: '200',
    response: {
      status: 200,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': '2841',
        'cache-control': 'no-store',
        'x-kong-upstream-latency': '12',
        'x-kong-proxy-latency': '1',
        via: '1.1 kong/3.16.0',
        date: 'Tue, 14 May 2024 10:12:03 GMT',
      },
      size: 3120,
    },
    latencies: { request: 14, proxy: 12, kong: 1, receive: 0 },
    tries: [{ ip: '10.0.3.17', port: 8080, balancer_latency: 0, balancer_start: 1_715_681_523_000 + i }],
    authenticated_entity: { id: 'c2a0b1d4-8f0e-4a57-9d0b-3b8c6a2f1e11', consumer_id: '0f5b7c4e-2d9a-4e1b-8c3d-6a7b8c9d0e1f' },
    route: { id: '9b1d3c2e-aaaa-4bbb-8ccc-dddddddddddd', name: 'orders-read', paths: ['/api/v2/orders'] },
    service: { id: '1a2b3c4d-eeee-4fff-8000-111111111111', name: 'orders', host: 'orders.svc', port: 8080 },
    consumer: { id: '0f5b7c4e-2d9a-4e1b-8c3d-6a7b8c9d0e1f', username: 'web-frontend' },
    client_ip: '203.0.113.7',
    started_at: 1_715_681_523_000 + i,
    source: 'upstream',
    workspace: '0dc6f45b-8f8d-40d2-a504-473544ee190b',
    workspace_name: 'default',
  };
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Creates topics on a plaintext bootstrap list, with topic configs (e.g. `max.message.bytes`) when given, and waits (polling metadata, at most 30 s) until every partition
 * has a leader. Not kafkajs' `waitForLeaders`: on a busy machine its metadata request can fail with "This server
 * does not host this topic-partition" while the topic is still being created.
 */
export async function createTopics(brokers: string[], topics: string[], numPartitions = 1, config: Record<string, string> = {}): Promise<void> {
  const admin: Admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions, configEntries })), waitForLeaders: false });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
      const led = metadata?.topics.every((t) => t.partitions.length === numPartitions && t.partitions.every((p) => p.leader >= 0));
      if (led) return;
      if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')}: no leader for every partition within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** One message read back. */
export interface ReadMessage {
  topic: string;
  partition: number;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/**
 * Reads `topic` from the beginning until at least `count` messages arrived and every partition is read up to its
 * end offset as it stands then: the topic's whole content, so a message written twice shows twice (no fixed
 * sleep to wait for late duplicates), and a record the consumer is handed again after a rebalance shows once. Gives up after `timeoutMs` with what arrived. Codecs are registered so
 * compressed batches decode.
 */
export async function readTopic(config: KafkaConfig, topic: string, count: number, { timeoutMs = 30_000 } = {}): Promise<ReadMessage[]> {
  await Promise.all((['snappy', 'lz4', 'zstd'] as const).map((c) => registerKafkajsCodec(c)));
  const kafka = new Kafka({ ...config, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const admin = kafka.admin();
  const messages: ReadMessage[] = [];
  /** Next offset to read, per partition. */
  const next = new Map<number, number>();
  /** End offsets, fetched once `count` messages arrived. */
  let ends: Promise<Map<number, number>> | undefined;
  await Promise.all([consumer.connect(), admin.connect()]);
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => {
      done = resolve;
    });
    const readToEnd = async () => {
      ends ??= admin.fetchTopicOffsets(topic).then((offsets) => new Map(offsets.map((o) => [o.partition, Number(o.high)])));
      const end = await ends;
      if ([...end].every(([partition, high]) => (next.get(partition) ?? 0) >= high)) done();
    };
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        // A rebalance may hand a partition over again before its offsets were committed: a record already read
        // (same partition and offset) is the same record, not a duplicate in the topic.
        if (Number(message.offset) < (next.get(partition) ?? 0)) return;
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? ({} as IHeaders))) headers[name] = String(value);
        messages.push({
          topic: t,
          partition,
          key: message.key === null ? null : message.key.toString(),
          value: message.value?.toString() ?? '',
          headers,
        });
        next.set(partition, Number(message.offset) + 1);
        if (messages.length >= count) await readToEnd();
      },
    });
    if (count === 0) await readToEnd();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([enough, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  } finally {
    await Promise.all([consumer.disconnect(), admin.disconnect()]);
  }
  return messages;
}
