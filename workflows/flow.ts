// Which revision of its behaviour a workflow was started with, read from its memo. A change in
// what a workflow sends (its commands) would break the replay of histories recorded before it;
// instead of a `patched()` marker (and its search-attribute upsert: two actions per workflow),
// the owner starts a child with the revision in its memo, which is in the child's start event
// and carried across continue-as-new, so the choice holds for the object's whole life and a
// history recorded by an earlier release (no flow in its memo) replays as revision 1.
//
// Revision 2 (issue 7, fewer actions per machine):
// - Machine (owned by a MachineSet): provisions in two activities (provisionMachine,
//   waitForMachineReady) instead of five and tears down in two (drainNode, teardownMachine)
//   instead of four; upserts its phase only when the search attribute differs.
// - MachineSet: reports to its deployment only a change the deployment cannot predict from the
//   replicas it asked for (see planners/set-view.ts).
// - MachineDeployment: plans with that view of each set, and starts revision-2 sets.
//
// Revision 3 (issue 8, Machine conditions that follow the Node):
// - Cluster (started by `capstan apply` with the revision in its memo): once the control plane is
//   initialized, runs mirrorNodeConditions, which tells a Running machine its NodeReady and
//   NodeHealthy whenever they change; the machine reports a Node that stopped or started being
//   Ready to its owner.
//
// Revision 4 (issue 7, creation at the cloud's pace):
// - MachineSet: the machines a round creates start together (one workflow task issues every
//   StartChild, in batches of START_BATCH), and its deletion signals go in the same task. Before,
//   each `await startChild` waited for its child's start to come back before the next was issued:
//   a set of 100 started its machines one round trip after another, seconds apart.
// - MachineDeployment: a pass's scale signals (and a new set's start) go in one workflow task.
//
// Revision 5 (issue 9, Node health in the management cluster):
// - Cluster: its list memo also carries what its Node-conditions mirror told the machines whose
//   Nodes are not healthy (list-memo.ts `nodes`), so the watcher shows NodeReady, NodeHealthy and
//   Ready on the Machine objects and asks the deployment and health check again when they change
//   (one memo upsert per change; nothing while nothing changes).
//
// Revision 6 (issue 9, a workload API that does not answer):
// - Cluster: RemoteConnectionProbe (Cluster API's condition). Its Node-conditions mirror is given
//   `probe`: a round whose watch failed for the waits' grace, on an API that does not answer
//   /readyz either, returns `unreachable` (since when) instead of failing, and the next round waits
//   for /readyz and returns the moment it answers. Meanwhile the probe is False, no machine counts
//   as ready, the Cluster is not Available, and the list memo says it (`probe`), so the watcher shows
//   it and the Running machines' NodeReady/NodeHealthy as Unknown/ConnectionDown (one memo upsert
//   as the API stops answering, one as it answers again). A mirror round that failed for good (no
//   retry helps) is started again after 1 min, doubling to 15, not at once.
// - MachineHealthCheck (started by a revision-6 Cluster): remediates nothing while its observation
//   of the Nodes fails, as Cluster API's does while it cannot reach the cluster.
//
// Revision 7 (issue 7, fewer actions per replaced machine):
// - MachineSet: deletes a machine whose completion its run awaits by cancelling the machine's
//   workflow (RequestCancelExternalWorkflowExecution, which Temporal does not bill) instead of a
//   deleteMachine signal (which it does); it still signals a machine it does not await, and while
//   its Cluster is being deleted.
//   (The set records each machine's revision and cancels only a machine of revision 7 or later.)
// - Machine: its life runs in a non-cancellable scope, and a cancellation of its workflow is a
//   request to delete it: a set's machine takes it as from its set (no Deleting report, no Deleted
//   report unless the set said otherwise); a control-plane machine asks its control plane to
//   remove it (the etcd member first), as the watcher does for a deleted Machine object; any
//   other is deleted as for a user's delete. A machine without a pre-terminate hook drains and
//   tears down in one activity (drainAndTeardownMachine); while it runs, a pre-terminate hook
//   that would come too late to hold the instance is refused.
//
// Revision 8 (issue 7, Cluster API's OnDelete):
// - MachineDeployment: under OnDelete, tells its old sets not to replace the machines the user
//   deletes (disableMachineCreate, Cluster API's disable-machine-create annotation), lowers each
//   old set to the machines it has left, and plans with Cluster API's planOnDelete (a scale down
//   comes off the old sets, oldest first, not off the new set).
// - MachineSet: creates no machine while told so, and then reports every change of its counts.
//
// Revision 9 (issues 7 and 9, Cluster API's status where it was thin):
// - MachineSet: reports to its deployment when why it creates no machine it lacks (a preflight
//   check: the control plane mid-upgrade, a version skew) changes, so the deployment's ScalingUp
//   says "is blocked because: * MachineSet <name>: <why>" as Cluster API's does.
// - Cluster: its list memo carries its conditions (list-memo.ts `conditions`), upserted when they
//   change and once more as its deletion begins (Deleting), for the watcher to write on the object.
//   A Machine deleted and then applied again under its name is a new machine (before, the name
//   stayed taken: `unchanged`, and no machine).
//
// Revision 10 (Cluster API's MachineHealthCheck, where it meets rollouts):
// - MachineHealthCheck: observes with `asClusterApi`. Machines being deleted are targets, counted
//   against maxUnhealthy and never healthy, and a target whose check timeout is running is not
//   healthy either (planners/health.ts countAsClusterApi): a remediation still in flight holds back
//   the next one as in Cluster API, where before it was no target at all. An unhealthy machine of
//   a deployment's set other than its current one is left to the rollout (`pendingRollout`:
//   Cluster API's "pending removal due to rollout"), unless remediation is external.
// - MachineDeployment: upserts its current set (its newest revision) into its memo when it
//   changes (list-memo.ts CURRENT_SET_MEMO), one upsert per rollout, for the health checks and
//   the worker's observer waker to read from visibility.
// (Not revisions, since they change no command: a rolled-back set's revision is raised to the
// newest, and a deployment's status carries MachinesReady, MachinesUpToDate and Deleting.)
//
// Not a revision either (Cluster API's remediation annotations): a Machine shows its
// remediate-machine and skip-remediation annotations in its memo (list-memo.ts REMEDIATION_MEMO),
// in its start memo when it starts with them and by one upsert when a user changes them, behind
// the patch `machine-remediation-annotations` (machine.ts REMEDIATION_PATCH), so a machine of an
// earlier release takes them too. Every health check reads them from visibility: a machine with
// skip-remediation is no target, one with remediate-machine is unhealthy at once
// (HasRemediateAnnotation). A set's machines carry its template's annotations, as in Cluster API.
//
// Nor are these, each behind a patch of its own, so a workflow of an earlier release takes them
// from its next change and its history replays as recorded:
// - `template-metadata-in-place` (machine-deployment.ts): a deployment tells its sets a change of
//   its template's labels and annotations, rolling nothing.
// - `set-in-place-to-machines` (machine-set.ts) and `kcp-in-place-to-machines` (control-plane.ts):
//   a set or control plane tells its machines a change of its template's labels, annotations and
//   deletion timeouts (in-place.ts; one signal each, only when they change).
// - `remediation-max-in-flight` (machine-health-check.ts): a check holds back a deployment's
//   remediations beyond its spec.remediation.maxInFlight (planners/remediation-in-flight.ts).
// - `set-reports-remediating` (machine-set.ts): a set reports the machines a remediation deletes.
// - `paused-annotation` (pause.ts): a control plane, deployment, standalone set or health check
//   heeds Cluster API's paused annotation on its own object (cluster.capstan.dev/paused), and a
//   Cluster tells its control plane when the control plane's changes (pauseSignal `annotated`).
export const FLOW_MEMO = 'flow';
export const CURRENT_FLOW = 10;

