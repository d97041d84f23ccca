// The logger option takes pino, console and a plain (fields, message) / (message) object as they are.
import { expectTypeOf } from 'expect-type';
import { KafkaLogPublisher, type KafkaLogPublisherOptions, type PublisherLogger } from 'kafka-log';
import pino from 'pino';

expectTypeOf(pino()).toMatchTypeOf<PublisherLogger>();
expectTypeOf(pino().child({ component: 'kafka-log' })).toMatchTypeOf<PublisherLogger>();
expectTypeOf(console).toMatchTypeOf<PublisherLogger>();

const plain: PublisherLogger = {
  error: (fieldsOrMessage: Record<string, unknown> | string, message?: string) => void [fieldsOrMessage, message],
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
void plain;

expectTypeOf<false>().toMatchTypeOf<KafkaLogPublisherOptions['logger']>();
new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', logger: pino() });
new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', logger: console });
new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', logger: false });
// @ts-expect-error a logger needs the four levels
new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 't', logger: { warn: () => undefined } });
