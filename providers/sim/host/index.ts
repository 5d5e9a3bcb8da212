// The Kubernetes runtime of the simulated cloud: what its VMs "run". A VM's cloud-init user data is
// read as a real host would (cloud-init writes the files, runs kubeadm), and kubeadm's work is done
// against REAL Kubernetes servers on loopback:
//   init                → certs, kube-apiserver (+ kube-controller-manager) behind the cluster's
//                         load balancer, kubeadm's post-init objects, the node's kubelet,
//                         mark-control-plane;
//   control-plane-join,
//   worker-join         → bootstrap-token discovery (cluster-info, CA pin, JWS), the kubelet's TLS
//                         bootstrap (a CSR the cluster's controller manager approves and signs),
//                         the kubelet; control-plane joins are also marked control-plane.
// The kubelets are simulated in-process (they register Nodes, post status, renew Leases, and run
// the pods the cluster's kube-scheduler binds to their node, through one shared pod watch per
// cluster: pods.ts). See control-plane.ts for why a cluster has one API server however many
// control-plane VMs it has.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseBootstrapToken } from '../../kubeadm/bootstrap-token.js';
import { parseBootstrapData, type ParsedBootstrapData } from '../../kubeadm/cloud-init.js';
import { CERTIFICATES_DIR, YAML_INPUT, type ClusterConfiguration, type Taint } from '../../kubeadm/kubeadm-config.js';
import { caCertHash, issueClientCertificate } from '../../kubeadm/pki/cluster-pki.js';
import { classifyUserData } from '../noop-runtime.js';
import type { RuntimeFactoryOptions, SimClusterRecord, SimVmRecord, VmRuntime, VmRuntimeContext } from '../runtime.js';
import { ensureControlPlaneLeaves, KubeadmPhaseError, PkiDir, readClusterCas, writePrivateFile } from './certs.js';
import { ClusterControlPlane } from './control-plane.js';
import { discoverCluster } from './discovery.js';
import { SharedEtcd } from './etcd.js';
import { EtcdMemberApi, EtcdMembership, etcdQuorum, ETCD_SERVER_NAME_PREFIX, type EtcdMemberStatus } from './etcd-members.js';
import { callOptions, describeApiError, kubeClients } from './kube.js';
import { bootstrapTokenPhase, markControlPlane, uploadConfig } from './kubeadm-init-phases.js';
import { SimKubelet } from './kubelet.js';
import { DEFAULT_CONTROL_PLANE_TAINTS, parseNodeLabels, type ReadyState } from './node-objects.js';
import { parseRuntimeOptions, type KubernetesRuntimeOptions } from './options.js';
import { ClusterPodInformer } from './pods.js';
import { killStaleServers } from './pids.js';
import { readJson, RuntimePaths, RuntimeStateStore, writeJson, type ClusterRecord, type VmRecord } from './state.js';
import { kubeletTlsBootstrap, KUBELET_CLIENT_SIGNER } from './tls-bootstrap.js';
import { AbortedError, compareVersions, errorMessage, firstServiceIp, hostPortUrl, sleep, splitHostPort, versionParts, waitAtMost } from './util.js';
import { imageVersion } from '../validate.js';

export type { KubernetesRuntimeOptions } from './options.js';

const DEFAULT_KUBERNETES_VERSION = 'v1.37.2';
/** A file in the VM's runtime dir while the node-not-ready fault is in force. */
const NOT_READY_FLAG = 'node-not-ready';
const CONTROL_PLANE_ROLES = new Set(['init', 'control-plane-join']);

interface VmHost {
  vmId: string;
  clusterId: string;
  role: string;
  abort: AbortController;
  task?: Promise<void>;
  kubelet?: SimKubelet;
}

/**
 * kubeadm's KubeletVersion preflight check on a control-plane node: its kubelet may not be newer than
 * the control plane it runs, nor more than one minor older.
 */
function kubeletVersionCheck(kubelet: string, controlPlane: string): void {
  const k = versionParts(kubelet);
  const c = versionParts(controlPlane);
  if (!k || !c) return;
  if (compareVersions(`v${k[0]}.${k[1]}.0`, `v${c[0]}.${c[1]}.0`) > 0) {
    throw new KubeadmPhaseError('preflight', `the kubelet version is higher than the control plane version. This is not a supported version skew and may lead to a malfunctional cluster. Kubelet version: "${kubelet}" Control plane version: "${controlPlane}"`);
  }
  if (k[0] === c[0] && k[1] < c[1] - 1) {
    throw new KubeadmPhaseError('preflight', `Kubelet version "${kubelet}" is lower than kubeadm can support. Please upgrade kubelet`);
  }
}

