// Both transports read Kafka's protocol errors from one table: the same Kafka error is the same failure kind
// whichever client reported it.
import { describe, expect, it } from 'vitest';
import { kafkaErrorKind } from '../../src/transport/kafka-errors.js';
import { classifyKafkajsError } from '../../src/transport/kafkajs.js';
import { classifyPlatformaticError } from '../../src/transport/platformatic-errors.js';

const NAMED = [
  ['SASL_AUTHENTICATION_FAILED', 'authentication'],
  ['TOPIC_AUTHORIZATION_FAILED', 'authentication'],
  ['DELEGATION_TOKEN_AUTHORIZATION_FAILED', 'authentication'],
  ['MESSAGE_TOO_LARGE', 'message_too_large'],
  ['RECORD_LIST_TOO_LARGE', 'message_too_large'],
  ['INVALID_RECORD', 'message_too_large'],
  ['NOT_LEADER_OR_FOLLOWER', 'broker'],
  ['UNKNOWN_TOPIC_OR_PARTITION', 'broker'],
] as const;

describe('one Kafka error table for both transports', () => {
  it.each(NAMED)('%s is "%s" from kafkajs and from @platformatic/kafka', (name, kind) => {
    const fromKafkajs = Object.assign(new Error(`kafkajs: ${name}`), { name: 'KafkaJSProtocolError', type: name, retriable: kind === 'broker' });
    const fromPlatformatic = Object.assign(new Error(`platformatic: ${name}`), { name: 'ProtocolError', apiId: name, canRetry: kind === 'broker' });
    expect(classifyKafkajsError(fromKafkajs).kind).toBe(kind);
    expect(classifyPlatformaticError(fromPlatformatic).kind).toBe(kind);
  });

  it('knows the errors by Kafka name and by numeric code alike', () => {
    expect(kafkaErrorKind('MESSAGE_TOO_LARGE')).toBe('message_too_large');
    expect(kafkaErrorKind(10)).toBe('message_too_large');
    expect(kafkaErrorKind(58)).toBe('authentication');
    expect(kafkaErrorKind(6)).toBeUndefined(); // NOT_LEADER_OR_FOLLOWER: retried
    expect(kafkaErrorKind(undefined)).toBeUndefined();
  });
});
