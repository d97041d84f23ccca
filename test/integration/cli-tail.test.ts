// `kafka-log tail` end to end: entries published to the local broker by the real publisher, read back by the
// built CLI as a child process.
import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildLogEntry } from '../../src/entry/build.js';
import type { LogEntry } from '../../src/entry/log-entry.js';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { exchangeFixture } from '../../src/testing/index.js';
import { lines, runCli } from './cli-support.js';
import { createTopics } from './publisher-support.js';

const { AssignerProtocol, Kafka, logLevel } = kafkajs;
const kafka = inject('kafka');
const brokers = kafka.brokers.join(',');
const client = new Kafka({ clientId: 'cli-tail-test', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
const admin = client.admin();
const run = randomUUID().slice(0, 8);
const topic = `cli-tail-${run}`;

// 6 entries: 3 as single messages, 3 in one batch message (a JSON array), plus one value that is not JSON.
const specs = [
  { method: 'GET', uri: '/orders/1', status: 200, total: 12, route: '/orders/:id' },
  { method: 'POST', uri: '/orders', status: 201, total: 150, route: '/orders' },
  { method: 'GET', uri: '/orders/2?expand=items', status: 503, total: 30, route: '/orders/:id' },
  { method: 'DELETE', uri: '/orders/3', status: 404, total: 5, route: '/orders/:id' },
  { method: 'POST', uri: '/orders', status: 500, total: 420, route: '/orders' },
  { method: 'GET', uri: '/health', status: 200, total: 1, route: '/health' },
];
const entries: LogEntry[] = specs.map((s, i) =>
  buildLogEntry(
    exchangeFixture({
      request: { method: s.method, uri: s.uri },
      response: { status: s.status },
      timings: { startedAt: Date.UTC(2024, 4, 1, 12, 0, i), total: s.total, upstream: 0 },
      route: { path: s.route },
    }),
  ),
);

async function publish(topicName: string, list: readonly LogEntry[], maxBatchSize: number): Promise<void> {
  const publisher = new KafkaLogPublisher({ brokers: kafka.brokers, topic: topicName, maxBatchSize, maxCoalescingDelay: 10_000 });
  for (const entry of list) publisher.publish(entry);
  await publisher.flush();
  await publisher.close();
  expect(publisher.stats().sent).toBe(list.length);
}

beforeAll(async () => {
  await admin.connect();
  await createTopics(kafka.brokers, [topic]);
  await publish(topic, entries.slice(0, 3), 1);
  const producer = client.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'not json at all' }] });
  await producer.disconnect();
  await publish(topic, entries.slice(3), 3);
});
afterAll(async () => {
  await admin.disconnect();
});

const tail = (...args: string[]) => runCli(['tail', '--brokers', brokers, '--topic', topic, '--no-follow', '--from-beginning', ...args]);

describe('kafka-log tail --no-follow --from-beginning', () => {
  it('prints one line per entry, batches unrolled, and reports the undecodable value on stderr', async () => {
    const result = await tail();
    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    expect(out).toHaveLength(6);
    expect(out[0]).toBe('2024-05-01T12:00:00.000Z GET 200 12ms /orders/1 10.1.2.3');
    expect(out[2]).toBe('2024-05-01T12:00:02.000Z GET 503 30ms /orders/2?expand=items 10.1.2.3');
    expect(out[5]).toBe('2024-05-01T12:00:05.000Z GET 200 1ms /health 10.1.2.3');
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stderr).toMatch(new RegExp(`${topic}/0@3: value is neither JSON nor registry-encoded`));
  });

  it('filters by status class, exact status and comparison', async () => {
    expect(lines((await tail('--status', '5xx')).stdout).map((l) => l.split(' ')[2])).toEqual(['503', '500']);
    expect(lines((await tail('--status', '404')).stdout).map((l) => l.split(' ')[4])).toEqual(['/orders/3']);
    expect(lines((await tail('--status', '>=400')).stdout)).toHaveLength(3);
  });

  it('filters by method, route and least latency', async () => {
    expect(lines((await tail('--method', 'post')).stdout).map((l) => l.split(' ')[3])).toEqual(['150ms', '420ms']);
    expect(lines((await tail('--route', '/orders/:id')).stdout)).toHaveLength(3);
    expect(lines((await tail('--min-latency', '100', '--method', 'POST', '--status', '5xx')).stdout)).toEqual([
      '2024-05-01T12:00:04.000Z POST 500 420ms /orders 10.1.2.3',
    ]);
  });

  it('prints raw entries with --json and stops after --max', async () => {
    const result = await tail('--json', '--max', '4');
    expect(result.code).toBe(0);
    const parsed = lines(result.stdout).map((l) => JSON.parse(l) as unknown);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(entries.slice(0, 4))));
  });

  it('without --from-beginning prints nothing and ends at once', async () => {
    const result = await runCli(['tail', '--brokers', brokers, '--topic', topic, '--no-follow']);
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });
});