/** `nodeRegistration.taints`: absent → kubeadm's default for the role; [] → none. */
function registrationTaints(taints: Taint[] | null | undefined, controlPlane: boolean): Taint[] {
  if (Array.isArray(taints)) return taints.filter((t) => t && typeof t.key === 'string');
  return controlPlane ? DEFAULT_CONTROL_PLANE_TAINTS : [];
}

export class KubernetesRuntime implements VmRuntime {
  private ctx: VmRuntimeContext | undefined;
  private readonly paths: RuntimePaths;
  private readonly store: RuntimeStateStore;
  private readonly etcd: SharedEtcd;
  private readonly planes = new Map<string, ClusterControlPlane>();
  private readonly hosts = new Map<string, VmHost>();
  private readonly podInformers = new Map<string, ClusterPodInformer>();
  private readonly membership: EtcdMembership;
  private readonly memberApi: EtcdMemberApi;
  private closing = false;

  constructor(
    private readonly factory: RuntimeFactoryOptions,
    readonly options: KubernetesRuntimeOptions,
  ) {
    this.paths = new RuntimePaths(factory.dataDir);
    mkdirSync(this.paths.root, { recursive: true, mode: 0o700 });
    this.store = new RuntimeStateStore(this.paths);
    this.membership = new EtcdMembership(this.paths);
    this.memberApi = new EtcdMemberApi({
      paths: this.paths,
      membership: this.membership,
      members: (id) => this.etcdMembers(id),
      removed: (id, m) => {
        if (this.ctx) this.ctx.emit('etcd.member-removed', { clusterId: id, vmId: m.vmId, message: `etcd member ${m.name} removed`, data: { member: m.id, name: m.name } });
        this.checkQuorum(id, `member ${m.name} removed`);
      },
      log: (m) => this.log(m),
    });
    this.etcd = new SharedEtcd({
      paths: this.paths,
      store: this.store,
      log: (m) => this.log(m),
      onStarted: (server) =>
        this.ctx?.emit('etcd.ready', { message: `etcd ready at ${server.endpoint}`, data: { endpoint: server.endpoint, pid: server.process.pid, startMs: server.process.readyAfterMs } }),
    });
  }

  /** Ends servers a previous cloud process left running on this data dir (kill -9), before anything starts. */
  async cleanUpStaleServers(): Promise<void> {
    const killed = await killStaleServers(this.paths.root, Object.values(this.store.processes));
    for (const key of Object.keys(this.store.processes)) this.store.forgetProcess(key);
    if (killed.length) this.log(`ended ${killed.length} server(s) left by a previous run: pids ${killed.join(', ')}`);
  }

  private log(message: string): void {
    this.factory.log(message);
  }

  private plane(clusterId: string): ClusterControlPlane {
    let p = this.planes.get(clusterId);
    if (!p) {
      p = new ClusterControlPlane(clusterId, {
        paths: this.paths,
        store: this.store,
        etcd: this.etcd,
        options: this.options,
        log: (m) => this.log(m),
        wanted: (id) => !this.closing && this.liveControlPlaneVms(id).length > 0,
        servingVersion: (id) => this.servingVersion(id),
        beforeApiserverStop: (id) => this.podInformers.get(id)?.pause(),
        afterApiserverReady: (id) => this.podInformers.get(id)?.resume(),
      });
      this.planes.set(clusterId, p);
    }
    return p;
  }

  /**
   * The cluster's shared pod watch, read with the host's super-admin identity through the load
   * balancer (undefined when this host holds no PKI for the cluster: its kubelets then run no pods).
   */
  private podInformer(clusterId: string): ClusterPodInformer | undefined {
    let informer = this.podInformers.get(clusterId);
    if (informer) return informer;
    const plane = this.plane(clusterId);
    const server = plane.record?.server;
    if (!server || !plane.hasPki) return undefined;
    informer = new ClusterPodInformer({
      clusterId,
      reader: () => {
        const clients = kubeClients(server, plane.pki.read('ca.crt'), plane.pki.pair('super-admin'));
        return { clients, config: clients.config };
      },
      log: (m) => this.log(m),
    });
    this.podInformers.set(clusterId, informer);
    return informer;
  }

  // ---- etcd members (etcd-members.ts) ---------------------------------------------------------------

  /** The cluster's etcd members and their health (a member is healthy while its VM runs). */
  private etcdMembers(clusterId: string): EtcdMemberStatus[] | undefined {
    if (!this.plane(clusterId).hasPki) return undefined;
    return this.membership.list(clusterId).map((m) => ({ ...m, healthy: this.ctx?.vm(m.vmId)?.state === 'running' }));
  }

  /** Counts healthy members against a majority and lights or darkens the cluster's endpoint. */
  private checkQuorum(clusterId: string, why: string): void {
    const members = this.etcdMembers(clusterId);
    if (!members?.length || !this.ctx) return;
    const healthy = members.filter((m) => m.healthy).length;
    this.plane(clusterId).setQuorum(healthy >= etcdQuorum(members.length), this.ctx, `${healthy} of ${members.length} members healthy after ${why}`);
  }

