// A quiet observer: a Cluster's Node-conditions mirror or a MachineHealthCheck whose observing
// activity saw nothing change for a while returns its mark; the workflow then stops observing and
// shows the mark in CapstanQuiet, for the worker's waker (activities/observer-waker.ts), which
// signals wakeObserver when what it watches no longer matches. Nothing runs while quiet: no
// activity, no heartbeat, no timer, so an idle cluster costs no action.
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { quietValue, SA_QUIET } from './search-attributes.js';

export interface QuietState {
  /** The CapstanQuiet value shown while quiet; absent while observing. */
  quiet?: string;
  /** Quiet spells so far: each spell shows a new value, so the waker wakes each one once. */
  quietSpells?: number;
}

/** Stops observing until woken, showing `mark` (one upsert, one action per quiet spell). */
export function goQuiet(state: QuietState, mark: string): void {
  state.quietSpells = (state.quietSpells ?? 0) + 1;
  state.quiet = quietValue(mark, state.quietSpells);
  upsertSearchAttributes([{ key: SA_QUIET, value: state.quiet }]);
}

/** Woken (or its spec changed): observe again. False when it was not quiet. */
export function wake(state: QuietState): boolean {
  if (state.quiet === undefined) return false;
  state.quiet = undefined;
  return true;
}

/** After a continue-as-new: a quiet workflow shows its value again if the new run does not carry it. */
export function showQuietAfterContinue(state: QuietState): void {
  if (state.quiet !== undefined && workflowInfo().typedSearchAttributes.get(SA_QUIET) !== state.quiet) {
    upsertSearchAttributes([{ key: SA_QUIET, value: state.quiet }]);
  }
}