/**
 * Revision 4: the most StartChild commands one workflow task issues. Each carries the machine's
 * whole input (templates, the cluster's context), and a task's completion travels in one gRPC
 * message (4 MiB by default).
 */
export const START_BATCH = 100;

/** The behaviour revision in a workflow's memo (1 when absent: started by an earlier release). */
export function flowOf(memo: Record<string, unknown> | undefined): number {
  const v = memo?.[FLOW_MEMO];
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 1;
}

/** The memo entry that starts a child at the current revision. */
export const flowMemo = (): Record<string, number> => ({ [FLOW_MEMO]: CURRENT_FLOW });

/**
 * Revision 2: a long-lived workflow (MachineSet, MachineDeployment) continues as new on its own
 * once its history has this many events, whatever the server suggests, so no history passes
 * 4,096 events (a rollout step adds ~30 to each, and one pass of the loop at most a few hundred).
 */
export const CONTINUE_AS_NEW_AT_EVENTS = 3_000;

/** Whether the workflow should continue as new now: the server suggests it, or (revision 2) its history is long. */
export function historyIsLong(flow: number, info: { continueAsNewSuggested: boolean; historyLength: number }): boolean {
  return info.continueAsNewSuggested || (flow >= 2 && info.historyLength >= CONTINUE_AS_NEW_AT_EVENTS);
}
