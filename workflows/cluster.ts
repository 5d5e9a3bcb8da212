// ClusterWorkflow: infrastructure cluster (network + API endpoint) → control plane → waits for
// ControlPlaneInitialized → opens the gate for worker machines. Deletion runs in Cluster API's
// order: workers, then the control plane, then the infrastructure cluster.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  type SignalDefinition,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { type UpdateDefinition, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ClusterPhase, ClusterStatus } from '../api/cluster.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import { LABELS } from '../api/meta.js';
import { activities, terminalFailure } from './activity-proxies.js';
import { ConditionType, Reason, retryingCondition, setCondition, type ConditionInput } from './conditions.js';
import { ControlPlaneWorkflow } from './control-plane.js';
import { controlPlaneWorkflowId, machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineSetWorkflowId, machineWorkflowId, type ObjectKey } from './ids.js';
import { MachineDeploymentWorkflow } from './machine-deployment.js';
import { MachineHealthCheckWorkflow } from './machine-health-check.js';
import { MachineSetWorkflow, standaloneSetInput } from './machine-set.js';
import { MachineWorkflow } from './machine.js';
import {
  addMachineDeploymentUpdate,
  addMachineHealthCheckUpdate,
  addMachineSetUpdate,
  applyClusterUpdate,
  applyMachineUpdate,
  clusterStatusQuery,
  controlPlaneChangedSignal,
  controlPlaneInitializedSignal,
  controlPlaneReportSignal,
  deleteClusterUpdate,
  deleteControlPlaneSignal,
  deleteMachineDeploymentSignal,
  deleteMachineHealthCheckSignal,
  deleteMachineSetSignal,
  deleteMachineSignal,
  machineDeploymentReportSignal,
  machineSetReportSignal,
  machineReportSignal,
  scaleControlPlaneSignal,
  updateControlPlaneSignal,
  wakeObserverSignal,
  pauseSignal,
} from './messages.js';
import { hasPausedAnnotation, heedsPausedAnnotation, PAUSED_DETAILS, pausedCondition, untilResumed } from './pause.js';
import { compareVersions } from './planners/control-plane-rollout.js';
import { PROBE_OK, remoteConnectionProbe } from './planners/remote-connection.js';
import { nodeHealthKey } from './planners/node-conditions.js';
import { flowMemo, flowOf } from './flow.js';
import { observer } from './observer.js';
import { goQuiet, showQuietAfterContinue, wake } from './quiet.js';
import { assertValid } from './validate.js';
import { annotationsIfAny, clusterListMemo, machineFactsMemo, machineListMemo, memoChange, remediationMemo, startMemo } from './list-memo.js';
import { recordMachineReport, signalOrForget } from './reports.js';
import { objectSearchAttributes, SA_PHASE } from './search-attributes.js';
import { canonicalJson, diffPaths } from './spec-diff.js';
import { controlPlaneFactsKey, type ControlPlaneFacts } from './types.js';
import type { ApplyResult, ClusterApply, ClusterContext, ClusterState, ClusterView, ClusterWorkflowInput, DeleteRequest, DeploymentRecord, HealthCheckRecord, MachineApply, MachineDeploymentApply, MachineSetApply, MachineSetRecord } from './types.js';

/** The condition each step's failures are shown on. */
const STEP_CONDITION: Record<string, string> = {
  createInfraCluster: ConditionType.InfrastructureReady,
  deleteInfraCluster: ConditionType.Deleting,
  deleteClusterSecrets: ConditionType.Deleting,
};
const stepCondition = (activity: string) => STEP_CONDITION[activity] ?? ConditionType.Available;
/** The longest one round of mirrorNodeConditions runs when nothing changes. */
const MIRROR_MAX_WAIT_SECONDS = 1800;
/** Revision 6: after a round that failed for good (no retry helps), the next waits 1 min, doubling to 15. */
const MIRROR_FAILED_FIRST_MS = 60_000;
const MIRROR_FAILED_MAX_MS = 15 * 60_000;

function initialStatus(apply: ClusterApply): ClusterStatus {
  return {
    phase: 'Pending',
    initialization: { infrastructureProvisioned: false, controlPlaneInitialized: false },
    controlPlane: { desiredReplicas: apply.controlPlane.spec.replicas, replicas: 0, readyReplicas: 0 },
    workers: { desiredReplicas: 0, replicas: 0, readyReplicas: 0 },
    conditions: [],
    observedGeneration: 1,
  };
}

/** Labels and annotations are not spec: they change freely, as on any Kubernetes object (a management cluster's controllers add some, e.g. the cluster-name label on the control plane). */
const METADATA_MUTABLE = ['cluster', 'infrastructure', 'controlPlane'].flatMap((doc) => [`${doc}.metadata.labels`, `${doc}.metadata.annotations`]);
/** What may change of the Cluster itself after creation: its pause (Cluster API's spec.paused: pause.ts). */
const CLUSTER_MUTABLE = ['cluster.spec.paused'];
/**
 * What may change in a Cluster's manifest after creation: the control plane's replicas (a scale),
 * version and machine template (a rolling upgrade), rollout and remediation settings.
 */
const CONTROL_PLANE_MUTABLE = [
  'controlPlane.spec.replicas',
  'controlPlane.spec.version',
  'controlPlane.spec.machineTemplate.metadata',
  // (Changed in place on every control-plane machine, as Cluster API's nodeDrainTimeout and the like.)
  'controlPlane.spec.machineTemplate.spec.deletion',
  'controlPlane.spec.rollout',
  'controlPlane.spec.remediation',
  'controlPlaneMachineTemplate',
];

/**
 * Cluster API's KCP webhook: an upgrade goes at most one minor up (patch versions are free), and,
 * as kubeadm cannot downgrade a control plane, never to an older minor.
 */
