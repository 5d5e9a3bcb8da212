// The MachineDeployment commands of the CLI, kubectl's verbs on Cluster API's kind: the table
// rows of `get machinedeployments|machinesets`, `describe machinedeployment`, `scale`, and
// `rollout status|pause|resume|restart`. Each reads the workflow's status query or sends one of
// its Updates (workflows/messages.ts); the workflow validates every change as the whole spec,
// so a refusal comes back naming the field and nothing has changed.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ANNOTATIONS } from '../api/meta.js';
import { machineDeploymentWorkflowId } from '../workflows/ids.js';
import { machineDeploymentStatusQuery, pauseMachineDeploymentUpdate, restartMachineDeploymentUpdate, scaleMachineDeploymentUpdate } from '../workflows/messages.js';
import type { MachineDeploymentView, MachineSetView } from '../workflows/types.js';
import { ApplyError } from './apply.js';
import { age, conditionsTable, fields, indent, renderTable } from './table.js';

export const MD_RESOURCE = 'machinedeployment.cluster.capstan.dev';
const notFound = (namespace: string, name: string) => new ApplyError(`machinedeployments "${name}" not found in namespace "${namespace}"`);

/**
 * Cluster API's MachineDeployment phase (v1beta2's setPhase): desired replicas against the
 * machines the sets have. Cluster API v1beta1 also said Failed when a MachineSet carried a
 * failureReason; capstan's sets report none (a failed machine shows on its own conditions and
 * is replaced), so Failed is never derived here. No status yet: Unknown.
 */
export function machineDeploymentPhase(v: MachineDeploymentView): 'ScalingUp' | 'ScalingDown' | 'Running' | 'Unknown' {
  if (!v.status) return 'Unknown';
  const desired = v.spec.replicas;
  const current = v.status.replicas;
  if (desired === current) return 'Running';
  return desired < current ? 'ScalingDown' : 'ScalingUp';
}

/** NAME CLUSTER REPLICAS READY UPDATED UNAVAILABLE PHASE AGE VERSION, as Cluster API prints them. */
export function machineDeploymentRow(v: MachineDeploymentView, started: Date | undefined, now?: Date): string[] {
  const s = v.status;
  const n = (x: number | undefined) => (x === undefined ? '' : String(x));
  return [
    v.name,
    v.clusterName,
    n(s?.replicas),
    n(s?.readyReplicas),
    n(s?.upToDateReplicas),
    // Cluster API's unavailableReplicas: replicas − available, never below 0.
    n(s ? Math.max(0, s.replicas - s.availableReplicas) : undefined),
    machineDeploymentPhase(v),
    age(started, now),
    v.spec.template.spec.version ?? '',
  ];
}

/** NAME CLUSTER DESIRED CURRENT READY AVAILABLE UP-TO-DATE AGE VERSION (Cluster API's `kubectl get machinesets`). */
export function machineSetRow(v: MachineSetView, started: Date | undefined, now?: Date): string[] {
  const s = v.status;
  const n = (x: number | undefined) => (x === undefined ? '' : String(x));
  return [v.name, v.clusterName, String(v.replicas), n(s?.replicas), n(s?.readyReplicas), n(s?.availableReplicas), n(s?.upToDateReplicas), age(started, now), v.version ?? ''];
}

function strategyLine(v: MachineDeploymentView): string {
  const st = v.spec.rollout.strategy;
  if (st.type !== 'RollingUpdate') return st.type;
  return `RollingUpdate (maxSurge ${st.rollingUpdate?.maxSurge ?? 1}, maxUnavailable ${st.rollingUpdate?.maxUnavailable ?? 0})`;
}

/** Who holds a workflow that acts on nothing (Cluster API's pause), for `describe`; undefined when nothing does. */
export function pausedBy(v: { clusterPaused?: true; annotationPaused?: true }): string | undefined {
  const by = [...(v.clusterPaused ? ['its Cluster (spec.paused)'] : []), ...(v.annotationPaused ? [`its ${ANNOTATIONS.paused} annotation`] : [])];
  return by.length ? `by ${by.join(' and ')}` : undefined;
}

