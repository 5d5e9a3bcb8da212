// A Machine's NodeReady and NodeHealthy conditions, as Cluster API derives them from its Node
// (machine controller, setNodeHealthyAndReadyConditions): NodeReady mirrors the Node's Ready
// condition; NodeHealthy is True when the Node is Ready with no pressure condition, False with
// the first thing wrong, Unknown when the Node's state is. A Node that is gone while the Machine
// still exists makes both False (NodeDeleted). A healthy Node gives exactly the conditions a
// machine sets itself when it comes up, so the fleet's normal state costs no message at all.
import type { ConditionInput } from '../conditions.js';
import { ConditionType, Reason } from '../conditions.js';

export interface NodeLike {
  conditions: { type: string; status: string; reason?: string; message?: string }[];
}

export interface NodeConditions {
  nodeReady: ConditionInput;
  nodeHealthy: ConditionInput;
}

/** What a machine sets when its Node becomes Ready: the state nobody needs to be told about. */
export const HEALTHY_NODE: NodeConditions = {
  nodeReady: { type: ConditionType.NodeReady, status: 'True', reason: Reason.Ready },
  nodeHealthy: { type: ConditionType.NodeHealthy, status: 'True', reason: Reason.Ready },
};

/** Kubernetes' node pressure conditions: True is bad. */
const PRESSURE = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

/** The conditions of a Machine whose Node is `node` (undefined: the Node `nodeName` is gone). */
export function nodeConditions(nodeName: string, node: NodeLike | undefined): NodeConditions {
  if (!node) {
    const message = `Node ${nodeName} has been deleted while the Machine still exists`;
    return {
      nodeReady: { type: ConditionType.NodeReady, status: 'False', reason: 'NodeDeleted', message },
      nodeHealthy: { type: ConditionType.NodeHealthy, status: 'False', reason: 'NodeDeleted', message },
    };
  }
  const ready = node.conditions.find((c) => c.type === 'Ready');
  const pressure = node.conditions.filter((c) => PRESSURE.includes(c.type) && c.status === 'True').map((c) => c.type);
  if (ready?.status === 'True' && pressure.length === 0) return HEALTHY_NODE;
  const nodeReady: ConditionInput =
    ready?.status === 'True'
      ? HEALTHY_NODE.nodeReady
      : {
          type: ConditionType.NodeReady,
          status: ready?.status === 'False' ? 'False' : 'Unknown',
          reason: ready?.reason || (ready ? 'NodeNotReady' : 'NodeConditionDoesNotExist'),
          message: ready?.message || (ready ? `Node ${nodeName} is not ready` : `Node ${nodeName} has no Ready condition`),
        };
  const nodeHealthy: ConditionInput =
    ready?.status !== 'True' && ready?.status !== 'False'
      ? { type: ConditionType.NodeHealthy, status: 'Unknown', reason: 'NodeHealthUnknown', message: `Node ${nodeName}: Ready condition is ${ready ? 'Unknown' : 'missing'}` }
      : {
          type: ConditionType.NodeHealthy,
          status: 'False',
          reason: 'NodeNotHealthy',
          message: `Node ${nodeName}: ${[...(ready.status === 'False' ? ['not ready'] : []), ...pressure].join(', ')}`,
        };
  return { nodeReady, nodeHealthy };
}

/** A stable key of a machine's node conditions: equal keys, nothing to tell the machine. */
export function nodeConditionsKey(c: NodeConditions): string {
  const k = (x: ConditionInput) => `${x.status}/${x.reason}/${x.message ?? ''}`;
  return `${k(c.nodeReady)}|${k(c.nodeHealthy)}`;
}

export const HEALTHY_NODE_KEY = nodeConditionsKey(HEALTHY_NODE);

const KEY = /^(True|False|Unknown)\/([^/|]*)\/(.*)\|(True|False|Unknown)\/([^/|]*)\/(.*)$/s;

/**
 * The conditions behind a key (what the Cluster's list memo carries): the inverse of
 * nodeConditionsKey for reasons without "/" or "|" (Kubernetes' reasons are CamelCase words). A
 * key that is not one reads as a Node whose state is Unknown, with the key as its message.
 */
export function nodeConditionsFromKey(key: string): NodeConditions {
  const m = KEY.exec(key);
  if (!m) {
    const unknown = { status: 'Unknown' as const, reason: 'NodeHealthUnknown', message: key };
    return { nodeReady: { type: ConditionType.NodeReady, ...unknown }, nodeHealthy: { type: ConditionType.NodeHealthy, ...unknown } };
  }
  const c = (type: string, status: string, reason: string, message: string): ConditionInput => ({ type, status: status as ConditionInput['status'], reason, ...(message ? { message } : {}) });
  return { nodeReady: c(ConditionType.NodeReady, m[1]!, m[2]!, m[3]!), nodeHealthy: c(ConditionType.NodeHealthy, m[4]!, m[5]!, m[6]!) };
}

/**
 * A key without its messages: what the Cluster's list memo keeps (revision 5). A kubelet's
 * message may change at every status post ("PLEG … last seen active 3m0.5s ago"); the memo, and
 * what the watcher asks again on, change only with a status or a reason, and a memo of many
 * NotReady Nodes stays small.
 */
export function nodeHealthKey(key: string): string {
  const { nodeReady, nodeHealthy } = nodeConditionsFromKey(key);
  const bare = (c: ConditionInput): ConditionInput => ({ type: c.type, status: c.status, reason: c.reason });
  return nodeConditionsKey({ nodeReady: bare(nodeReady), nodeHealthy: bare(nodeHealthy) });
}
