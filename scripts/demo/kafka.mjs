// Kafka for the demo: the cluster named by KAFKA_BROKERS, or the project's local broker; the topic; a reader.
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

/**
 * The brokers to use. With KAFKA_BROKERS set, that cluster; otherwise the project's local broker, started when
 * it is not running (`started` then says the demo must stop it).
 */
export async function resolveBrokers(log) {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) return { brokers: fromEnv.split(',').map((b) => b.trim()), started: false, local: false };
  const { ensureKafka } = await import('../local-kafka.mjs');
  const info = await ensureKafka({ log });
  return { brokers: info.brokers, started: info.started, local: true };
}

/** Stops the local broker (only called when the demo started it). */
export async function stopLocalBroker() {
  const { stopKafka } = await import('../local-kafka.mjs');
  await stopKafka({ log: false });
}

/** A kafkajs client whose own logger is silent: the demo reports what matters itself. */
export function demoClient(brokers) {
  return new Kafka({ clientId: 'kafka-log-demo', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 5_000 });
}

/**
 * Creates the topic (one partition) when missing. Returns a note when it could not (no permission, say): the
 * topic may still exist or be auto-created.
 */
export async function ensureTopic(client, topic) {
  const admin = client.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    return created ? 'created' : 'exists';
  } catch (error) {
    return `not created (${error.message}); relying on an existing or auto-created topic`;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The end offset of each partition. A topic created a moment ago may not have a leader yet ("not the leader"),
 * so this retries for a while.
 */
async function topicEnds(client, topic, timeoutMs = 15_000) {
  const admin = client.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        return await admin.fetchTopicOffsets(topic);
      } catch (error) {
        if (!error.retriable || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts reading the topic from its current end, keeping the entries whose `request.id` starts with `runId`
 * (older runs' entries on the same topic are skipped). Batch messages (JSON arrays) are unrolled.
 */
export async function startReader(client, topic, runId) {
  const ends = await topicEnds(client, topic);

  const byId = new Map(); // keyed by request id: a seek may deliver a message twice
  let wake = () => undefined;
  // No committed offsets: each run reads with a fresh group and leaves nothing behind on the cluster.
  const consumer = client.consumer({ groupId: `kafka-log-demo-${runId}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Once in the group, skip what the topic held before this run (the run-id filter covers the moments before).
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const { partition, offset } of ends) {
      try {
        consumer.seek({ topic, partition, offset });
      } catch {
        // Reading from the beginning instead is slower, never wrong.
      }
    }
  });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ message }) => {
      let parsed;
      try {
        parsed = JSON.parse(message.value?.toString('utf8') ?? 'null');
      } catch {
        return; // not a kafka-log entry: someone else writes to this topic too
      }
      for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
        if (typeof entry?.request?.id === 'string' && entry.request.id.startsWith(`${runId}-`)) byId.set(entry.request.id, entry);
      }
      wake();
    },
  });

  return {
    /** This run's entries so far. */
    entries: () => [...byId.values()],
    /** Resolves once `count` entries arrived; rejects after `timeoutMs`. */
    async waitFor(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (byId.size < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${byId.size} of ${count} entries arrived within ${timeoutMs / 1000} s`);
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(left, 250));
        });
      }
      return [...byId.values()];
    },
    close: () => consumer.disconnect(),
  };
}
