// The simulated cloud's wire types: what its HTTP API returns and accepts. Shared by the server,
// the typed client and the VmRuntime boundary. Type-only plus a few constants, so activities that
// import the client pull in no server code.

export const SIM_INSTANCE_TYPES = ['sim.small', 'sim.medium', 'sim.large'] as const;
export type SimInstanceType = (typeof SIM_INSTANCE_TYPES)[number];

export type SimClusterState = 'available' | 'deleting' | 'deleted';
export type SimVmState = 'pending' | 'running' | 'shutting-down' | 'terminated';
export type SimBootstrapStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface SimEndpoint {
  host: string;
  port: number;
}

export interface SimCluster {
  id: string; // simc-<8 hex>
  name: string;
  region: string;
  clientToken: string;
  state: SimClusterState;
  /** The load balancer's listener: the cluster's API endpoint. */
  endpoint: SimEndpoint;
  network: { cidr: string };
  /** The region's zones a VM of the cluster may be placed in (Cluster API's failure domains). */
  failureDomains: string[];
  createdAt: string;
  deletedAt?: string;
}

/** A region's zones: `sim-local-1` → `sim-local-1a`, `-1b`, `-1c`. */
export const zonesOf = (region: string) => ['a', 'b', 'c'].map((z) => `${region}${z}`);

/** Where a cluster's etcd members are reached: `GET /members`, `DELETE /members/<id>` over mutual TLS. */
export interface SimEtcdEndpoint {
  /** `https://127.0.0.1:<port>` */
  endpoint: string;
  /** The TLS server name to ask for (and to find in the serving certificate): `etcd.<clusterId>`. */
  serverName: string;
}

export interface SimAddress {
  type: 'InternalIP' | 'Hostname';
  address: string;
}

export interface SimVm {
  id: string; // i-<12 hex>
  name: string;
  clusterId: string;
  instanceType: SimInstanceType;
  /** See CreateVmInput.image. */
  image?: string;
  /** The zone it runs in (its failure domain). */
  failureDomain?: string;
  clientToken: string;
  state: SimVmState;
  providerID: string; // sim:///<region>/<id>
  addresses: SimAddress[];
  createdAt: string;
  launchedAt?: string;
  terminatedAt?: string;
  /** Why the VM is in its state when that is not the ordinary path, e.g. `killed`. */
  stateReason?: string;
  bootstrap: { status: SimBootstrapStatus; message?: string };
}

export interface SimEvent {
  seq: number;
  time: string; // ISO with milliseconds
  type: string;
  clusterId?: string;
  vmId?: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface SimFaults {
  /** Share (0..1) of API requests answered 429 RequestLimitExceeded before doing anything. */
  throttleRate: number;
  /** Share (0..1) of API requests answered 500 InternalError before doing anything. */
  errorRate: number;
  /** Share (0..1) of creates that commit and then answer 500 InternalError anyway. */
  failAfterCommitRate: number;
  /** The next N VMs created stay `pending` forever. */
  neverBoot: number;
}

export const NO_FAULTS: SimFaults = Object.freeze({ throttleRate: 0, errorRate: 0, failAfterCommitRate: 0, neverBoot: 0 });

export interface SimErrorBody {
  error: {
    code: string;
    message: string;
    /** The request field a validation error is about. */
    field?: string;
    /** For 429: how long the caller should wait (the Retry-After header carries whole seconds). */
    retryAfterMs?: number;
  };
}

export interface CreateClusterInput {
  clientToken: string;
  name: string;
  region: string;
}

export interface CreateVmInput {
  clientToken: string;
  clusterId: string;
  name: string;
  instanceType: SimInstanceType | string;
  /**
   * The machine image, `kubernetes-v<major>.<minor>.<patch>`: the Kubernetes version its kubelet
   * (and, on a control-plane VM, its static pods) run, as a real provider picks an image by the
   * Machine's version. Absent: the cluster's version from kubeadm's configuration.
   */
  image?: string;
  /** One of the cluster's `failureDomains` (a zone); absent: the cloud picks none. */
  failureDomain?: string;
  /** Base64 of the cloud-init user data, as on the wire (see `encodeUserData`). */
  userData: string;
}

export type SimVmAction = 'kill' | 'node-not-ready' | 'node-ready';
