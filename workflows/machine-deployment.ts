// MachineDeploymentWorkflow: rolls its template through an old and a new MachineSet. The new
// set is the one whose template equals the desired one (machine spec, bootstrap and
// infrastructure templates); a template change creates a new set. Each round asks the pure
// planner (planners/rollout.ts) for every set's replicas from what the sets last reported,
// scales the sets by signal, deletes old sets once empty, computes status in one pass and
// reports it to the Cluster only when it changed. A spec change arrives as a validated Update
// that bumps the generation; status reports observedGeneration.
//
// Surge is counted as Cluster API counts it (mdutil.TotalMachineSetsReplicaSum): a set weighs
// max(its spec.replicas, its machines), so a machine still draining on its way out keeps its
// place in the budget, and the cloud never holds more than replicas + maxSurge machines.
import {
  type ExternalWorkflowHandle,
  allHandlersFinished,
  condition,
  continueAsNew,
  ParentClosePolicy,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { validateDocument } from '../api/kinds.js';
import { LABELS } from '../api/meta.js';
import { machineSetWorkflowId } from './ids.js';
import { MachineSetWorkflow } from './machine-set.js';
import {
  applyMachineDeploymentUpdate,
  controlPlaneChangedSignal,
  controlPlaneInitializedSignal,
  deleteMachineDeploymentSignal,
  deleteMachineSetSignal,
  machineDeploymentReportSignal,
  machineDeploymentStatusQuery,
  machineSetReportSignal,
  pauseMachineDeploymentUpdate,
  restartMachineDeploymentUpdate,
  scaleMachineDeploymentUpdate,
  setMachineSetReplicasSignal,
  disableMachineCreateSignal,
  updateMachineSetInPlaceSignal,
  pauseSignal,
} from './messages.js';
import { hasPausedAnnotation, heedsPausedAnnotation, isPaused, PAUSED_ANNOTATION, takePause, takePausedAnnotation, untilResumed } from './pause.js';
import { flowMemo, flowOf, historyIsLong } from './flow.js';
import { CURRENT_SET_MEMO, MAX_IN_FLIGHT_MEMO, MAX_IN_FLIGHT_SPEC_MEMO, annotationsIfAny } from './list-memo.js';
import { resolveMaxInFlight } from './planners/remediation-in-flight.js';
import { generateName } from './names.js';
import { computeDeploymentStatus, deploymentStatusChanged } from './planners/machine-deployment.status.js';
import { planRollout, resolveFenceposts, scalePaused, type RolloutInput, type RolloutStep, type SetState } from './planners/rollout.js';
import { ownerView } from './planners/set-view.js';
import { reporter, signalOrForget } from './reports.js';
import { objectSearchAttributes } from './search-attributes.js';
import { canonicalJson } from './spec-diff.js';
import { controlPlaneFactsKey, type ControlPlaneFacts, type DeploymentSet, type MachineDeploymentApply, type MachineDeploymentReport, type MachineDeploymentState, type MachineDeploymentView, type MachineDeploymentWorkflowInput, type SetInPlace } from './types.js';

/** A deployment tells its sets a change of its template's labels or annotations in place (no rollout), as Cluster API does. */
export const TEMPLATE_METADATA_PATCH = 'template-metadata-in-place';

/** Immediate re-plans after acting, before waiting for reports (the plan is a fixed point by then). */
const MAX_PASSES = 3;

/**
 * FNV-1a (32 bit) of the canonical template: deterministic, no crypto in workflow code. From
 * revision 8, what changes in place (minReadySeconds, the deletion timeouts) is not part of it: a
 * change of those rolls nothing, as in Cluster API, whose new set is the one whose version,
 * bootstrap, infrastructure template and failure domain are the desired ones.
 */
export function templateHash(a: MachineDeploymentApply, flow = 1): string {
  const { minReadySeconds: _m, deletion: _d, ...rolled } = a.machineDeployment.spec.template.spec;
  const text = canonicalJson({
    spec: flow >= 8 ? rolled : a.machineDeployment.spec.template.spec,
    bootstrap: a.bootstrapTemplate.spec.template.spec,
    infrastructure: a.infrastructureTemplate.spec.template.spec,
  });
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The revision a set shows: its creation order, or what a rollback raised it to. */
const shownRevision = (s: DeploymentSet): number => s.shownRevision ?? s.revision;

/** An apply with what its manifest did not set taken from the running deployment (kubectl apply's field ownership). */
/** A deployment's apply without its paused annotation: what else it asks for. */
function withoutPausedAnnotation(a: MachineDeploymentApply): MachineDeploymentApply {
  const { [PAUSED_ANNOTATION]: _paused, ...annotations } = a.machineDeployment.metadata.annotations ?? {};
  return { ...a, machineDeployment: { ...a.machineDeployment, metadata: { ...a.machineDeployment.metadata, annotations } } };
}

function keepOmitted(sent: MachineDeploymentApply, current: MachineDeploymentApply): MachineDeploymentApply {
  const { omitted, ...next } = sent;
  if (!omitted?.length || !next.machineDeployment?.spec) return next;
  const now = current.machineDeployment.spec;
  const spec = { ...next.machineDeployment.spec, rollout: { ...next.machineDeployment.spec.rollout } };
  if (omitted.includes('paused')) spec.paused = now.paused;
  if (omitted.includes('rollout.after')) {
    if (now.rollout.after === undefined) delete spec.rollout.after;
    else spec.rollout.after = now.rollout.after;
  }
  return { ...next, machineDeployment: { ...next.machineDeployment, spec } };
}

/** Re-validates every object with its schema, and what may not change; throws naming the field. */
function assertApplicable(current: MachineDeploymentApply, next: MachineDeploymentApply): void {
  const problems: string[] = [];
  for (const o of [next.machineDeployment, next.bootstrapTemplate, next.infrastructureTemplate]) {
    const r = validateDocument(o);
    if (!r.ok) for (const e of r.errors) problems.push(`${r.kind ?? 'object'} "${r.name ?? ''}": ${e.path}: ${e.message}`);
  }
  if (problems.length) throw new Error(problems.join('; '));
  const md = next.machineDeployment;
  if (md.metadata.name !== current.machineDeployment.metadata.name || md.metadata.namespace !== current.machineDeployment.metadata.namespace) {
    throw new Error(`MachineDeployment "${md.metadata.name}": metadata.name: another MachineDeployment's workflow`);
  }
  if (md.spec.clusterName !== current.machineDeployment.spec.clusterName) {
    throw new Error(`MachineDeployment "${md.metadata.name}": spec.clusterName: is immutable ("${current.machineDeployment.spec.clusterName}")`);
  }
}

export async function MachineDeploymentWorkflow(input: MachineDeploymentWorkflowInput): Promise<MachineDeploymentReport> {
  // Revision 2 (flow.ts): plans with ownerView of each set, whose sets report only what it cannot predict.
  const flow = flowOf(workflowInfo().memo);
  const state: MachineDeploymentState = input.state ?? {
    uid: uuid4(),
    generation: 1,
    apply: input.apply,
    gateOpen: input.gateOpen,
    deleteRequested: false,
    clusterDeleting: false,
    sets: {},
    lastRevision: 0,
    ...(flow >= 2 ? { sizedFor: input.apply.machineDeployment.spec.replicas } : {}),
    // (Created with Cluster API's paused annotation: it makes nothing until that is removed.)
    ...(heedsPausedAnnotation(hasPausedAnnotation(input.apply.machineDeployment.metadata)) ? { annotated: true } : {}),
  };
  const md = () => state.apply.machineDeployment;
  const name = md().metadata.name;
  const namespace = md().metadata.namespace;
  let changes = 0;

  const live = () => Object.entries(state.sets);
  const tellCluster = reporter(input.ownerWorkflowId, machineDeploymentReportSignal);
  const report = (deleted = false): MachineDeploymentReport => {
    const desired = md().spec.replicas;
    const clip = (n?: number) => Math.min(n ?? 0, desired);
    return {
      name,
      desiredReplicas: desired,
      replicas: clip(state.status?.replicas),
      readyReplicas: clip(state.status?.readyReplicas),
      availableReplicas: clip(state.status?.availableReplicas),
      rollingOut: state.status?.conditions.some((c) => c.type === 'RollingOut' && c.status === 'True') ?? false,
      observedGeneration: state.status?.observedGeneration ?? 0,
      deleted,
    };
  };

  // --- message handlers, registered before any await ---
  setHandler(
    applyMachineDeploymentUpdate,
    (sent) => {
      // Being deleted, it takes only its paused annotation (its deletion waits while it has it).
      if (state.deleteRequested) {
        if (!takePausedAnnotation(state, sent.machineDeployment.metadata)) return { generation: state.generation, result: 'unchanged' as const };
        changes++;
        return { generation: state.generation, result: 'configured' as const };
      }
      const next = keepOmitted(sent, state.apply);
      if (canonicalJson(next) === canonicalJson(state.apply)) return { generation: state.generation, result: 'unchanged' as const };
      takePausedAnnotation(state, next.machineDeployment.metadata);
      state.apply = next;
      state.generation++;
      changes++;
      return { generation: state.generation, result: 'configured' as const };
    },
    {
      validator: (sent) => {
        if (state.deleteRequested) {
          // (Being deleted, it takes its paused annotation's change, and nothing else.)
          const next = keepOmitted(sent, state.apply);
          if (hasPausedAnnotation(next?.machineDeployment?.metadata) === !!state.annotated) throw new Error(`MachineDeployment "${name}" is being deleted`);
          if (canonicalJson(withoutPausedAnnotation(next)) !== canonicalJson(withoutPausedAnnotation(state.apply))) {
            throw new Error(`MachineDeployment "${name}" is being deleted: only its ${PAUSED_ANNOTATION} annotation can change`);
          }
          return;
        }
        assertApplicable(state.apply, keepOmitted(sent, state.apply));
      },
    },
  );
  // kubectl scale / rollout pause|resume|restart: a change to one field of the spec, validated
  // as the whole spec is (so the same rules refuse it) before anything changes.
  const changeSpec = (change: (spec: MachineDeploymentApply['machineDeployment']['spec']) => void) => {
    const next = JSON.parse(JSON.stringify(state.apply)) as MachineDeploymentApply;
    change(next.machineDeployment.spec);
    return next;
  };
  const specUpdate = <T>(change: (req: T) => (spec: MachineDeploymentApply['machineDeployment']['spec']) => void) => ({
    handler: (req: T) => {
      const next = changeSpec(change(req));
      if (canonicalJson(next) !== canonicalJson(state.apply)) {
        state.apply = next;
        state.generation++;
        changes++;
      }
      return { generation: state.generation };
    },
    validator: (req: T) => {
      if (state.deleteRequested) throw new Error(`MachineDeployment "${name}" is being deleted`);
      assertApplicable(state.apply, changeSpec(change(req)));
    },
  });
  const scale = specUpdate<{ replicas: number }>(({ replicas }) => (spec) => void (spec.replicas = replicas));
  setHandler(scaleMachineDeploymentUpdate, scale.handler, { validator: scale.validator });
  const pause = specUpdate<{ paused: boolean }>(({ paused }) => (spec) => void (spec.paused = paused));
  setHandler(pauseMachineDeploymentUpdate, pause.handler, { validator: pause.validator });
  const restart = specUpdate<{ after: string }>(({ after }) => (spec) => void (spec.rollout = { ...spec.rollout, after }));
  setHandler(restartMachineDeploymentUpdate, restart.handler, { validator: restart.validator });
  setHandler(machineSetReportSignal, (r) => {
    const s = state.sets[r.name];
    if (!s) return;
    if (r.deleted) delete state.sets[r.name];
    else s.report = r;
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
  takePause(state, () => changes++);
  /** What the control plane is as this deployment knows it, for its sets' preflight checks. */
  const controlPlaneFacts = (): ControlPlaneFacts => state.controlPlane ?? { version: input.controlPlaneVersion, upgrading: false };
  setHandler(deleteMachineDeploymentSignal, (req) => {
    state.deleteRequested = true;
    if (req?.clusterDeleting) state.clusterDeleting = true;
    changes++;
  });
  setHandler(machineDeploymentStatusQuery, (): MachineDeploymentView => {
    const hash = templateHash(state.apply, flow);
    return {
      name,
      namespace,
      clusterName: md().spec.clusterName,
      ...(state.paused ? { clusterPaused: true as const } : {}),
      ...(state.annotated ? { annotationPaused: true as const } : {}),
      generation: state.generation,
      spec: md().spec,
      status: state.status,
      sets: live()
        .sort(([, a], [, b]) => shownRevision(a) - shownRevision(b))
        .map(([setName, s]) => ({
          name: setName,
          revision: shownRevision(s),
          ...(s.revisionHistory?.length ? { revisionHistory: s.revisionHistory } : {}),
          new: isNewSet(s, hash),
          replicas: s.replicas,
          readyReplicas: s.report?.readyReplicas ?? 0,
          availableReplicas: s.report?.availableReplicas ?? 0,
          deleting: s.deleting,
          ...(s.report?.remediating?.length ? { remediating: s.report.remediating } : {}),
        })),
    };
  });

  // --- acting on sets ---
  const createSet = async (hash: string, replicas: number) => {
    const a = state.apply;
    const setName = generateName(name, Math.random, (n) => n in state.sets);
    state.lastRevision++;
    state.sets[setName] = {
      templateHash: hash,
      revision: state.lastRevision,
      replicas,
      created: new Date().toISOString(),
      deleting: false,
      gateOpen: state.gateOpen,
      // A set starts knowing the version; that the control plane is upgrading it is told next.
      ...(state.controlPlane ? { controlPlaneTold: controlPlaneFactsKey({ version: controlPlaneFacts().version, upgrading: false }) } : {}),
      ...(flow >= 8 ? { inPlaceTold: canonicalJson(inPlaceOf()), metadataTold: canonicalJson(templateMetadata()) } : {}),
    };
    const spec = a.machineDeployment.spec;
    await startChild(MachineSetWorkflow, {
      workflowId: machineSetWorkflowId({ namespace, name: setName }),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: objectSearchAttributes('MachineSet', namespace, spec.clusterName, 'Pending'),
      ...(flow >= 2 ? { memo: flowMemo() } : {}),
      args: [
        {
          machineSet: {
            name: setName,
            namespace,
            spec: {
              clusterName: spec.clusterName,
              replicas,
              deletion: spec.deletion,
              template: {
                metadata: { labels: templateMetadata().labels, ...annotationsIfAny(spec.template.metadata.annotations) },
                spec: { ...spec.template.spec, minReadySeconds: spec.minReadySeconds || spec.template.spec.minReadySeconds },
              },
            },
          },
          bootstrapConfig: a.bootstrapTemplate.spec.template.spec,
          infrastructure: a.infrastructureTemplate.spec.template.spec,
          cluster: input.cluster,
          ownerWorkflowId: workflowInfo().workflowId,
          gateOpen: state.gateOpen,
          controlPlaneVersion: controlPlaneFacts().version,
        },
      ],
    });
  };

  /** What the sets take in place (revision 8): as a new set is started with them. */
  const inPlaceOf = (): SetInPlace => {
    const spec = md().spec;
    return { minReadySeconds: spec.minReadySeconds || spec.template.spec.minReadySeconds, deletion: spec.template.spec.deletion, ...(spec.deletion?.order ? { order: spec.deletion.order } : {}) };
  };

  /** The sets' template metadata (the deployment's, with its name label), which they carry to their machines in place when it changes. */
  const templateMetadata = (): NonNullable<SetInPlace['metadata']> => {
    const { labels, annotations } = md().spec.template.metadata;
    return { labels: { ...labels, [LABELS.deploymentName]: name }, annotations: annotations ?? {} };
  };

  const signalSet = (setName: string, send: (h: ExternalWorkflowHandle) => Promise<void>) =>
    signalOrForget(machineSetWorkflowId({ namespace, name: setName }), send, () => delete state.sets[setName]);

  const scaleSet = async (setName: string, replicas: number) => {
    const s = state.sets[setName]!;
    if (s.replicas === replicas) return false;
    s.replicas = replicas;
    await signalSet(setName, (h) => h.signal(setMachineSetReplicasSignal, { replicas }));
    return true;
  };

  /**
   * The new set: the desired template's, and — once rollout.after has passed — created after it
   * (Cluster API's rolloutAfter: a set made before the restart time is rolled out like an old one).
   */
  const restartAt = (): number | undefined => {
    const after = md().spec.rollout.after;
    const t = after ? Date.parse(after) : NaN;
    return Number.isFinite(t) ? t : undefined;
  };
  const isNewSet = (s: { templateHash: string; created?: string; deleting: boolean }, hash: string) => {
    if (s.templateHash !== hash || s.deleting) return false;
    const at = restartAt();
    if (at === undefined || at > Date.now()) return true;
    return !!s.created && Date.parse(s.created) >= at;
  };

  /**
   * A rollback (the desired template is an old set's again): that set becomes the newest revision,
   * its former one kept in its history, as Cluster API's SetNewMachineSetAnnotations does. Only what
   * the sets show changes; no command does, so histories replay as they were.
   */
  const bumpRolledBack = (setName: string) => {
    const s = state.sets[setName]!;
    const shown = shownRevision(s);
    if (!live().some(([n, other]) => n !== setName && shownRevision(other) > shown)) return;
    s.revisionHistory = [...(s.revisionHistory ?? []), shown];
    s.shownRevision = ++state.lastRevision;
  };

  /** A set's counts as this deployment plans with them (revision 2: seen through the replicas it asked for). */
  const counts = (s: { replicas: number; report?: { replicas: number; readyReplicas: number; availableReplicas: number } }) => {
    const reported = { replicas: s.report?.replicas ?? 0, readyReplicas: s.report?.readyReplicas ?? 0, availableReplicas: s.report?.availableReplicas ?? 0 };
    return flow >= 2 ? ownerView(reported, s.replicas) : reported;
  };
  const weight = (setName: string): SetState => {
    const s = state.sets[setName]!;
    return { name: setName, replicas: Math.max(s.replicas, s.report?.replicas ?? 0), availableReplicas: counts(s).availableReplicas };
  };

  /** One round: plan from the sets' reports, scale, create, clean up. Returns whether it acted. */
  const rolloutPass = async (): Promise<{ acted: boolean; done: boolean }> => {
    const spec = md().spec;
    const hash = templateHash(state.apply, flow);
    const byRevision = live().filter(([, s]) => !s.deleting).sort(([, a], [, b]) => a.revision - b.revision);
    const newSet = byRevision.find(([, s]) => isNewSet(s, hash))?.[0];
    const oldSets = byRevision.filter(([n]) => n !== newSet).map(([n]) => n);
    if (newSet) bumpRolledBack(newSet);
    if (spec.paused) {
      // Paused: no rollout step. A sole set still follows spec.replicas (scaling is not a rollout).
      if (newSet && oldSets.length === 0) {
        if (flow >= 2) state.sizedFor = spec.replicas;
        return { acted: await scaleSet(newSet, spec.replicas), done: false };
      }
      // Revision 2: with several sets, a change of replicas scales them all in proportion
      // (Kubernetes' scale() on a scaling event), once per change.
      if (flow >= 2 && state.sizedFor !== undefined && state.sizedFor !== spec.replicas && oldSets.length > 0) {
        const step = scalePaused({
          replicas: spec.replicas,
          strategy: spec.rollout.strategy,
          newSet: newSet ? weight(newSet) : null,
          oldSets: oldSets.map(weight),
        });
        state.sizedFor = spec.replicas;
        let acted = false;
        // Down first, then up, as a rollout pass does.
        const moves = [...oldSets.map((n) => [n, step.oldSetReplicas[n]!] as const), ...(newSet ? [[newSet, step.newSetReplicas] as const] : [])];
        for (const [n, want] of moves.filter(([n, want]) => want < state.sets[n]!.replicas)) if (await scaleSet(n, want)) acted = true;
        for (const [n, want] of moves.filter(([n, want]) => want > state.sets[n]!.replicas)) if (await scaleSet(n, want)) acted = true;
        return { acted, done: false };
      }
      return { acted: false, done: false };
    }
    if (flow >= 2) state.sizedFor = spec.replicas;
    let acted = false;
    if (flow >= 8) {
      // Revision 8, Cluster API's OnDelete: the old sets replace none of the machines the user
      // deletes (disable-machine-create; the new set, or every set once the strategy is
      // RollingUpdate again, may), and each old set is lowered to the machines it has left, so the
      // planner gives their places to the new set.
      const onDelete = spec.rollout.strategy.type === 'OnDelete';
      for (const [n, s] of live()) {
        const disabled = onDelete && n !== newSet && !s.deleting;
        if (!!s.createDisabled === disabled) continue;
        s.createDisabled = disabled;
        await signalSet(n, (h) => h.signal(disableMachineCreateSignal, { disabled }));
      }
      for (const n of onDelete ? oldSets : []) {
        const s = state.sets[n];
        if (s?.createDisabled && s.report && s.report.replicas < s.replicas && (await scaleSet(n, s.report.replicas))) acted = true;
      }
    }
    const input: RolloutInput = {
      replicas: spec.replicas,
      strategy: spec.rollout.strategy,
      newSet: newSet ? weight(newSet) : null,
      oldSets: oldSets.map(weight),
    };
    const step = flow < 8 && input.strategy.type === 'OnDelete' ? onDeleteBeforeRevision8(input) : planRollout(input);
    // Down first, then up: a pass never holds more machines than the plan allows at any moment.
    // (Revision 4: the signals and the new set's start go in one workflow task, in that order.)
    const moves: Promise<boolean>[] = [];
    const move = async (m: () => Promise<boolean>) => {
      if (flow >= 4) moves.push(m());
      else if (await m()) acted = true;
    };
    for (const n of oldSets) {
      const want = Math.min(step.oldSetReplicas[n] ?? 0, state.sets[n]!.replicas); // never scales an old set up
      await move(() => scaleSet(n, want));
    }
    if (newSet) {
      await move(() => scaleSet(newSet, Math.min(step.newSetReplicas, spec.replicas)));
    } else if (step.newSetReplicas > 0) {
      await move(async () => {
        await createSet(hash, step.newSetReplicas);
        return true;
      });
    }
    if ((await Promise.all(moves)).some(Boolean)) acted = true;
    // An old set scaled to 0 with no machine left is deleted (Cluster API's cleanup).
    for (const n of oldSets) {
      const s = state.sets[n];
      if (s && s.replicas === 0 && s.report && s.report.replicas === 0 && !s.deleting) {
        s.deleting = true;
        await signalSet(n, (h) => h.signal(deleteMachineSetSignal, {}));
        acted = true;
      }
    }
    return { acted, done: step.done };
  };

  /** The status from the sets' last reports; `deleting` once the deployment's deletion began. */
  const nextStatus = (deleting = false) => {
    const spec = md().spec;
    const hash = templateHash(state.apply, flow);
    const strategy = spec.rollout.strategy;
    const maxUnavailable = strategy.type === 'RollingUpdate' ? resolveFenceposts(spec.replicas, strategy.rollingUpdate).maxUnavailable : 0;
    return computeDeploymentStatus(
      {
        replicas: spec.replicas,
        maxUnavailable,
        ...(strategy.type === 'RollingUpdate' ? { maxUnavailableSpec: strategy.rollingUpdate?.maxUnavailable ?? 0 } : {}),
        ...(deleting ? { deleting } : {}),
        paused: spec.paused,
        sets: live().map(([n, s]) => ({
          name: n,
          // Deleting, every set is marked so; its machines stay as up to date as they were.
          isNew: isNewSet(deleting ? { ...s, deleting: false } : s, hash),
          replicas: s.report?.replicas ?? 0,
          readyReplicas: counts(s).readyReplicas,
          availableReplicas: counts(s).availableReplicas,
          ...(s.report?.scaleUpBlocked ? { scaleUpBlocked: s.report.scaleUpBlocked } : {}),
          ...(s.report?.remediating?.length ? { remediating: s.report.remediating } : {}),
        })),
        observedGeneration: state.generation,
        now: new Date().toISOString(),
      },
      state.status,
    );
  };

  /** Revision 10: the newest set in the memo (list-memo.ts CURRENT_SET_MEMO), when it changed. */
  const showCurrentSet = () => {
    const newest = live()
      .filter(([, s]) => !s.deleting)
      .sort(([, a], [, b]) => shownRevision(b) - shownRevision(a))[0]?.[0];
    if (newest && workflowInfo().memo?.[CURRENT_SET_MEMO] !== newest) upsertMemo({ [CURRENT_SET_MEMO]: newest });
  };

  /** Its remediation limit in the memo (list-memo.ts MAX_IN_FLIGHT_MEMO), when it changed: none for a deployment without one. */
  const showMaxInFlight = () => {
    const value = md().spec.remediation?.maxInFlight;
    const limit = resolveMaxInFlight(value, md().spec.replicas) ?? null;
    const percent = typeof value === 'string' ? value : null;
    const memo = workflowInfo().memo;
    if (limit !== ((memo?.[MAX_IN_FLIGHT_MEMO] as number | undefined) ?? null) || percent !== ((memo?.[MAX_IN_FLIGHT_SPEC_MEMO] as string | undefined) ?? null)) {
      upsertMemo({ [MAX_IN_FLIGHT_MEMO]: limit, [MAX_IN_FLIGHT_SPEC_MEMO]: percent });
    }
  };

  const updateStatus = async () => {
    const next = nextStatus();
    if (deploymentStatusChanged(state.status, next)) {
      state.status = next;
      await tellCluster(report());
    }
  };

  /** Its Cluster's pause changed since its sets were told. */
  const pauseTellDue = () => !!state.paused !== !!state.pausedTold;
  /** Tells its sets the pause, when it changed since they were told (pause.ts). */
  const tellPaused = async () => {
    const paused = !!state.paused;
    if (paused === !!state.pausedTold) return;
    state.pausedTold = paused;
    for (const [n] of live()) if (state.sets[n]) await signalSet(n, (h) => h.signal(pauseSignal, { paused }));
  };
  const continueFresh = async (): Promise<never> => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof MachineDeploymentWorkflow>({ ...input, state });
  };

  // --- the loop ---
  while (!state.deleteRequested) {
    const seen = changes;
    // Its Cluster is paused: its sets are told, and nothing is acted on until it is resumed. Its
    // own paused annotation holds only itself: its sets keep their machines meanwhile.
    await tellPaused();
    if (isPaused(state)) {
      // (Held by its annotation, it still tells its sets when its Cluster is paused or resumed.)
      if (!(await untilResumed(state, () => historyIsLong(flow, workflowInfo()) || pauseTellDue())) && historyIsLong(flow, workflowInfo())) return await continueFresh();
      continue;
    }
    // The init gate reaches sets started before it opened.
    for (const [n, s] of live()) {
      if (state.gateOpen && !s.gateOpen) {
        s.gateOpen = true;
        await signalSet(n, (h) => h.signal(controlPlaneInitializedSignal));
      }
      // The control plane's version or rollout changed since the set last heard (only once the
      // Cluster has told this deployment anything: a history from before stays as it was).
      const key = state.controlPlane && controlPlaneFactsKey(state.controlPlane);
      if (key && s.controlPlaneTold !== key && state.sets[n]) {
        s.controlPlaneTold = key;
        await signalSet(n, (h) => h.signal(controlPlaneChangedSignal, state.controlPlane!));
      }
      // Revision 8: what changed in place reaches every set (no rollout), as Cluster API propagates it.
      const inPlace = flow >= 8 ? inPlaceOf() : undefined;
      // And the template's labels and annotations, when they changed since the set was made or
      // last told (behind a patch; a set made before they were tracked takes its first pass's as told).
      const metadata = canonicalJson(templateMetadata());
      if (inPlace) s.metadataTold ??= metadata;
      const metadataDue = !!inPlace && !s.deleting && s.metadataTold !== metadata && !!state.sets[n] && patched(TEMPLATE_METADATA_PATCH);
      if (inPlace && !s.deleting && (s.inPlaceTold !== canonicalJson(inPlace) || metadataDue) && state.sets[n]) {
        s.inPlaceTold = canonicalJson(inPlace);
        if (metadataDue) s.metadataTold = metadata;
        const told: SetInPlace = metadataDue ? { ...inPlace, metadata: templateMetadata() } : inPlace;
        await signalSet(n, (h) => h.signal(updateMachineSetInPlaceSignal, told));
      }
    }
    let pass = { acted: false, done: false };
    for (let i = 0; i < MAX_PASSES; i++) {
      pass = await rolloutPass();
      if (!pass.acted) break;
    }
    await updateStatus();
    if (flow >= 10) showCurrentSet();
    showMaxInFlight();
    setCurrentDetails(
      md().spec.paused
        ? 'paused'
        : pass.done
          ? 'nothing to do'
          : `rolling out: ${state.status?.upToDateReplicas ?? 0}/${md().spec.replicas} up to date, ${state.status?.availableReplicas ?? 0} available`,
    );
    const wake = () => changes !== seen || state.deleteRequested || historyIsLong(flow, workflowInfo());
    // A restart time still ahead is the one timer a deployment sets; otherwise it waits on reports.
    const at = restartAt();
    if (at !== undefined && at > Date.now()) await condition(wake, at - Date.now() + 1);
    else await condition(wake);
    if (historyIsLong(flow, workflowInfo()) && !state.deleteRequested) return await continueFresh();
  }
  // (Paused: its deletion waits too, telling its sets when its Cluster's pause changes meanwhile.)
  await tellPaused();
  while (!(await untilResumed(state, pauseTellDue))) await tellPaused();
  await tellPaused();

  // --- deletion: every set (each deletes its machines), then the deployment ---
  setCurrentDetails('deleting machine sets');
  // Deleting, as its object shows it while its finalizer holds it. Only the status changes: the
  // Cluster is told once, at the end, as before (its last report now carries the counts of the
  // end, 0, where it carried those of the start; the Cluster drops a deleted deployment either way).
  state.status = nextStatus(true);
  for (const [n, s] of live()) {
    s.deleting = true;
    await signalSet(n, (h) => h.signal(deleteMachineSetSignal, { clusterDeleting: state.clusterDeleting }));
  }
  while (live().length > 0) {
    const seen = changes;
    await condition(() => changes !== seen || live().length === 0);
    state.status = nextStatus(true);
  }
  setCurrentDetails('Deleted');
  const last = report(true);
  await tellCluster(last);
  return last;
}

/**
 * OnDelete as a deployment before revision 8 planned it (its histories replay with it): old sets
 * kept whatever replicas says, the new set given what is left.
 */
function onDeleteBeforeRevision8(input: RolloutInput): RolloutStep {
  const step = planRollout(input);
  const old = input.oldSets.reduce((a, s) => a + s.replicas, 0);
  return { ...step, newSetReplicas: Math.max(0, input.replicas - old), oldSetReplicas: Object.fromEntries(input.oldSets.map((s) => [s.name, s.replicas])) };
}
