// A MachineDeployment's machines' UpToDate and Available, and the reasons its RollingOut lists, as
// Cluster API's controllers write them on the objects (MachineSet's newMachineUpToDateCondition,
// mdutil.MachineTemplateUpToDate, the Machine's setAvailableCondition, the deployment's
// setRollingOutCondition). The watcher computes them from what it has: the deployment's view (which
// set is new) and the set objects' templates; no workflow is asked for them.
import type { Condition } from '../api/meta.js';

type C = Omit<Condition, 'lastTransitionTime'>;

/** The part of a machine template that decides a rollout, as a set's and a deployment's specs hold it. */
export interface RolloutTemplate {
  version?: string;
  bootstrap?: { configRef?: { kind?: string; name?: string }; dataSecretName?: string };
  infrastructureRef?: { kind?: string; name?: string };
  failureDomain?: string;
}

const withoutTemplate = (kind: string | undefined) => (kind ?? '').replace(/Template$/, '');

/** Why a set's template is not the deployment's: Cluster API's condition messages (none: it is). */
export function templateDifferences(current: RolloutTemplate, desired: RolloutTemplate): string[] {
  const out: string[] = [];
  if ((current.version ?? '') !== (desired.version ?? '')) out.push(`Version ${current.version ?? 'nil'}, ${desired.version ?? 'nil'} required`);
  const cb = current.bootstrap?.configRef;
  const db = desired.bootstrap?.configRef;
  if (cb) {
    if (cb.kind !== db?.kind || cb.name !== db?.name) out.push(`${withoutTemplate(cb.kind)} is not up-to-date`);
  } else if ((current.bootstrap?.dataSecretName ?? '') !== (desired.bootstrap?.dataSecretName ?? '')) {
    out.push(`spec.bootstrap.dataSecretName ${current.bootstrap?.dataSecretName ?? 'nil'}, ${desired.bootstrap?.dataSecretName ?? 'nil'} required`);
  }
  const ci = current.infrastructureRef;
  const di = desired.infrastructureRef;
  if (ci?.kind !== di?.kind || ci?.name !== di?.name) out.push(`${withoutTemplate(ci?.kind)} is not up-to-date`);
  if ((current.failureDomain ?? '') !== (desired.failureDomain ?? '')) out.push(`Failure domain ${current.failureDomain ?? 'nil'}, ${desired.failureDomain ?? 'nil'} required`);
  return out;
}

/**
 * A deployment's machine's UpToDate: True in its new set; else False with why (the template
 * differences, rollout.after expired for a set made before it, or — a template changed under the
 * same name, which capstan rolls — the machine template).
 */
export function upToDateCondition(isNew: boolean, differences: string[], rolloutAfterExpired: boolean): C {
  if (isNew) return { type: 'UpToDate', status: 'True', reason: 'UpToDate', message: '' };
  const why = [...differences, ...(rolloutAfterExpired ? ['MachineDeployment spec.rolloutAfter expired'] : [])];
  return { type: 'UpToDate', status: 'False', reason: 'NotUpToDate', message: (why.length ? why : ['Machine template is not up-to-date']).map((m) => `* ${m}`).join('\n') };
}

/**
 * The deployment's RollingOut message with its machines' reasons under it, a version change first
 * (Cluster API's setRollingOutCondition); `message` unchanged when no machine says why.
 */
export function rollingOutMessage(message: string, upToDate: readonly C[]): string {
  const reasons = new Set<string>();
  for (const c of upToDate) if (c.status === 'False' && c.message) for (const line of c.message.split('\n')) reasons.add(line);
  if (!reasons.size) return message;
  const version = (s: string) => s.startsWith('* Version');
  const sorted = [...reasons].sort((a, b) => (version(a) !== version(b) ? (version(a) ? -1 : 1) : a < b ? -1 : a > b ? 1 : 0));
  return `${message}\n${sorted.join('\n')}`;
}

/**
 * A machine's Available: its Ready True for at least minReadySeconds (Cluster API's Machine
 * controller); not Ready (or no Ready yet), NotReady.
 */
export function availableCondition(ready: Pick<Condition, 'status' | 'lastTransitionTime'> | undefined, minReadySeconds: number, now: number): C {
  if (ready?.status !== 'True') return { type: 'Available', status: 'False', reason: 'NotReady', message: '' };
  if (now - Date.parse(ready.lastTransitionTime) >= minReadySeconds * 1000) return { type: 'Available', status: 'True', reason: 'Available', message: '' };
  return { type: 'Available', status: 'False', reason: 'WaitingForMinReadySeconds', message: '' };
}

/**
 * A control plane's machine's UpToDate, from its workflow's answer (Cluster API's
 * KubeadmControlPlane sets it): each reason on its line — another version; made from another
 * machine template (`infrastructureUpToDate` false, or not up to date in the same version when the
 * answer does not say).
 */
export function controlPlaneUpToDate(upToDate: boolean, version: string | undefined, desired: string, infrastructureUpToDate?: boolean): C {
  if (upToDate) return upToDateCondition(true, [], false);
  const otherVersion = version !== undefined && version !== desired;
  const otherTemplate = infrastructureUpToDate === false || (infrastructureUpToDate === undefined && !otherVersion);
  return upToDateCondition(false, [...(otherVersion ? [`Version ${version}, ${desired} required`] : []), ...(otherTemplate ? ['SimMachine is not up-to-date'] : [])], false);
}
