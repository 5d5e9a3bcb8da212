// `--runtime-opt key=value` flags of the Kubernetes runtime, with kubeadm's and the kubelet's
// defaults, shortened for the `test` profile so failing paths fail within a test's patience.
import { DEFAULT_CONTROLLERS } from '../../../scripts/lib/kube-controller-manager.js';

export interface KubernetesRuntimeOptions {
  /** kubeadm join's token discovery gives up after this (kubeadm: 5 min; `test` profile: 20 s). */
  discoveryTimeoutMs: number;
  /** How long a joining kubelet waits for its CSR to be approved and signed (kubeadm: 5 min; test: 60 s). */
  tlsBootstrapTimeoutMs: number;
  /** kube-apiserver start until /readyz answers 200 through the load balancer (kubeadm: 4 min; test: 90 s). */
  apiserverReadyTimeoutMs: number;
  /** kubeadm's wait for the node's Node object before mark-control-plane (kubeadm: 4 min; test: 60 s). */
  nodeRegistrationTimeoutMs: number;
  /** The kubelet renews its kube-node-lease Lease this often (kubelet: 10 s). */
  leaseRenewMs: number;
  /** The Lease's spec.leaseDurationSeconds (kubelet: 40). */
  leaseDurationSeconds: number;
  /** The kubelet re-posts an unchanged node status this often (kubelet's nodeStatusReportFrequency: 5 min). */
  nodeStatusReportMs: number;
  /** kube-controller-manager's --controllers. */
  controllers: string[];
}

const KEYS: Record<string, keyof KubernetesRuntimeOptions> = {
  'discovery-timeout-ms': 'discoveryTimeoutMs',
  'tls-bootstrap-timeout-ms': 'tlsBootstrapTimeoutMs',
  'apiserver-ready-timeout-ms': 'apiserverReadyTimeoutMs',
  'node-registration-timeout-ms': 'nodeRegistrationTimeoutMs',
  'lease-renew-ms': 'leaseRenewMs',
  'lease-duration-seconds': 'leaseDurationSeconds',
  'node-status-report-ms': 'nodeStatusReportMs',
  controllers: 'controllers',
};

export function defaultRuntimeOptions(profileName: string): KubernetesRuntimeOptions {
  const test = profileName === 'test';
  return {
    discoveryTimeoutMs: test ? 20_000 : 300_000,
    tlsBootstrapTimeoutMs: test ? 60_000 : 300_000,
    apiserverReadyTimeoutMs: test ? 90_000 : 240_000,
    nodeRegistrationTimeoutMs: test ? 60_000 : 240_000,
    leaseRenewMs: 10_000,
    leaseDurationSeconds: 40,
    nodeStatusReportMs: 300_000,
    controllers: [...DEFAULT_CONTROLLERS],
  };
}

export function parseRuntimeOptions(profileName: string, given: Record<string, string>): KubernetesRuntimeOptions {
  const out = defaultRuntimeOptions(profileName);
  for (const [key, value] of Object.entries(given)) {
    const field = KEYS[key];
    if (!field) throw new Error(`kubernetes runtime: unknown --runtime-opt ${key} (known: ${Object.keys(KEYS).join(', ')})`);
    if (field === 'controllers') {
      const list = value.split(',').map((c) => c.trim()).filter(Boolean);
      if (list.length === 0) throw new Error('kubernetes runtime: --runtime-opt controllers needs at least one controller');
      out.controllers = list;
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`kubernetes runtime: --runtime-opt ${key} must be a positive integer, got ${JSON.stringify(value)}`);
    out[field] = n;
  }
  return out;
}
