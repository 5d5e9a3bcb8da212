// Whether capstan can reach a workload cluster's API, as Cluster API shows it (v1beta2): the
// Cluster's RemoteConnectionProbe condition, and, while the probe fails, its Machines' NodeReady and
// NodeHealthy Unknown with reason ConnectionDown (the Node's state cannot be known). capstan's probe
// is the Node-conditions mirror's watch: it fails once the workload API has not answered for the
// waits' grace (activities/errors.ts waitTrouble), and succeeds again at the mirror's next result.
import type { ConditionInput } from '../conditions.js';
import { ConditionType, Reason } from '../conditions.js';
import { type NodeConditions, nodeConditionsKey } from './node-conditions.js';

/** The Cluster's list memo `probe` while the probe succeeds (else: since when it has failed). */
export const PROBE_OK = 'ok';

/** Since when the probe has failed, from the list memo's `probe` (undefined: it succeeds, or the Cluster does not say). */
export const probeFailedSince = (probe: string | undefined): string | undefined => (probe && probe !== PROBE_OK ? probe : undefined);

/** A time as Cluster API's messages write it (RFC 3339, to the second). */
const rfc3339 = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

/** The Cluster's RemoteConnectionProbe: True, or False since `failedSince` (the API last answered then). */
export function remoteConnectionProbe(failedSince: string | undefined): ConditionInput {
  return failedSince
    ? { type: ConditionType.RemoteConnectionProbe, status: 'False', reason: Reason.ProbeFailed, message: `Remote connection probe failed, probe last succeeded at ${rfc3339(failedSince)}` }
    : { type: ConditionType.RemoteConnectionProbe, status: 'True', reason: Reason.ProbeSucceeded };
}

/** A Running machine's Node conditions while its cluster's probe fails: unknown, since `failedSince`. */
export function connectionDownConditions(failedSince: string): NodeConditions {
  const unknown = { status: 'Unknown' as const, reason: Reason.ConnectionDown, message: `Last successful probe at ${rfc3339(failedSince)}` };
  return { nodeReady: { type: ConditionType.NodeReady, ...unknown }, nodeHealthy: { type: ConditionType.NodeHealthy, ...unknown } };
}

/** The same as a node-conditions key (planners/node-conditions.ts), as the watcher joins it to a machine. */
export const connectionDownKey = (failedSince: string): string => nodeConditionsKey(connectionDownConditions(failedSince));
