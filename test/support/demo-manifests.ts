// The demo manifest (config/samples/demo-cluster.yaml: Cluster, control plane and the workers as
// the MachineDeployment demo-md-0) and the pieces tests build from it: the demo without its
// MachineDeployment, and with two individual worker Machines instead (demo-worker-1 and -2, from
// a fixture), for tests of Machines applied one by one.
import { readFileSync } from 'node:fs';

export const DEMO_CLUSTER = readFileSync(new URL('../../config/samples/demo-cluster.yaml', import.meta.url), 'utf8');
export const DEMO_WORKER_MACHINES = readFileSync(new URL('./fixtures/demo-worker-machines.yaml', import.meta.url), 'utf8');

/** The MachineDeployment demo-md-0 and its templates: the documents that make the demo's workers. */
const isDemoWorkers = (doc: string) => /^kind: (MachineDeployment|KubeadmConfigTemplate|SimMachineTemplate)\nmetadata:\n {2}name: demo-md-0$/m.test(doc);

/** The demo's Cluster, SimCluster, KubeadmControlPlane and its template, without any worker (text, comments kept). */
export const DEMO_CONTROL_PLANE = (() => {
  const docs = DEMO_CLUSTER.split(/^---\n/m);
  const kept = docs.filter((d) => !isDemoWorkers(d));
  // Guard against the sample drifting from what this split expects.
  if (docs.length - kept.length !== 3) throw new Error('demo-manifests: demo-cluster.yaml should hold demo-md-0 and its two templates');
  return kept.join('---\n');
})();

/** The demo as it was before its workers came from a MachineDeployment: control plane + demo-worker-1 and -2. */
export const DEMO_WITH_WORKER_MACHINES = `${DEMO_CONTROL_PLANE.trimEnd()}\n---\n${DEMO_WORKER_MACHINES}`;

/**
 * The MachineHealthCheck `demo-workers` over the demo's workers (not its control plane): a Node
 * Ready False or Unknown for 3 s is unhealthy; remediation while at most `maxUnhealthy` are.
 */
export const workerHealthCheck = (maxUnhealthy = '100%', startupSeconds = 600) => `
apiVersion: cluster.capstan.dev/v1alpha1
kind: MachineHealthCheck
metadata:
  name: demo-workers
  namespace: default
spec:
  clusterName: demo
  selector:
    matchExpressions:
      - key: cluster.capstan.dev/control-plane
        operator: DoesNotExist
  checks:
    nodeStartupTimeoutSeconds: ${startupSeconds}
    unhealthyNodeConditions:
      - type: Ready
        status: "False"
        timeoutSeconds: 3
      - type: Ready
        status: Unknown
        timeoutSeconds: 3
  remediation:
    triggerIf:
      unhealthyLessThanOrEqualTo: ${maxUnhealthy}
`;
