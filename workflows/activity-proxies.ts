// Activity stubs with the timeouts and retry policies of each family of calls, and the rule
// that makes a failing step visible: every activity runs in rounds of ATTEMPTS_PER_ROUND
// attempts; when a round ends on retryable failures, the workflow hears of it (the caller's
// onRetrying writes "<activity>: 5 attempts: <reason>" into the object's condition) and starts
// the next round, spaced at the maximum interval. A non-retryable failure (its type is the
// reason) or a cancellation reaches the caller at once.
// Provider calls are short; waits are long activities that heartbeat, so a wait is a state,
// not a failure retried until it passes.
import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

export const ATTEMPTS_PER_ROUND = 5;

/** An activity's input and result, as a workflow builds and reads them (types only). */
export type ActivityInput<K extends keyof Activities> = Parameters<Activities[K]>[0];
export type ActivityResult<K extends keyof Activities> = Awaited<ReturnType<Activities[K]>>;

const FIRST_ROUND = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: ATTEMPTS_PER_ROUND };
// A step that failed a whole round is not going to mend in a second: space the next ones out.
const LATER_ROUNDS = { initialInterval: '30s', backoffCoefficient: 1, maximumInterval: '30s', maximumAttempts: ATTEMPTS_PER_ROUND };

// A provider call takes well under a second (a certificate set, seconds): 30 s is when a worker
// that died mid-call is given up on and the call retried elsewhere.
const PROVIDER: ActivityOptions = { startToCloseTimeout: '30s' };
/** Waits on the cloud or a workload cluster: heartbeat every few seconds, may take hours (a drain, nodeDrainTimeout). */
const WAITS: ActivityOptions = { startToCloseTimeout: '24h', heartbeatTimeout: '30s' };

/**
 * Observers: an activity that returns when what it watches changes (node conditions, health
 * targets), or quiet after the worker's observerQuietMs (50 s) without a change, after which its
 * workflow stops observing until the worker's waker sees a change (quiet.ts). A round of less than
 * a minute never heartbeats (activities/heartbeat.ts: the first heartbeat comes at half the
 * heartbeatTimeout), and a worker that died mid-round is noticed within 2 minutes.
 */
const OBSERVERS: ActivityOptions = { startToCloseTimeout: '24h', heartbeatTimeout: '2m' };

const stubs = {
  provider: [proxyActivities<Activities>({ ...PROVIDER, retry: FIRST_ROUND }), proxyActivities<Activities>({ ...PROVIDER, retry: LATER_ROUNDS })],
  waits: [proxyActivities<Activities>({ ...WAITS, retry: FIRST_ROUND }), proxyActivities<Activities>({ ...WAITS, retry: { ...LATER_ROUNDS, maximumInterval: '1m', initialInterval: '1m' } })],
  observers: [proxyActivities<Activities>({ ...OBSERVERS, retry: FIRST_ROUND }), proxyActivities<Activities>({ ...OBSERVERS, retry: { ...LATER_ROUNDS, maximumInterval: '1m', initialInterval: '1m' } })],
} as const;

/** A step that has failed `attempts` times so far and is still being retried. */
export interface RetryReport {
  activity: string;
  attempts: number;
  /** The failure's type (an activities/errors.ts type, or TimeoutFailure when the worker died). */
  type: string;
  message: string;
}

export type OnRetrying = (r: RetryReport) => void;

type Family = keyof typeof stubs;
type AnyFn = (...args: unknown[]) => Promise<unknown>;

async function callInRounds(family: Family, name: string, args: unknown[], onRetrying: OnRetrying): Promise<unknown> {
  let attempts = 0;
  for (let round = 0; ; round++) {
    const fn = (stubs[family][round === 0 ? 0 : 1] as unknown as Record<string, AnyFn>)[name]!;
    try {
      return await fn(...args);
    } catch (err) {
      if (!(err instanceof ActivityFailure) || err.retryState !== RetryState.MAXIMUM_ATTEMPTS_REACHED) throw err;
      attempts += ATTEMPTS_PER_ROUND;
      const cause = err.cause as (Error & { type?: string }) | undefined;
      onRetrying({ activity: name, attempts, type: cause?.type ?? cause?.name ?? 'Unknown', message: cause?.message ?? err.message });
    }
  }
}

/**
 * The activities as a workflow calls them: `provider` for short calls, `waits` for long ones,
 * `observers` for the ones that watch for as long as their object lives.
 * `onRetrying` runs in workflow code after every round of failed attempts.
 */
export function activities(onRetrying: OnRetrying): { provider: Activities; waits: Activities; observers: Activities } {
  const family = (f: Family) =>
    new Proxy({} as Activities, {
      get: (_t, name) => (typeof name === 'string' ? (...args: unknown[]) => callInRounds(f, name, args, onRetrying) : undefined),
    });
  return { provider: family('provider'), waits: family('waits'), observers: family('observers') };
}

/** The non-retryable ApplicationFailure behind an activity failure, if that is what it is. */
export function terminalFailure(err: unknown): { activity: string; failure: ApplicationFailure } | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) {
    return { activity: err.activityType, failure: err.cause };
  }
  return undefined;
}
