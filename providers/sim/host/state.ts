// What the Kubernetes runtime keeps on disk under <dataDir>/runtime, so a restarted cloud (even
// after kill -9) finds its etcd, its clusters' certificates and its kubelets' identities again:
//
//   runtime/state.json                       etcd ports, PIDs of the servers we started
//   runtime/etcd/, runtime/etcd.log          the shared etcd
//   runtime/clusters/<clusterId>/cluster.json  what kubeadm init decided (ClusterConfiguration, init VM)
//   runtime/clusters/<clusterId>/pki/          kubeadm's /etc/kubernetes/pki (keys 0600)
//   runtime/clusters/<clusterId>/*.conf        kubeconfigs of the controller manager
//   runtime/clusters/<clusterId>/logs/         kube-apiserver.log, kube-controller-manager.log
//   runtime/clusters/<clusterId>/vms/<vmId>/   one VM's kubelet: vm.json, its client cert and key
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { atomicWriteFileSync } from '../fsutil.js';
import type { ClusterConfiguration, Taint } from '../../kubeadm/kubeadm-config.js';

export type ServerBinary = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export interface RecordedProcess {
  pid: number;
  binary: ServerBinary;
  startedAt: string;
}

export interface RuntimeStateFile {
  version: 1;
  etcd?: { clientPort: number; peerPort: number };
  /** Keyed `etcd`, `kube-apiserver/<clusterId>`, `kube-controller-manager/<clusterId>`. */
  processes: Record<string, RecordedProcess>;
}

export class RuntimePaths {
  readonly root: string;
  constructor(readonly dataDir: string) {
    this.root = path.join(dataDir, 'runtime');
  }
  get stateFile(): string {
    return path.join(this.root, 'state.json');
  }
  get etcdDataDir(): string {
    return path.join(this.root, 'etcd');
  }
  get etcdLog(): string {
    return path.join(this.root, 'etcd.log');
  }
  clusterDir(clusterId: string): string {
    return path.join(this.root, 'clusters', safeId(clusterId));
  }
  clusterRecord(clusterId: string): string {
    return path.join(this.clusterDir(clusterId), 'cluster.json');
  }
  pkiDir(clusterId: string): string {
    return path.join(this.clusterDir(clusterId), 'pki');
  }
  logsDir(clusterId: string): string {
    return path.join(this.clusterDir(clusterId), 'logs');
  }
  vmDir(clusterId: string, vmId: string): string {
    return path.join(this.clusterDir(clusterId), 'vms', safeId(vmId));
  }
}

function safeId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new Error(`unexpected id ${JSON.stringify(id)}`);
  return id;
}

export function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  atomicWriteFileSync(file, JSON.stringify(value, null, 2) + '\n', 0o600);
}

export class RuntimeStateStore {
  private state: RuntimeStateFile;

  constructor(private readonly paths: RuntimePaths) {
    const loaded = readJson<RuntimeStateFile>(paths.stateFile);
    this.state = loaded && loaded.version === 1 ? { ...loaded, processes: loaded.processes ?? {} } : { version: 1, processes: {} };
  }

  get etcdPorts(): { clientPort: number; peerPort: number } | undefined {
    return this.state.etcd ? { ...this.state.etcd } : undefined;
  }

  setEtcdPorts(ports: { clientPort: number; peerPort: number }): void {
    this.state.etcd = { ...ports };
    this.save();
  }

  get processes(): Record<string, RecordedProcess> {
    return structuredClone(this.state.processes);
  }

  recordProcess(key: string, pid: number, binary: ServerBinary): void {
    this.state.processes[key] = { pid, binary, startedAt: new Date().toISOString() };
    this.save();
  }

  forgetProcess(key: string, pid?: number): void {
    const p = this.state.processes[key];
    if (!p || (pid !== undefined && p.pid !== pid)) return;
    delete this.state.processes[key];
    this.save();
  }

  private save(): void {
    writeJson(this.paths.stateFile, this.state);
  }
}

/** What `kubeadm init` settled for a cluster; written when an init starts, read by later boots and resumes. */
export interface ClusterRecord {
  clusterId: string;
  /** The VM whose `kubeadm init` made this control plane. */
  initVmId: string;
  /** The cluster's etcd prefix was emptied for this init (a fresh host's etcd is empty). */
  prefixReset: boolean;
  clusterConfiguration: ClusterConfiguration;
  /** `https://host:port` every kubeconfig of the cluster points at (controlPlaneEndpoint, else the LB). */
  server: string;
}

/** One VM's kubelet: who it is and what it registers. Written once its bootstrap has a client certificate. */
export interface VmRecord {
  vmId: string;
  clusterId: string;
  role: string;
  nodeName: string;
  kubeletVersion: string;
  /**
   * On a control-plane VM: the version of its static pods (kube-apiserver, …), kubeadm's
   * ClusterConfiguration.kubernetesVersion when it ran (a control-plane upgrade changes it first).
   */
  controlPlaneVersion?: string;
  /** The API endpoint the kubelet talks to (through the cluster's load balancer). */
  server: string;
  taints: Taint[];
  /** Labels from kubeletExtraArgs `node-labels`, registered by the kubelet. */
  labels: Record<string, string>;
  /** The Node was seen registered (so a restart does not announce it again). */
  registered: boolean;
  /** Stable per VM: a restarted cloud is the same host, not a reboot. */
  bootId: string;
  machineId: string;
}
