// The Kubernetes objects a kubelet writes about its node: the Node (labels, taints, providerID,
// addresses, capacity, node info) and its status conditions, and the kube-node-lease Lease.
import type { V1Lease, V1Node, V1NodeCondition } from '@kubernetes/client-node';
import type { Taint } from '../../kubeadm/kubeadm-config.js';
import type { SimVmRecord } from '../runtime.js';
import { kubeTime, microTime } from './util.js';

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const DEFAULT_CONTROL_PLANE_TAINTS: Taint[] = [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }];

interface Capacity {
  cpu: string;
  memoryMi: number;
  storageGi: number;
}

/** What each instance type offers (the sim's own catalogue). Unknown types get the small one's. */
const INSTANCE_CAPACITY: Record<string, Capacity> = {
  'sim.small': { cpu: '2', memoryMi: 4096, storageGi: 20 },
  'sim.medium': { cpu: '4', memoryMi: 8192, storageGi: 40 },
  'sim.large': { cpu: '8', memoryMi: 16384, storageGi: 80 },
};

export function nodeResources(instanceType: string): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const c = INSTANCE_CAPACITY[instanceType] ?? INSTANCE_CAPACITY['sim.small']!;
  return {
    capacity: { cpu: c.cpu, memory: `${c.memoryMi}Mi`, pods: '110', 'ephemeral-storage': `${c.storageGi}Gi`, 'hugepages-2Mi': '0' },
    // The kubelet's defaults: eviction-hard memory.available<100Mi, nodefs.available<10%.
    allocatable: {
      cpu: c.cpu,
      memory: `${c.memoryMi - 100}Mi`,
      pods: '110',
      'ephemeral-storage': `${Math.floor(c.storageGi * 0.9 * 1024)}Mi`,
      'hugepages-2Mi': '0',
    },
  };
}

export interface NodeIdentity {
  nodeName: string;
  vm: Pick<SimVmRecord, 'id' | 'providerID' | 'addresses' | 'instanceType'>;
  kubeletVersion: string;
  labels: Record<string, string>;
  taints: Taint[];
  bootId: string;
  machineId: string;
}

export type ReadyState = { ready: true } | { ready: false; reason: string; message: string };

export const NOT_READY_NETWORK: ReadyState = {
  ready: false,
  reason: 'KubeletNotReady',
  message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
};

export function conditions(state: ReadyState, transitions: Record<string, string>, now = new Date()): V1NodeCondition[] {
  const t = kubeTime(now);
  const c = (type: string, status: string, reason: string, message: string): V1NodeCondition =>
    ({ type, status, reason, message, lastHeartbeatTime: t, lastTransitionTime: transitions[`${type}=${status}`] ?? t }) as unknown as V1NodeCondition;
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    state.ready
      ? c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status')
      : c('Ready', 'False', state.reason, state.message),
  ];
}

export function nodeStatus(id: NodeIdentity, state: ReadyState, transitions: Record<string, string>): NonNullable<V1Node['status']> {
  const { capacity, allocatable } = nodeResources(id.vm.instanceType);
  return {
    capacity,
    allocatable,
    conditions: conditions(state, transitions),
    addresses: id.vm.addresses.map((a) => ({ type: a.type, address: a.address })),
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: id.machineId,
      systemUUID: id.machineId.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5'),
      bootID: id.bootId,
      kernelVersion: '6.8.0-sim',
      osImage: 'Ubuntu 24.04 LTS (capstan sim)',
      containerRuntimeVersion: 'containerd://2.1.4',
      kubeletVersion: id.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The Node a kubelet registers: only labels NodeRestriction lets a kubelet set (no node-role). */
export function nodeObject(id: NodeIdentity, state: ReadyState, transitions: Record<string, string>): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.nodeName,
      labels: {
        ...id.labels,
        'kubernetes.io/hostname': id.nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
      },
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {
      providerID: id.vm.providerID,
      ...(id.taints.length ? { taints: id.taints.map((t) => ({ key: t.key, effect: t.effect, ...(t.value !== undefined ? { value: t.value } : {}) })) } : {}),
    },
    status: nodeStatus(id, state, transitions),
  };
}

export function leaseObject(nodeName: string, nodeUid: string | undefined, durationSeconds: number, now = new Date()): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: 'kube-node-lease',
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}),
    },
    spec: {
      holderIdentity: nodeName,
      leaseDurationSeconds: durationSeconds,
      // MicroTime: client-node would send a Date with milliseconds, which the API server rejects.
      renewTime: microTime(now) as unknown as Date,
    },
  };
}

/** kubeletExtraArgs `node-labels=a=b,c=d` → { a: 'b', c: 'd' }. */
export function parseNodeLabels(args: Array<{ name: string; value: string }> | Record<string, string> | undefined): Record<string, string> {
  const list = Array.isArray(args) ? args : Object.entries(args ?? {}).map(([name, value]) => ({ name, value }));
  const out: Record<string, string> = {};
  for (const a of list) {
    if (a.name !== 'node-labels') continue;
    for (const pair of String(a.value).split(',')) {
      const [k, v = ''] = pair.split('=');
      if (k?.trim()) out[k.trim()] = v.trim();
    }
  }
  return out;
}
