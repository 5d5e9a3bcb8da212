// Every activity error, classified in one place. An activity failure is either retryable
// (Temporal retries it; after a few attempts the workflow writes the reason into the object's
// condition message) or a non-retryable ApplicationFailure whose type becomes the condition's
// reason. `classifyError` turns anything an activity throws into one of the types below, and
// `classifiedActivities` applies it to every activity the worker registers, so no plain
// Error ever reaches Temporal unclassified.
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { ApiException } from '@kubernetes/client-node';
import { SimNotFoundError, SimServerError, SimThrottledError, SimValidationError } from '../providers/sim/client.js';

/** The table: every failure type an activity can end with, and whether a retry can help. */
export const ERROR_TYPES = {
  /** The cloud asks us to slow down; retried after its Retry-After. */
  ProviderThrottled: { retryable: true, when: 'the cloud answered 429 (throttled)' },
  /** The cloud answered 5xx or could not be reached. */
  ProviderUnavailable: { retryable: true, when: 'the cloud answered 5xx, timed out or refused the connection' },
  /** The cloud refused the request as invalid: the spec must change. */
  ProviderValidationError: { retryable: false, when: 'the cloud refused the request as invalid (4xx)' },
  /** The cloud has no such object, and the step cannot do without it. */
  ProviderNotFound: { retryable: false, when: 'the cloud answered 404 for an object the step needs' },
  /** The instance died before it ran (killed, failed to boot). */
  InstanceTerminated: { retryable: false, when: 'the instance terminated before it ran' },
  /** A secret the activity needs (CA, kubeconfig) is not in the store (yet). */
  SecretNotFound: { retryable: true, when: 'a secret the step needs is not in the secret store' },
  /** A machine's bootstrap data vanished after it was rendered: nothing re-renders it. */
  BootstrapDataMissing: { retryable: false, when: "a machine's bootstrap data secret was deleted before its instance was created" },
  /** A secret is there but its content does not parse (a user-supplied CA that is not PEM, a broken kubeconfig). */
  MalformedSecret: { retryable: false, when: 'a stored secret does not parse (PEM, kubeconfig)' },
  /** The workload cluster's API cannot be reached or answers 5xx. */
  WorkloadAPIUnavailable: { retryable: true, when: "the workload cluster's API refused the connection, timed out or answered 5xx" },
  /** The workload cluster's API refused our credentials (401/403): RBAC or a rotated CA may be fixed. */
  WorkloadAPIForbidden: { retryable: true, when: "the workload cluster's API answered 401 or 403" },
  /** The workload cluster's API refused an object we sent as invalid (400/422): a bug or a bad spec. */
  WorkloadAPIRejected: { retryable: false, when: "the workload cluster's API refused an object as invalid (400, 422)" },
  /** The object's spec cannot be acted on (e.g. a control-plane machine without a version). */
  InvalidConfiguration: { retryable: false, when: 'the spec given to the step cannot be acted on' },
  /** External remediation needs a management cluster, and this worker has none. */
  ManagementClusterRequired: { retryable: false, when: 'a step needs the management cluster (external remediation) and the worker has no CAPSTAN_MANAGEMENT_KUBECONFIG' },
  /** The management cluster refused a remediation request or its template (missing, not served, invalid). */
  RemediationRequestRefused: { retryable: false, when: 'the management cluster refused a remediation request or has no such template (4xx)' },
  /** Anything else: a bug or an environment problem a redeploy may fix; retried, reason shown. */
  Unexpected: { retryable: true, when: 'any other error' },
} as const satisfies Record<string, { retryable: boolean; when: string }>;

export type ErrorType = keyof typeof ERROR_TYPES;

/** An ApplicationFailure of one of the table's types, retryable as the table says. */
export function failure(type: ErrorType, message: string, extra: { nextRetryDelay?: number; details?: unknown[] } = {}): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: !ERROR_TYPES[type].retryable, ...extra });
}

export const secretNotFound = (namespace: string, name: string, why?: string) =>
  failure('SecretNotFound', `secret ${namespace}/${name} not found${why ? `: ${why}` : ''}`);

export const malformedSecret = (namespace: string, name: string, why: string) =>
  failure('MalformedSecret', `secret ${namespace}/${name} is malformed: ${why}`);

// Node's network errors: the peer is not there (yet), or went away.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT']);