  /** Where the cluster's etcd members are reached (mutual TLS, SNI `etcd.<clusterId>`), once it has any. */
  async etcdEndpoint(clusterId: string): Promise<{ endpoint: string; serverName: string } | undefined> {
    if (!this.etcdMembers(clusterId)?.length) return undefined;
    return { endpoint: `https://127.0.0.1:${await this.memberApi.port()}`, serverName: `${ETCD_SERVER_NAME_PREFIX}${clusterId}` };
  }

  // ---- VmRuntime ---------------------------------------------------------------------------------

  classify(userData: string): { role: string } {
    try {
      return { role: parseBootstrapData(userData).role };
    } catch {
      // Unparsable data still gets a role for the vm.created event; boot reports the parse error.
      return classifyUserData(userData);
    }
  }

  async boot(vm: SimVmRecord, userData: string, ctx: VmRuntimeContext): Promise<void> {
    this.ctx = ctx;
    this.startBootstrap(vm, userData, ctx, false);
  }

  async resume(vm: SimVmRecord, userData: string, ctx: VmRuntimeContext): Promise<void> {
    this.ctx = ctx;
    const status = vm.bootstrap.status;
    if (status === 'pending' || status === 'running') {
      this.log(`vm ${vm.id}: bootstrap was ${status} when the cloud stopped; running it again`);
      this.startBootstrap(vm, userData, ctx, true);
      return;
    }
    if (status === 'failed') return; // a failed kubeadm leaves the host idle
    const record = readJson<VmRecord>(path.join(this.paths.vmDir(vm.clusterId, vm.id), 'vm.json'));
    const role = record?.role ?? this.classify(userData).role;
    const host: VmHost = { vmId: vm.id, clusterId: vm.clusterId, role, abort: new AbortController() };
    this.hosts.set(vm.id, host);
    // The kubelet first: it retries until the API is back, as a real one does after a reboot.
    if (record) this.startKubelet(host, vm, record, ctx, 0);
    else this.log(`vm ${vm.id}: bootstrap succeeded but no kubelet identity is on disk; its kubelet cannot run`);
    if (!CONTROL_PLANE_ROLES.has(role)) return;
    const plane = this.plane(vm.clusterId);
    if (!plane.record || !plane.hasPki) return;
    this.checkQuorum(vm.clusterId, `resuming ${vm.name}`);
    // In the background: a cold API server start can outlast the cloud's patience with one call,
    // and a timed-out resume would be reported as a failed bootstrap.
    host.task = plane.ensureRunning({ ctx, reason: 'resume', signal: host.abort.signal }).catch((err: unknown) => {
      if (host.abort.signal.aborted || this.closing) return;
      this.log(`cluster ${vm.clusterId}: could not restart the control plane for ${vm.id}: ${errorMessage(err)}`);
      ctx.emit('apiserver.failed', { clusterId: vm.clusterId, vmId: vm.id, message: `kube-apiserver could not be restarted: ${errorMessage(err)}` });
    });
  }

  async shutdown(vm: SimVmRecord, reason: 'deleted' | 'killed', ctx: VmRuntimeContext): Promise<void> {
    this.ctx = ctx;
    const host = this.hosts.get(vm.id);
    this.hosts.delete(vm.id);
    if (host) {
      host.abort.abort();
      // A bootstrap stops at its next step; do not wait for a server start it is in the middle of.
      await waitAtMost(host.task, 5000);
      if (host.kubelet) {
        await host.kubelet.stop();
        ctx.emit('kubelet.stopped', {
          clusterId: vm.clusterId,
          vmId: vm.id,
          message: `kubelet of ${host.kubelet.nodeName} stopped (VM ${reason}); its Node stays until deleted`,
          data: { nodeName: host.kubelet.nodeName, reason },
        });
      }
    }
    const role = host?.role ?? this.roleOf(vm.clusterId, vm.id);
    if (role && CONTROL_PLANE_ROLES.has(role)) {
      const plane = this.plane(vm.clusterId);
      if (this.liveControlPlaneVms(vm.clusterId, vm.id).length === 0) await plane.stop(ctx, `last control-plane VM ${vm.name} ${reason}`);
      // The oldest control-plane version may have gone with it: the endpoint moves to the next.
      else if (plane.running) await plane.ensureRunning({ ctx, reason: `control-plane VM ${vm.name} ${reason}` }).catch((err: unknown) => this.log(`cluster ${vm.clusterId}: ${errorMessage(err)}`));
      this.checkQuorum(vm.clusterId, `VM ${vm.name} ${reason}`);
    }
  }

