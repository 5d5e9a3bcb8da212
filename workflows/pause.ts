// Cluster API's pause (a Cluster's spec.paused): while its Cluster is paused, an object's workflow
// acts on nothing — no machine started or deleted, no rollout step, no remediation, not its own
// deletion — and keeps what it is told meanwhile (reports, spec changes, a delete) for when it is
// resumed. Work already handed to the cloud finishes: a machine being provisioned or deleted goes
// on (its own workflow is not paused), as a VM a paused Cluster API controller asked for still boots.
//
// The Cluster tells its control plane, deployments, sets and health checks (pauseSignal); a
// deployment tells its sets. Nothing of this runs in a history that never paused: no command, no
// condition, so every recorded history replays as before.
//
// One object is paused alone by Cluster API's paused annotation (as `clusterctl move` and operators
// use it; `cluster.capstan.dev/paused` here, as capstan's groups name Cluster API's annotations, and
// what `capstan convert` makes of `cluster.x-k8s.io/paused`): a KubeadmControlPlane, a
// MachineDeployment, a MachineSet or a MachineHealthCheck that has it acts on nothing, its deletion
// included (a health check has no deletion to hold), and tells nobody: the sets of a paused
// deployment keep their machines. (A Machine that has it is only no target of its health checks,
// as in Cluster API: list-memo.ts remediationMarks.) A control plane hears of its annotation from its Cluster
// (pauseSignal), a deployment's set from the watcher (pauseSignal), the others from their own apply
// (or, being deleted, from the watcher's pauseSignal). A workflow takes it
// behind the patch PAUSED_ANNOTATION_PATCH: a history recorded before (which could carry the
// annotation, unheeded) replays as it was, and a workflow of an earlier release takes it from its
// next change.
import { condition, patched, setCurrentDetails, setHandler } from '@temporalio/workflow';
import { ANNOTATIONS } from '../api/meta.js';
import type { ConditionInput } from './conditions.js';
import { pauseSignal } from './messages.js';

/** What a pausable workflow keeps of it (absent: never paused). */
export interface PauseState {
  /** Its Cluster's spec.paused, as its owner told it. */
  paused?: boolean;
  /** Its own object has the paused annotation (PAUSED_ANNOTATION), as its last apply had it. */
  annotated?: boolean;
}

/** Cluster API's annotation that pauses one object (any value; its presence counts), in capstan's group. */
export const PAUSED_ANNOTATION = ANNOTATIONS.paused;

/** The patch behind which a workflow heeds its paused annotation (see above). */
export const PAUSED_ANNOTATION_PATCH = 'paused-annotation';

/** Whether a workflow heeds its object's paused annotation that it now has (`annotated`): a patch marker the first time. */
export const heedsPausedAnnotation = (annotated: boolean): boolean => annotated && patched(PAUSED_ANNOTATION_PATCH);

export const hasPausedAnnotation = (metadata: { annotations?: Record<string, string> } | undefined): boolean => metadata?.annotations?.[PAUSED_ANNOTATION] !== undefined;

/** Paused by its Cluster or by its own annotation. */
export const isPaused = (state: PauseState): boolean => !!state.paused || !!state.annotated;

/**
 * The Paused condition as Cluster API's objects show it (v1beta2), with its message's reasons
 * (`kind` names the object that has the annotation).
 */
export function pausedCondition(clusterPaused: boolean, annotated?: { kind: string }): ConditionInput {
  if (!clusterPaused && !annotated) return { type: 'Paused', status: 'False', reason: 'NotPaused' };
  const why = [...(clusterPaused ? ['Cluster spec.paused is set to true'] : []), ...(annotated ? [`${annotated.kind} has the ${PAUSED_ANNOTATION} annotation`] : [])];
  return { type: 'Paused', status: 'True', reason: 'Paused', message: why.join(', ') };
}

export const PAUSED_DETAILS = 'paused (its Cluster has spec.paused: true): acting on nothing until it is resumed';

/** What a paused workflow says in its current details: who paused it. */
export function pauseDetails(state: PauseState): string {
  if (!state.annotated) return PAUSED_DETAILS;
  return `paused (${state.paused ? 'its Cluster has spec.paused: true, and ' : ''}it has the ${PAUSED_ANNOTATION} annotation): acting on nothing until ${state.paused ? 'its Cluster is resumed and the annotation removed' : 'it is removed'}`;
}

/**
 * Takes the paused annotation of an applied object's metadata into `state`; true when that
 * changed it. (Never written while absent and never paused, and behind the patch: a history
 * without it stays as it was.)
 */
export function takePausedAnnotation(state: PauseState, metadata: { annotations?: Record<string, string> } | undefined): boolean {
  const annotated = hasPausedAnnotation(metadata);
  if (annotated === !!state.annotated) return false;
  if (annotated && !heedsPausedAnnotation(true)) return false;
  state.annotated = annotated;
  return true;
}

/** Takes the pause its owner sends (pauseSignal) into `state`; `changed` wakes the workflow's loop. */
export function takePause(state: PauseState, changed: () => void): void {
  setHandler(pauseSignal, ({ paused, annotated }) => {
    let changes = 0;
    if (paused !== undefined && !!state.paused !== paused) {
      state.paused = paused;
      changes++;
    }
    if (annotated !== undefined && !!state.annotated !== annotated) {
      state.annotated = annotated;
      changes++;
    }
    if (changes) changed();
  });
}

/**
 * Waits while paused (by its Cluster or its annotation), saying so in the workflow's current
 * details (no command). True at once when not paused, and once resumed; false when `long` says
 * the history should continue as new first (the caller does, still paused).
 */
export async function untilResumed(state: PauseState, long: () => boolean, details = pauseDetails(state)): Promise<boolean> {
  if (!isPaused(state)) return true;
  setCurrentDetails(details);
  await condition(() => !isPaused(state) || long());
  return !isPaused(state);
}