export function controlPlaneVersionChange(from: string, to: string): string | undefined {
  const minor = (v: string) => /^v?(\d+)\.(\d+)/.exec(v)?.slice(1, 3).map(Number);
  const a = minor(from);
  const b = minor(to);
  if (!a || !b || compareVersions(from, to) === 0) return undefined;
  if (b[0]! !== a[0]! || b[1]! > a[1]! + 1) return `cannot update Kubernetes version from ${from} to ${to}`;
  if (b[1]! < a[1]!) return `cannot update Kubernetes version from ${from} to ${to}: a control plane is never downgraded`;
  return undefined;
}

export async function ClusterWorkflow(input: ClusterWorkflowInput): Promise<ClusterStatus> {
  const { apply } = input;
  const cluster = apply.cluster;
  const key = { namespace: cluster.metadata.namespace, name: cluster.metadata.name };
  const state: ClusterState = input.state ?? {
    uid: uuid4(),
    specHash: canonicalJson(apply),
    status: initialStatus(apply),
    controlPlaneStarted: false,
    machines: {},
    deleteRequested: false,
    // Created paused (Cluster API's spec.paused): nothing is made until it is resumed.
    ...(cluster.spec.paused ? { paused: true } : {}),
  };
  let changes = 0;
  let applies = input.state ? 1 : 0;

  const cond = (c: ConditionInput) => setCondition(state.status.conditions, c, new Date(), state.status.observedGeneration);
  const setPhase = (phase: ClusterPhase) => {
    if (state.status.phase === phase) return;
    state.status.phase = phase;
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
  };
  const context = (): ClusterContext => ({
    key,
    uid: state.uid,
    providerClusterId: state.providerClusterId!,
    endpoint: state.status.controlPlaneEndpoint!,
    clusterNetwork: cluster.spec.clusterNetwork,
    ...(state.status.failureDomains?.length ? { failureDomains: state.status.failureDomains.filter((d) => d.controlPlane).map((d) => d.name) } : {}),
  });
  // What `capstan get clusters` shows, in the memo; written only when a shown value changed.
  const syncListMemo = () => {
    // Revision 5: with the Node conditions its mirror told the machines, for the watcher to show.
    const nodes = flow >= 5 ? Object.fromEntries(Object.entries(state.nodeConditionsTold ?? {}).map(([m, key]) => [m, nodeHealthKey(key)])) : undefined;
    // Revision 6: with whether its workload API answers (the watcher shows RemoteConnectionProbe and
    // the machines' Node conditions Unknown while it does not).
    const probe = probing() ? (state.probeFailedSince ?? PROBE_OK) : undefined;
    // Revision 9: with its conditions, for the watcher to write on the Cluster object.
    const change = memoChange(workflowInfo().memo, clusterListMemo(state.status, cpApplied().controlPlane.spec.version, nodes, probe, flow >= 9));
    if (change) upsertMemo(change);
  };
  /** Revision 6: whether the Cluster has a RemoteConnectionProbe (once the control plane answered). */
  const probing = () => flow >= 6 && state.status.initialization.controlPlaneInitialized;
  const liveMachines = () => Object.entries(state.machines).filter(([, m]) => !m.deleted);
  /** The control plane's spec.replicas: as last applied. */
  const cpReplicas = () => state.controlPlaneReplicas ?? apply.controlPlane.spec.replicas;
  /** The oldest version the control plane runs (as it reported), else as applied. */
  const cpVersion = () => state.controlPlane?.version ?? apply.controlPlane.spec.version;
  /**
   * What the worker sets' preflight checks need of the control plane, once it has reported a
   * version (a control plane from before it did tells nothing, and nothing is sent).
   */
  const cpFacts = (): ControlPlaneFacts | undefined => (state.controlPlane?.version ? { version: state.controlPlane.version, upgrading: !!state.controlPlane.rollingOut } : undefined);
  /** Tells a started deployment or set the control plane's version and rollout, when they changed. */
  const tellControlPlaneFacts = async (workflowId: string, r: { started: boolean; deleted: boolean; controlPlaneTold?: string }) => {
    const facts = cpFacts();
    if (!facts || !r.started || r.deleted || r.controlPlaneTold === controlPlaneFactsKey(facts)) return;
    r.controlPlaneTold = controlPlaneFactsKey(facts);
    await signalOrForget(workflowId, (h) => h.signal(controlPlaneChangedSignal, facts), () => undefined);
  };
  /** The control plane and its machine template: as last applied. */
  const cpApplied = () => state.controlPlaneSpec ?? { controlPlane: apply.controlPlane, machineTemplate: apply.controlPlaneMachineTemplate };
  /** The applied manifest as it stands now, to compare a new apply with. */
  const asApplied = (): ClusterApply => {
    const cp = cpApplied();
    return { ...apply, controlPlane: { ...cp.controlPlane, spec: { ...cp.controlPlane.spec, replicas: cpReplicas() } }, controlPlaneMachineTemplate: cp.machineTemplate };
  };
  const deployments = (): Record<string, DeploymentRecord> => (state.deployments ??= {});
  const liveDeployments = () => Object.entries(deployments()).filter(([, d]) => !d.deleted);
  const machineSets = (): Record<string, MachineSetRecord> => (state.machineSets ??= {});
  const liveSets = () => Object.entries(machineSets()).filter(([, m]) => !m.deleted);
  const healthChecks = (): Record<string, HealthCheckRecord> => (state.healthChecks ??= {});
  const liveHealthChecks = () => Object.entries(healthChecks()).filter(([, h]) => !h.deleted);
  const flow = flowOf(workflowInfo().memo);
  let mirrorProblem: string | undefined;
  const { provider, waits, observers } = activities((r) => {
    if (r.activity === 'mirrorNodeConditions') {
      mirrorProblem = `${r.activity}: ${r.attempts} attempts: ${r.message}`;
      // Shown now, not at the loop's next pass (details are no command: histories replay as before).
      setCurrentDetails(`following Nodes: ${mirrorProblem}`);
    } else cond(retryingCondition(state.status.conditions, stepCondition(r.activity), r));
  });

  // --- revision 3: the Machines' NodeReady/NodeHealthy follow their Nodes ---
  // One observer at a time (activities/node-conditions.ts), from ControlPlaneInitialized until
  // the cluster is deleted, in its own scope so a deletion or a continue-as-new cancels it. It
  // signals the machines itself and returns what it told them, kept here for the next round; a
  // round that had nothing to tell returns quiet, and none runs until the waker wakes the cluster.
  //
  // Revision 6: each round is also the RemoteConnectionProbe. A workload API that has not answered
  // for the waits' grace ends a round with `unreachable` (since when); the next round waits for it
  // to answer and returns as soon as it does.
  let mirrorRetryAt: number | undefined;
  let mirrorBackoffMs = 0;
  const probe = () => (flow >= 6 ? { probe: state.probeFailedSince ? { failedSince: state.probeFailedSince } : {} } : {});
  const mirror = observer(() => observers.mirrorNodeConditions({ cluster: key, told: state.nodeConditionsTold ?? {}, maxWaitSeconds: MIRROR_MAX_WAIT_SECONDS, ...probe() }), {
    result: (r) => {
      state.nodeConditionsTold = r.told;
      mirrorProblem = undefined;
      mirrorBackoffMs = 0;
      state.probeFailedSince = r.unreachable;
      if (r.unreachable) mirrorProblem = `workload API not answering since ${r.unreachable}`;
      // Nothing to tell for a while: stop observing until the worker's waker sees a change (quiet.ts).
      if (r.quiet) goQuiet(state, r.quiet);
    },
    failure: (message) => {
      mirrorProblem = `mirrorNodeConditions: ${message}`;
      // Revision 6: not again at once (a malformed kubeconfig fails every round the same way).
      if (flow >= 6) {
        mirrorBackoffMs = Math.min(mirrorBackoffMs ? mirrorBackoffMs * 2 : MIRROR_FAILED_FIRST_MS, MIRROR_FAILED_MAX_MS);
        mirrorRetryAt = Date.now() + mirrorBackoffMs;
      }
    },
    end: () => changes++,
  });

  // --- message handlers, registered before any await ---
  setHandler(
    applyClusterUpdate,
    (next: ClusterApply): ApplyResult => {
      applies++;
      // Paused or resumed (Cluster API's spec.paused): its objects are told at the loop's next pass.
      const pausedChanged = applies > 1 && !!next.cluster.spec.paused !== !!state.paused;
      if (pausedChanged) {
        state.paused = !!next.cluster.spec.paused;
        cond(pausedCondition(state.paused));
        changes++;
      }
      // The control plane's own pause (Cluster API's paused annotation on the KubeadmControlPlane):
      // it is told at the loop's next pass (it started with what its manifest had then).
      const controlPlaneAnnotated = hasPausedAnnotation(next.controlPlane.metadata);
      const controlPlanePauseChanged = applies > 1 && controlPlaneAnnotated !== !!state.controlPlaneAnnotated && (!controlPlaneAnnotated || heedsPausedAnnotation(true));
      if (controlPlanePauseChanged) {
        state.controlPlaneAnnotated = controlPlaneAnnotated;
        changes++;
      } else if (applies === 1 && controlPlaneAnnotated) state.controlPlaneAnnotated = true;
      // (Being deleted, only the pauses change: deletion waits while paused.)
      const pauseResult = (controlPlaneChanged: boolean): ApplyResult => ({
        result: 'configured',
        workflowId: workflowInfo().workflowId,
        changed: [...(pausedChanged ? (['Cluster'] as const) : []), ...(controlPlaneChanged || controlPlanePauseChanged ? (['KubeadmControlPlane'] as const) : [])],
      });
      if (state.deleteRequested) return pausedChanged || controlPlanePauseChanged ? pauseResult(false) : { result: 'unchanged', workflowId: workflowInfo().workflowId };
      // An upgrade of the control plane (version, machine template, rollout or remediation
      // settings): the control plane gets the whole new spec, replicas included.
      const now = asApplied();
      // Labels and annotations (mutable since they are not spec) change nothing the control plane does.
      const withoutReplicas = (a: ClusterApply) =>
        canonicalJson({ cp: { ...a.controlPlane, metadata: { ...a.controlPlane.metadata, labels: {}, annotations: {} }, spec: { ...a.controlPlane.spec, replicas: 0 } }, t: a.controlPlaneMachineTemplate });
      if (applies > 1 && withoutReplicas(now) !== withoutReplicas(next)) {
        state.controlPlaneSpec = { controlPlane: next.controlPlane, machineTemplate: next.controlPlaneMachineTemplate };
        state.controlPlaneSpecSent = false;
        state.controlPlaneReplicas = next.controlPlane.spec.replicas;
        state.controlPlaneScaleSent = true;
        changes++;
        return pausedChanged || controlPlanePauseChanged ? pauseResult(true) : { result: 'configured', workflowId: workflowInfo().workflowId };
      }
      // A scale of the control plane.
      if (applies > 1 && next.controlPlane.spec.replicas !== cpReplicas()) {
        state.controlPlaneReplicas = next.controlPlane.spec.replicas;
        state.controlPlaneScaleSent = false;
        changes++;
        return pausedChanged || controlPlanePauseChanged ? pauseResult(true) : { result: 'configured', workflowId: workflowInfo().workflowId };
      }
      return pausedChanged || controlPlanePauseChanged ? pauseResult(false) : { result: applies === 1 ? 'created' : 'unchanged', workflowId: workflowInfo().workflowId };
    },
    {
      validator: (next: ClusterApply) => {
        // Being deleted, it takes a pause or a resume only (a paused Cluster's deletion waits for it;
        // so does a paused control plane's), whatever else the manifest says: nothing else is taken.
        if (state.deleteRequested) {
          if (!!next?.cluster?.spec?.paused === !!state.paused && hasPausedAnnotation(next?.controlPlane?.metadata) === !!state.controlPlaneAnnotated) throw new Error(`Cluster "${key.name}" is being deleted`);
          return;
        }
        assertValid([next.cluster, next.infrastructure, next.controlPlane, next.controlPlaneMachineTemplate]);
        const now = asApplied();
        const fields = diffPaths(now, next).filter((f) => ![...METADATA_MUTABLE, ...CLUSTER_MUTABLE, ...CONTROL_PLANE_MUTABLE].some((m) => f === m || f.startsWith(`${m}.`) || f.startsWith(`${m}[`)));
        if (fields.length) {
          throw new Error(
            `Cluster "${key.name}" already exists with a different spec (${fields.join(', ')}); of a Cluster and its control plane, only the control plane's ${CONTROL_PLANE_MUTABLE.map((f) => f.replace(/^controlPlane\./, '')).join(', ')} (and the Cluster's spec.paused, labels and annotations) can change after creation`,
          );
        }
        const refused = controlPlaneVersionChange(now.controlPlane.spec.version, next.controlPlane.spec.version);
        if (refused) throw new Error(`KubeadmControlPlane "${next.controlPlane.metadata.name}": spec.version: Forbidden: ${refused}`);
      },
    },
  );
  setHandler(
    applyMachineUpdate,
    (m: MachineApply): ApplyResult => {
      const name = m.machine.metadata.name;
      const id = machineWorkflowId({ namespace: key.namespace, name });
      // Revision 9: a Machine deleted and created again under its name is a new machine, as in
      // Cluster API (before, the name stayed taken and the new object got no machine).
      const existing = state.machines[name];
      if (existing && (!existing.deleted || flow < 9)) return { result: 'unchanged', workflowId: id };
      state.machines[name] = { apply: m, specHash: canonicalJson(m), uid: uuid4(), started: false, gateOpened: false, deleted: false };
      changes++;
      return { result: 'created', workflowId: id };
    },
    {
      validator: (m: MachineApply) => {
        if (state.deleteRequested) throw new Error(`Cluster "${key.name}" is being deleted; no new Machines`);
        assertValid([m.machine, m.infrastructure, ...(m.bootstrapConfig ? [m.bootstrapConfig] : [])]);
        const name = m.machine.metadata.name;
        if (m.machine.spec.clusterName !== key.name) {
          throw new Error(`Machine "${name}": spec.clusterName is "${m.machine.spec.clusterName}", not "${key.name}"`);
        }
        if (LABELS.controlPlane in m.machine.metadata.labels) {
          throw new Error(`Machine "${name}": control-plane Machines are created by the KubeadmControlPlane, not applied directly`);
        }
        if (!m.bootstrapConfig) {
          throw new Error(`Machine "${name}": spec.bootstrap.configRef: a KubeadmConfig is required (dataSecretName is not supported yet)`);
        }
        const existing = state.machines[name];
        if (existing && !(flow >= 9 && existing.deleted) && existing.specHash !== canonicalJson(m)) {
          const fields = diffPaths(existing.apply, m).map((f) => f.replace(/^machine\./, ''));
          throw new Error(
            `Machine "${name}" is immutable: ${fields.join(', ')} cannot be changed; Machines are replaced, not updated (delete it and apply a new one)`,
          );
        }
      },
    },
  );
  /**
   * An object its Cluster starts and owns (a MachineDeployment, a MachineSet applied on its own,
   * a MachineHealthCheck): recorded once (adding a live one again is `unchanged`), refused while
   * the cluster is being deleted, re-validated, and only for this cluster.
   */
  function handleAdd<T, R extends { deleted: boolean }>(
    update: UpdateDefinition<ApplyResult, [T]>,
    o: {
      kind: string;
      records: () => Record<string, R>;
      workflowIdOf: (k: ObjectKey) => string;
      /** The object, and every document to validate with it. */
      parts: (a: T) => { object: { metadata: { name: string }; spec: { clusterName: string } }; documents: unknown[] };
      record: (a: T) => R;
    },
  ): void {
    setHandler(
      update,
      (a: T): ApplyResult => {
        const name = o.parts(a).object.metadata.name;
        const id = o.workflowIdOf({ namespace: key.namespace, name });
        const existing = o.records()[name];
        if (existing && !existing.deleted) return { result: 'unchanged', workflowId: id };
        o.records()[name] = o.record(a);
        changes++;
        return { result: 'created', workflowId: id };
      },
      {
        validator: (a: T) => {
          const { object, documents } = o.parts(a);
          if (state.deleteRequested) throw new Error(`Cluster "${key.name}" is being deleted; no new ${o.kind}s`);
          assertValid(documents);
          if (object.spec.clusterName !== key.name) {
            throw new Error(`${o.kind} "${object.metadata.name}": spec.clusterName is "${object.spec.clusterName}", not "${key.name}"`);
          }
        },
      },
    );
  }
  handleAdd(addMachineDeploymentUpdate, {
    kind: 'MachineDeployment',
    records: deployments,
    workflowIdOf: machineDeploymentWorkflowId,
    parts: (a: MachineDeploymentApply) => ({ object: a.machineDeployment, documents: [a.machineDeployment, a.bootstrapTemplate, a.infrastructureTemplate] }),
    record: (a) => ({ apply: a, started: false, gateOpened: false, deleted: false }),
  });
  handleAdd(addMachineSetUpdate, {
    kind: 'MachineSet',
    records: machineSets,
    workflowIdOf: machineSetWorkflowId,
    parts: (a: MachineSetApply) => ({ object: a.machineSet, documents: [a.machineSet, a.bootstrapTemplate, a.infrastructureTemplate] }),
    record: (a) => ({ apply: a, started: false, gateOpened: false, deleted: false }),
  });
  handleAdd(addMachineHealthCheckUpdate, {
    kind: 'MachineHealthCheck',
    records: healthChecks,
    workflowIdOf: machineHealthCheckWorkflowId,
    parts: (o: MachineHealthCheck) => ({ object: o, documents: [o] }),
    record: (o) => ({ object: o, started: false, deleted: false }),
  });
  /** A report from an object the Cluster owns (a deployment, a set): kept, and the end of a deleted one. */
  const recordReport = <T extends { name: string; deleted: boolean }>(records: Record<string, { report?: T; deleted: boolean }>, r: T) => {
    const o = records[r.name];
    if (!o) return;
    o.report = r;
    if (r.deleted) o.deleted = true;
    changes++;
  };
  setHandler(machineDeploymentReportSignal, (r) => recordReport(deployments(), r));
  setHandler(machineSetReportSignal, (r) => recordReport(machineSets(), r));
  setHandler(deleteClusterUpdate, () => {
    state.deleteRequested = true;
    changes++;
    return { accepted: true as const };
  });
  setHandler(controlPlaneReportSignal, (r) => {
    state.controlPlane = r;
    changes++;
  });
  setHandler(machineReportSignal, (r) => {
    if (recordMachineReport(state.machines, r)) changes++;
  });
  /** Tells its control plane, deployments, sets and health checks the pause, when it changed since they were told (pause.ts). */
  const tellPaused = async () => {
    const paused = !!state.paused;
    if (paused === !!state.pausedTold) return;
    state.pausedTold = paused;
    const tell = (id: string) => signalOrForget(id, (h) => h.signal(pauseSignal, { paused }), () => undefined);
    const sends: Promise<void>[] = [];
    if (state.controlPlaneStarted && !state.controlPlane?.deleted) sends.push(tell(controlPlaneWorkflowId({ namespace: key.namespace, name: apply.controlPlane.metadata.name })));
    for (const [name, d] of liveDeployments()) if (d.started) sends.push(tell(machineDeploymentWorkflowId({ namespace: key.namespace, name })));
    for (const [name, m] of liveSets()) if (m.started) sends.push(tell(machineSetWorkflowId({ namespace: key.namespace, name })));
    for (const [name, h] of liveHealthChecks()) if (h.started) sends.push(tell(machineHealthCheckWorkflowId({ namespace: key.namespace, name })));
    await Promise.all(sends);
  };
  /** Its running control plane's own pause changed since it was told (or started). */
  const controlPlanePauseDue = () => !!state.controlPlaneAnnotated !== !!state.controlPlaneAnnotatedTold && !!state.controlPlaneStarted && !state.controlPlane?.deleted;
  /** Tells its control plane its own pause (its paused annotation), when that changed since it was told or started. */
  const tellControlPlanePaused = async () => {
    if (!controlPlanePauseDue()) return;
    const annotated = !!state.controlPlaneAnnotated;
    state.controlPlaneAnnotatedTold = annotated;
    const kcp = apply.controlPlane.metadata;
    await signalOrForget(controlPlaneWorkflowId({ namespace: kcp.namespace, name: kcp.name }), (h) => h.signal(pauseSignal, { annotated }), () => undefined);
  };
  setHandler(wakeObserverSignal, () => {
    if (wake(state)) changes++;
  });
  setHandler(clusterStatusQuery, (): ClusterView => ({
    name: key.name,
    namespace: key.namespace,
    uid: state.uid,
    controlPlane: { kind: 'KubeadmControlPlane', name: apply.controlPlane.metadata.name, version: cpApplied().controlPlane.spec.version },
    status: state.status,
    controlPlaneStatus: state.controlPlane,
    machines: liveMachines().map(([name, m]) => ({
      name,
      phase: m.report?.phase ?? 'Pending',
      nodeRef: m.report?.nodeRef,
      nodeReady: m.report?.nodeReady ?? false,
    })),
    deployments: liveDeployments().map(([name, d]) => ({
      name,
      desiredReplicas: d.report?.desiredReplicas ?? d.apply.machineDeployment.spec.replicas,
      replicas: d.report?.replicas ?? 0,
      readyReplicas: d.report?.readyReplicas ?? 0,
      availableReplicas: d.report?.availableReplicas ?? 0,
      rollingOut: d.report?.rollingOut ?? false,
    })),
  }));

  // --- status, computed in one place ---
  const updateStatus = () => {
    const s = state.status;
    const cp = state.controlPlane;
    s.initialization.controlPlaneInitialized = cp?.initialized ?? s.initialization.controlPlaneInitialized;
    // Revision 6: while the RemoteConnectionProbe fails no machine is known to be ready (Cluster API
    // counts Machines whose Ready is True, Unknown meanwhile), and the Cluster is not Available.
    const blind = probing() && !!state.probeFailedSince;
    s.controlPlane = { desiredReplicas: cpReplicas(), replicas: cp?.replicas ?? 0, readyReplicas: blind ? 0 : (cp?.readyReplicas ?? 0) };
    const workers = liveMachines();
    // A deployment scaled through its own workflow reports its new desired count.
    const fromDeployments = [
      ...liveDeployments().map(([, d]) => ({ desired: d.report?.desiredReplicas ?? d.apply.machineDeployment.spec.replicas, replicas: d.report?.replicas ?? 0, ready: d.report?.readyReplicas ?? 0 })),
      // MachineSets applied on their own count as their deployments do.
      ...liveSets().map(([, m]) => ({ desired: m.report?.desiredReplicas ?? m.apply.machineSet.spec.replicas, replicas: m.report?.replicas ?? 0, ready: m.report?.readyReplicas ?? 0 })),
    ];
    const readyWorkers = blind ? 0 : workers.filter(([, m]) => m.report?.nodeReady).length + fromDeployments.reduce((a, d) => a + d.ready, 0);
    const desiredWorkers = workers.length + fromDeployments.reduce((a, d) => a + d.desired, 0);
    s.workers = { desiredReplicas: desiredWorkers, replicas: workers.length + fromDeployments.reduce((a, d) => a + d.replicas, 0), readyReplicas: readyWorkers };
    cond(
      s.initialization.controlPlaneInitialized
        ? { type: ConditionType.ControlPlaneInitialized, status: 'True', reason: Reason.Initialized }
        : { type: ConditionType.ControlPlaneInitialized, status: 'False', reason: Reason.NotInitialized, message: 'Control plane not yet initialized' },
    );
    cond(
      cp?.available
        ? { type: ConditionType.ControlPlaneAvailable, status: 'True', reason: Reason.Available }
        : cp?.problem
          ? { type: ConditionType.ControlPlaneAvailable, status: 'False', reason: cp.problem.reason, message: cp.problem.message }
          : { type: ConditionType.ControlPlaneAvailable, status: 'False', reason: Reason.NotAvailable, message: `${s.controlPlane.readyReplicas} of ${s.controlPlane.desiredReplicas} control-plane machines ready` },
    );
    cond(
      readyWorkers >= desiredWorkers
        ? { type: ConditionType.WorkersAvailable, status: 'True', reason: Reason.Available }
        : { type: ConditionType.WorkersAvailable, status: 'False', reason: Reason.NotAvailable, message: `${readyWorkers} of ${desiredWorkers} worker machines ready` },
    );
    if (probing()) cond(remoteConnectionProbe(state.probeFailedSince));
    const available = s.initialization.infrastructureProvisioned && !!cp?.available && readyWorkers >= desiredWorkers && !blind;
    cond(
      available
        ? { type: ConditionType.Available, status: 'True', reason: Reason.Available }
        : { type: ConditionType.Available, status: 'False', reason: Reason.NotAvailable },
    );
    if (!state.deleteRequested && s.initialization.infrastructureProvisioned && s.initialization.controlPlaneInitialized) {
      setPhase('Provisioned');
    }
  };

  /**
   * Whether an owned child started. Revision 9: one whose workflow ID is still held by its earlier
   * workflow, which is ending (an object deleted and applied again at once), is started on a pass a
   * second later instead of failing the Cluster; before, that error ended the Cluster's workflow.
   */
  const startedOwned = async (start: Promise<unknown>, workflowId: string): Promise<boolean> => {
    try {
      await start;
      return true;
    } catch (err) {
      if (flow < 9 || !(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      log.warn('not started yet: its workflow ID is held by an earlier workflow that is ending', { workflowId });
      await sleep(1000);
      changes++;
      return false;
    }
  };

  // --- worker machines: start each, and open the gate once the control plane is initialized ---
  const reconcileMachines = async () => {
    const initialized = state.status.initialization.controlPlaneInitialized;
    for (const [name, m] of Object.entries(state.machines)) {
      if (m.deleted) continue;
      const id = machineWorkflowId({ namespace: key.namespace, name });
      if (!m.started) {
        const { machine, infrastructure, bootstrapConfig } = m.apply;
        const start = startChild(MachineWorkflow, {
          workflowId: id,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: objectSearchAttributes('Machine', key.namespace, key.name, 'Pending'),
          memo: { ...startMemo(machineListMemo('worker-join', machine.spec.version)), ...flowMemo(), ...machineFactsMemo({ labels: machine.metadata.labels, createdAt: new Date().toISOString() }), ...remediationMemo(machine.metadata.annotations) },
          args: [
            {
              machine: { name, namespace: key.namespace, uid: m.uid, labels: machine.metadata.labels, ...annotationsIfAny(machine.metadata.annotations), spec: machine.spec },
              role: 'worker-join',
              bootstrapConfig: bootstrapConfig!.spec,
              bootstrapConfigName: bootstrapConfig!.metadata.name,
              infrastructure: infrastructure.spec,
              cluster: context(),
              ownerWorkflowId: workflowInfo().workflowId,
              gateOpen: initialized,
            },
          ],
        });
        if (!(await startedOwned(start, id))) continue;
        m.started = true;
        m.gateOpened = initialized;
      } else if (initialized && !m.gateOpened) {
        await getExternalWorkflowHandle(id).signal(controlPlaneInitializedSignal);
        m.gateOpened = true;
      }
    }
    for (const [name, d] of liveDeployments()) {
      const id = machineDeploymentWorkflowId({ namespace: key.namespace, name });
      if (!d.started) {
        const start = startChild(MachineDeploymentWorkflow, {
          workflowId: id,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: objectSearchAttributes('MachineDeployment', key.namespace, key.name, 'Pending'),
          memo: flowMemo(),
          args: [{ apply: d.apply, cluster: context(), ownerWorkflowId: workflowInfo().workflowId, gateOpen: initialized, controlPlaneVersion: cpVersion() }],
        });
        if (!(await startedOwned(start, id))) continue;
        d.started = true;
        d.gateOpened = initialized;
        if (cpFacts()) d.controlPlaneTold = controlPlaneFactsKey({ version: cpVersion(), upgrading: false });
      } else if (initialized && !d.gateOpened) {
        await getExternalWorkflowHandle(id).signal(controlPlaneInitializedSignal);
        d.gateOpened = true;
      }
      await tellControlPlaneFacts(id, d);
    }
    // MachineHealthChecks start once the control plane is initialized (Cluster API does not
    // penalize machines of a cluster whose control plane is not up).
    for (const [name, h] of liveHealthChecks()) {
      if (h.started || !initialized) continue;
      const id = machineHealthCheckWorkflowId({ namespace: key.namespace, name });
      const start = startChild(MachineHealthCheckWorkflow, {
        workflowId: id,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: objectSearchAttributes('MachineHealthCheck', key.namespace, key.name, 'Running'),
        // Revision 5: it shows its unhealthy machines in its memo (list-memo.ts UNHEALTHY_MEMO).
        ...(flow >= 5 ? { memo: flowMemo() } : {}),
        args: [{ machineHealthCheck: h.object, cluster: key, ownerWorkflowId: workflowInfo().workflowId }],
      });
      if (!(await startedOwned(start, id))) continue;
      h.started = true;
      // Its end is its deletion: the Cluster forgets it then.
    }
    for (const [name, m] of liveSets()) {
      const id = machineSetWorkflowId({ namespace: key.namespace, name });
      if (!m.started) {
        try {
          await startChild(MachineSetWorkflow, {
            workflowId: id,
            parentClosePolicy: ParentClosePolicy.ABANDON,
            typedSearchAttributes: objectSearchAttributes('MachineSet', key.namespace, key.name, 'Pending'),
            memo: flowMemo(),
            args: [standaloneSetInput(m.apply, context(), workflowInfo().workflowId, initialized, cpVersion())],
          });
        } catch (err) {
          // The name is a running set's (a MachineDeployment's, created meanwhile): not ours to start.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          log.warn('MachineSet not started: its workflow ID is in use', { workflowId: id });
          m.deleted = true;
          continue;
        }
        m.started = true;
        m.gateOpened = initialized;
        if (cpFacts()) m.controlPlaneTold = controlPlaneFactsKey({ version: cpVersion(), upgrading: false });
      } else if (initialized && !m.gateOpened) {
        await getExternalWorkflowHandle(id).signal(controlPlaneInitializedSignal);
        m.gateOpened = true;
      }
      await tellControlPlaneFacts(id, m);
    }
  };

  // --- provisioning (a Cluster created paused makes nothing until it is resumed) ---
  if (state.paused && !state.controlPlaneStarted) {
    cond(pausedCondition(true));
    syncListMemo();
    await untilResumed(state, () => false);
  }
  if (!state.deleteRequested && !state.providerClusterId) {
    setPhase('Provisioning');
    cond({ type: ConditionType.InfrastructureReady, status: 'False', reason: Reason.Provisioning, message: 'Creating the cluster infrastructure' });
    setCurrentDetails('creating the cluster infrastructure (network, load-balanced API endpoint)');
    try {
      const infra = await provider.createInfraCluster({
        clientToken: state.uid,
        name: key.name,
        namespace: key.namespace,
        spec: apply.infrastructure.spec,
      });
      state.providerClusterId = infra.providerClusterId;
      state.status.controlPlaneEndpoint = infra.endpoint;
      if (infra.failureDomains?.length) state.status.failureDomains = infra.failureDomains.map((name) => ({ name, controlPlane: true }));
      state.status.initialization.infrastructureProvisioned = true;
      cond({ type: ConditionType.InfrastructureReady, status: 'True', reason: Reason.Provisioned });
    } catch (err) {
      const t = terminalFailure(err);
      if (!t) throw err;
      // The cloud refused the infrastructure for good (e.g. an unknown region): the Cluster is
      // Failed with the reason, and waits to be deleted.
      cond({ type: ConditionType.InfrastructureReady, status: 'False', reason: t.failure.type ?? Reason.ProviderFailed, message: t.failure.message });
      setPhase('Failed');
      setCurrentDetails(`failed: ${t.failure.message}`);
      await condition(() => state.deleteRequested);
    }
  }
  if (!state.deleteRequested && !state.controlPlaneStarted) {
    setCurrentDetails('starting the control plane');
    const kcp = apply.controlPlane;
    // (It takes its paused annotation from the manifest it starts with.)
    if (hasPausedAnnotation(apply.controlPlane.metadata)) state.controlPlaneAnnotatedTold = true;
    await startChild(ControlPlaneWorkflow, {
      workflowId: controlPlaneWorkflowId({ namespace: kcp.metadata.namespace, name: kcp.metadata.name }),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: objectSearchAttributes('KubeadmControlPlane', key.namespace, key.name, 'Provisioning'),
      args: [
        {
          controlPlane: kcp,
          machineTemplate: apply.controlPlaneMachineTemplate,
          cluster: context(),
          clusterWorkflowId: workflowInfo().workflowId,
        },
      ],
    });
    state.controlPlaneStarted = true;
  }

  const continueFresh = async (): Promise<never> => {
    await mirror.stop();
    await condition(allHandlersFinished);
    return continueAsNew<typeof ClusterWorkflow>({ apply, state });
  };

  showQuietAfterContinue(state);
  while (!state.deleteRequested) {
    const seen = changes;
    // Paused: its objects are told, and nothing starts, scales or goes until it is resumed (pause.ts).
    await tellPaused();
    await tellControlPlanePaused();
    if (state.paused) {
      updateStatus();
      syncListMemo();
      // (Its control plane's own pause is told while it is paused too.)
      const resumed = await untilResumed(state, () => workflowInfo().continueAsNewSuggested || controlPlanePauseDue());
      if (!resumed && workflowInfo().continueAsNewSuggested) return await continueFresh();
      continue;
    }
    await reconcileMachines();
    if (flow >= 3 && state.status.initialization.controlPlaneInitialized && state.quiet === undefined && (mirrorRetryAt === undefined || Date.now() >= mirrorRetryAt)) {
      mirrorRetryAt = undefined;
      mirror.ensure();
    }
    if (state.controlPlaneSpec && !state.controlPlaneSpecSent && state.controlPlaneStarted) {
      const kcp = apply.controlPlane.metadata;
      await signalOrForget(controlPlaneWorkflowId({ namespace: kcp.namespace, name: kcp.name }), (h) => h.signal(updateControlPlaneSignal, state.controlPlaneSpec!), () => undefined);
      state.controlPlaneSpecSent = true;
    }
    if (state.controlPlaneReplicas !== undefined && !state.controlPlaneScaleSent && state.controlPlaneStarted) {
      const kcp = apply.controlPlane.metadata;
      await signalOrForget(controlPlaneWorkflowId({ namespace: kcp.namespace, name: kcp.name }), (h) => h.signal(scaleControlPlaneSignal, { replicas: state.controlPlaneReplicas! }), () => undefined);
      state.controlPlaneScaleSent = true;
    }
    updateStatus();
    syncListMemo();
    setCurrentDetails(
      mirrorProblem ? `following Nodes: ${mirrorProblem}` : !state.status.initialization.controlPlaneInitialized
        ? `waiting for ControlPlaneInitialized; ${liveMachines().length} worker Machine(s) and ${liveDeployments().length} MachineDeployment(s) held at the gate`
        : state.status.conditions.some((c) => c.type === ConditionType.Available && c.status === 'True')
          ? 'nothing to do'
          : 'waiting for machines to be ready',
    );
    const settled = () => changes !== seen || state.deleteRequested || workflowInfo().continueAsNewSuggested;
    // A failed mirror's next round is due (revision 6 only: a timer is a command).
    if (mirrorRetryAt !== undefined) await condition(settled, Math.max(1, mirrorRetryAt - Date.now()));
    else await condition(settled);
    if (workflowInfo().continueAsNewSuggested && !state.deleteRequested) return await continueFresh();
  }
  // (Paused: its deletion waits too, as Cluster API's does.)
  if (state.paused) {
    await tellPaused();
    syncListMemo();
    await untilResumed(state, () => false, `deletion requested; ${PAUSED_DETAILS}`);
  }
  await tellPaused();

  /**
   * Tells each live object to delete itself as its cluster goes (one never started is dropped,
   * one already gone is forgotten), then waits until none is left.
   */
  async function deleteEach(
    live: () => [string, { started: boolean; deleted: boolean }][],
    workflowIdOf: (k: ObjectKey) => string,
    signal: SignalDefinition<[DeleteRequest?]>,
  ): Promise<void> {
    for (const [name, r] of live()) {
      if (!r.started) {
        r.deleted = true;
        continue;
      }
      await signalOrForget(workflowIdOf({ namespace: key.namespace, name }), (h) => h.signal(signal, { clusterDeleting: true }), () => (r.deleted = true));
    }
    await condition(() => live().length === 0);
  }

  // --- deletion, in Cluster API's order: deployments (their sets and machines), machines, control plane, infrastructure ---
  setPhase('Deleting');
  cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.Deleting });
  // Revision 9: the watcher shows the Deleting condition on the Cluster object (one memo upsert).
  if (flow >= 9) syncListMemo();
  if (mirror.running) await mirror.stop();
  // Health checks first: nothing is remediated while the cluster goes.
  for (const [name, h] of liveHealthChecks()) {
    h.deleted = true;
    if (h.started) await signalOrForget(machineHealthCheckWorkflowId({ namespace: key.namespace, name }), (hd) => hd.signal(deleteMachineHealthCheckSignal), () => undefined);
  }
  setCurrentDetails('deleting machine deployments');
  await deleteEach(liveDeployments, machineDeploymentWorkflowId, deleteMachineDeploymentSignal);
  if (liveSets().length) setCurrentDetails('deleting machine sets');
  await deleteEach(liveSets, machineSetWorkflowId, deleteMachineSetSignal);
  setCurrentDetails('deleting worker machines');
  await deleteEach(liveMachines, machineWorkflowId, deleteMachineSignal);

  if (state.controlPlaneStarted && !state.controlPlane?.deleted) {
    setCurrentDetails('deleting the control plane');
    // (Its own pause as it is now, before it is told to go: a paused control plane's deletion waits.)
    await tellControlPlanePaused();
    const kcp = apply.controlPlane.metadata;
    await signalOrForget(
      controlPlaneWorkflowId({ namespace: kcp.namespace, name: kcp.name }),
      (h) => h.signal(deleteControlPlaneSignal, { clusterDeleting: true }),
      () => (state.controlPlane = { ...state.controlPlane!, deleted: true }),
    );
    // (A control plane with the paused annotation waits to be deleted until it is told that is removed.)
    while (!state.controlPlane?.deleted) {
      await condition(() => !!state.controlPlane?.deleted || controlPlanePauseDue());
      await tellControlPlanePaused();
    }
  }

  if (state.providerClusterId) {
    setCurrentDetails('deleting the cluster infrastructure');
    await waits.deleteInfraCluster({ providerClusterId: state.providerClusterId });
    state.status.initialization.infrastructureProvisioned = false;
  }
  await provider.deleteClusterSecrets({ cluster: key });
  setPhase('Deleted');
  setCurrentDetails('Deleted');
  return state.status;
}
