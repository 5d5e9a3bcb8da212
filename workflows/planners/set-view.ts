// What a MachineDeployment knows of one of its MachineSets between reports. The deployment
// scales a set by signal and knows the replicas it asked for (`spec`); from that alone it can
// predict part of what the set will do: machines created up to `spec` change nothing it plans
// with (it already weighs a set by max(spec, reported replicas)), and a set scaled down has at
// most `spec` ready and available machines however it chooses its victims. So the deployment
// plans with `ownerView(lastReport, spec)`, and the set reports only when its real counts give
// a different view: a machine becoming available, one lost that it did not ask to lose, one
// really gone (its surge slot is free). Each report is a billed signal; a step of a rollout
// then costs one report from each set instead of two.

export interface SetCounts {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
}

/** The counts a deployment plans with: a set's reported counts seen through the replicas it asked for. */
export function ownerView(reported: SetCounts, spec: number): SetCounts {
  return {
    replicas: Math.max(reported.replicas, spec),
    readyReplicas: Math.min(reported.readyReplicas, spec),
    availableReplicas: Math.min(reported.availableReplicas, spec),
  };
}

/**
 * Whether a set must report `current` to an owner that last heard `lastReported`: when the
 * owner's view of the two differs. Nothing reported yet, a change of `spec` alone, or a set that
 * is going away (its owner waits for 0) are the caller's business.
 */
export function ownerMustHear(lastReported: SetCounts, current: SetCounts, spec: number): boolean {
  const a = ownerView(lastReported, spec);
  const b = ownerView(current, spec);
  return a.replicas !== b.replicas || a.readyReplicas !== b.readyReplicas || a.availableReplicas !== b.availableReplicas;
}
