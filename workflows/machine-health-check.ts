// MachineHealthCheckWorkflow: one per MachineHealthCheck, started by its Cluster once the
// control plane is initialized. It keeps one long activity observing its targets (the selected
// Machines and their Nodes, from the worker's Node watch: activities/health.ts), which returns
// only when they changed; decides with the pure planner (planners/health.ts); remediates an
// unhealthy machine its owner will replace by deleting it (its MachineSet or control plane then
// creates another); and sleeps on a durable timer only while a timeout is running, so it
// remediates the moment one expires and costs no timer while everything is healthy. When its
// targets have not changed for a while it stops observing altogether (quiet.ts) until the
// worker's waker sees a change: an idle health check costs no action.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import { activities, terminalFailure } from './activity-proxies.js';
import { setCondition, type ConditionInput } from './conditions.js';
import { observer } from './observer.js';
import { goQuiet, showQuietAfterContinue, wake } from './quiet.js';
import { flowOf, historyIsLong } from './flow.js';
import { UNHEALTHY_MEMO } from './list-memo.js';
import { controlPlaneWorkflowId, machineWorkflowId } from './ids.js';
import {
  applyMachineHealthCheckUpdate,
  deleteMachineHealthCheckSignal,
  deleteMachineSignal,
  machineHealthCheckStatusQuery,
  remediateControlPlaneMachineSignal,
  wakeObserverSignal,
} from './messages.js';
import { hasPausedAnnotation, heedsPausedAnnotation, isPaused, takePause, takePausedAnnotation, untilResumed } from './pause.js';
import { limitInFlight, type InFlightVerdict } from './planners/remediation-in-flight.js';
import { evaluateHealth, remediationsAllowed, timeoutPending, unhealthyReason, type HealthTarget, type HealthVerdict } from './planners/health.js';
import { backoffSeconds, pruneRemediations, remediationHold, remediationRecord } from './planners/remediation-backoff.js';
import { signalOrForget } from './reports.js';
import { diffPaths } from './spec-diff.js';
import type { MachineHealthCheckState, MachineHealthCheckView, MachineHealthCheckWorkflowInput, OwnedHealthTarget } from './types.js';
import { assertValid } from './validate.js';

/** The health check limits a deployment's remediations to its spec.remediation.maxInFlight. */
export const MAX_IN_FLIGHT_PATCH = 'remediation-max-in-flight';

/** The KubeadmControlPlane that owns a target, if one does. */
const controlPlaneOwner = (t: OwnedHealthTarget | undefined) => (t?.owner?.startsWith('KubeadmControlPlane/') ? t.owner.slice('KubeadmControlPlane/'.length) : undefined);

/** The longest one observation runs before it returns what it sees anyway. */
const OBSERVE_MAX_WAIT_SECONDS = 1800;

