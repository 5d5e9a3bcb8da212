// MachineSetWorkflow: keeps `replicas` Machines of one template. Each round reads what its
// machines reported, asks the pure planner (planners/machine-set.ts) what to create and which to
// delete (Cluster API's deletion order), acts by starting Machine children or signalling their
// deletion, computes status in one pass (planners/machine-set.status.ts) and reports it to its
// owner only when it changed. A machine deleted out of band counts until it is gone, then is
// replaced; nothing is created before ControlPlaneInitialized. Scaling is an Update, validated
// before anything changes; it bumps the set's generation and status reports observedGeneration.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { GROUPS, LABELS } from '../api/meta.js';
import { machineWorkflowId } from './ids.js';
import { machineFactsMemo, machineListMemo, remediationMemo, startMemo, annotationsIfAny } from './list-memo.js';
import { MachineWorkflow } from './machine.js';
import {
  controlPlaneChangedSignal,
  controlPlaneInitializedSignal,
  deleteMachineSetSignal,
  deleteMachineSignal,
  disableMachineCreateSignal,
  updateMachineSetInPlaceSignal,
  machineReportSignal,
  machineSetReportSignal,
  applyMachineSetUpdate,
  machineSetStatusQuery,
  scaleMachineSetUpdate,
  setMachineSetReplicasSignal,
} from './messages.js';
import { CURRENT_FLOW, flowMemo, flowOf, historyIsLong, START_BATCH } from './flow.js';
import { generateName } from './names.js';
import { hasPausedAnnotation, heedsPausedAnnotation, isPaused, PAUSED_ANNOTATION, takePause, takePausedAnnotation, untilResumed } from './pause.js';
import { pendingInPlace, tellMachinesInPlace, type TemplateInPlace } from './in-place.js';
import { planMachineSet } from './planners/machine-set.js';
import { ownerMustHear } from './planners/set-view.js';
import { computeMachineSetStatus, machineSetStatusChanged, nextStatusChangeAt, type StatusMachine } from './planners/machine-set.status.js';
import { reporter, signalOrForget } from './reports.js';
import { canonicalJson, diffPaths } from './spec-diff.js';
import { assertValid } from './validate.js';
import { objectSearchAttributes } from './search-attributes.js';
import type { ClusterContext, MachineSetApply, MachineSetReport, MachineSetState, MachineSetView, MachineSetWorkflowInput, SetInPlace } from './types.js';

/** The patch behind which a set tells its owner which of its machines a health check's remediation is deleting. */
export const SET_REPORTS_REMEDIATING_PATCH = 'set-reports-remediating';
/** A set tells its machines what its owner changed in place on the template (deletion timeouts, annotations). */
export const SET_IN_PLACE_TO_MACHINES_PATCH = 'set-in-place-to-machines';

/** The input of a MachineSet applied on its own, whose owner is its Cluster. */
export function standaloneSetInput(a: MachineSetApply, cluster: ClusterContext, ownerWorkflowId: string, gateOpen: boolean, controlPlaneVersion?: string): MachineSetWorkflowInput {
  const ms = a.machineSet;
  return {
    machineSet: {
      name: ms.metadata.name,
      namespace: ms.metadata.namespace,
      spec: { clusterName: ms.spec.clusterName, replicas: ms.spec.replicas, deletion: ms.spec.deletion, template: { metadata: { labels: ms.spec.template.metadata.labels, ...annotationsIfAny(ms.spec.template.metadata.annotations) }, spec: ms.spec.template.spec } },
    },
    bootstrapConfig: a.bootstrapTemplate.spec.template.spec,
    infrastructure: a.infrastructureTemplate.spec.template.spec,
    cluster,
    ownerWorkflowId,
    gateOpen,
    controlPlaneVersion,
    standalone: a,
  };
}

/** What of a standalone set an apply may not change: all but spec.replicas (and metadata). */
const immutablePart = (a: MachineSetApply) => {
  const { deletion: _order, ...spec } = a.machineSet.spec;
  const { minReadySeconds: _m, deletion: _d, ...machine } = spec.template.spec;
  return {
    spec: { ...spec, replicas: 0, template: { spec: machine } },
    bootstrapTemplate: { spec: a.bootstrapTemplate.spec },
    infrastructureTemplate: { spec: a.infrastructureTemplate.spec },
  };
};