export function describeMachineDeployment(v: MachineDeploymentView): string {
  const s = v.status;
  return [
    ...fields([
      ['Name', v.name],
      ['Namespace', v.namespace],
      ['Cluster', v.clusterName],
      ['Generation', `${v.generation} (observed ${s?.observedGeneration ?? 0})`],
      ['Replicas', `${v.spec.replicas} desired | ${s?.replicas ?? 0} total | ${s?.upToDateReplicas ?? 0} up-to-date | ${s?.readyReplicas ?? 0} ready | ${s?.availableReplicas ?? 0} available`],
      ['Strategy', strategyLine(v)],
      ['Min Ready Seconds', String(v.spec.minReadySeconds)],
      ['Paused', String(v.spec.paused)],
      // (Cluster API's pause of the object, not of its rollout: it acts on nothing meanwhile.)
      ['Reconcile Paused', pausedBy(v)],
      ['Restart After', v.spec.rollout.after],
      ['Version', v.spec.template.spec.version ?? '<none>'],
      ['Phase', machineDeploymentPhase(v)],
    ]),
    ...conditionsTable(s?.conditions ?? []),
    ...(v.sets.length
      ? [
          'MachineSets:',
          ...indent(
            renderTable(
              ['NAME', 'REVISION', 'NEW', 'REPLICAS', 'READY', 'AVAILABLE', 'DELETING'],
              v.sets.map((x) => [x.name, String(x.revision), String(x.new), String(x.replicas), String(x.readyReplicas), String(x.availableReplicas), String(x.deleting)]),
            ),
          ),
        ]
      : ['MachineSets:   <none>']),
  ].join('\n');
}

export type SpecChange = { verb: 'scale'; replicas: number } | { verb: 'pause' } | { verb: 'resume' } | { verb: 'restart'; now: Date };

/**
 * `scale`, `rollout pause|resume|restart`: one Update each. `restart` of a paused deployment is
 * refused, as kubectl refuses it (the new rollout would wait until resumed), so it first reads
 * the spec with one query.
 */
export async function changeMachineDeployment(client: Client, namespace: string, name: string, change: SpecChange): Promise<string> {
  const handle = client.workflow.getHandle(machineDeploymentWorkflowId({ namespace, name }));
  try {
    switch (change.verb) {
      case 'scale':
        await handle.executeUpdate(scaleMachineDeploymentUpdate, { args: [{ replicas: change.replicas }] });
        return `${MD_RESOURCE}/${name} scaled`;
      case 'pause':
      case 'resume':
        await handle.executeUpdate(pauseMachineDeploymentUpdate, { args: [{ paused: change.verb === 'pause' }] });
        return `${MD_RESOURCE}/${name} ${change.verb === 'pause' ? 'paused' : 'resumed'}`;
      case 'restart': {
        const v = await handle.query(machineDeploymentStatusQuery);
        if (v.spec.paused) throw new ApplyError(`machinedeployments "${name}" can't restart paused deployment (run rollout resume first)`);
        // rollout.after = now: every machine created before it is replaced, as Cluster API's rolloutAfter.
        await handle.executeUpdate(restartMachineDeploymentUpdate, { args: [{ after: change.now.toISOString() }] });
        return `${MD_RESOURCE}/${name} restarted`;
      }
    }
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw notFound(namespace, name);
    // The workflow's validator refused the change: its message names the field.
    if (err instanceof WorkflowUpdateFailedError) throw new ApplyError(err.cause?.message ?? err.message);
    throw err;
  }
}

/** Where a rollout stands, in kubectl's words (its DeploymentStatusViewer), with the counts for a bar. */
export interface RolloutProgress {
  done: boolean;
  message: string;
  replicas: number;
  upToDate: number;
  /** Available machines of the new set. */
  available: number;
}

/**
 * Done as kubectl's `rollout status` means it, for Cluster API's kind: the latest spec observed,
 * one MachineSet left, and every desired machine up to date and available.
 */
