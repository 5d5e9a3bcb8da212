// MachineWorkflow: one per Machine. Provision infrastructure → bootstrap data → infrastructure
// ready → nodeRef → Running; on delete: drain, delete infrastructure, delete the Node.
// A Machine is never updated in place: its spec is fixed at start (see the Cluster's
// applyMachine validator), and a different spec means a different Machine.
import {
  type ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  allHandlersFinished,
  workflowInfo,
} from '@temporalio/workflow';
import type { MachinePhase, MachineStatus } from '../api/machine.js';
import { ANNOTATIONS } from '../api/meta.js';
import { activities, terminalFailure, type ActivityInput, type ActivityResult } from './activity-proxies.js';
import { ConditionType, Reason, retryingCondition, setCondition, type ConditionInput } from './conditions.js';
import { flowOf } from './flow.js';
import { parseWorkflowId } from './ids.js';
import { keepsListData, MACHINE_FACTS_MEMO, type MachineFacts, REMEDIATION_MEMO, remediationMarks } from './list-memo.js';
import { canonicalJson } from './spec-diff.js';
import { transition } from './machine.phases.js';
import { annotateMachineUpdate, controlPlaneInitializedSignal, deleteMachineSignal, machineReportSignal, machineStatusQuery, nodeConditionsSignal, remediateControlPlaneMachineSignal, updateMachineInPlaceSignal } from './messages.js';
import { reporter, signalOrForget } from './reports.js';
import { SA_NODE_NAME, SA_PHASE, SA_PROVIDER_ID } from './search-attributes.js';
import type { MachineState, MachineView, MachineWorkflowInput } from './types.js';

/** Cluster API's deletion hooks (with capstan's group): a Machine's deletion waits while one is set. */
export const PRE_DRAIN_HOOK = 'pre-drain.delete.hook.machine.cluster.capstan.dev/';
export const PRE_TERMINATE_HOOK = 'pre-terminate.delete.hook.machine.cluster.capstan.dev/';
/** How long one drain activity runs before it reports what blocks it (and is called again). */
const DRAIN_SLICE_SECONDS = 30;

// A qualified name as Kubernetes validates annotation keys: [prefix/]name.
const ANNOTATION_KEY = /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The condition each step's failures are shown on. */
const STEP_CONDITION: Record<string, string> = {
  renderBootstrapData: ConditionType.BootstrapConfigReady,
  createMachineInfra: ConditionType.InfrastructureReady,
  waitForMachineInfra: ConditionType.InfrastructureReady,
  waitForNode: ConditionType.NodeReady,
  waitForNodeReady: ConditionType.NodeReady,
  provisionMachine: ConditionType.InfrastructureReady,
  waitForMachineReady: ConditionType.NodeReady,
  drainNode: ConditionType.Deleting,
  teardownMachine: ConditionType.Deleting,
  drainAndTeardownMachine: ConditionType.Deleting,
  deleteMachineInfra: ConditionType.Deleting,
  deleteNode: ConditionType.Deleting,
  deleteBootstrapData: ConditionType.Deleting,
};
/** A merged step's failure shows on the condition of the part that failed, told by its type. */
const BOOTSTRAP_FAILURES = new Set(['SecretNotFound', 'MalformedSecret', 'InvalidConfiguration', 'BootstrapDataMissing']);
const INFRASTRUCTURE_FAILURES = new Set(['InstanceTerminated', 'ProviderThrottled', 'ProviderUnavailable', 'ProviderValidationError', 'ProviderNotFound']);
function stepCondition(activity: string, type?: string): string {
  if (activity === 'provisionMachine' && type && BOOTSTRAP_FAILURES.has(type)) return ConditionType.BootstrapConfigReady;
  if (activity === 'waitForMachineReady' && type && INFRASTRUCTURE_FAILURES.has(type)) return ConditionType.InfrastructureReady;
  return STEP_CONDITION[activity] ?? ConditionType.Ready;
}

function initialStatus(): MachineStatus {
  return {
    phase: 'Pending',
    initialization: { bootstrapDataSecretCreated: false, infrastructureProvisioned: false },
    bootstrap: {},
    addresses: [],
    conditions: [],
    observedGeneration: 1,
  };
}