/** What of a standalone set's apply changes in place, as its owner would tell it (Cluster API's in-place fields). */
const inPlacePart = (spec: MachineSetApply['machineSet']['spec'] | MachineSetWorkflowInput['machineSet']['spec']): SetInPlace => ({
  minReadySeconds: spec.template.spec.minReadySeconds,
  deletion: spec.template.spec.deletion,
  ...(spec.deletion?.order ? { order: spec.deletion.order } : {}),
  metadata: { labels: spec.template.metadata.labels, annotations: spec.template.metadata.annotations ?? {} },
});

export async function MachineSetWorkflow(input: MachineSetWorkflowInput): Promise<MachineSetReport> {
  // The set as started, with what its owner changed in place since (revision 8).
  const withInPlace = (inPlace: SetInPlace | undefined): MachineSetWorkflowInput['machineSet'] => {
    const s = input.machineSet;
    if (!inPlace) return s;
    const { order, minReadySeconds, deletion } = inPlace;
    const metadata = inPlace.metadata ? { ...s.spec.template.metadata, ...inPlace.metadata } : s.spec.template.metadata;
    return { ...s, spec: { ...s.spec, deletion: order ? { order } : {}, template: { ...s.spec.template, metadata, spec: { ...s.spec.template.spec, minReadySeconds, deletion } } } };
  };
  let ms = withInPlace(input.state?.inPlace);
  const state: MachineSetState = input.state ?? {
    uid: uuid4(),
    generation: 1,
    replicas: ms.spec.replicas,
    gateOpen: input.gateOpen,
    deleteRequested: false,
    clusterDeleting: false,
    machines: {},
    // (A standalone set created with Cluster API's paused annotation makes nothing until that is removed.)
    ...(heedsPausedAnnotation(hasPausedAnnotation(input.standalone?.machineSet.metadata)) ? { annotated: true } : {}),
  };
  let changes = 0;
  // Revision 2 (flow.ts): report only a change the owner cannot predict; start revision-2 machines.
  const flow = flowOf(workflowInfo().memo);
  const runId = workflowInfo().runId;
  /** A machine this run started is gone when its workflow completes (revision 2: it sends no Deleted report). */
  const goneOnCompletion = (name: string, result: Promise<unknown>) => {
    result.then(
      () => {
        if (!state.machines[name]) return;
        delete state.machines[name];
        changes++;
      },
      // A machine workflow that failed deleted nothing: it stays, and says why on its conditions.
      () => undefined,
    );
  };

  const live = () => Object.entries(state.machines);
  /** A machine's labels: its template's, its cluster's and its set's name. */
  const machineLabels = () => ({ ...ms.spec.template.metadata.labels, [LABELS.clusterName]: ms.spec.clusterName, [LABELS.setName]: ms.name });
  /** What of the template its machines take in place. */
  const machinesTake = (): TemplateInPlace => ({ deletion: ms.spec.template.spec.deletion, labels: machineLabels(), annotations: ms.spec.template.metadata.annotations ?? {} });
  const tellOwner = reporter(input.ownerWorkflowId, machineSetReportSignal);
  // A set applied on its own reports to its Cluster every change, with its desired count.
  const standalone = input.standalone;
  const report = (deleted = false): MachineSetReport => ({
    name: ms.name,
    replicas: state.status?.replicas ?? 0,
    readyReplicas: state.status?.readyReplicas ?? 0,
    availableReplicas: state.status?.availableReplicas ?? 0,
    upToDateReplicas: state.status?.upToDateReplicas ?? 0,
    deleted,
    ...(standalone ? { desiredReplicas: state.replicas } : {}),
    ...(flow >= 9 && state.blocked ? { scaleUpBlocked: state.blocked } : {}),
    ...(state.remediating?.length ? { remediating: state.remediating } : {}),
  });

  // --- message handlers, registered before any await ---
  setHandler(
    scaleMachineSetUpdate,
    ({ replicas }) => {
      if (replicas !== state.replicas) {
        state.replicas = replicas;
        state.generation++;
        changes++;
      }
      return { generation: state.generation };
    },
    {
      validator: (req) => {
        if (state.deleteRequested) throw new Error(`MachineSet "${ms.name}" is being deleted`);
        const r = (req as { replicas?: unknown } | undefined)?.replicas;
        if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0) {
          throw new Error(`MachineSet "${ms.name}": spec.replicas: must be a non-negative integer, not ${JSON.stringify(r)}`);
        }
      },
    },
  );
  // A standalone set's apply: spec.replicas, and what Cluster API changes in place — the
  // template's labels, annotations, deletion timeouts and minReadySeconds, and deletion.order —
  // which reach its machines as its owner's change would; nothing else (its machines are never
  // replaced for a new template: that is a MachineDeployment's job).
  setHandler(
    applyMachineSetUpdate,
    (a) => {
      // Its paused annotation (Cluster API's: it holds this set alone), taken even while being deleted.
      const pauseChanged = takePausedAnnotation(state, a.machineSet.metadata);
      if (pauseChanged) changes++;
      if (state.deleteRequested) return { generation: state.generation, result: pauseChanged ? ('configured' as const) : ('unchanged' as const) };
      const inPlace = inPlacePart(a.machineSet.spec);
      // (Against what it was applied with or last changed to: the input of a set started by an
      // earlier release may lack the template's annotations its apply had.)
      const sameInPlace = canonicalJson(inPlace) === canonicalJson(state.inPlace ?? inPlacePart(standalone!.machineSet.spec));
      if (a.machineSet.spec.replicas === state.replicas && sameInPlace) return { generation: state.generation, result: pauseChanged ? ('configured' as const) : ('unchanged' as const) };
      if (!sameInPlace) {
        const before = machinesTake();
        state.inPlace = inPlace;
        ms = withInPlace(inPlace);
        state.toMachines = pendingInPlace(before, machinesTake(), state.toMachines);
      }
      state.replicas = a.machineSet.spec.replicas;
      state.generation++;
      changes++;
      return { generation: state.generation, result: 'configured' as const };
    },
    {
      validator: (a) => {
        if (!standalone) throw new Error(`MachineSet "${ms.name}" is owned by a MachineDeployment: change the MachineDeployment`);
        if (state.deleteRequested) {
          // (Being deleted, it takes its paused annotation's change, and nothing else: its deletion waits while it has it.)
          if (hasPausedAnnotation(a?.machineSet?.metadata) === !!state.annotated) throw new Error(`MachineSet "${ms.name}" is being deleted`);
          const same =
            a.machineSet.spec.replicas === state.replicas &&
            diffPaths(immutablePart(standalone), immutablePart(a)).length === 0 &&
            canonicalJson(inPlacePart(a.machineSet.spec)) === canonicalJson(state.inPlace ?? inPlacePart(standalone.machineSet.spec));
          if (!same) throw new Error(`MachineSet "${ms.name}" is being deleted: only its ${PAUSED_ANNOTATION} annotation can change`);
          return;
        }
        assertValid([a?.machineSet, a?.bootstrapTemplate, a?.infrastructureTemplate]);
        const changed = diffPaths(immutablePart(standalone), immutablePart(a));
        if (changed.length) {
          throw new Error(
            `MachineSet "${ms.name}": ${changed.join(', ')}: immutable on a MachineSet; only spec.replicas, spec.deletion.order and the template's labels, annotations, minReadySeconds and deletion timeouts change (a MachineDeployment rolls a new template)`,
          );
        }
      },
    },
  );
  // The owner (a MachineDeployment) scales the set by signal: a workflow cannot send an Update.
  setHandler(setMachineSetReplicasSignal, ({ replicas }) => {
    if (!Number.isSafeInteger(replicas) || replicas < 0 || replicas === state.replicas) return;
    state.replicas = replicas;
    state.generation++;
    changes++;
  });
  setHandler(updateMachineSetInPlaceSignal, (inPlace) => {
    const before = machinesTake();
    // (The metadata comes only when it changed: absent, the set keeps what it was last told.)
    state.inPlace = !inPlace.metadata && state.inPlace?.metadata ? { ...inPlace, metadata: state.inPlace.metadata } : inPlace;
    ms = withInPlace(state.inPlace);
    // What its machines take in place, as Cluster API's MachineSet propagates its template.
    state.toMachines = pendingInPlace(before, machinesTake(), state.toMachines);
    changes++;
  });
  // Revision 8: an old set of an OnDelete rollout replaces no machine the user deletes; its owner
  // lowers its replicas to what is left instead (Cluster API's disable-machine-create annotation).
  setHandler(disableMachineCreateSignal, ({ disabled }) => {
    if (!!state.createDisabled === disabled) return;
    state.createDisabled = disabled;
    changes++;
  });
  takePause(state, () => changes++);
  setHandler(machineReportSignal, (r) => {
    const m = state.machines[r.name];
    if (!m) return;
    if (r.phase === 'Deleted') delete state.machines[r.name];
    else {
      if (r.nodeReady && !m.readySince) m.readySince = new Date().toISOString();
      // A Node that stopped being Ready starts minReadySeconds over when it comes back.
      if (!r.nodeReady) delete m.readySince;
      if (r.phase === 'Deleting') m.deleting = true;
      m.report = r;
    }
    changes++;
  });
  setHandler(controlPlaneInitializedSignal, () => {
    state.gateOpen = true;
    changes++;
  });
  setHandler(controlPlaneChangedSignal, (facts) => {
    state.controlPlane = facts;
    changes++;
  });
  setHandler(deleteMachineSetSignal, (req) => {
    state.deleteRequested = true;
    if (req?.clusterDeleting) state.clusterDeleting = true;
    changes++;
  });
  setHandler(machineSetStatusQuery, (): MachineSetView => ({
    name: ms.name,
    namespace: ms.namespace,
    clusterName: ms.spec.clusterName,
    ...(state.paused ? { clusterPaused: true as const } : {}),
    ...(state.annotated ? { annotationPaused: true as const } : {}),
    generation: state.generation,
    replicas: state.replicas,
    version: ms.spec.template.spec.version,
    spec: { ...ms.spec, replicas: state.replicas },
    status: state.status,
    machines: live().map(([name, m]) => ({
      name,
      phase: m.report?.phase ?? 'Pending',
      nodeRef: m.report?.nodeRef,
      nodeReady: m.report?.nodeReady ?? false,
      deleting: m.deleting,
      ...(m.deleting && m.report?.remediated ? { remediating: true as const } : {}),
    })),
  }));

  // --- acting ---
  const createMachine = async () => {
    const name = generateName(ms.name, Math.random, (n) => n in state.machines);
    const uid = uuid4();
    // (Revision 7: the machine's revision, so a machine started by an older worker is never deleted by a cancellation it would not understand.)
    state.machines[name] = { uid, created: new Date().toISOString(), deleting: false, ...(flow >= 7 ? { flow: CURRENT_FLOW } : {}) };
    const t = ms.spec.template;
    const labels = machineLabels();
    const started = startChild(MachineWorkflow, {
      workflowId: machineWorkflowId({ namespace: ms.namespace, name }),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // A revision-2 machine starts shown as Provisioning (the gate is open: it is created now).
      typedSearchAttributes: objectSearchAttributes('Machine', ms.namespace, ms.spec.clusterName, flow >= 2 ? 'Provisioning' : 'Pending'),
      memo: {
        ...startMemo(machineListMemo('worker-join', t.spec.version)),
        ...(flow >= 2 ? flowMemo() : {}),
        ...machineFactsMemo({ labels, ownerKind: 'MachineSet', createdAt: state.machines[name]!.created, ...annotationsIfAny(t.metadata.annotations) }),
        ...remediationMemo(t.metadata.annotations),
      },
      args: [
        {
          machine: {
            name,
            namespace: ms.namespace,
            uid,
            labels,
            // The template's annotations are each machine's, as in Cluster API.
            ...(t.metadata.annotations ? { annotations: t.metadata.annotations } : {}),
            spec: {
              ...t.spec,
              clusterName: ms.spec.clusterName,
              // Each machine gets its own bootstrap config and infrastructure machine, named after it.
              bootstrap: { configRef: { apiGroup: GROUPS.bootstrap, kind: 'KubeadmConfig', name } },
              infrastructureRef: { ...t.spec.infrastructureRef, kind: 'SimMachine', name },
            },
          },
          role: 'worker-join',
          bootstrapConfig: input.bootstrapConfig,
          bootstrapConfigName: name,
          infrastructure: input.infrastructure,
          cluster: input.cluster,
          ownerWorkflowId: workflowInfo().workflowId,
          gateOpen: true,
        },
      ],
    });
    let child: Awaited<typeof started>;
    try {
      child = await started;
    } catch (err) {
      // A workflow of that name runs already (a machine this set forgot, or another's): this
      // one was not made; the next round makes another under a new name instead of failing the set.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      log.warn('machine name taken; another will be made', { machine: name });
      delete state.machines[name];
      changes++;
      return;
    }
    if (flow >= 2) {
      state.machines[name]!.parentRun = runId;
      goneOnCompletion(name, child.result());
    }
  };

  const deleteMachine = async (name: string) => {
    const m = state.machines[name];
    if (!m || m.deleting) return;
    m.deleting = true;
    // A child of this run: its completion tells us it is gone, so it need not report Deleted.
    const awaits = flow >= 2 && m.parentRun === runId;
    if (awaits) m.awaited = true;
    await signalOrForget(
      machineWorkflowId({ namespace: ms.namespace, name }),
      // Revision 7: a machine whose completion this run awaits is deleted by cancelling its
      // workflow, which asks for the same as this signal and is not a billed action (MachineWorkflow's cancelDeletes).
      flow >= 7 && awaits && !state.clusterDeleting && (m.flow ?? 0) >= 7
        ? (h) => h.cancel()
        : (h) => h.signal(deleteMachineSignal, { clusterDeleting: state.clusterDeleting, fromOwner: true, ...(awaits ? { ownerAwaitsCompletion: true } : {}) }),
      () => delete state.machines[name],
    );
  };

  const statusMachines = (): StatusMachine[] =>
    live().map(([name, m]) => ({
      name,
      creationTimestamp: m.created,
      deleting: m.deleting,
      // A machine on its way out is neither ready nor available (Cluster API v1beta2: Deleting).
      ready: m.deleting ? false : m.report ? m.report.nodeReady : undefined,
      ...(m.readySince ? { readySince: m.readySince } : {}),
      upToDate: true, // a set's machines are all of its one template
      // A health check's remediation (the machine says so in its Deleting report): Remediating.
      ...(m.deleting && m.report?.remediated ? { remediating: true } : {}),
    }));

  /** Status in one pass; reported to the owner only when it changed. Returns when to look again. */
  const updateStatus = async (blocked?: { reason: string; message: string }): Promise<string | undefined> => {
    const statusInput = {
      replicas: state.replicas,
      machines: statusMachines(),
      minReadySeconds: ms.spec.template.spec.minReadySeconds,
      deleting: state.deleteRequested,
      ...(blocked ? { scaleUpBlocked: blocked } : {}),
      observedGeneration: state.generation,
      now: new Date().toISOString(),
    };
    const next = computeMachineSetStatus(statusInput, state.status);
    if (machineSetStatusChanged(state.status, next)) {
      state.status = next;
      const counts = { replicas: next.replicas, readyReplicas: next.readyReplicas, availableReplicas: next.availableReplicas };
      // (Before any report the owner sees 0 of everything, and weighs the set by the replicas it asked for.)
      const heard = state.reported ?? { replicas: 0, readyReplicas: 0, availableReplicas: 0 };
      // (A set told not to replace its machines reports every change: its owner lowers its
      // replicas to the machines left, which the owner's view of it would not show.)
      // (Revision 9: and why a scale up is blocked, when that changed: its owner's ScalingUp says it.)
      const blockedChanged = flow >= 9 && canonicalJson(blocked ?? null) !== canonicalJson(state.blocked ?? null);
      if (flow >= 9) state.blocked = blocked;
      // And which machines a health check's remediation is deleting, when that changed (the owner's
      // Remediating says it): behind a patch, so a set of an earlier release reports it too.
      const remediating = statusInput.machines.filter((m) => m.remediating).map((m) => m.name).sort();
      const remediatingChanged = canonicalJson(remediating) !== canonicalJson(state.remediating ?? []) && patched(SET_REPORTS_REMEDIATING_PATCH);
      if (remediatingChanged) state.remediating = remediating.length ? remediating : undefined;
      if (flow < 2 || standalone || state.deleteRequested || state.createDisabled || blockedChanged || remediatingChanged || ownerMustHear(heard, counts, state.replicas)) {
        state.reported = counts;
        await tellOwner(report());
      }
    }
    return nextStatusChangeAt(statusInput);
  };

  /**
   * Tells every machine what changed in place on the template (one signal each, only when
   * something did): the deletion timeouts to all, the labels and annotations to those not being
   * deleted.
   * Behind a patch: a set whose history holds an in-place change from before replays as recorded.
   */
  const tellMachines = async () => {
    const told = state.toMachines;
    if (!told || !patched(SET_IN_PLACE_TO_MACHINES_PATCH)) return;
    state.toMachines = undefined;
    await tellMachinesInPlace(ms.namespace, live().map(([name, m]) => ({ name, deleting: m.deleting })), told, (name) => delete state.machines[name]);
  };

  /** Continues as new (the history is long), with what the next run needs. */
  const continueFresh = async (): Promise<never> => {
    // The next run will not see the completion of a machine this run awaits: each is told to
    // report its end after all (a rollout keeps some deleting at every moment, so waiting for
    // none would let the history grow without bound).
    for (const [name, m] of live().filter(([, x]) => x.awaited)) {
      m.awaited = false;
      await signalOrForget(
        machineWorkflowId({ namespace: ms.namespace, name }),
        (h) => h.signal(deleteMachineSignal, { clusterDeleting: state.clusterDeleting, fromOwner: true, ownerAwaitsCompletion: false }),
        () => delete state.machines[name],
      );
    }
    await condition(allHandlersFinished);
    return continueAsNew<typeof MachineSetWorkflow>({ ...input, state });
  };

  // --- the loop: observe (reports), plan, act, status ---
  while (!state.deleteRequested) {
    const seen = changes;
    // Its Cluster is paused, or it has the paused annotation: nothing is acted on until it is resumed (pause.ts).
    if (isPaused(state)) {
      if (!(await untilResumed(state, () => historyIsLong(flow, workflowInfo())))) return await continueFresh();
      continue;
    }
    await tellMachines();
    const plan = planMachineSet({
      replicas: state.replicas,
      machines: live().map(([name, m]) => ({
        name,
        creationTimestamp: m.created,
        deleting: m.deleting,
        deleteAnnotation: m.report?.deleteMachine ?? false,
        healthy: m.report?.nodeReady ?? false,
        ...(m.report?.nodeRef ? { nodeRef: m.report.nodeRef } : {}),
      })),
      deletionOrder: ms.spec.deletion?.order,
      gateOpen: state.gateOpen,
      controlPlaneUpgrading: state.controlPlane?.upgrading ?? false,
      controlPlaneVersion: state.controlPlane?.version ?? input.controlPlaneVersion,
      templateVersion: ms.spec.template.spec.version,
    });
    const create = state.createDisabled ? 0 : plan.create;
    if (flow >= 4) {
      // Revision 4: the round's machines start together (a batch per task), its deletions are
      // signalled with the first batch.
      const startMachines = (n: number) => Array.from({ length: Math.min(n, START_BATCH) }, () => createMachine());
      await Promise.all([...startMachines(create), ...plan.delete.map((name) => deleteMachine(name))]);
      for (let left = create - START_BATCH; left > 0; left -= START_BATCH) await Promise.all(startMachines(left));
    } else {
      for (let i = 0; i < create; i++) await createMachine();
      for (const name of plan.delete) await deleteMachine(name);
    }
    const wakeAt = await updateStatus(plan.blocked);
    if (create > 0 || plan.delete.length > 0) continue; // look again at once: nothing waits on a report
    setCurrentDetails(
      plan.blocked
        ? `scale up blocked: ${plan.blocked.message}`
        : `${state.status?.readyReplicas ?? 0}/${state.replicas} machines ready` + (live().some(([, m]) => m.deleting) ? '; waiting for deleted machines to go' : ''),
    );
    const wake = () => changes !== seen || state.deleteRequested || historyIsLong(flow, workflowInfo());
    // A timer only when a status change is due without a report (minReadySeconds): none idle.
    if (wakeAt) await condition(wake, Math.max(1, Date.parse(wakeAt) - Date.now()));
    else await condition(wake);
    if (historyIsLong(flow, workflowInfo()) && !state.deleteRequested) return await continueFresh();
  }
  // (Paused: its deletion waits too.)
  await untilResumed(state, () => false);

  // --- deletion: every machine, then the set ---
  setCurrentDetails('deleting machines');
  for (const [name] of live()) await deleteMachine(name);
  await updateStatus();
  await condition(() => live().length === 0);
  setCurrentDetails('Deleted');
  const last = report(true);
  await tellOwner(last);
  return last;
}
