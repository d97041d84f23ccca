// A publisher on kafkajs that has delivered and then waits for traffic leaves the process asleep: kafkajs 2.2.4
// alone re-arms a 1 ms timer on every connection that has had an answer (about 300 checks of its request queue in
// the 300 ms below, per connection); with kafka-log's guard no check runs until something is queued or answered.
import { createRequire } from 'node:module';
import { describe, expect, inject, it } from 'vitest';
import { KafkaLogPublisher } from '../../src/publisher/publisher.js';
import { createTopics, publishRealistic, readTopic, uniqueTopic } from './publisher-support.js';

const brokers = inject('kafka').brokers;
const require = createRequire(__filename);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: { checkPendingRequests(): void } };

describe('an idle publisher on kafkajs', () => {
  it('delivers, then runs no request-queue check while nothing is sent', async () => {
    const topic = uniqueTopic('pub-idle');
    await createTopics(brokers, [topic]);
    const publisher = new KafkaLogPublisher({ transport: 'kafkajs', brokers, topic, logLevel: 'silent' });
    await publisher.connect();
    const expected = publishRealistic(publisher, 20);
    await publisher.flush();
    const messages = await readTopic({ brokers }, topic, 20);
    expect(new Set(messages.map((m) => m.value))).toEqual(expected);

    const prototype = RequestQueue.prototype;
    const check = prototype.checkPendingRequests;
    let checks = 0;
    prototype.checkPendingRequests = function counted(this: unknown) {
      checks += 1;
      check.call(this);
    };
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      prototype.checkPendingRequests = check;
    }
    expect(checks).toBe(0);

    // Still a working publisher afterwards: the next entries go out at once on flush().
    publishRealistic(publisher, 5);
    await publisher.flush();
    await publisher.close();
    expect(publisher.stats()).toMatchObject({ accepted: 25, sent: 25, dropped: { total: 0 } });
  });
});
