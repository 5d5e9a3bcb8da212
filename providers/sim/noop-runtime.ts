// A runtime that runs nothing: bootstrap "succeeds" as soon as a VM is running. For the cloud's
// own tests and for workflows tests that need VMs but no Kubernetes.
//
// Option `backend=HOST:PORT` (`--runtime-opt backend=127.0.0.1:6443`): when a cluster's init VM
// boots (or resumes), point the cluster's load balancer at that address, and clear it when that
// VM stops; stands in for "the init node's API server answers behind the LB".
import type { RuntimeFactoryOptions, SimClusterRecord, SimVmRecord, VmRuntime, VmRuntimeContext } from './runtime.js';
import type { SimEndpoint } from './types.js';

export function classifyUserData(userData: string): { role: string } {
  if (/\bkubeadm\s+init\b/.test(userData)) return { role: 'init' };
  if (/\bkubeadm\s+join\b/.test(userData)) {
    return { role: /--control-plane\b/.test(userData) ? 'control-plane-join' : 'worker-join' };
  }
  return { role: 'unknown' };
}

export interface NoopRuntimeOptions {
  backend?: SimEndpoint;
}

export function parseEndpoint(text: string, what = 'endpoint'): SimEndpoint {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`${what}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1]!, port };
}

export class NoopRuntime implements VmRuntime {
  // Which VM put the backend on each cluster's LB (in memory; re-learnt on resume).
  private readonly backendOwner = new Map<string, string>();

  constructor(private readonly options: NoopRuntimeOptions = {}) {}

  static fromFactoryOptions(opts: Pick<RuntimeFactoryOptions, 'options'>): NoopRuntime {
    const known = new Set(['backend']);
    for (const k of Object.keys(opts.options)) {
      if (!known.has(k)) throw new Error(`noop runtime: unknown --runtime-opt ${k} (known: ${[...known].join(', ')})`);
    }
    const backend = opts.options.backend;
    return new NoopRuntime(backend ? { backend: parseEndpoint(backend, '--runtime-opt backend') } : {});
  }

  classify(userData: string): { role: string } {
    return classifyUserData(userData);
  }

  async boot(vm: SimVmRecord, userData: string, ctx: VmRuntimeContext): Promise<void> {
    const { role } = this.classify(userData);
    ctx.setBootstrapStatus(vm.id, 'succeeded');
    ctx.emit('bootstrap.succeeded', { clusterId: vm.clusterId, vmId: vm.id, message: `bootstrap of ${vm.name} succeeded (noop)`, data: { role } });
    this.claimBackend(vm, role, ctx);
  }

  async resume(vm: SimVmRecord, userData: string, ctx: VmRuntimeContext): Promise<void> {
    const { role } = this.classify(userData);
    if (vm.bootstrap.status !== 'succeeded') {
      ctx.setBootstrapStatus(vm.id, 'succeeded');
      ctx.emit('bootstrap.succeeded', { clusterId: vm.clusterId, vmId: vm.id, message: `bootstrap of ${vm.name} succeeded (noop, resumed)`, data: { role } });
    }
    this.claimBackend(vm, role, ctx);
  }

  async shutdown(vm: SimVmRecord, _reason: 'deleted' | 'killed', ctx: VmRuntimeContext): Promise<void> {
    if (this.backendOwner.get(vm.clusterId) === vm.id) {
      this.backendOwner.delete(vm.clusterId);
      ctx.setLoadBalancerBackend(vm.clusterId, null);
    }
  }

  async setNodeReady(vm: SimVmRecord, ready: boolean, ctx: VmRuntimeContext): Promise<void> {
    ctx.emit(ready ? 'node.ready' : 'node.not-ready', { clusterId: vm.clusterId, vmId: vm.id, message: `node ${vm.name} ${ready ? 'Ready' : 'NotReady'} (noop)` });
  }

  async deleteCluster(cluster: SimClusterRecord): Promise<void> {
    this.backendOwner.delete(cluster.id);
  }

  async close(): Promise<void> {}

  private claimBackend(vm: SimVmRecord, role: string, ctx: VmRuntimeContext): void {
    if (!this.options.backend || role !== 'init') return;
    this.backendOwner.set(vm.clusterId, vm.id);
    ctx.setLoadBalancerBackend(vm.clusterId, this.options.backend);
  }
}