  async setNodeReady(vm: SimVmRecord, ready: boolean, ctx: VmRuntimeContext): Promise<void> {
    this.ctx = ctx;
    // Kept on the VM's disk: the fault holds across a cloud restart, and a kubelet that starts
    // later (its join still running) starts NotReady.
    const flag = path.join(this.paths.vmDir(vm.clusterId, vm.id), NOT_READY_FLAG);
    if (ready) rmSync(flag, { force: true });
    else writePrivateFile(flag, 'node-not-ready fault injected\n');
    this.hosts.get(vm.id)?.kubelet?.setFaultNotReady(!ready);
  }

  async deleteCluster(cluster: SimClusterRecord, ctx: VmRuntimeContext): Promise<void> {
    this.ctx = ctx;
    for (const host of [...this.hosts.values()].filter((h) => h.clusterId === cluster.id)) {
      host.abort.abort();
      await host.kubelet?.stop();
      this.hosts.delete(host.vmId);
    }
    this.podInformers.get(cluster.id)?.stop();
    this.podInformers.delete(cluster.id);
    const plane = this.planes.get(cluster.id);
    if (plane) {
      const wasRunning = plane.running;
      // The cloud has already cleared the (deleting) cluster's load balancer.
      await plane.stop(null, 'cluster deleted');
      if (wasRunning) ctx.emit('apiserver.stopped', { clusterId: cluster.id, message: 'kube-apiserver and kube-controller-manager stopped (cluster deleted)', data: { reason: 'cluster deleted' } });
      this.planes.delete(cluster.id);
    }
    const dir = this.paths.clusterDir(cluster.id);
    const hadControlPlane = existsSync(this.paths.clusterRecord(cluster.id));
    if (hadControlPlane && this.etcd.hasData && !this.closing) {
      const deleted = await this.etcd.deletePrefix(`/clusters/${cluster.id}/`);
      this.log(`cluster ${cluster.id}: deleted ${deleted} etcd key(s)`);
    }
    rmSync(dir, { recursive: true, force: true });
    ctx.emit('runtime.cluster-deleted', { clusterId: cluster.id, message: `runtime files and etcd keys of ${cluster.name} deleted` });
  }

  async close(): Promise<void> {
    this.closing = true;
    const hosts = [...this.hosts.values()];
    for (const h of hosts) h.abort.abort();
    await Promise.all(hosts.map((h) => h.kubelet?.stop()));
    for (const informer of this.podInformers.values()) informer.stop();
    await Promise.all(hosts.map((h) => waitAtMost(h.task, 5000)));
    await this.memberApi.close();
    await Promise.all([...this.planes.values()].map((p) => p.close().catch((err: unknown) => this.log(`closing cluster ${p.clusterId}: ${errorMessage(err)}`))));
    await this.etcd.close();
  }

  // ---- bootstrap -------------------------------------------------------------------------------