export async function MachineHealthCheckWorkflow(input: MachineHealthCheckWorkflowInput): Promise<void> {
  const mhc = input.machineHealthCheck;
  const { namespace, name } = mhc.metadata;
  const state: MachineHealthCheckState = input.state ?? {
    generation: 1,
    spec: mhc.spec,
    targets: [],
    remediated: [],
    deleteRequested: false,
    // (Created with Cluster API's paused annotation: it remediates nothing until that is removed.)
    ...(heedsPausedAnnotation(hasPausedAnnotation(mhc.metadata)) ? { annotated: true } : {}),
  };
  let changes = 0;
  // Revision 5 (flow.ts): started by a Cluster of revision 5 with it in its memo.
  const flow = flowOf(workflowInfo().memo);
  let verdict: HealthVerdict = { unhealthy: [], remediate: [], shortCircuited: false, healthy: 0, failing: 0 };
  let problem: string | undefined;
  let heldBack: { machine: string; owner: string; until: string; generation: number }[] = [];
  /** Unhealthy machines waiting for their deployment's spec.remediation.maxInFlight, as of the last pass. */
  let deferred: InFlightVerdict['deferred'] = [];
  const cond = (c: ConditionInput) => {
    state.status ??= { expectedMachines: 0, currentHealthy: 0, remediationsAllowed: 0, targets: [], conditions: [], observedGeneration: state.generation };
    setCondition(state.status.conditions, c, new Date(), state.generation);
  };
  // Revision 6: whether its observation of the Nodes is failing (the workload API does not answer):
  // as Cluster API's does while it cannot reach the cluster, it remediates nothing meanwhile.
  let blind = false;
  const { observers, provider } = activities((r) => {
    problem = `${r.activity}: ${r.attempts} attempts: ${r.message}`;
    if (r.activity === 'observeHealthTargets') blind = true;
    changes++;
  });

  setHandler(
    applyMachineHealthCheckUpdate,
    (next) => {
      // Its paused annotation (Cluster API's): it remediates nothing while it has it.
      const pauseChanged = takePausedAnnotation(state, next.metadata);
      if (pauseChanged) changes++;
      if (diffPaths(state.spec, next.spec).length === 0) return { generation: state.generation, result: pauseChanged ? ('configured' as const) : ('unchanged' as const) };
      state.spec = next.spec;
      state.generation++;
      wake(state); // a new selector or timeout: observe again
      changes++;
      return { generation: state.generation, result: 'configured' as const };
    },
    {
      validator: (next) => {
        if (state.deleteRequested) throw new Error(`MachineHealthCheck "${name}" is being deleted`);
        assertValid([next]);
        if (next.spec.clusterName !== mhc.spec.clusterName) throw new Error(`MachineHealthCheck "${name}": spec.clusterName: is immutable`);
      },
    },
  );
  takePause(state, () => changes++);
  setHandler(deleteMachineHealthCheckSignal, () => {
    state.deleteRequested = true;
    changes++;
  });
  setHandler(wakeObserverSignal, () => {
    if (wake(state)) changes++;
  });
  setHandler(machineHealthCheckStatusQuery, (): MachineHealthCheckView => ({
    name,
    namespace,
    clusterName: mhc.spec.clusterName,
    ...(state.paused ? { clusterPaused: true as const } : {}),
    ...(state.annotated ? { annotationPaused: true as const } : {}),
    generation: state.generation,
    spec: state.spec,
    status: state.status,
    unhealthy: verdict.unhealthy,
    remediated: [...state.remediated],
    heldBack: heldBack.map(({ machine, until }) => ({ machine, until })),
    ...(deferred.length ? { deferred: deferred.map(({ machine, message }) => ({ machine, message })) } : {}),
    pendingRollout: verdict.leftToRollout ?? [],
    // (And those it remediated that are still being deleted: Cluster API's mark stays on them.)
    // (And one whose timeout ran out since the check last looked: unhealthy from its next pass.)
    pendingTimeouts: state.targets
      .filter((t) => {
        if (t.deleting || verdict.unhealthy.includes(t.machine)) return false;
        const at = { now: new Date().toISOString(), ...state.spec.checks };
        return timeoutPending(t, at) || unhealthyReason(t, at) !== undefined;
      })
      .map((t) => t.machine)
      .sort(),
    unhealthyReasons: Object.fromEntries(
      [...new Set([...verdict.unhealthy, ...state.remediated])].flatMap((m) => {
        const target = state.targets.find((t) => t.machine === m);
        const why = target && unhealthyReason(target, { now: new Date().toISOString(), ...state.spec.checks });
        return why ? [[m, why]] : [];
      }),
    ),
  }));

  // (A remediated machine still being deleted — a revision-10 target — is not waited for: its replacement comes once it is gone.)
  const recentlyRemediated = () =>
    (state.remediationLog ?? []).some((r) => Date.now() - Date.parse(r.at) < 120_000) ||
    state.remediated.some((m) => !state.targets.find((t) => t.machine === m)?.deleting);
  // One observation at a time, in its own scope so a deletion cancels it.
  const observing = observer(
    () =>
      observers.observeHealthTargets({
        cluster: input.cluster,
        selector: state.spec.selector,
        knownDigest: state.digest,
        maxWaitSeconds: OBSERVE_MAX_WAIT_SECONDS,
        // Replacements of what it remediated lately come soon: look for new machines often then.
        relistSeconds: recentlyRemediated() ? 2 : 30,
        ...(flow >= 10 ? { asClusterApi: true } : {}),
      }),
    {
      result: (r) => {
        state.targets = r.targets;
        state.digest = r.digest;
        problem = undefined;
        blind = false;
        // Nothing changed for a while: stop observing until the worker's waker sees a change (quiet.ts).
        if (r.quiet) goQuiet(state, r.quiet);
      },
      failure: (message) => {
        problem = `observeHealthTargets: ${message}`;
        blind = true;
      },
      end: () => changes++,
    },
  );

  /**
   * A remediation request's creation or deletion; one the management cluster refuses for good (no
   * template, no management cluster) shows on ExternalRemediationRequestAvailable and is not retried.
   */
  const requestStep = async (fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
      cond({ type: 'ExternalRemediationRequestAvailable', status: 'True', reason: 'RequestAvailable' });
    } catch (err) {
      const t = terminalFailure(err);
      if (!t) throw err;
      cond({ type: 'ExternalRemediationRequestAvailable', status: 'False', reason: t.failure.type ?? 'RequestFailed', message: t.failure.message });
    }
  };

  const evaluate = (targets: HealthTarget[]) => {
    const { checks, remediation } = state.spec;
    const common = {
      nodeStartupTimeoutSeconds: checks.nodeStartupTimeoutSeconds,
      unhealthyNodeConditions: checks.unhealthyNodeConditions,
      maxUnhealthy: remediation.triggerIf.unhealthyLessThanOrEqualTo,
      unhealthyRange: remediation.triggerIf.unhealthyInRange,
    };
    verdict = evaluateHealth({
      now: new Date().toISOString(),
      ...common,
      targets,
      ...(flow >= 10 ? { countAsClusterApi: true } : {}),
      ...(remediation.templateRef ? { externalRemediation: true } : {}),
    });
    const healthy = verdict.healthy;
    const unhealthyCount = targets.length - healthy;
    state.status = {
      expectedMachines: targets.length,
      currentHealthy: healthy,
      remediationsAllowed: remediationsAllowed(unhealthyCount, targets.length, common.maxUnhealthy, common.unhealthyRange),
      targets: targets.map((t) => t.machine),
      conditions: state.status?.conditions ?? [],
      observedGeneration: state.generation,
    };
    // Cluster API's words (machinehealthcheck_controller.go), its `unhealthy` being the machines that need remediation.
    const counts = `total: ${targets.length}, unhealthy: ${verdict.failing}`;
    const why =
      common.unhealthyRange !== undefined
        ? `does not fall within the range (${counts}, unhealthyRange: ${common.unhealthyRange})`
        : `exceeds maxUnhealthy (${counts}, maxUnhealthy: ${common.maxUnhealthy ?? '100%'})`;
    cond(
      verdict.shortCircuited
        ? {
            type: 'RemediationAllowed',
            status: 'False',
            reason: 'TooManyUnhealthy',
            message: `Remediation is not allowed, the number of not started or unhealthy machines ${why}`,
          }
        : { type: 'RemediationAllowed', status: 'True', reason: 'RemediationAllowed' },
    );
  };

  /** Revision 5: the unhealthy machines in the memo, for the watcher (list-memo.ts); one upsert per change it cannot see itself. */
  const showUnhealthy = (targets: Set<string>) => {
    const shown = (workflowInfo().memo?.[UNHEALTHY_MEMO] as string[] | undefined) ?? [];
    const next = [...verdict.unhealthy].sort();
    if (next.some((m) => !shown.includes(m)) || shown.some((m) => !next.includes(m) && targets.has(m))) upsertMemo({ [UNHEALTHY_MEMO]: next });
  };

  const continueFresh = async (): Promise<never> => {
    await observing.stop();
    await condition(allHandlersFinished);
    return continueAsNew<typeof MachineHealthCheckWorkflow>({ ...input, state });
  };

  showQuietAfterContinue(state);
  while (!state.deleteRequested) {
    const seen = changes;
    // Its Cluster is paused: it remediates nothing until it is resumed (pause.ts); an observation
    // already running goes on, none starts.
    if (isPaused(state)) {
      if (!(await untilResumed(state, () => state.deleteRequested || historyIsLong(2, workflowInfo())))) {
        if (state.deleteRequested) break;
        return await continueFresh();
      }
      continue;
    }
    if (state.quiet === undefined) observing.ensure();
    evaluate(state.targets);
    // Remediate: delete each unhealthy machine its owner replaces, once; the owner's new machine
    // is a new target. A machine that is no longer a target is forgotten.
    const targetNames = new Set(state.targets.map((t) => t.machine));
    // Revision 10: machines being deleted are targets (counted as Cluster API counts them), but
    // for all else here they are as before, when they were not: not "healthy again", not shown.
    const deleting = new Set(state.targets.filter((t) => t.deleting).map((t) => t.machine));
    const liveTargetNames = new Set([...targetNames].filter((m) => !deleting.has(m)));
    // External remediation: a request whose machine is healthy again, or gone, is deleted.
    const requests = (state.remediationRequests ??= {});
    for (const [m, templateRef] of Object.entries(requests)) {
      if (liveTargetNames.has(m) && verdict.unhealthy.includes(m)) continue;
      await requestStep(() => provider.deleteRemediationRequest({ templateRef, namespace, machine: m }));
      delete requests[m];
      state.remediated = state.remediated.filter((x) => x !== m);
    }
    state.remediated = state.remediated.filter((m) => targetNames.has(m));
    // A control-plane machine the control plane was asked to remediate that is healthy again:
    // the request is withdrawn (the control plane may have held it back to keep etcd's quorum).
    for (const m of state.remediated.filter((x) => !verdict.unhealthy.includes(x) && !deleting.has(x))) {
      const owner = controlPlaneOwner(state.targets.find((t) => t.machine === m));
      if (!owner) continue;
      state.remediated = state.remediated.filter((x) => x !== m);
      await signalOrForget(controlPlaneWorkflowId({ namespace, name: owner }), (h) => h.signal(remediateControlPlaneMachineSignal, { machine: m }), () => undefined);
    }
    const now = new Date().toISOString();
    state.remediationLog = pruneRemediations(state.remediationLog ?? [], now);
    heldBack = [];
    // A deployment's spec.remediation.maxInFlight: as many of its machines in remediation at once,
    // the newest first; the others wait (revision 10, whose targets include those being deleted).
    // Those their backoff holds back (below) take no place in the count; an external remediation
    // is the external controller's to pace. Behind a patch: a history recorded by a worker that
    // knew no limit (a fleet of mixed versions) replays as recorded.
    const candidates = verdict.remediate.filter((m) => !state.remediated.includes(m));
    const targetOf = (m: string): OwnedHealthTarget => state.targets.find((t) => t.machine === m)!;
    const heldNow = (t: OwnedHealthTarget) => !!t.owner && !!remediationHold({ owner: t.owner, createdAt: t.machineCreatedAt }, state.remediationLog ?? [], now).notBefore;
    const limits = flow >= 10 && !state.spec.remediation.templateRef && candidates.some((m) => targetOf(m).maxInFlight !== undefined) && patched(MAX_IN_FLIGHT_PATCH);
    const limited = limits
      ? limitInFlight({ candidates: candidates.map(targetOf).filter((t) => !heldNow(t)), targets: state.targets, remediated: state.remediated })
      : { remediate: candidates, deferred: [] };
    deferred = limited.deferred;
    const sends: (() => Promise<void>)[] = [];
    // (In the verdict's order, those held back included, so their backoff shows as before.)
    const deferredNames = new Set(deferred.map((d) => d.machine));
    for (const m of candidates.filter((x) => !deferredNames.has(x))) {
      if (state.remediated.includes(m)) continue;
      if (flow >= 6 && blind) break;
      const target: OwnedHealthTarget = state.targets.find((t) => t.machine === m)!;
      if (target.owner) {
        // A replacement that fails again waits out its backoff (planners/remediation-backoff.ts).
        const hold = remediationHold({ owner: target.owner, createdAt: target.machineCreatedAt }, state.remediationLog, now);
        if (hold.notBefore) {
          heldBack.push({ machine: m, owner: target.owner, until: hold.notBefore, generation: hold.generation });
          continue;
        }
        state.remediationLog.push(remediationRecord({ owner: target.owner, createdAt: target.machineCreatedAt }, hold, now));
      }
      state.remediated.push(m);
      const why = unhealthyReason(target, { now: new Date().toISOString(), ...state.spec.checks }) ?? { reason: 'UnhealthyNode', message: 'Health check failed' };
      const remediation = { healthCheck: name, ...why };
      const templateRef = state.spec.remediation.templateRef;
      if (templateRef) {
        // External remediation: a request for an external controller instead of a deletion.
        requests[m] = templateRef;
        sends.push(() => requestStep(() => provider.createRemediationRequest({ templateRef, namespace, machine: m, clusterName: mhc.spec.clusterName })));
        continue;
      }
      const cp = controlPlaneOwner(target);
      if (cp) {
        // The control plane decides: it remediates one machine at a time and never loses etcd's quorum.
        sends.push(() => signalOrForget(controlPlaneWorkflowId({ namespace, name: cp }), (h) => h.signal(remediateControlPlaneMachineSignal, { machine: m, remediation }), () => undefined));
        continue;
      }
      // The reason rides on the delete signal: the machine's conditions say it at no extra action.
      sends.push(() => signalOrForget(machineWorkflowId({ namespace, name: m }), (h) => h.signal(deleteMachineSignal, { remediation }), () => undefined));
    }
    // Many machines whose timeouts expire together are all told at once (one workflow task), not
    // one round trip after another; a history from before this (one after another) replays so.
    if (sends.length > 1 && patched('mhc-concurrent-remediation')) await Promise.all(sends.map((send) => send()));
    else for (const send of sends) await send();
    if (flow >= 5) showUnhealthy(liveTargetNames);
    cond(
      heldBack.length
        ? {
            type: 'RemediationBackoff',
            status: 'True',
            reason: 'RemediatingTooOften',
            message: heldBack
              .map((h) => `${h.machine} held back until ${h.until}: replacement #${h.generation - 1} of a remediated machine of ${h.owner} (backoff ${backoffSeconds(h.generation)}s)`)
              .join('; '),
          }
        : { type: 'RemediationBackoff', status: 'False', reason: 'NoBackoff' },
    );
    setCurrentDetails(
      problem ??
        `${state.status?.currentHealthy ?? 0}/${state.status?.expectedMachines ?? 0} healthy` +
          (verdict.unhealthy.length ? `; unhealthy: ${verdict.unhealthy.join(', ')}` : '') +
          (verdict.shortCircuited ? '; remediation not allowed (too many unhealthy)' : '') +
          (deferred.length ? `; waiting for maxInFlight: ${deferred.map((d) => d.machine).join(', ')}` : '') +
          (verdict.leftToRollout ? `; pending removal due to rollout: ${verdict.leftToRollout.join(', ')}` : ''),
    );
    // Wake on a new observation, a spec change or deletion; while a timeout runs, also when it expires.
    const wake = () => changes !== seen || state.deleteRequested || historyIsLong(2, workflowInfo());
    const untilHeld = heldBack.length ? Math.min(...heldBack.map((h) => Date.parse(h.until))) - Date.now() : undefined;
    const nextMs = [verdict.nextCheckInSeconds !== undefined ? Math.ceil(verdict.nextCheckInSeconds * 1000) : undefined, untilHeld].filter((x): x is number => x !== undefined);
    if (nextMs.length) await condition(wake, Math.max(1000, Math.min(...nextMs) + 100));
    else await condition(wake);
    if (historyIsLong(2, workflowInfo()) && !state.deleteRequested) return await continueFresh();
  }
  await observing.stop();
  setCurrentDetails('Deleted');
}