/** The network error code of err or its cause chain, if any. */
export function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; name?: string } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
    if (e.name === 'TimeoutError') return 'ETIMEDOUT';
  }
  return undefined;
}

/** A short, secret-free description of an error for a condition message or a heartbeat. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}${apiReason(err) ? ` ${apiReason(err)}` : ''}`;
  const code = networkCode(err);
  if (code) return code;
  return (err as { message?: string })?.message ?? String(err);
}

function apiReason(err: ApiException<unknown>): string | undefined {
  const body = err.body as { message?: string } | string | undefined;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message;
    } catch {
      return undefined;
    }
  }
  return body?.message;
}

/** Classifies anything an activity throws. ApplicationFailures (already classified) pass through. */
export function classifyError(err: unknown): ApplicationFailure | CancelledFailure {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (err instanceof SimThrottledError) return failure('ProviderThrottled', err.message, { nextRetryDelay: Math.max(err.retryAfterMs, 100) });
  if (err instanceof SimValidationError) return failure('ProviderValidationError', err.message, { details: [{ code: err.code }] });
  if (err instanceof SimServerError) return failure('ProviderUnavailable', err.message);
  if (err instanceof SimNotFoundError) return failure('ProviderNotFound', err.message);
  if (err instanceof ApiException) {
    const what = `workload API: ${describeError(err)}`;
    if (err.code >= 500 || err.code === 429) return failure('WorkloadAPIUnavailable', what);
    if (err.code === 401 || err.code === 403) return failure('WorkloadAPIForbidden', what);
    if (err.code === 400 || err.code === 422) return failure('WorkloadAPIRejected', what);
    return failure('Unexpected', what);
  }
  // The cloud's client wraps its transport errors (SimServerError); a bare network error comes
  // from a workload cluster's client.
  if (networkCode(err)) return failure('WorkloadAPIUnavailable', `workload API: ${describeError(err)}`);
  const e = err as Error;
  return failure('Unexpected', `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
}

/**
 * Calls the cloud: throttling, server errors and validation errors leave classified; a
 * SimNotFoundError stays as it is for the caller to decide (gone may mean done).
 */
export async function callProvider<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SimNotFoundError) throw err;
    throw classifyError(err);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof SimNotFoundError;
}

type AnyActivity = (...args: never[]) => Promise<unknown>;

/**
 * Wraps every activity so that whatever it throws leaves classified. A cancellation (the
 * object was deleted while it waited) stays a cancellation.
 */
export function classifiedActivities<T extends Record<string, AnyActivity>>(activities: T): T {
  const out: Record<string, AnyActivity> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (cancelled()) throw err;
        throw classifyError(err);
      }
    };
  }
  return out as T;
}

function cancelled(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false; // called outside an activity (a test)
  }
}

/** The details of a failure that ends a wait on a failing workload API (waitTrouble). */
export interface FailingSinceDetails {
  /** When the workload API last answered, as far as this worker knows: when it started failing (ISO 8601). */
  failingSince: string;
}

/** The failingSince of a failure's details (FailingSinceDetails), when it has one. */
export function failingSinceOf(details: unknown): string | undefined {
  const first: unknown = Array.isArray(details) ? details[0] : undefined;
  const since = first && typeof first === 'object' ? (first as { failingSince?: unknown }).failingSince : undefined;
  return typeof since === 'string' && !Number.isNaN(Date.parse(since)) ? since : undefined;
}

/**
 * A wait's view of a workload API that has been failing since `since`: a non-retryable failure
 * ends the wait at once; a retryable one (not answering, 5xx, 403) is part of waiting until it
 * has lasted `graceMs`, and then fails the attempt with how long it lasted, so the reason reaches
 * the object's condition, and since when in its details (FailingSinceDetails: the Cluster's
 * RemoteConnectionProbe says when the probe last succeeded). Returns the reason to heartbeat while
 * it is still a wait.
 */
export function waitTrouble(err: unknown, since: number, graceMs: number): string {
  const f = classifyError(err);
  if (!('nonRetryable' in f) || f.nonRetryable) throw f;
  const lasted = Date.now() - since;
  const details: FailingSinceDetails = { failingSince: new Date(since).toISOString() };
  if (lasted > graceMs) throw failure(f.type as ErrorType, `${f.message} (for ${Math.round(lasted / 1000)} s)`, { details: [details] });
  return `workload API not answering: ${describeError(err)}`;
}