  private roleOf(clusterId: string, vmId: string): string | undefined {
    const inMemory = this.hosts.get(vmId)?.role;
    if (inMemory) return inMemory;
    try {
      return readFileSync(path.join(this.paths.vmDir(clusterId, vmId), 'role'), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The cluster's live control-plane VMs (besides `exceptVmId`): running, a control-plane role, and
   * either joined, or the init VM whose kubeadm init is under way (it is the one starting the API).
   */
  private liveControlPlaneVms(clusterId: string, exceptVmId?: string): string[] {
    const ctx = this.ctx;
    if (!ctx) return [];
    return ctx
      .vmsOf(clusterId)
      .filter((v) => {
        if (v.id === exceptVmId || v.state !== 'running') return false;
        const role = this.roleOf(clusterId, v.id);
        if (!role || !CONTROL_PLANE_ROLES.has(role)) return false;
        return v.bootstrap.status === 'succeeded' || (role === 'init' && v.bootstrap.status === 'running');
      })
      .map((v) => v.id);
  }

  /**
   * The version the cluster's one kube-apiserver (and controller manager, scheduler) runs: the
   * oldest of its live control-plane VMs', so it changes to the new one when the last old
   * control-plane machine goes, as the endpoint of an upgraded cluster does.
   */
  private servingVersion(clusterId: string): string | undefined {
    const versions = this.liveControlPlaneVms(clusterId)
      .map((id) => readJson<VmRecord>(path.join(this.paths.vmDir(clusterId, id), 'vm.json'))?.controlPlaneVersion)
      .filter((v): v is string => !!v)
      .sort(compareVersions);
    return versions[0] ?? this.plane(clusterId).record?.clusterConfiguration.kubernetesVersion;
  }

  private startBootstrap(vm: SimVmRecord, userData: string, ctx: VmRuntimeContext, resumed: boolean): void {
    const started = Date.now();
    let parsed: ParsedBootstrapData;
    try {
      parsed = parseBootstrapData(userData);
    } catch (err) {
      // cloud-init itself could not make sense of the user data: nothing ran.
      const message = errorMessage(err);
      ctx.setBootstrapStatus(vm.id, 'failed', message);
      ctx.emit('bootstrap.failed', { clusterId: vm.clusterId, vmId: vm.id, message, data: { role: 'unknown', phase: 'cloud-init' } });
      return;
    }
    const role = parsed.role;
    const host: VmHost = { vmId: vm.id, clusterId: vm.clusterId, role, abort: new AbortController() };
    this.hosts.set(vm.id, host);
    const vmDir = this.paths.vmDir(vm.clusterId, vm.id);
    mkdirSync(vmDir, { recursive: true, mode: 0o700 });
    // Read by liveControlPlaneVms for VMs this process has not booted (after a restart).
    writeRole(vmDir, role);

    ctx.setBootstrapStatus(vm.id, 'running');
    ctx.emit('bootstrap.started', { clusterId: vm.clusterId, vmId: vm.id, message: `${resumed ? 'rerunning' : 'running'} kubeadm ${role === 'init' ? 'init' : 'join'} on ${vm.name}`, data: { role, resumed } });
    const signal = host.abort.signal;
    host.task = (async () => {
      try {
        const nodeName = role === 'init' ? await this.kubeadmInit(host, vm, parsed, ctx, signal) : await this.kubeadmJoin(host, vm, parsed, ctx, signal);
        if (signal.aborted) return;
        ctx.setBootstrapStatus(vm.id, 'succeeded');
        ctx.emit('bootstrap.succeeded', {
          clusterId: vm.clusterId,
          vmId: vm.id,
          message: `kubeadm ${role === 'init' ? 'init' : 'join'} on ${vm.name} succeeded`,
          data: { role, nodeName, durationMs: Date.now() - started },
        });
      } catch (err) {
        if (signal.aborted || err instanceof AbortedError || this.closing) return;
        const message = err instanceof KubeadmPhaseError ? err.message : `kubeadm ${role === 'init' ? 'init' : 'join'} failed: ${errorMessage(err)}`;
        const phase = err instanceof KubeadmPhaseError ? err.phase : undefined;
        this.log(`vm ${vm.id} (${role}): ${message}`);
        ctx.setBootstrapStatus(vm.id, 'failed', message);
        ctx.emit('bootstrap.failed', { clusterId: vm.clusterId, vmId: vm.id, message, data: { role, ...(phase ? { phase } : {}) } });
        // A failed init leaves no control plane behind unless another member serves the cluster.
        if (role === 'init' && this.liveControlPlaneVms(vm.clusterId, vm.id).length === 0) {
          await this.plane(vm.clusterId).stop(ctx, `kubeadm init on ${vm.name} failed`).catch(() => undefined);
        }
      }
    })();
  }

  private async kubeadmInit(host: VmHost, vm: SimVmRecord, parsed: ParsedBootstrapData, ctx: VmRuntimeContext, signal: AbortSignal): Promise<string> {
    const cc = parsed.kubeadm.clusterConfiguration!;
    const ic = parsed.kubeadm.initConfiguration!;
    const cluster = ctx.cluster(vm.clusterId);
    if (!cluster) throw new KubeadmPhaseError('preflight', `cluster ${vm.clusterId} does not exist`);
    const plane = this.plane(vm.clusterId);

    // preflight: a second init next to a live control plane would make a second cluster behind
    // the same endpoint. A real host would do exactly that; here we refuse, loudly.
    const others = this.liveControlPlaneVms(vm.clusterId, vm.id);
    if (others.length > 0) {
      throw new KubeadmPhaseError('preflight', `cluster ${vm.clusterId} already has a live control plane (VM ${others.join(', ')}); a second kubeadm init would create a second cluster behind the same endpoint`);
    }

    // certs
    const cas = readClusterCas(parsed.files, cc.certificatesDir || CERTIFICATES_DIR);
    const nodeName = ic.nodeRegistration?.name || vm.name;
    const internalIp = vm.addresses.find((a) => a.type === 'InternalIP')?.address;
    const lb = cluster.endpoint;
    const cpe = cc.controlPlaneEndpoint ? splitHostPort(cc.controlPlaneEndpoint) : lb;
    const server = hostPortUrl(cpe.host, cpe.port);
    if (cpe.host !== lb.host || cpe.port !== lb.port) {
      this.log(`cluster ${vm.clusterId}: controlPlaneEndpoint ${cc.controlPlaneEndpoint} is not the load balancer ${lb.host}:${lb.port}; nodes will use the controlPlaneEndpoint`);
    }
    const dnsDomain = cc.networking?.dnsDomain || 'cluster.local';
    const isIp = (s: string) => /^[\d.]+$/.test(s) || s.includes(':');
    const extraSans = [...(cc.apiServer?.certSANs ?? []), cpe.host, lb.host];
    const dnsNames = [...new Set(['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${dnsDomain}`, vm.name, nodeName, ...extraSans.filter((s) => !isIp(s))])];
    let serviceIp: string;
    try {
      serviceIp = firstServiceIp(cc.networking?.serviceSubnet || '10.96.0.0/12');
    } catch (err) {
      throw new KubeadmPhaseError('certs/apiserver', (err as Error).message);
    }
    const ipAddresses = [...new Set(['127.0.0.1', serviceIp, ...(internalIp ? [internalIp] : []), ...extraSans.filter(isIp)])];

    const controlPlaneVersion = cc.kubernetesVersion || DEFAULT_KUBERNETES_VERSION;
    const kubeletVersion = imageVersion(vm.image) ?? controlPlaneVersion;
    kubeletVersionCheck(kubeletVersion, controlPlaneVersion);
    const previous = plane.record;
    const rerun = previous?.initVmId === vm.id && previous.prefixReset;
    if (!rerun && plane.running) await plane.stop(ctx, `a new kubeadm init on ${vm.name}`);
    const pki = plane.pki;
    pki.writeCas(cas);
    await ensureControlPlaneLeaves(pki, cas, { dnsNames, ipAddresses, keyAlgorithm: cc.encryptionAlgorithm });
    const record: ClusterRecord = { clusterId: vm.clusterId, initVmId: vm.id, prefixReset: rerun, clusterConfiguration: cc, server };
    writeJson(this.paths.clusterRecord(vm.clusterId), record);
    if (!rerun) {
      // A fresh host's etcd is empty: whatever an earlier control plane of this cluster left goes.
      await this.etcd.deletePrefix(`/clusters/${vm.clusterId}/`);
      this.membership.reset(vm.clusterId);
      writeJson(this.paths.clusterRecord(vm.clusterId), { ...record, prefixReset: true });
    }
    // etcd: the first member, this host's.
    this.membership.add(vm.clusterId, { name: nodeName, vmId: vm.id, address: internalIp ?? '127.0.0.1' });
    this.checkQuorum(vm.clusterId, `kubeadm init on ${vm.name}`);
    if (signal.aborted) throw new AbortedError();

    // control-plane + wait-control-plane
    await plane.ensureRunning({ ctx, reason: 'init', vmLaunchedAt: vm.launchedAt, signal });
    if (signal.aborted) throw new AbortedError();
    const admin = plane.adminClients();
    await uploadConfig(admin, cc);

    // kubelet-start: kubeadm init writes kubelet.conf with a client certificate signed by the CA itself.
    const nodeCert = await issueClientCertificate(cas.ca, { commonName: `system:node:${nodeName}`, organizations: ['system:nodes'], now: new Date() });
    const vmRecord = this.saveKubeletIdentity(vm, {
      role: 'init',
      nodeName,
      kubeletVersion,
      controlPlaneVersion,
      server,
      caPem: cas.ca.certPem,
      cert: nodeCert,
      taints: registrationTaints(ic.nodeRegistration?.taints, true),
      labels: parseNodeLabels(ic.nodeRegistration?.kubeletExtraArgs),
    });
    this.startKubelet(host, vm, vmRecord, ctx, ctx.sample(ctx.profile.nodeReadyMs));

    await markControlPlane(admin, nodeName, vmRecord.taints, this.options.nodeRegistrationTimeoutMs, signal);
    await bootstrapTokenPhase(admin, ic.bootstrapTokens ?? [], { server, caPem: cas.ca.certPem });
    return nodeName;
  }

  private async kubeadmJoin(host: VmHost, vm: SimVmRecord, parsed: ParsedBootstrapData, ctx: VmRuntimeContext, signal: AbortSignal): Promise<string> {
    const jc = parsed.kubeadm.joinConfiguration!;
    const controlPlane = parsed.role === 'control-plane-join';
    const bt = jc.discovery?.bootstrapToken;
    if (!bt?.apiServerEndpoint || !bt.token) {
      throw new KubeadmPhaseError('preflight', 'discovery.bootstrapToken with apiServerEndpoint and token is required (file discovery is not supported by the simulated host)');
    }
    let token: { id: string; secret: string };
    try {
      token = parseBootstrapToken(bt.token);
    } catch (err) {
      throw new KubeadmPhaseError('preflight', `discovery.bootstrapToken.token: ${(err as Error).message}`);
    }
    // A control-plane join brings the cluster's CAs; kubeadm loads (and checks) them in preflight.
    const cas = controlPlane ? readClusterCas(parsed.files) : undefined;

    const discovery = await discoverCluster({
      apiServerEndpoint: bt.apiServerEndpoint,
      tokenId: token.id,
      tokenSecret: token.secret,
      caCertHashes: bt.caCertHashes ?? [],
      unsafeSkipCAVerification: (bt as { unsafeSkipCAVerification?: boolean }).unsafeSkipCAVerification,
      timeoutMs: this.options.discoveryTimeoutMs,
      signal,
    });
    if (cas && caCertHash(cas.ca.certPem) !== caCertHash(discovery.caPem)) {
      throw new KubeadmPhaseError('preflight', `the cluster CA in this control-plane node's certificates (${caCertHash(cas.ca.certPem)}) is not the cluster's (${caCertHash(discovery.caPem)})`);
    }

    // "[preflight] Reading configuration from the 'kubeadm-config' ConfigMap", with the token's identity.
    const clusterConfiguration = await this.readKubeadmConfig(discovery.server, discovery.caPem, bt.token, signal);
    const nodeName = jc.nodeRegistration?.name || vm.name;
    const clusterVersion = clusterConfiguration?.kubernetesVersion || DEFAULT_KUBERNETES_VERSION;
    const kubeletVersion = imageVersion(vm.image) ?? clusterVersion;
    if (controlPlane) kubeletVersionCheck(kubeletVersion, clusterVersion);
    const tlsToken = (jc.discovery as { tlsBootstrapToken?: string }).tlsBootstrapToken || bt.token;

    // kubelet-start: the kubelet's TLS bootstrap with the bootstrap token.
    const issued = await kubeletTlsBootstrap({
      server: discovery.server,
      caPem: discovery.caPem,
      token: tlsToken,
      nodeName,
      timeoutMs: this.options.tlsBootstrapTimeoutMs,
      signal,
      log: (m) => this.log(m),
    });
    ctx.emit('kubelet.certificate-issued', {
      clusterId: vm.clusterId,
      vmId: vm.id,
      message: `CSR ${issued.csrName} of node ${nodeName} approved and signed`,
      data: { nodeName, csr: issued.csrName, signerName: KUBELET_CLIENT_SIGNER },
    });
    const vmRecord = this.saveKubeletIdentity(vm, {
      role: parsed.role,
      nodeName,
      kubeletVersion,
      // kubeadm join --control-plane runs the static pods of the cluster's configured version.
      ...(controlPlane ? { controlPlaneVersion: clusterVersion } : {}),
      server: discovery.server,
      caPem: discovery.caPem,
      cert: { certPem: issued.certPem, keyPem: issued.keyPem },
      taints: registrationTaints(jc.nodeRegistration?.taints, controlPlane),
      labels: parseNodeLabels(jc.nodeRegistration?.kubeletExtraArgs),
    });
    this.startKubelet(host, vm, vmRecord, ctx, ctx.sample(ctx.profile.nodeReadyMs));

    if (controlPlane) {
      // control-plane-join/etcd: kubeadm adds this host's member only to a healthy etcd cluster.
      const members = this.etcdMembers(vm.clusterId) ?? [];
      const healthy = members.filter((m) => m.healthy).length;
      if (members.length && healthy < etcdQuorum(members.length)) {
        throw new KubeadmPhaseError('control-plane-join/etcd', `etcd cluster is not healthy: ${healthy} of ${members.length} members healthy (${members.filter((m) => !m.healthy).map((m) => m.name).join(', ')} not)`);
      }
      const internalIp = vm.addresses.find((a) => a.type === 'InternalIP')?.address;
      const member = this.membership.add(vm.clusterId, { name: nodeName, vmId: vm.id, address: internalIp ?? '127.0.0.1' });
      ctx.emit('etcd.member-added', { clusterId: vm.clusterId, vmId: vm.id, message: `etcd member ${nodeName} added`, data: { member: member.id, name: nodeName } });
      this.checkQuorum(vm.clusterId, `${nodeName} joined`);
      // This VM now shares the cluster's one API server (see control-plane.ts); make sure it runs.
      const plane = this.plane(vm.clusterId);
      await plane.ensureRunning({ ctx, reason: 'control-plane-join', signal });
      await markControlPlane(plane.adminClients(), nodeName, vmRecord.taints, this.options.nodeRegistrationTimeoutMs, signal);
    }
    return nodeName;
  }

  private async readKubeadmConfig(server: string, caPem: string, token: string, signal: AbortSignal): Promise<ClusterConfiguration | undefined> {
    const { core } = kubeClients(server, caPem, { token });
    let lastError = '';
    for (let attempt = 0; attempt < 10; attempt++) {
      if (signal.aborted) throw new AbortedError();
      try {
        const cm = await core.readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' }, callOptions());
        const text = cm.data?.ClusterConfiguration;
        return text ? (parse(text, YAML_INPUT) as ClusterConfiguration) : undefined;
      } catch (err) {
        lastError = describeApiError(err);
      }
      await sleep(500, signal);
    }
    throw new KubeadmPhaseError('preflight', `unable to fetch the kubeadm-config ConfigMap: ${lastError}`);
  }

  // ---- kubelet ---------------------------------------------------------------------------------

  private saveKubeletIdentity(
    vm: SimVmRecord,
    input: { role: string; nodeName: string; kubeletVersion: string; controlPlaneVersion?: string; server: string; caPem: string; cert: { certPem: string; keyPem: string }; taints: Taint[]; labels: Record<string, string> },
  ): VmRecord {
    const dir = this.paths.vmDir(vm.clusterId, vm.id);
    const files = new PkiDir(dir);
    files.write('ca.crt', input.caPem);
    // kubelet-client-current.pem holds both; two files keep them apart.
    files.write('kubelet-client.key', input.cert.keyPem);
    files.write('kubelet-client.crt', input.cert.certPem);
    const file = path.join(dir, 'vm.json');
    const previous = readJson<VmRecord>(file);
    const record: VmRecord = {
      vmId: vm.id,
      clusterId: vm.clusterId,
      role: input.role,
      nodeName: input.nodeName,
      kubeletVersion: input.kubeletVersion,
      ...(input.controlPlaneVersion ? { controlPlaneVersion: input.controlPlaneVersion } : {}),
      server: input.server,
      taints: input.taints,
      labels: input.labels,
      registered: previous?.registered ?? false,
      bootId: previous?.bootId ?? uuid(),
      machineId: previous?.machineId ?? randomBytes(16).toString('hex'),
    };
    writeJson(file, record);
    return record;
  }

  private startKubelet(host: VmHost, vm: SimVmRecord, record: VmRecord, ctx: VmRuntimeContext, readyAfterMs: number): void {
    if (host.kubelet) return;
    const dir = this.paths.vmDir(vm.clusterId, vm.id);
    const files = new PkiDir(dir);
    const recordFile = path.join(dir, 'vm.json');
    const clients = kubeClients(record.server, files.read('ca.crt'), { certPem: files.read('kubelet-client.crt'), keyPem: files.read('kubelet-client.key') });
    const base = { clusterId: vm.clusterId, vmId: vm.id };
    const podInformer = this.podInformer(vm.clusterId);
    if (!podInformer) this.log(`vm ${vm.id}: no cluster PKI on this host for ${vm.clusterId}; its kubelet runs no pods`);
    const kubelet = new SimKubelet({
      identity: {
        nodeName: record.nodeName,
        vm: { id: vm.id, providerID: vm.providerID, addresses: vm.addresses, instanceType: vm.instanceType },
        kubeletVersion: record.kubeletVersion,
        labels: record.labels,
        taints: record.taints,
        bootId: record.bootId,
        machineId: record.machineId,
      },
      clients,
      readyAfterMs,
      faultNotReady: existsSync(path.join(dir, NOT_READY_FLAG)),
      leaseRenewMs: this.options.leaseRenewMs,
      leaseDurationSeconds: this.options.leaseDurationSeconds,
      nodeStatusReportMs: this.options.nodeStatusReportMs,
      pods: podInformer && {
        informer: podInformer,
        startDelayMs: () => ctx.sample(ctx.profile.podStartMs),
        onStarted: (namespace, name, sinceSeenMs) =>
          ctx.emit('pod.running', { ...base, message: `pod ${namespace}/${name} is Running and Ready on ${record.nodeName}`, data: { nodeName: record.nodeName, namespace, name, sinceSeenMs } }),
      },
      onRegistered: (created) => {
        const current = readJson<VmRecord>(recordFile);
        if (!created && current?.registered) return;
        if (current && existsSync(dir)) writeJson(recordFile, { ...current, registered: true });
        ctx.emit('node.registered', { ...base, message: `node ${record.nodeName} registered`, data: { nodeName: record.nodeName, providerID: vm.providerID, created } });
      },
      onReadyChanged: (state: ReadyState, previous) => {
        if (state.ready) ctx.emit('node.ready', { ...base, message: `node ${record.nodeName} is Ready`, data: { nodeName: record.nodeName } });
        else if (previous === true) {
          ctx.emit('node.not-ready', { ...base, message: `node ${record.nodeName} is NotReady: ${state.message}`, data: { nodeName: record.nodeName, reason: state.reason } });
        }
      },
      log: (m) => this.log(m),
    });
    host.kubelet = kubelet;
    kubelet.start();
  }
}

function writeRole(vmDir: string, role: string): void {
  new PkiDir(vmDir).write('role', role + '\n');
}

function uuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The factory `main.ts` calls for `--runtime kubernetes`. */
export async function createKubernetesRuntime(opts: RuntimeFactoryOptions): Promise<KubernetesRuntime> {
  const runtime = new KubernetesRuntime(opts, parseRuntimeOptions(opts.profile.name, opts.options));
  await runtime.cleanUpStaleServers();
  return runtime;
}
