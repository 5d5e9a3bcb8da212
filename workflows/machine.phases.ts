// A Machine's phases as a transition table (Cluster API's phases; the shape of Temporal's
// hsm package): each transition names its allowed sources, and anything else is a bug.
import type { MachinePhase } from '../api/machine.js';

const TRANSITIONS: Record<MachinePhase, readonly MachinePhase[]> = {
  Pending: ['Provisioning', 'Deleting', 'Failed'],
  Provisioning: ['Provisioned', 'Deleting', 'Failed'],
  Provisioned: ['Running', 'Deleting', 'Failed'],
  Running: ['Deleting', 'Failed'],
  Failed: ['Deleting'],
  Deleting: ['Deleted'],
  Deleted: [],
};

export class IllegalTransitionError extends Error {
  constructor(readonly from: MachinePhase, readonly to: MachinePhase) {
    super(`illegal Machine phase transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransition(from: MachinePhase, to: MachinePhase): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** Returns the new phase, or throws: an illegal transition is a bug, never a user error. */
export function transition(from: MachinePhase, to: MachinePhase): MachinePhase {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}
