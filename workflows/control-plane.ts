// ControlPlaneWorkflow (KubeadmControlPlane): certificates, then the first machine with
// *init* bootstrap data; once the workload cluster's API answers it reports
// ControlPlaneInitialized, and only then creates the other control-plane machines with
// *join* data, one at a time, each after the previous one's Node is Ready.
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  ParentClosePolicy,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { KubeadmControlPlaneStatus } from '../api/kubeadm-control-plane.js';
import { flowMemo } from './flow.js';
import { GROUPS, LABELS } from '../api/meta.js';
import { activities, terminalFailure } from './activity-proxies.js';
import { ConditionType, Reason, retryingCondition, setCondition, type ConditionInput } from './conditions.js';
import { machineWorkflowId } from './ids.js';
import { MachineWorkflow } from './machine.js';
import { controlPlaneReportSignal, controlPlaneStatusQuery, deleteControlPlaneSignal, updateControlPlaneSignal, deleteMachineSignal, machineReportSignal, remediateControlPlaneMachineSignal, scaleControlPlaneSignal } from './messages.js';
import { hasPausedAnnotation, heedsPausedAnnotation, isPaused, takePause, untilResumed } from './pause.js';
import { controlPlaneRemediation, quorum, retryLimits, type RetryInput } from './planners/control-plane-remediation.js';
import { compareVersions, pickFailureDomain, planControlPlane } from './planners/control-plane-rollout.js';
import { canonicalJson } from './spec-diff.js';
import { generateName } from './names.js';
import { recordMachineReport, reporter, signalOrForget } from './reports.js';
import { annotationsIfAny, machineFactsMemo, machineListMemo, remediationMemo, startMemo } from './list-memo.js';
import { pendingInPlace, tellMachinesInPlace, type TemplateInPlace } from './in-place.js';
import { objectSearchAttributes } from './search-attributes.js';
import type { BootstrapRole, ControlPlaneMachineRecord, ControlPlaneMachineSpec, ControlPlaneReport, DeleteRequest, ControlPlaneState, ControlPlaneView, ControlPlaneWorkflowInput } from './types.js';

/** A control plane tells its machines what changed in place on its machine template (labels, annotations, deletion timeouts). */
export const KCP_IN_PLACE_TO_MACHINES_PATCH = 'kcp-in-place-to-machines';

/** The condition each step's failures are shown on. */
const STEP_CONDITION: Record<string, string> = {
  ensureClusterCertificates: ConditionType.CertificatesAvailable,
  waitForWorkloadAPI: ConditionType.ControlPlaneInitialized,
};
const stepCondition = (activity: string) => STEP_CONDITION[activity] ?? ConditionType.Available;

