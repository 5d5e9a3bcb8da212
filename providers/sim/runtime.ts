// The boundary between the simulated cloud (VMs, networks, load balancers, persistence, faults)
// and what runs "inside" its VMs. The cloud knows nothing about Kubernetes: a runtime reads a
// VM's user data, makes it "run" (for the Kubernetes runtime in providers/sim/host/: a real
// kube-apiserver per cluster and simulated kubelets), points the cluster's load balancer at
// what serves the API, and reports what happened through events.
import type { Range, SimProfile } from './profile.js';
import type { SimCluster, SimEndpoint, SimEvent, SimVm, SimEtcdEndpoint } from './types.js';

/** Snapshots (copies) of the cloud's records; changing them changes nothing in the cloud. */
export type SimClusterRecord = SimCluster;
export type SimVmRecord = SimVm;
export type { SimEtcdEndpoint } from './types.js';

export type RuntimeBootstrapStatus = 'running' | 'succeeded' | 'failed';

export interface VmRuntimeContext {
  /** The cloud's data dir; a runtime keeps its own files under `<dataDir>/runtime`. */
  dataDir: string;
  /** The cloud's latency profile; `nodeReadyMs` is meant for the runtime. */
  profile: SimProfile & { nodeReadyMs: Range };
  /** Uniform in [0, 1) from the cloud's seeded PRNG (a stream of its own), for reproducible jitter. */
  random(): number;
  /** An integer uniform in the range, from the same stream as `random`. */
  sample(range: Range): number;
  /** Appends to the cloud's event log (`GET /v1/events`), e.g. `apiserver.ready`, `node.ready`. */
  emit(type: string, e: Omit<SimEvent, 'seq' | 'time' | 'type'>): void;
  /**
   * Where the cluster's load balancer forwards new connections (null: reset them). Persisted by the
   * cloud and reported as a `loadbalancer.backend` event when it changes; ignored (and logged)
   * for a cluster that is not `available`.
   */
  setLoadBalancerBackend(clusterId: string, backend: SimEndpoint | null): void;
  loadBalancerBackend(clusterId: string): SimEndpoint | null;
  cluster(clusterId: string): SimClusterRecord | undefined;
  vm(vmId: string): SimVmRecord | undefined;
  vmsOf(clusterId: string): SimVmRecord[];
  /** Persists the VM's `bootstrap` status; emits nothing (emit what should be seen). */
  setBootstrapStatus(vmId: string, status: RuntimeBootstrapStatus, message?: string): void;
  /** A line in the cloud's log (stderr). Never pass user data or secrets. */
  log(message: string): void;
}

/**
 * Called by the cloud; every method may be slow, none may throw for a condition it can report
 * instead (a thrown error is logged and, for boot/resume, marks the VM's bootstrap `failed`).
 */
export interface VmRuntime {
  /** Synchronously, at VM create: what this user data makes of the VM ('init' | 'control-plane-join' | 'worker-join' | 'unknown' …). Reported in `vm.created`. */
  classify(userData: string): { role: string };
  /** The VM has just become `running`: run its bootstrap. Return soon; do long work in the background. */
  boot(vm: SimVmRecord, userData: string, ctx: VmRuntimeContext): Promise<void>;
  /**
   * After a cloud restart, once for each VM that was already `running`. Its bootstrap may be
   * unfinished, or not even started (`bootstrap.status` still `pending`: the cloud died between
   * marking the VM running and calling `boot`).
   */
  resume(vm: SimVmRecord, userData: string, ctx: VmRuntimeContext): Promise<void>;
  /**
   * The VM stops: `deleted` when it starts shutting down (the cloud marks it `terminated` once this
   * has settled and the delete latency has passed), `killed` after it died abruptly. Only for VMs
   * that booted; may be called again for the same VM after a cloud restart.
   */
  shutdown(vm: SimVmRecord, reason: 'deleted' | 'killed', ctx: VmRuntimeContext): Promise<void>;
  /** Fault injection: the VM's node stops (false) or resumes (true) reporting Ready. */
  setNodeReady(vm: SimVmRecord, ready: boolean, ctx: VmRuntimeContext): Promise<void>;
  /** The cluster is being deleted (all its VMs are terminated): release what the runtime holds for it. */
  deleteCluster(cluster: SimClusterRecord, ctx: VmRuntimeContext): Promise<void>;
  /** The cloud process is stopping (SIGTERM/SIGINT); state stays on disk for `resume`. */
  close(): Promise<void>;
  /**
   * Where the cluster's etcd members are reached (mutual TLS with the cluster's etcd CA, the TLS
   * server name given), or undefined when it has none (no control plane, or a runtime without etcd).
   */
  etcdEndpoint?(clusterId: string): Promise<SimEtcdEndpoint | undefined>;
}

/** What `main.ts` hands a runtime factory (`createKubernetesRuntime(opts)` in ./host/index.ts). */
export interface RuntimeFactoryOptions {
  /** The cloud's data dir (the runtime's own files go under `<dataDir>/runtime`). */
  dataDir: string;
  profile: SimProfile;
  seed: number;
  /** `--runtime-opt key=value` flags, as given. */
  options: Record<string, string>;
  log(message: string): void;
}

export type RuntimeFactory = (opts: RuntimeFactoryOptions) => VmRuntime | Promise<VmRuntime>;
