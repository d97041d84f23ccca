// kafka-log's errors: stable codes, the retriable flag, and what each class adds, narrowed as callers narrow them.
import { expectTypeOf } from 'expect-type';
import {
  BodyParseError,
  type BodySide,
  CustomFieldError,
  DroppedError,
  type ErrorCode,
  ErrorCodes,
  InvalidOptionError,
  KafkaLogError,
  type OptionProblem,
  RegistryError,
  ResponseTooLargeError,
  SchemaMismatchError,
  SerializeError,
  TransportError,
  type TransportErrorKind,
  describeError,
} from 'kafka-log';

// Codes are literal constants of one family; callers compare against them, never against messages.
expectTypeOf(ErrorCodes.INVALID_OPTION).toEqualTypeOf<'KAFKA_LOG_ERR_INVALID_OPTION'>();
expectTypeOf(ErrorCodes.MISSING_DEPENDENCY).toEqualTypeOf<'KAFKA_LOG_ERR_MISSING_DEPENDENCY'>();
expectTypeOf<ErrorCode>().toExtend<`KAFKA_LOG_ERR_${string}`>();
expectTypeOf<(typeof ErrorCodes)[keyof typeof ErrorCodes]>().toEqualTypeOf<ErrorCode>();
expectTypeOf<'KAFKA_LOG_ERR_BODY_PARSE' | 'KAFKA_LOG_ERR_REGISTRY' | 'KAFKA_LOG_ERR_CLOSED'>().toExtend<ErrorCode>();
expectTypeOf<'KAFKA_LOG_ERR_UNKNOWN'>().not.toExtend<ErrorCode>();
// @ts-expect-error the constants are read-only
ErrorCodes.CLOSED = 'KAFKA_LOG_ERR_DROPPED';

const base = new KafkaLogError(ErrorCodes.TIMEOUT, 'flush timed out', { retriable: true, cause: new Error('slow') });
expectTypeOf(base).toExtend<Error>();
expectTypeOf(base.code).toEqualTypeOf<ErrorCode>();
expectTypeOf(base.retriable).toBeBoolean();
// @ts-expect-error codes are the stable set
new KafkaLogError('TIMEOUT', 'flush timed out');
// @ts-expect-error the code is read-only
base.code = ErrorCodes.BROKER;

// Every class is a KafkaLogError with its own facts.
for (const error of [
  new InvalidOptionError('topic', 'is required'),
  new BodyParseError('request', 'application/json', 'Unexpected token'),
  new CustomFieldError('request.tenant', 'threw'),
  new SerializeError('not a number'),
  new DroppedError('queue_full_bytes', 'dropped'),
  new RegistryError('unreachable', { retriable: true }),
  new ResponseTooLargeError('too large', 1024),
  new SchemaMismatchError('response.status', 'not an int'),
  new TransportError('timeout', 'no answer', true),
]) {
  expectTypeOf(error).toExtend<KafkaLogError>();
}

declare const caught: unknown;
if (caught instanceof InvalidOptionError) {
  expectTypeOf(caught.field).toBeString();
  expectTypeOf(caught.problem).toBeString();
  expectTypeOf(caught.problems).toEqualTypeOf<readonly OptionProblem[]>();
  expectTypeOf(caught.problems[0]?.field).toEqualTypeOf<string | undefined>();
} else if (caught instanceof BodyParseError) {
  expectTypeOf(caught.side).toEqualTypeOf<BodySide>();
  expectTypeOf(caught.mediaType).toBeString();
} else if (caught instanceof CustomFieldError) {
  expectTypeOf(caught.repeated).toBeBoolean();
} else if (caught instanceof RegistryError) {
  expectTypeOf(caught.status).toEqualTypeOf<number | undefined>();
  expectTypeOf(caught.registryErrorCode).toEqualTypeOf<number | undefined>();
} else if (caught instanceof ResponseTooLargeError) {
  expectTypeOf(caught.limitBytes).toBeNumber();
} else if (caught instanceof SchemaMismatchError) {
  expectTypeOf(caught.path).toBeString();
} else if (caught instanceof TransportError) {
  expectTypeOf(caught.kind).toEqualTypeOf<TransportErrorKind>();
} else if (caught instanceof KafkaLogError) {
  expectTypeOf(caught.code).toEqualTypeOf<ErrorCode>();
}

expectTypeOf(InvalidOptionError.of([{ field: 'a', problem: 'b' }])).toEqualTypeOf<InvalidOptionError>();
// @ts-expect-error a problem has a field and a problem
InvalidOptionError.of([{ field: 'a' }]);
// @ts-expect-error request or response
new BodyParseError('body', 'application/json', 'bad');
// @ts-expect-error the registry error says whether it is retriable
new RegistryError('unreachable', {});
expectTypeOf(describeError).parameter(0).toBeUnknown();
expectTypeOf(describeError(caught)).toBeString();
