// `kafka-log/nest`: KafkaLogModule.forRoot / forRootAsync give Nest dynamic modules; the interceptor is Nest's.
import type { DynamicModule, InjectionToken, NestInterceptor, OptionalFactoryDependency } from '@nestjs/common';
import { expectTypeOf } from 'expect-type';
import type { Request } from 'express';
import { KafkaLogPublisher } from 'kafka-log';
import {
  KAFKA_LOG_OPTIONS,
  type KafkaLogAdapterOptions,
  type KafkaLogInterceptor,
  KafkaLogModule,
  type KafkaLogNestAsyncOptions,
  type KafkaLogNestOptions,
} from 'kafka-log/nest';

const publisher = new KafkaLogPublisher({ brokers: ['127.0.0.1:9092'], topic: 'logs' });

expectTypeOf<KafkaLogNestOptions>().toEqualTypeOf<KafkaLogAdapterOptions<Request>>();
expectTypeOf(KafkaLogModule.forRoot({ sink: publisher, consumer: (req) => ({ id: String(req.ip) }) })).toEqualTypeOf<DynamicModule>();

// Options from a factory with injected providers, synchronous or not.
class ConfigService {
  get(key: 'LOG_BODIES'): boolean {
    return key === 'LOG_BODIES';
  }
}
const PUBLISHER = Symbol('publisher');
expectTypeOf(
  KafkaLogModule.forRootAsync({
    imports: [],
    inject: [ConfigService, PUBLISHER, { token: 'optional-token', optional: true }],
    useFactory: (config: ConfigService, sink: KafkaLogPublisher) => ({ sink, logRequestBody: config.get('LOG_BODIES') }),
  }),
).toEqualTypeOf<DynamicModule>();
KafkaLogModule.forRootAsync({ useFactory: async () => ({ sink: publisher }) });
expectTypeOf<KafkaLogNestAsyncOptions['inject']>().toEqualTypeOf<Array<InjectionToken | OptionalFactoryDependency> | undefined>();

// @ts-expect-error the factory must give options with a sink
KafkaLogModule.forRootAsync({ useFactory: () => ({ logRequestBody: true }) });
// @ts-expect-error a factory is required
KafkaLogModule.forRootAsync({ inject: [ConfigService] });
// @ts-expect-error hooks receive platform-express's Request
KafkaLogModule.forRoot({ sink: publisher, skip: (req: { raw: unknown }) => req.raw === undefined });
// @ts-expect-error forRoot takes the options themselves, not a factory
KafkaLogModule.forRoot({ useFactory: () => ({ sink: publisher }) });

expectTypeOf<KafkaLogInterceptor>().toExtend<NestInterceptor>();
expectTypeOf(KAFKA_LOG_OPTIONS).toBeSymbol();
expectTypeOf<typeof KAFKA_LOG_OPTIONS>().toExtend<InjectionToken>();
