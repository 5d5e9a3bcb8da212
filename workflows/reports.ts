// How objects tell their owners what changed: a machine tells its Cluster or control plane,
// the control plane tells its Cluster. Reports are deduplicated (a signal is a billed action),
// and an owner that no longer exists is not an error: there is nobody left to tell.
import { type ExternalWorkflowHandle, getExternalWorkflowHandle, log, type SignalDefinition } from '@temporalio/workflow';
import type { MachineReport } from './types.js';

/** Returns a function that signals `workflowId` with a report, unless it equals the last one sent. */
export function reporter<T>(workflowId: string, signal: SignalDefinition<[T]>): (report: T) => Promise<void> {
  let last = '';
  return async (report: T) => {
    const json = JSON.stringify(report);
    if (json === last) return;
    last = json;
    try {
      await getExternalWorkflowHandle(workflowId).signal(signal, report);
    } catch (err) {
      log.warn('could not report to the owner', { owner: workflowId, error: String(err) });
    }
  };
}

/** Records a machine's report in its owner's table; returns false for a machine it does not own. */
export function recordMachineReport(machines: Record<string, { report?: MachineReport; deleted: boolean }>, r: MachineReport): boolean {
  const m = machines[r.name];
  if (!m) return false;
  m.report = r;
  if (r.phase === 'Deleted') m.deleted = true;
  return true;
}

/**
 * Signals an owned workflow (scale, delete); one that no longer exists has nothing left to do,
 * so `onGone` records it as gone instead of failing the owner.
 */
export async function signalOrForget(workflowId: string, send: (h: ExternalWorkflowHandle) => Promise<void>, onGone: () => void): Promise<void> {
  try {
    await send(getExternalWorkflowHandle(workflowId));
  } catch (err) {
    log.warn('signal not delivered; treating the object as gone', { workflowId, error: String(err) });
    onGone();
  }
}
