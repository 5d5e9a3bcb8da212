// Provider errors, classified for Temporal: throttling retries after the provider's
// Retry-After, server errors retry with the activity's backoff, validation errors are
// non-retryable and surface on the object's conditions.
import { ApplicationFailure } from '@temporalio/activity';
import { SimNotFoundError, SimThrottledError, SimValidationError } from '../providers/sim/client.js';

export function classifyProviderError(err: unknown): never {
  if (err instanceof SimValidationError) {
    throw ApplicationFailure.create({ type: 'ProviderValidationError', message: err.message, nonRetryable: true, details: [{ code: err.code }] });
  }
  if (err instanceof SimThrottledError) {
    throw ApplicationFailure.create({ type: 'ProviderThrottled', message: err.message, nextRetryDelay: Math.max(err.retryAfterMs, 100) });
  }
  throw err;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof SimNotFoundError;
}

/** Calls the provider, classifying what it throws. */
export async function callProvider<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    classifyProviderError(err);
  }
}
