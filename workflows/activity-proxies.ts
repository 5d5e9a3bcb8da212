// Activity stubs with the timeouts and retry policies of each family of calls.
// Provider calls are short and retried with backoff (throttling and 5xx); validation errors
// come back as non-retryable ApplicationFailures. Waits are long activities that heartbeat,
// so a wait is a state, not a failure retried until it passes.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const providerRetry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  // Unlimited attempts: a cloud that is down comes back; the operator sees the attempts in the UI.
};

export const provider = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: providerRetry,
});

/** Waits on the cloud or a workload cluster: heartbeat every few seconds, may take hours. */
export const waits = proxyActivities<Activities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '30s',
  retry: { ...providerRetry, maximumInterval: '1m' },
});
