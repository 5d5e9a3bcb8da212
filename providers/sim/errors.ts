// Errors of the simulated cloud, classified the way an activity needs them: throttling and
// server faults are worth retrying (Temporal's retry policy does it), validation errors and
// missing objects are not.

export interface SimCloudErrorOptions {
  code: string;
  status?: number;
  field?: string;
  cause?: unknown;
}

export abstract class SimCloudError extends Error {
  /** The cloud's error code (`RequestLimitExceeded`, `InvalidParameterValue`, …) or a transport code. */
  readonly code: string;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  abstract readonly retryable: boolean;

  constructor(message: string, options: SimCloudErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.status = options.status;
  }
}

/** 429: slow down and try again after `retryAfterMs`. */
export class SimThrottledError extends SimCloudError {
  override readonly name = 'SimThrottledError';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options: SimCloudErrorOptions,
  ) {
    super(message, options);
  }
}

/** 5xx, a refused or reset connection, a timed-out request: the request may or may not have been done. */
export class SimServerError extends SimCloudError {
  override readonly name = 'SimServerError';
  readonly retryable = true;
}

/** 400 / 409: the request itself is wrong; repeating it gives the same answer. */
export class SimValidationError extends SimCloudError {
  override readonly name = 'SimValidationError';
  readonly retryable = false;
  readonly field: string | undefined;
  constructor(message: string, options: SimCloudErrorOptions) {
    super(message, options);
    this.field = options.field;
  }
}

/** 404: no such object (or endpoint). */
export class SimNotFoundError extends SimCloudError {
  override readonly name = 'SimNotFoundError';
  readonly retryable = false;
}

/** Server side: thrown by the cloud's handlers, rendered as `{ error: { code, message, field? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function invalidParameter(field: string, message: string): ApiError {
  return new ApiError(400, 'InvalidParameterValue', `${field}: ${message}`, field);
}