/** The patch behind which a machine shows its remediation annotations in its memo. */
export const REMEDIATION_PATCH = 'machine-remediation-annotations';

export async function MachineWorkflow(input: MachineWorkflowInput): Promise<MachineStatus> {
  const state: MachineState = input.state ?? {
    phase: 'Pending',
    status: initialStatus(),
    deleteRequested: false,
    clusterDeleting: false,
    gateOpen: input.gateOpen,
  };
  const { machine } = input;
  /** Where the instance goes: the Machine's failure domain (Cluster API's spec.failureDomain), else its infrastructure template's. */
  const failureDomain = machine.spec.failureDomain ?? input.infrastructure.failureDomain;
  let provisioning: CancellationScope | undefined;

  // A Machine started with a list memo also keeps its provider ID and Node in search attributes
  // for `capstan get machines`, in the same upsert as the phase they arrive with (one action).
  const listData = keepsListData(workflowInfo().memo);
  // Revision 2 (flow.ts): fewer activities for a machine that is not the first control plane,
  // and a phase upserted only when the search attribute shows another one.
  const flow = flowOf(workflowInfo().memo);
  const fewerSteps = flow >= 2 && input.role !== 'init';
  // Revision 7: a cancellation of this workflow interrupts nothing (its life runs in a
  // non-cancellable scope): it is a request to delete the machine, as a set sends it to a machine
  // whose completion it awaits (a RequestCancelExternal command is not a billed action, a signal
  // is). A machine without a pre-terminate hook drains and tears down in one activity.
  const cancelDeletes = flow >= 7;
  const root = CancellationScope.current();
  const ownerKind = parseWorkflowId(input.ownerWorkflowId)?.kind;
  /** Set while a drainAndTeardownMachine runs: a pre-terminate hook can no longer hold its instance. */
  let terminating = false;
  const shown = { phase: workflowInfo().typedSearchAttributes.get(SA_PHASE) };
  /** `upsert: false` passes through a phase without showing it (the next one follows in the same task). */
  const setPhase = (to: MachinePhase, upsert = true) => {
    if (state.phase === to) return;
    state.phase = transition(state.phase, to);
    state.status.phase = to;
    // The workflow closes right after Deleted: lists show running workflows only, so that
    // upsert would be an action nobody reads.
    if (to === 'Deleted' && listData) return;
    if (flow >= 2 && (!upsert || shown.phase === to)) return;
    shown.phase = to;
    const { providerID, nodeRef } = state.status;
    upsertSearchAttributes([
      { key: SA_PHASE, value: to },
      ...(listData && providerID ? [{ key: SA_PROVIDER_ID, value: providerID }] : []),
      ...(listData && nodeRef ? [{ key: SA_NODE_NAME, value: nodeRef.name }] : []),
    ]);
  };
  const cond = (c: ConditionInput) => setCondition(state.status.conditions, c, new Date(), state.status.observedGeneration);
  const waitingFor = (details: string) => setCurrentDetails(`${state.phase}: ${details}`);
  const { provider, waits } = activities((r) => {
    cond(retryingCondition(state.status.conditions, stepCondition(r.activity, r.type), r));
  });

  const tellOwner = reporter(input.ownerWorkflowId, machineReportSignal);
  const report = () =>
    tellOwner({
      name: machine.name,
      phase: state.phase,
      provisioned: state.status.initialization.infrastructureProvisioned,
      nodeRef: state.status.nodeRef?.name,
      nodeReady: state.status.conditions.some((c) => c.type === ConditionType.NodeReady && c.status === 'True'),
      failureMessage: state.status.failureMessage,
      ...(ANNOTATIONS.deleteMachine in annotations() ? { deleteMachine: true } : {}),
      ...(state.remediationDelete ? { remediated: true } : {}),
    });

  const annotations = () => (state.annotations ??= { ...(machine.annotations ?? {}) });
  // Not state: after a continue-as-new, a Deleting report is sent once more (harmless, deduplicated by the owner).
  let ownerKnowsDeleting = false;
  let annotationChanges = 0;
  const hooks = (prefix: string) => Object.keys(annotations()).filter((k) => k.startsWith(prefix)).sort();
  const changeAnnotations = (set: Record<string, string> | undefined, remove: string[] | undefined) => {
    const a = annotations();
    for (const k of remove ?? []) delete a[k];
    Object.assign(a, set ?? {});
    annotationChanges++;
    showRemediationMarks();
    return a;
  };
  setHandler(
    annotateMachineUpdate,
    ({ set, remove }) => ({ ...changeAnnotations(set, remove) }),
    {
      validator: (req) => {
        const bad = [...Object.keys(req?.set ?? {}), ...(req?.remove ?? [])].find((k) => typeof k !== 'string' || !ANNOTATION_KEY.test(k) || k.length > 317);
        if (bad !== undefined) throw new Error(`Machine "${machine.name}": metadata.annotations: ${JSON.stringify(bad)} is not a valid annotation key`);
        const badValue = Object.entries(req?.set ?? {}).find(([, v]) => typeof v !== 'string');
        if (badValue) throw new Error(`Machine "${machine.name}": metadata.annotations[${JSON.stringify(badValue[0])}]: must be a string`);
        // A hook that could hold nothing is refused, not accepted and ignored.
        const late = terminating ? Object.keys(req?.set ?? {}).find((k) => k.startsWith(PRE_TERMINATE_HOOK) && !(k in annotations())) : undefined;
        if (late !== undefined) {
          throw new Error(`Machine "${machine.name}": metadata.annotations[${JSON.stringify(late)}]: too late for a pre-terminate hook: the Node is draining and the instance goes as soon as it is drained (set pre-terminate hooks before the Machine is deleted)`);
        }
      },
    },
  );
  /**
   * The remediation annotations its health checks read (Cluster API's remediate-machine
   * and skip-remediation), in its memo (list-memo.ts REMEDIATION_MEMO), upserted when they change.
   * Behind a patch, so a machine started by an earlier release shows them from its next annotation
   * change (one annotated before the upgrade shows nothing until then), and its history replays as
   * recorded.
   */
  function showRemediationMarks(): void {
    const marks = remediationMarks(annotations());
    const shown = (workflowInfo().memo?.[REMEDIATION_MEMO] as string[] | undefined) ?? [];
    if (marks.join() !== shown.join() && patched(REMEDIATION_PATCH)) upsertMemo({ [REMEDIATION_MEMO]: marks.length ? marks : null }); // null: removed
  }
  showRemediationMarks();
  /** The deletion timeouts: the spec's, or as its owner changed them in place since. */
  const deletion = () => state.deletion ?? machine.spec.deletion;
  // Its set's template changed in place (Cluster API's in-place propagation): the deletion
  // timeouts take effect at the next drain slice, even mid-drain; the template's annotations are
  // not carried to a machine being deleted (as in Cluster API).
  setHandler(updateMachineInPlaceSignal, (change) => {
    if (change.deletion) state.deletion = change.deletion;
    if (state.deleteRequested) return;
    if (change.annotations) changeAnnotations(change.annotations.set, change.annotations.remove);
    // Its labels and its template's annotations are in its facts memo (a health check's selector
    // reads the labels there, the watcher's mirror both): upserted with a count when they changed,
    // so a quiet check's waker and the mirror see it.
    const facts = workflowInfo().memo?.[MACHINE_FACTS_MEMO] as MachineFacts | undefined;
    if (change.labels) state.labels = change.labels;
    if (!facts) return;
    const labels = state.labels ?? machine.labels;
    const { annotations: _was, ...rest } = facts;
    const templateAnnotations = change.annotations ? change.annotations.set : facts.annotations;
    const next: MachineFacts = { ...rest, labels, ...(templateAnnotations && Object.keys(templateAnnotations).length ? { annotations: templateAnnotations } : {}) };
    if (canonicalJson({ ...next, changedInPlace: 0 }) !== canonicalJson({ ...facts, changedInPlace: 0 })) {
      upsertMemo({ [MACHINE_FACTS_MEMO]: { ...next, changedInPlace: (facts.changedInPlace ?? 0) + 1 } });
    }
  });
  setHandler(machineStatusQuery, (): MachineView => ({
    name: machine.name,
    namespace: machine.namespace,
    clusterName: machine.spec.clusterName,
    labels: { ...(state.labels ?? machine.labels) },
    annotations: { ...annotations() },
    role: input.role,
    version: machine.spec.version,
    spec: state.deletion ? { ...machine.spec, deletion: state.deletion } : machine.spec,
    status: state.status,
  }));
  setHandler(controlPlaneInitializedSignal, () => {
    state.gateOpen = true;
  });
  // NodeReady and NodeHealthy follow the Node for the machine's life (its Cluster's
  // mirrorNodeConditions sends them only when they change); Ready follows NodeHealthy. Until the
  // machine has seen its Node Ready itself (NodeHealthy set), its own wait is the truth.
  let nodeChanges = 0;
  setHandler(nodeConditionsSignal, ({ nodeReady, nodeHealthy }) => {
    if (state.deleteRequested || state.phase !== 'Running' || !state.status.conditions.some((c) => c.type === ConditionType.NodeHealthy)) return;
    let changed = setCondition(state.status.conditions, nodeReady, new Date(), state.status.observedGeneration);
    changed = setCondition(state.status.conditions, nodeHealthy, new Date(), state.status.observedGeneration) || changed;
    const ready: ConditionInput =
      nodeHealthy.status === 'True' ? { type: ConditionType.Ready, status: 'True', reason: Reason.Ready } : { type: ConditionType.Ready, status: nodeHealthy.status, reason: nodeHealthy.reason, ...(nodeHealthy.message ? { message: nodeHealthy.message } : {}) };
    changed = setCondition(state.status.conditions, ready, new Date(), state.status.observedGeneration) || changed;
    if (changed) nodeChanges++;
  });
  /**
   * Revision 7: what a cancellation of this workflow asks for. A set's machine: what the set's
   * deleteMachine signal would (no Deleting report, no Deleted report unless the set says
   * otherwise). A cancellation carries no sender, so one from elsewhere (the Temporal UI) is read
   * the same way: the machine is deleted in full, and its set hears of it from the workflow's end
   * (a set that has continued as new since it started the machine does not). A control-plane
   * machine: its control plane is asked to remove it, as the watcher asks for a deleted Machine
   * object (the etcd member goes first). Any other: deleted, its owner told as for a user's delete.
   */
  const onCancelled = () => {
    if (state.deleteRequested) return;
    if (ownerKind === 'kubeadmcontrolplane') {
      void CancellationScope.nonCancellable(() =>
        signalOrForget(input.ownerWorkflowId, (h) => h.signal(remediateControlPlaneMachineSignal, { machine: machine.name, remediation: { healthCheck: '', reason: 'MachineDeleted', message: 'its workflow was cancelled' } }), () => undefined),
      );
      return;
    }
    state.deleteRequested = true;
    if (ownerKind === 'machineset') {
      ownerKnowsDeleting = true;
      // Unless the set already said otherwise (it does before it continues as new).
      state.ownerAwaitsCompletion ??= true;
    }
    provisioning?.cancel();
  };
  if (cancelDeletes) {
    root.cancelRequested.catch(onCancelled);
    // Cancelled before it started (in the activation that starts it): no instance is made.
    if (root.consideredCancelled) onCancelled();
  }
  setHandler(deleteMachineSignal, (req) => {
    // Decided once, as the deletion begins (its reports then change with the phase they carry anyway).
    if (req?.remediation && !state.deleteRequested) state.remediationDelete = true;
    state.deleteRequested = true;
    if (req?.clusterDeleting) state.clusterDeleting = true;
    if (req?.fromOwner) ownerKnowsDeleting = true;
    if (req?.remediation) {
      // Cluster API's conditions of a machine a MachineHealthCheck found unhealthy and remediated.
      const r = req.remediation;
      // A control-plane machine whose object a user deleted is replaced the same way, with no health check to name.
      if (r.healthCheck) cond({ type: ConditionType.HealthCheckSucceeded, status: 'False', reason: r.reason, message: `${r.message} (MachineHealthCheck ${r.healthCheck})` });
      cond({ type: ConditionType.OwnerRemediated, status: 'False', reason: Reason.MachineDeleting, message: 'Machine is deleting' });
    }
    // The owner says whether it awaits the completion (it may take that back before it continues as new).
    if (req?.fromOwner) state.ownerAwaitsCompletion = req.ownerAwaitsCompletion === true;
    provisioning?.cancel();
  });

  const clusterKey = input.cluster.key;

  async function provision(): Promise<void> {
    // The init gate: every node but the first control-plane machine waits for
    // ControlPlaneInitialized, so no join ever runs against a cluster without an API.
    if (!state.gateOpen) {
      cond({ type: ConditionType.BootstrapConfigReady, status: 'False', reason: Reason.WaitingForControlPlaneInitialized, message: 'Waiting for the control plane to be initialized' });
      waitingFor('waiting for ControlPlaneInitialized');
      await condition(() => state.gateOpen);
    }
    if (fewerSteps) return provisionInTwoSteps();

    if (!state.status.bootstrap.dataSecretName) {
      waitingFor('generating bootstrap data');
      const data = await provider.renderBootstrapData({
        cluster: input.cluster,
        machineName: machine.name,
        configName: input.bootstrapConfigName,
        role: input.role,
        version: machine.spec.version,
        config: input.bootstrapConfig,
      });
      state.status.bootstrap.dataSecretName = data.dataSecretName;
      state.tokenId = data.tokenId;
      state.status.initialization.bootstrapDataSecretCreated = true;
      cond({ type: ConditionType.BootstrapConfigReady, status: 'True', reason: Reason.DataSecretAvailable });
    }

    if (!state.instanceId) {
      setPhase('Provisioning');
      cond({ type: ConditionType.InfrastructureReady, status: 'False', reason: Reason.Provisioning, message: 'Creating the instance' });
      waitingFor('creating the instance');
      // Not cancellable: once a create is sent it must finish, so a delete that arrives now
      // sees the instance and deletes it instead of leaving an orphan.
      const vm = await CancellationScope.nonCancellable(() =>
        provider.createMachineInfra({
          clientToken: machine.uid,
          providerClusterId: input.cluster.providerClusterId,
          machineName: machine.name,
          namespace: machine.namespace,
          spec: input.infrastructure,
          dataSecretName: state.status.bootstrap.dataSecretName!,
          ...(machine.spec.version ? { version: machine.spec.version } : {}),
          ...(failureDomain ? { failureDomain } : {}),
        }),
      );
      state.instanceId = vm.instanceId;
      state.status.providerID = vm.providerID;
    }

    if (!state.status.initialization.infrastructureProvisioned) {
      waitingFor(`waiting for instance ${state.instanceId} to run`);
      const vm = await waits.waitForMachineInfra({ instanceId: state.instanceId! });
      state.status.addresses = vm.addresses;
      state.status.initialization.infrastructureProvisioned = true;
      cond({ type: ConditionType.InfrastructureReady, status: 'True', reason: Reason.Provisioned });
      setPhase('Provisioned');
      // Only the init machine's owner acts on Provisioned (it then waits for the API); every
      // other owner hears of the machine when it is Ready: a report is a billed signal. A
      // machine started before this rule (no list memo) keeps reporting, so its history replays.
      if (input.role === 'init' || !listData) await report();
    }

    if (!state.status.nodeRef) {
      cond({ type: ConditionType.NodeReady, status: 'Unknown', reason: Reason.NodeDoesNotExist, message: 'Waiting for a Node with a matching providerID' });
      waitingFor(`waiting for a Node with providerID ${state.status.providerID}`);
      const node = await waits.waitForNode({ cluster: clusterKey, providerID: state.status.providerID!, tokenId: state.tokenId });
      state.status.nodeRef = { name: node.nodeName };
      setPhase('Running');
      if (input.role === 'init' || !listData) await report();
    }

    waitingFor(`waiting for Node ${state.status.nodeRef.name} to be Ready`);
    await waits.waitForNodeReady({ cluster: clusterKey, nodeName: state.status.nodeRef.name });
    cond({ type: ConditionType.NodeReady, status: 'True', reason: Reason.Ready });
    cond({ type: ConditionType.NodeHealthy, status: 'True', reason: Reason.Ready });
    cond({ type: ConditionType.Ready, status: 'True', reason: Reason.Ready });
    await report();
  }

  /**
   * Revision 2: the same steps in two activities. Bootstrap data and instance in one
   * (not cancellable: a create once sent must return, so a delete finds the instance), then one
   * wait from the instance running to its Node Ready; the phases it passes are set together.
   */
  async function provisionInTwoSteps(): Promise<void> {
    if (!state.instanceId) {
      setPhase('Provisioning');
      cond({ type: ConditionType.InfrastructureReady, status: 'False', reason: Reason.Provisioning, message: 'Creating the instance' });
      waitingFor('generating bootstrap data and creating the instance');
      const r = await CancellationScope.nonCancellable(() =>
        provider.provisionMachine({
          cluster: input.cluster,
          machineName: machine.name,
          namespace: machine.namespace,
          configName: input.bootstrapConfigName,
          role: input.role,
          version: machine.spec.version,
          config: input.bootstrapConfig,
          clientToken: machine.uid,
          spec: input.infrastructure,
          ...(failureDomain ? { failureDomain } : {}),
        }),
      );
      state.status.bootstrap.dataSecretName = r.dataSecretName;
      state.tokenId = r.tokenId;
      state.status.initialization.bootstrapDataSecretCreated = true;
      cond({ type: ConditionType.BootstrapConfigReady, status: 'True', reason: Reason.DataSecretAvailable });
      state.instanceId = r.instanceId;
      state.status.providerID = r.providerID;
    }
    cond({ type: ConditionType.NodeReady, status: 'Unknown', reason: Reason.NodeDoesNotExist, message: 'Waiting for a Node with a matching providerID' });
    waitingFor(`waiting for instance ${state.instanceId} to run and its Node to be Ready`);
    const ready = await waits.waitForMachineReady({ instanceId: state.instanceId!, cluster: clusterKey, providerID: state.status.providerID!, tokenId: state.tokenId });
    state.status.addresses = ready.addresses;
    state.status.initialization.infrastructureProvisioned = true;
    cond({ type: ConditionType.InfrastructureReady, status: 'True', reason: Reason.Provisioned });
    setPhase('Provisioned', false);
    state.status.nodeRef = { name: ready.nodeName };
    setPhase('Running');
    cond({ type: ConditionType.NodeReady, status: 'True', reason: Reason.Ready });
    cond({ type: ConditionType.NodeHealthy, status: 'True', reason: Reason.Ready });
    cond({ type: ConditionType.Ready, status: 'True', reason: Reason.Ready });
    await report();
  }

  /** A step failed for good: its type is the reason on the step's condition and on Ready. */
  function markFailed(activity: string, err: ApplicationFailure): void {
    const reason = err.type ?? Reason.ProviderFailed;
    state.status.failureReason = reason;
    state.status.failureMessage = err.message;
    cond({ type: stepCondition(activity, err.type ?? undefined), status: 'False', reason, message: err.message });
    cond({ type: ConditionType.Ready, status: 'False', reason, message: err.message });
    setPhase('Failed');
  }

  /**
   * Runs a deletion step whose failure must not hold the Machine forever: a non-retryable
   * failure (the workload API refuses us for good) is recorded on Deleting and the deletion
   * goes on, as Cluster API goes on once nodeDrainTimeout or nodeDeletionTimeout pass.
   */
  async function bestEffort(what: string, step: () => Promise<unknown>): Promise<boolean> {
    try {
      await step();
      return true;
    } catch (err) {
      const t = terminalFailure(err);
      if (!t) throw err;
      cond({ type: ConditionType.Deleting, status: 'True', reason: t.failure.type ?? Reason.Deleting, message: `${what} skipped: ${t.failure.message}` });
      return false;
    }
  }

  /** Holds the deletion while a hook annotation with `prefix` is set (Cluster API's lifecycle hooks). */
  async function waitForHooks(prefix: string, reason: string, what: string): Promise<void> {
    if (hooks(prefix).length === 0) return;
    cond({ type: ConditionType.Deleting, status: 'True', reason, message: `Waiting for ${what} hooks to succeed (hooks: ${hooks(prefix).join(', ')})` });
    waitingFor(`waiting for ${what} hooks: ${hooks(prefix).join(', ')}`);
    await report();
    await condition(() => hooks(prefix).length === 0);
  }

  async function remove(): Promise<void> {
    setPhase('Deleting');
    cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.Deleting });
    if (!ownerKnowsDeleting) await report();
    // Cluster API drains and deletes the Node only while the cluster lives on: when the whole
    // Cluster is being deleted, its API is going away (and with the last control-plane
    // machine, it is gone), so waiting on it would only burn the timeouts.
    const nodeCleanup = !!state.status.nodeRef && !state.clusterDeleting;
    if (state.status.nodeRef && state.clusterDeleting) {
      cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.Deleting, message: 'Skipping drain and Node deletion: the Cluster is being deleted' });
    }
    // Cluster API's deletion hooks: whoever set a pre-drain hook is doing something first.
    await waitForHooks(PRE_DRAIN_HOOK, Reason.WaitingForPreDrainHook, 'pre-drain');
    // Revision 2: instance, Node and bootstrap data in one activity; a cleanup that cannot be
    // done for good comes back and is shown, as bestEffort does for the separate steps.
    const teardownInput = (): ActivityInput<'teardownMachine'> => {
      const nodeName = nodeCleanup ? state.status.nodeRef?.name : undefined;
      const dataSecretName = state.status.bootstrap.dataSecretName;
      return {
        instanceId: state.instanceId,
        clientToken: machine.uid,
        providerClusterId: input.cluster.providerClusterId,
        ...(nodeName ? { node: { cluster: clusterKey, nodeName, timeoutSeconds: deletion().nodeDeletionTimeoutSeconds } } : {}),
        ...(dataSecretName ? { bootstrap: { cluster: clusterKey, dataSecretName, tokenId: state.clusterDeleting ? undefined : state.tokenId } } : {}),
      };
    };
    const tornDown = (r: ActivityResult<'teardownMachine'>) => {
      state.status.initialization.infrastructureProvisioned = false;
      for (const sk of r.skipped) {
        cond({ type: ConditionType.Deleting, status: 'True', reason: sk.type, message: `${sk.what} skipped: ${sk.message}` });
      }
    };
    let done = false;
    if (nodeCleanup && state.status.nodeRef) {
      const nodeName = state.status.nodeRef.name;
      waitingFor(`draining Node ${nodeName}`);
      cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.DrainingNode, message: `Draining Node ${nodeName}` });
      state.drainStartedAt ??= new Date().toISOString();
      // In slices: each returns what still blocks the drain, so the condition can say so.
      let knownBudgets: string[] = [];
      const drainInput = () => ({
        cluster: clusterKey,
        nodeName,
        timeoutSeconds: deletion().nodeDrainTimeoutSeconds ?? 0,
        startedAt: state.drainStartedAt,
        sliceSeconds: DRAIN_SLICE_SECONDS,
        knownBudgets,
      });
      const drainEnded = (r: ActivityResult<'drainNode'>): boolean => {
        knownBudgets = r.blocked?.budgets ?? [];
        if (r.timedOut) {
          cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.DrainTimedOut, message: `Drain of Node ${nodeName} gave up after nodeDrainTimeout (${deletion().nodeDrainTimeoutSeconds}s)${r.blocked ? `: ${drainBlockedMessage(r.blocked)}` : ''}` });
          return true;
        }
        // (A drain scheduled by an earlier version returns no `done`: it returned only when done or timed out.)
        if (r.done ?? true) return true;
        if (r.blocked) cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.DrainingNode, message: `Draining Node ${nodeName}: ${drainBlockedMessage(r.blocked)}` });
        return false;
      };
      for (let drained = false; !drained; ) {
        if (flow >= 7 && fewerSteps && hooks(PRE_TERMINATE_HOOK).length === 0) {
          // Revision 7: nothing to wait for between the drain and the teardown: one activity.
          terminating = true;
          const r = await waits.drainAndTeardownMachine({ drain: drainInput(), teardown: teardownInput() }).finally(() => (terminating = false));
          if (r.drainSkipped) cond({ type: ConditionType.Deleting, status: 'True', reason: r.drainSkipped.type, message: `${r.drainSkipped.what} skipped: ${r.drainSkipped.message}` });
          drained = drainEnded(r.drain);
          if (r.teardown) {
            tornDown(r.teardown);
            done = drained = true;
          }
          continue;
        }
        const ran = await bestEffort(`draining Node ${nodeName}`, async () => {
          drained = drainEnded(await waits.drainNode(drainInput()));
        });
        if (!ran) drained = true;
      }
    }
    if (done) {
      // Drained and torn down in one activity (revision 7).
    } else if (fewerSteps) {
      await waitForHooks(PRE_TERMINATE_HOOK, Reason.WaitingForPreTerminateHook, 'pre-terminate');
      waitingFor('deleting the instance, its Node and its bootstrap data');
      tornDown(await waits.teardownMachine(teardownInput()));
    } else {
      await waitForHooks(PRE_TERMINATE_HOOK, Reason.WaitingForPreTerminateHook, 'pre-terminate');
      waitingFor('deleting the instance');
      // Deletes by instance ID or, if the create never returned, by its client token.
      await waits.deleteMachineInfra({
        instanceId: state.instanceId,
        clientToken: machine.uid,
        providerClusterId: input.cluster.providerClusterId,
      });
      state.status.initialization.infrastructureProvisioned = false;
      if (nodeCleanup && state.status.nodeRef) {
        waitingFor(`deleting Node ${state.status.nodeRef.name}`);
        const nodeName = state.status.nodeRef.name;
        await bestEffort(`deleting Node ${nodeName}`, () =>
          waits.deleteNode({ cluster: clusterKey, nodeName, timeoutSeconds: deletion().nodeDeletionTimeoutSeconds }),
        );
      }
      if (state.status.bootstrap.dataSecretName) {
        // The workload's bootstrap token goes with the cluster when the whole cluster goes.
        const dataSecretName = state.status.bootstrap.dataSecretName;
        await bestEffort('deleting the bootstrap data', () =>
          provider.deleteBootstrapData({ cluster: clusterKey, dataSecretName, tokenId: state.clusterDeleting ? undefined : state.tokenId }),
        );
      }
    }
    setPhase('Deleted');
    cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.Deleted });
    setCurrentDetails('Deleted');
    // Revision 2: an owner that awaits this workflow's completion hears of the end from it.
    if (!(flow >= 2 && state.ownerAwaitsCompletion)) await report();
  }

  // Main line (revision 7: not cancellable, see cancelDeletes).
  return cancelDeletes ? CancellationScope.nonCancellable(live) : live();

  async function live(): Promise<MachineStatus> {
    if (!state.deleteRequested && state.phase !== 'Failed' && !isFullyUp(state)) {
      provisioning = new CancellationScope();
      try {
        await provisioning.run(provision);
      } catch (err) {
        if (state.deleteRequested && isCancellation(err)) {
          // Deletion interrupted provisioning; fall through to remove().
        } else {
          const t = terminalFailure(err);
          if (!t) throw err;
          markFailed(t.activity, t.failure);
          await report();
        }
      }
      provisioning = undefined;
    }

    if (!state.deleteRequested) {
      waitingFor(state.phase === 'Failed' ? `failed: ${state.status.failureMessage}` : 'nothing to do');
      // Idle until deleted: no timers, no polling; a Running machine costs no actions. An
      // annotation change its owner must know of (delete-machine) and a Node that stops or starts
      // being Ready are reported, deduplicated.
      for (let seen = annotationChanges, seenNode = nodeChanges; ; seen = annotationChanges, seenNode = nodeChanges) {
        await condition(() => state.deleteRequested || workflowInfo().continueAsNewSuggested || annotationChanges !== seen || nodeChanges !== seenNode);
        if (state.deleteRequested || workflowInfo().continueAsNewSuggested) break;
        await report();
      }
      if (!state.deleteRequested) await condition(allHandlersFinished);
      if (!state.deleteRequested) return continueAsNew<typeof MachineWorkflow>({ ...input, state });
    }
    await remove();
    return state.status;
  }
}

/** "2 pod(s) left: default/a, default/b; eviction refused by PodDisruptionBudget demo-app" */
function drainBlockedMessage(b: { pods: string[]; budgets: string[] }): string {
  const shown = b.pods.slice(0, 3).join(', ') + (b.pods.length > 3 ? `, ... (${b.pods.length - 3} more)` : '');
  return `${b.pods.length} pod(s) left: ${shown}${b.budgets.length ? `; eviction refused by ${b.budgets.join(', ')}` : ''}`;
}

function isFullyUp(state: MachineState): boolean {
  return state.phase === 'Running' && state.status.conditions.some((c) => c.type === ConditionType.NodeReady && c.status === 'True');
}