/** Resolves once a `kafka-log tail` consumer group has a member assigned `topic` (polled, at most 60 s). */
async function assignedTo(topic: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { groups } = await admin.listGroups();
    const tails = groups.map((g) => g.groupId).filter((id) => id.startsWith('kafka-log-tail-'));
    if (tails.length > 0) {
      const described = await admin.describeGroups(tails);
      const assigned = described.groups.some((group) =>
        group.members.some((member) => {
          if (member.memberAssignment.length === 0) return false;
          const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
          return (decoded?.assignment[topic] ?? []).length > 0;
        }),
      );
      if (assigned) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no kafka-log tail consumer was assigned ${topic} within 60 s`);
}

describe('kafka-log tail (following)', () => {
  it('prints entries published after it started, until --max', async () => {
    const live = `cli-tail-live-${run}`;
    await createTopics(kafka.brokers, [live], 2);
    const running = runCli(['tail', '--brokers', brokers, '--topic', live, '--max', '2', '--status', '5xx'], { timeoutMs: 60_000 });
    let finished = false;
    void running.then(() => {
      finished = true;
    });
    // Publish once the tail's consumer was assigned the topic (it starts at the end offsets, resolved right after).
    await assignedTo(live);
    // Each round holds one matching entry; a round published in the moment before the consumer resolved where to
    // start is not seen, so rounds go on (each awaiting the tail's exit for a second) until it has seen two.
    for (let i = 0; i < 20 && !finished; i++) {
      await publish(live, [entries[0] as LogEntry, entries[2] as LogEntry], 1);
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    const result = await running;
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      '2024-05-01T12:00:02.000Z GET 503 30ms /orders/2?expand=items 10.1.2.3',
      '2024-05-01T12:00:02.000Z GET 503 30ms /orders/2?expand=items 10.1.2.3',
    ]);
  });
});

describe('kafka-log tail with hostile topic data', () => {
  // Anyone who can send a request writes the method, URI and headers kafka-log logs: a terminal must not act on them.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the test.
  const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
  const hostile = {
    started_at: Date.UTC(2024, 4, 1, 12),
    request: { method: 'GET\u001b[2J\u001b[H', uri: '/a\rfake line\u009b31m\u0007/café/日本?q=🎉', headers: { 'x-note': 'a\u2028b' } },
    response: { status: 200 },
    latencies: { request: 7 },
    client_ip: '10.0.0.9\u001b]0;pwned\u0007',
  };
  const hostileTopic = `cli-tail-hostile-${run}`;
  beforeAll(async () => {
    await createTopics(kafka.brokers, [hostileTopic]);
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: hostileTopic, messages: [{ value: JSON.stringify(hostile) }, { value: '\u001b[31mnot json' }] });
    await producer.disconnect();
  });
  const read = (...args: string[]) => runCli(['tail', '--brokers', brokers, '--topic', hostileTopic, '--no-follow', '--from-beginning', ...args]);

  it('text: control characters shown as visible escapes, Unicode kept, one line per entry', async () => {
    const result = await read();
    expect(result.code).toBe(0);
    expect(CONTROLS.test(result.stdout)).toBe(false);
    expect(CONTROLS.test(result.stderr)).toBe(false);
    expect(lines(result.stdout)).toEqual([
      '2024-05-01T12:00:00.000Z GET\\x1b[2J\\x1b[H 200 7ms /a\\x0dfake line\\x9b31m\\x07/café/日本?q=🎉 10.0.0.9\\x1b]0;pwned\\x07',
    ]);
  });

  it('--json: the same entry back, with no raw control character, line or paragraph separator', async () => {
    const result = await read('--json');
    expect(result.code).toBe(0);
    expect(CONTROLS.test(result.stdout)).toBe(false);
    expect(lines(result.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([hostile]);
  });
});

describe('kafka-log tail errors', () => {
  it('names the brokers it cannot reach, within a few seconds', async () => {
    const result = await runCli(['tail', '--brokers', '127.0.0.1:1', '--topic', topic, '--connect-timeout', '1000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot connect to Kafka at 127.0.0.1:1');
    expect(result.ms).toBeLessThan(10_000);
  });

  it('gives up on a broker that accepts connections but never answers, within the connect timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const result = await runCli(['tail', '--brokers', `127.0.0.1:${port}`, '--topic', topic, '--connect-timeout', '1500']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`Kafka at 127.0.0.1:${port} did not answer within 1500 ms`);
      expect(result.ms).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });

  it('says the topic does not exist, and does not create it', async () => {
    const missing = `cli-tail-missing-${run}`;
    const result = await runCli(['tail', '--brokers', brokers, '--topic', missing, '--no-follow']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`topic "${missing}" does not exist`);
    expect(await admin.listTopics()).not.toContain(missing);
  });

  it('exits 2 with the usage on a bad flag', async () => {
    const result = await runCli(['tail', '--brokers', brokers, '--topic', topic, '--status', 'teapot']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--status must be like 5xx');
    expect(result.stderr).toContain('Usage: kafka-log tail');
  });
});
