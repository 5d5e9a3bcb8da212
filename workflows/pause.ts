// Cluster API's pause (a Cluster's spec.paused): while its Cluster is paused, an object's workflow
// acts on nothing — no machine started or deleted, no rollout step, no remediation, not its own
// deletion — and keeps what it is told meanwhile (reports, spec changes, a delete) for when it is
// resumed. Work already handed to the cloud finishes: a machine being provisioned or deleted goes
// on (its own workflow is not paused), as a VM a paused Cluster API controller asked for still boots.
//
// The Cluster tells its control plane, deployments, sets and health checks (pauseSignal); a
// deployment tells its sets. Nothing of this runs in a history that never paused: no command, no
// condition, so every recorded history replays as before.
import { condition, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { ConditionInput } from './conditions.js';
import { pauseSignal } from './messages.js';

/** What a pausable workflow keeps of it (absent: never paused). */
export interface PauseState {
  paused?: boolean;
}

/** The Paused condition as Cluster API's objects show it (v1beta2). */
export function pausedCondition(paused: boolean): ConditionInput {
  return paused ? { type: 'Paused', status: 'True', reason: 'Paused', message: 'Cluster spec.paused is set to true' } : { type: 'Paused', status: 'False', reason: 'NotPaused' };
}

export const PAUSED_DETAILS = 'paused (its Cluster has spec.paused: true): acting on nothing until it is resumed';

/** Takes the pause its owner sends (pauseSignal) into `state`; `changed` wakes the workflow's loop. */
export function takePause(state: PauseState, changed: () => void): void {
  setHandler(pauseSignal, ({ paused }) => {
    if (!!state.paused === paused) return;
    state.paused = paused;
    changed();
  });
}

/**
 * Waits while paused, saying so in the workflow's current details (no command). True at once when
 * not paused, and once resumed; false when `long` says the history should continue as new first
 * (the caller does, still paused).
 */
export async function untilResumed(state: PauseState, long: () => boolean, details = PAUSED_DETAILS): Promise<boolean> {
  if (!state.paused) return true;
  setCurrentDetails(details);
  await condition(() => !state.paused || long());
  return !state.paused;
}