export async function ControlPlaneWorkflow(input: ControlPlaneWorkflowInput): Promise<KubeadmControlPlaneStatus> {
  const kcp = input.controlPlane;
  const spec = kcp.spec;
  const state: ControlPlaneState = input.state ?? {
    status: {
      initialization: { controlPlaneInitialized: false },
      replicas: 0,
      readyReplicas: 0,
      upToDateReplicas: 0,
      version: spec.version,
      conditions: [],
      observedGeneration: 1,
    },
    machines: {},
    certificatesReady: false,
    deleteRequested: false,
    clusterDeleting: false,
    reportedAvailable: false,
    // (Created with Cluster API's paused annotation: it makes no machine until that is removed.)
    ...(heedsPausedAnnotation(hasPausedAnnotation(kcp.metadata)) ? { annotated: true } : {}),
  };
  let changes = 0;
  let scope: CancellationScope | undefined;

  const cond = (c: ConditionInput) => setCondition(state.status.conditions, c, new Date(), state.status.observedGeneration);
  const live = () => Object.entries(state.machines).filter(([, m]) => !m.deleted);
  /** spec.replicas as last changed (a scale through its Cluster), else as created. */
  const desired = () => state.replicas ?? spec.replicas;
  /** The spec and machine template as last changed (an upgrade through its Cluster), else as created. */
  const current = () => state.spec?.controlPlane.spec ?? spec;
  const currentTemplate = () => state.spec?.machineTemplate ?? input.machineTemplate;
  const madeNow = (): ControlPlaneMachineSpec => ({ version: current().version, infrastructure: canonicalJson(currentTemplate().spec.template.spec) });
  const madeOf = (m: ControlPlaneMachineRecord): ControlPlaneMachineSpec => m.made ?? { version: spec.version, infrastructure: canonicalJson(input.machineTemplate.spec.template.spec) };
  const upToDate = (m: ControlPlaneMachineRecord) => canonicalJson(madeOf(m)) === canonicalJson(madeNow());
  const readyCount = () => live().filter(([, m]) => m.report?.nodeReady).length;
  /** A machine's labels: its template's, its cluster's and the control plane's. */
  const machineLabels = () => ({
    ...current().machineTemplate.metadata.labels,
    [LABELS.clusterName]: input.cluster.key.name,
    [LABELS.controlPlane]: '',
    [LABELS.controlPlaneName]: kcp.metadata.name,
  });
  /** What of the machine template its machines take in place. */
  const machinesTake = (): TemplateInPlace => ({ deletion: current().machineTemplate.spec.deletion, labels: machineLabels(), annotations: current().machineTemplate.metadata.annotations ?? {} });

  setHandler(controlPlaneStatusQuery, (): ControlPlaneView => ({
    name: kcp.metadata.name,
    namespace: kcp.metadata.namespace,
    clusterName: input.cluster.key.name,
    ...(state.paused ? { clusterPaused: true as const } : {}),
    ...(state.annotated ? { annotationPaused: true as const } : {}),
    spec: { ...current(), replicas: desired() },
    status: state.status,
    machines: live().map(([name, m]) => ({
      name,
      role: m.role,
      phase: m.report?.phase ?? 'Pending',
      nodeRef: m.report?.nodeRef,
      nodeReady: m.report?.nodeReady ?? false,
      version: madeOf(m).version,
      upToDate: upToDate(m),
      infrastructureUpToDate: madeOf(m).infrastructure === madeNow().infrastructure,
      ...(m.remediating && m.report?.remediated ? { remediating: true } : {}),
    })),
  }));
  setHandler(machineReportSignal, (r) => {
    if (recordMachineReport(state.machines, r)) changes++;
  });
  takePause(state, () => changes++);
  setHandler(scaleControlPlaneSignal, ({ replicas }) => {
    if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas % 2 === 0 || replicas === desired()) return;
    state.replicas = replicas;
    state.status.observedGeneration++;
    changes++;
  });
  setHandler(updateControlPlaneSignal, (next) => {
    const before = machinesTake();
    state.spec = next;
    // What its machines take in place, as Cluster API's KubeadmControlPlane propagates its machine template.
    state.toMachines = pendingInPlace(before, machinesTake(), state.toMachines);
    if (next.controlPlane.spec.replicas !== desired()) state.replicas = next.controlPlane.spec.replicas;
    state.status.observedGeneration++;
    changes++;
  });
  setHandler(remediateControlPlaneMachineSignal, ({ machine, remediation }) => {
    if (!state.machines[machine] || state.machines[machine].deleted) return;
    if (remediation) (state.remediationRequests ??= {})[machine] = remediation;
    else delete state.remediationRequests?.[machine];
    changes++;
  });
  setHandler(deleteControlPlaneSignal, (req) => {
    state.deleteRequested = true;
    if (req?.clusterDeleting) state.clusterDeleting = true;
    scope?.cancel();
    changes++;
  });

  const updateStatus = async () => {
    state.status.replicas = live().length;
    state.status.readyReplicas = readyCount();
    const outdated = live().filter(([, m]) => !upToDate(m));
    state.status.upToDateReplicas = live().length - outdated.length;
    // Cluster API's status.version: the oldest version its machines run.
    const versions = live().map(([, m]) => madeOf(m).version).sort(compareVersions);
    if (versions[0]) state.status.version = versions[0];
    cond(
      outdated.length
        ? { type: 'MachinesUpToDate', status: 'False', reason: 'NotUpToDate', message: `${outdated.map(([n]) => n).sort().join(', ')} not up to date (${current().version} required)` }
        : { type: 'MachinesUpToDate', status: 'True', reason: 'UpToDate' },
    );
    cond(
      outdated.length
        ? { type: 'RollingOut', status: 'True', reason: 'RollingOut', message: `Rolling out ${outdated.length} not up-to-date replica${outdated.length === 1 ? '' : 's'}` }
        : { type: 'RollingOut', status: 'False', reason: 'NotRollingOut' },
    );
    const available = state.status.initialization.controlPlaneInitialized && state.status.readyReplicas >= desired();
    cond(
      available
        ? { type: ConditionType.Available, status: 'True', reason: Reason.Available }
        : { type: ConditionType.Available, status: 'False', reason: Reason.NotAvailable, message: `${state.status.readyReplicas} of ${desired()} control-plane machines are ready` },
    );
    const r: ControlPlaneReport = {
      initialized: state.status.initialization.controlPlaneInitialized,
      available,
      desiredReplicas: desired(),
      replicas: state.status.replicas,
      readyReplicas: state.status.readyReplicas,
      deleted: false,
      ...(state.problem ? { problem: state.problem } : {}),
      ...(state.status.version ? { version: state.status.version } : {}),
      ...(outdated.length ? { rollingOut: true } : {}),
    };
    await tellCluster(r);
  };
  const tellCluster = reporter(input.clusterWorkflowId, controlPlaneReportSignal);

  // A step that keeps failing shows on its condition here and, through the report, on the Cluster.
  const { provider, waits } = activities((r) => {
    const c = retryingCondition(state.status.conditions, stepCondition(r.activity), r);
    cond(c);
    state.problem = { reason: c.reason, message: c.message!, terminal: false };
    void updateStatus();
  });
  /** Runs a step; a non-retryable failure is recorded (its type is the reason) and returns false. */
  const step = async (fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn();
      if (state.problem && !state.problem.terminal) state.problem = undefined;
      return true;
    } catch (err) {
      const t = terminalFailure(err);
      if (!t) throw err;
      const reason = t.failure.type ?? Reason.ProviderFailed;
      cond({ type: stepCondition(t.activity), status: 'False', reason, message: t.failure.message });
      state.problem = { reason, message: `${t.activity}: ${t.failure.message}`, terminal: true };
      await updateStatus();
      return false;
    }
  };

  const createMachine = async (role: BootstrapRole, failureDomain?: string) => {
    const name = generateName(kcp.metadata.name, Math.random, (n) => state.machines[n]?.deleted === false);
    const uid = uuid4();
    const made = madeNow();
    state.machines[name] = { uid, role, deleted: false, created: new Date().toISOString(), made, ...(failureDomain ? { failureDomain } : {}) };
    const ns = kcp.metadata.namespace;
    const spec = current();
    const infraRef = spec.machineTemplate.spec.infrastructureRef;
    setCurrentDetails(`creating control-plane machine ${name} (${role})`);
    const labels = machineLabels();
    const annotations = spec.machineTemplate.metadata.annotations;
    await startChild(MachineWorkflow, {
      workflowId: machineWorkflowId({ namespace: ns, name }),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: objectSearchAttributes('Machine', ns, input.cluster.key.name, 'Pending'),
      memo: {
        ...startMemo(machineListMemo(role, spec.version)),
        ...flowMemo(),
        ...machineFactsMemo({ labels, ownerKind: 'KubeadmControlPlane', createdAt: new Date().toISOString(), ...annotationsIfAny(annotations) }),
        ...remediationMemo(annotations),
      },
      args: [
        {
          machine: {
            name,
            namespace: ns,
            uid,
            labels,
            // The machine template's annotations are each machine's, as in Cluster API.
            ...annotationsIfAny(annotations),
            spec: {
              clusterName: input.cluster.key.name,
              bootstrap: { configRef: { apiGroup: GROUPS.bootstrap, kind: 'KubeadmConfig', name } },
              infrastructureRef: { apiGroup: infraRef.apiGroup, kind: 'SimMachine', name },
              version: spec.version,
              minReadySeconds: 0,
              ...(failureDomain ? { failureDomain } : {}),
              deletion: spec.machineTemplate.spec.deletion,
            },
          },
          role,
          bootstrapConfig: spec.kubeadmConfigSpec,
          bootstrapConfigName: name,
          infrastructure: currentTemplate().spec.template.spec,
          cluster: input.cluster,
          ownerWorkflowId: workflowInfo().workflowId,
          gateOpen: true,
        },
      ],
    });
    changes++;
  };

  /**
   * Remediation, one machine at a time, as Cluster API's KCP: a machine a MachineHealthCheck
   * asked about is deleted (and then replaced by the scale-up below) only when that keeps a
   * healthy etcd majority; otherwise the request waits and the Remediating condition says why.
   */
  /** Waits for a change, deletion or a continue-as-new suggestion, and past `wakeAt` if one is set. */
  const sleepUntilChangeOr = async (seen: number) => {
    const wake = () => changes !== seen || state.deleteRequested || workflowInfo().continueAsNewSuggested;
    const at = wakeAt;
    wakeAt = undefined;
    if (at !== undefined) await condition(wake, Math.max(1000, at - Date.now() + 100));
    else await condition(wake);
  };
  /**
   * Tells every machine what changed in place on the machine template (in-place.ts), one signal
   * each. Behind a patch: a control plane whose history holds a change from before replays as recorded.
   */
  const tellMachines = async () => {
    const told = state.toMachines;
    if (!told || !patched(KCP_IN_PLACE_TO_MACHINES_PATCH)) return;
    state.toMachines = undefined;
    const machines = live().map(([name, m]) => ({ name, deleting: !!m.remediating || m.report?.phase === 'Deleting' }));
    await tellMachinesInPlace(kcp.metadata.namespace, machines, told, (name) => (state.machines[name]!.deleted = true));
  };
  /** When the loop must look again though nothing changed (a retry period ends), in ms since the epoch. */
  let wakeAt: number | undefined;
  const retryInput = (target: string): RetryInput => ({
    now: new Date().toISOString(),
    targetCreatedAt: state.machines[target]?.created ?? new Date(0).toISOString(),
    ...(state.lastRemediation ? { last: state.lastRemediation } : {}),
    ...(current().remediation ? { settings: current().remediation } : {}),
  });
  const retryPeriodEnds = () => Date.parse(state.lastRemediation!.at) + (current().remediation?.retryPeriodSeconds ?? 0) * 1000;

  /** Shows why a remediation waits or is refused; the end of a retry period wakes the loop. */
  const holdRemediation = (d: { wait: boolean; reason: string; message: string }) => {
    cond({ type: 'Remediating', status: d.wait ? 'True' : 'False', reason: d.reason, message: d.message });
    if (d.reason === 'WaitingForRetryPeriod') wakeAt = retryPeriodEnds();
  };
  /**
   * Tells one machine to delete itself (a remediation, an init retry, a scale-down, a rollout); it
   * stays live, counted as going, until it reports Deleted. A member of a running etcd cluster
   * leaves it first, as Cluster API's KCP removes it (a member whose host is gone still counts
   * against quorum); an init machine that failed has no cluster to leave.
   */
  const deleteMachine = async (name: string, req?: DeleteRequest, leaveEtcd = true) => {
    if (leaveEtcd && patched('kcp-etcd-member-removal')) {
      setCurrentDetails(`removing the etcd member of ${name}`);
      await provider.removeEtcdMember({ cluster: input.cluster, nodeName: state.machines[name]!.report?.nodeRef ?? name });
    }
    state.machines[name]!.remediating = true;
    await signalOrForget(
      machineWorkflowId({ namespace: kcp.metadata.namespace, name }),
      (h) => (req ? h.signal(deleteMachineSignal, req) : h.signal(deleteMachineSignal)),
      () => (state.machines[name]!.deleted = true),
    );
  };

  /**
   * The first machine failed before the control plane was initialized (its instance died, its
   * bootstrap failed for good): as Cluster API's KCP, delete it and start over with a new init
   * machine, within spec.remediation's retry limits.
   */
  const retryInit = async (name: string) => {
    const decision = retryLimits(name, retryInput(name));
    if (!decision.allowed) return holdRemediation(decision);
    state.lastRemediation = { machine: name, at: new Date().toISOString(), retryCount: decision.retryCount };
    const why = state.machines[name]!.report?.failureMessage ?? 'it failed';
    cond({ type: 'Remediating', status: 'True', reason: 'RemediationInProgress', message: `deleting init machine ${name} to try again: ${why}` });
    setCurrentDetails(`init machine ${name} failed (${why}): deleting it to try again`);
    await deleteMachine(name, undefined, false);
  };

  const remediate = async () => {
    const requests = (state.remediationRequests ??= {});
    for (const name of Object.keys(requests)) if (!state.machines[name] || state.machines[name].deleted || state.machines[name].remediating) delete requests[name];
    const target = Object.keys(requests).sort()[0];
    if (!target) {
      if (!live().some(([, m]) => m.remediating)) cond({ type: 'Remediating', status: 'False', reason: 'NotRemediating' });
      return;
    }
    const members = live().map(([name, m]) => ({ machine: name, healthy: !!m.report?.nodeReady && !(name in requests), ...(m.remediating ? { deleting: true } : {}) }));
    const decision = controlPlaneRemediation({ replicas: desired(), members, target, retry: retryInput(target) });
    if (!decision.allowed) return holdRemediation(decision);
    const remediation = requests[target]!;
    state.lastRemediation = { machine: target, at: new Date().toISOString(), retryCount: decision.retryCount };
    delete requests[target];
    cond({ type: 'Remediating', status: 'True', reason: 'RemediationInProgress', message: `deleting ${target}: ${remediation.message}` });
    await deleteMachine(target, { remediation });
  };

  /**
   * Scale up, scale down and rolling upgrade, one machine at a time (planners/control-plane-rollout.ts).
   * A machine of a new version joins only after kubeadm's configuration in the workload cluster
   * names that version, as Cluster API's KCP updates the kubeadm-config ConfigMap first.
   */
  const scaleAndRollOut = async (): Promise<boolean> => {
    const step = planControlPlane({
      replicas: desired(),
      maxSurge: current().rollout?.strategy?.rollingUpdate?.maxSurge ?? 1,
      machines: live().map(([name, m]) => ({
        name,
        created: m.created ?? '',
        upToDate: upToDate(m),
        ready: !!m.report?.nodeReady,
        ...(m.remediating ? { deleting: true } : {}),
        ...(m.failureDomain ? { failureDomain: m.failureDomain } : {}),
      })),
      ...(input.cluster.failureDomains ? { failureDomains: input.cluster.failureDomains } : {}),
    });
    const scaling = step.action !== 'none' && step.reason !== 'RollingOut';
    cond(
      scaling && step.reason === 'ScalingUp'
        ? { type: 'ScalingUp', status: 'True', reason: 'ScalingUp', message: step.message }
        : { type: 'ScalingUp', status: 'False', reason: 'NotScalingUp' },
    );
    cond(
      scaling && step.reason === 'ScalingDown'
        ? { type: 'ScalingDown', status: 'True', reason: 'ScalingDown', message: step.message }
        : { type: 'ScalingDown', status: 'False', reason: 'NotScalingDown' },
    );
    if (step.action === 'none') return false;
    if (step.action === 'wait' && step.reason === 'ScalingDown' && step.blockedBy === 'notReady' && !patched('kcp-scale-down-preflight')) {
      // Histories from before Cluster API's preflight check: the oldest went while a majority stayed healthy.
      const machines = live();
      const notReady = machines.filter(([, m]) => !m.report?.nodeReady).length;
      if (machines.length - 1 - notReady >= quorum(machines.length - 1)) {
        const [victim] = [...machines].sort(([a, x], [b, y]) => (x.created ?? '').localeCompare(y.created ?? '') || a.localeCompare(b))[0]!;
        await deleteMachine(victim);
        return true;
      }
    }
    if (step.action === 'wait') {
      setCurrentDetails(step.message);
      return false;
    }
    if (step.action === 'delete') {
      setCurrentDetails(step.message);
      await deleteMachine(step.machine);
      return true;
    }
    const version = current().version;
    if ((state.kubeadmConfigVersion ?? spec.version) !== version) {
      setCurrentDetails(`setting kubeadm's kubernetesVersion to ${version} in the workload cluster`);
      await provider.setKubeadmConfigVersion({ cluster: input.cluster.key, version });
      state.kubeadmConfigVersion = version;
    }
    setCurrentDetails(step.message + (step.failureDomain ? ` in ${step.failureDomain}` : ''));
    await createMachine('control-plane-join', step.failureDomain);
    return true;
  };

  // Runs fn unless deletion is requested meanwhile (then returns false).
  const unlessDeleted = async (fn: () => Promise<void>): Promise<boolean> => {
    scope = new CancellationScope();
    try {
      await scope.run(fn);
      return true;
    } catch (err) {
      if (state.deleteRequested && isCancellation(err)) return false;
      throw err;
    } finally {
      scope = undefined;
    }
  };

  if (!state.certificatesReady && !state.deleteRequested) {
    setCurrentDetails('generating cluster certificates');
    if (await step(async () => void (await provider.ensureClusterCertificates({ cluster: input.cluster })))) {
      state.certificatesReady = true;
      cond({ type: ConditionType.CertificatesAvailable, status: 'True', reason: 'Available' });
    }
  }
  if (state.problem?.terminal) {
    // Nothing a retry can mend: wait for the spec to be fixed by deleting and re-applying.
    setCurrentDetails(`failed: ${state.problem.message}`);
    await condition(() => state.deleteRequested);
  }

  const continueFresh = async (): Promise<never> => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof ControlPlaneWorkflow>({ ...input, state });
  };

  while (!state.deleteRequested) {
    const seen = changes;
    // Its Cluster is paused, or it has the paused annotation: no machine made, replaced or
    // remediated until it is resumed (pause.ts).
    if (isPaused(state)) {
      if (!(await untilResumed(state, () => workflowInfo().continueAsNewSuggested))) return await continueFresh();
      continue;
    }
    if (!state.status.initialization.controlPlaneInitialized) {
      const init = live().find(([, m]) => m.role === 'init');
      if (!init) {
        // The first machine goes to the first failure domain (there is no other machine yet).
        await createMachine('init', pickFailureDomain(input.cluster.failureDomains ?? [], []));
        continue;
      }
      const [initName, initMachine] = init;
      if (initMachine.report?.phase === 'Failed' && !initMachine.remediating) {
        await retryInit(initName);
        await sleepUntilChangeOr(seen);
        continue;
      }
      if (!initMachine.report?.provisioned) {
        setCurrentDetails(`waiting for init machine ${initName} to be provisioned`);
        await condition(() => changes !== seen);
        continue;
      }
      setCurrentDetails(`waiting for the workload cluster API to answer (init machine ${initName})`);
      let ok = true;
      const answered = await unlessDeleted(async () => {
        ok = await step(async () => void (await waits.waitForWorkloadAPI({ cluster: input.cluster.key })));
      });
      if (!answered) break;
      if (!ok) {
        setCurrentDetails(`failed: ${state.problem?.message ?? ''}`);
        await condition(() => state.deleteRequested);
        break;
      }
      state.status.initialization.controlPlaneInitialized = true;
      cond({ type: ConditionType.ControlPlaneInitialized, status: 'True', reason: Reason.Initialized });
      await updateStatus();
      continue;
    }

    await tellMachines();
    await remediate();
    if (await scaleAndRollOut()) {
      await updateStatus();
      continue;
    }
    if (live().length === desired() && live().every(([, m]) => upToDate(m))) {
      setCurrentDetails(readyCount() >= desired() ? 'nothing to do' : 'waiting for control-plane machines to be ready');
    }
    cond(
      readyCount() >= desired()
        ? { type: ConditionType.MachinesReady, status: 'True', reason: Reason.Ready }
        : { type: ConditionType.MachinesReady, status: 'False', reason: Reason.NotReady, message: `${readyCount()} of ${desired()} control-plane machines are ready` },
    );
    await updateStatus();
    await sleepUntilChangeOr(seen);
    if (workflowInfo().continueAsNewSuggested && !state.deleteRequested) return await continueFresh();
  }
  // (Paused: its deletion waits too.)
  await untilResumed(state, () => false);

  // Deletion: all control-plane machines at once (workers are already gone: the Cluster
  // deletes them first), then tell the Cluster.
  setCurrentDetails('deleting control-plane machines');
  cond({ type: ConditionType.Deleting, status: 'True', reason: Reason.Deleting });
  for (const [name, m] of live()) {
    await signalOrForget(machineWorkflowId({ namespace: kcp.metadata.namespace, name }), (h) => h.signal(deleteMachineSignal, { clusterDeleting: state.clusterDeleting }), () => (m.deleted = true));
  }
  await condition(() => live().length === 0);
  await tellCluster({ initialized: false, available: false, desiredReplicas: desired(), replicas: 0, readyReplicas: 0, deleted: true });
  setCurrentDetails('Deleted');
  return state.status;
}
