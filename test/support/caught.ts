// The error a promise rejects with (failing the test when it resolves), to assert on its fields.
import type { KafkaLogError } from '../../src/errors.js';

export async function caught(promise: Promise<unknown>): Promise<KafkaLogError> {
  try {
    await promise;
  } catch (error) {
    return error as KafkaLogError;
  }
  throw new Error('expected a rejection');
}