export function rolloutProgress(v: MachineDeploymentView): RolloutProgress {
  const replicas = v.spec.replicas;
  const s = v.status;
  const newSet = v.sets.find((x) => x.new);
  const upToDate = s?.upToDateReplicas ?? 0;
  const available = newSet?.availableReplicas ?? 0;
  const base = { replicas, upToDate, available };
  const waiting = (what: string) => ({ ...base, done: false, message: `Waiting for deployment "${v.name}" rollout to finish: ${what}...${v.spec.paused ? ' (paused: capstan rollout resume machinedeployment ' + v.name + ')' : ''}` });
  if (!s || s.observedGeneration < v.generation) return { ...base, done: false, message: 'Waiting for deployment spec update to be observed...' };
  if (upToDate < replicas) return waiting(`${upToDate} out of ${replicas} new replicas have been updated`);
  if (s.replicas > upToDate) return waiting(`${s.replicas - upToDate} old replicas are pending termination`);
  if (available < upToDate) return waiting(`${available} of ${upToDate} updated replicas are available`);
  const old = v.sets.filter((x) => !x.new).length;
  if (old > 0 || !newSet) return waiting(`${old} old MachineSet${old === 1 ? '' : 's'} pending deletion`);
  return { ...base, done: true, message: `deployment "${v.name}" successfully rolled out` };
}

/** One line: a bar of available (█) and up-to-date but not yet available (▒) of replicas, then the counts and kubectl's message. */
export function progressLine(p: RolloutProgress, columns = 100, width = 20): string {
  const of = Math.max(p.replicas, 1);
  const full = Math.min(width, Math.round((Math.min(p.available, of) / of) * width));
  const half = Math.min(width - full, Math.round((Math.min(p.upToDate, of) / of) * width) - full);
  const bar = `[${'█'.repeat(full)}${'▒'.repeat(Math.max(0, half))}${'░'.repeat(Math.max(0, width - full - Math.max(0, half)))}]`;
  const line = `${bar} ${p.upToDate}/${p.replicas} up-to-date, ${p.available}/${p.replicas} available  ${p.message}`;
  return line.length > columns - 1 ? `${line.slice(0, columns - 2)}…` : line;
}

/** Go's duration as kubectl's --timeout takes it: 90s, 5m, 1h30m, 500ms; 0 means no limit. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s))+$/.exec(text);
  if (!m) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let ms = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) ms += Number(part[1]) * unit[part[2]!]!;
  return ms;
}

export interface RolloutStatusOptions {
  watch: boolean;
  /** 0: wait as long as it takes. */
  timeoutMs: number;
  intervalMs?: number;
  /** A terminal: one line redrawn in place; otherwise each new message on a line of its own. */
  tty: boolean;
  columns?: number;
  write: (text: string) => void;
  signal?: AbortSignal;
}

/**
 * `rollout status`: polls the deployment's status query until the rollout is done. A query is
 * answered by a worker from the workflow's cached state: it adds no event to the history, starts
 * no timer and no activity, and wakes no workflow task that would be recorded, so a watcher
 * costs the one query per interval (1 s) and nothing else; the deployment itself still waits on
 * events only. Resolves true when rolled out, false when the timeout passed first.
 */
export async function rolloutStatus(client: Client, namespace: string, name: string, o: RolloutStatusOptions): Promise<boolean> {
  const handle = client.workflow.getHandle(machineDeploymentWorkflowId({ namespace, name }));
  const deadline = o.timeoutMs > 0 ? Date.now() + o.timeoutMs : Infinity;
  let last = '';
  for (;;) {
    let v: MachineDeploymentView;
    try {
      v = await handle.query(machineDeploymentStatusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(namespace, name);
      throw err;
    }
    const p = rolloutProgress(v);
    if (!o.watch || p.done) {
      if (o.tty && last) o.write('\r\x1b[K');
      o.write(`${p.message}\n`);
      return true;
    }
    if (o.tty) {
      const line = progressLine(p, o.columns);
      if (line !== last) o.write(`\r\x1b[K${line}`);
      last = line;
    } else if (p.message !== last) {
      o.write(`${p.message}\n`);
      last = p.message;
    }
    const left = deadline - Date.now();
    if (left <= 0 || o.signal?.aborted) {
      if (o.tty && last) o.write('\n');
      return false;
    }
    await sleep(Math.min(o.intervalMs ?? 1000, left), undefined, { signal: o.signal }).catch(() => undefined);
  }
}
