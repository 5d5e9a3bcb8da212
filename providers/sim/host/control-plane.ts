// A workload cluster's control plane on the simulated hosts: ONE kube-apiserver, ONE
// kube-controller-manager and ONE kube-scheduler per cluster, however many control-plane VMs it
// has. Real kubeadm runs one of each (plus an etcd member) on every control-plane machine; here the
// VMs share the three processes (and the cloud's one etcd) so a cluster costs three processes, not
// 3N + N. They run while the cluster has at least one live control-plane VM, and stop (the load
// balancer then resets connections) when the last one is deleted or killed — what a user of the
// cluster sees when its last control-plane machine goes away.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/ports.js';
import { httpGet } from '../../../scripts/lib/probe.js';
import { startKubeApiserver, type KubeApiserver } from '../../../scripts/lib/kube-apiserver.js';
import { startKubeControllerManager, type KubeControllerManager } from '../../../scripts/lib/kube-controller-manager.js';
import { startKubeScheduler, type KubeScheduler } from '../../../scripts/lib/kube-scheduler.js';
import type { Arg } from '../../kubeadm/kubeadm-config.js';
import { buildKubeconfig } from '../../kubeadm/kubeconfig.js';
import { issueClientCertificate } from '../../kubeadm/pki/cluster-pki.js';
import type { VmRuntimeContext } from '../runtime.js';
import { PkiDir, writePrivateFile } from './certs.js';
import { clusterEtcdPrefix, type SharedEtcd } from './etcd.js';
import { kubeClients, type KubeClients } from './kube.js';
import type { KubernetesRuntimeOptions } from './options.js';
import { readJson, type ClusterRecord, type RuntimePaths, type RuntimeStateStore } from './state.js';
import { errorMessage, seconds, sleep } from './util.js';

/** Flags the simulated host must control: binding, etcd, certificates, identities. */
const APISERVER_RESERVED = new Set([
  'bind-address', 'advertise-address', 'secure-port', 'etcd-servers', 'etcd-prefix', 'etcd-cafile', 'etcd-certfile', 'etcd-keyfile',
  'cert-dir', 'tls-cert-file', 'tls-private-key-file', 'client-ca-file', 'service-account-key-file', 'service-account-signing-key-file',
  'endpoint-reconciler-type', 'requestheader-client-ca-file', 'proxy-client-cert-file', 'proxy-client-key-file',
  'kubelet-client-certificate', 'kubelet-client-key',
]);
const KCM_RESERVED = new Set([
  'kubeconfig', 'bind-address', 'secure-port', 'leader-elect', 'controllers', 'cluster-signing-cert-file', 'cluster-signing-key-file',
  'root-ca-file', 'service-account-private-key-file', 'authentication-kubeconfig', 'authorization-kubeconfig', 'use-service-account-credentials',
]);
const SCHEDULER_RESERVED = new Set(['kubeconfig', 'bind-address', 'secure-port', 'leader-elect', 'authentication-kubeconfig', 'authorization-kubeconfig', 'config']);

function userArgs(args: Arg[] | undefined, reserved: Set<string>, what: string, log: (m: string) => void): string[] {
  const out: string[] = [];
  for (const a of Array.isArray(args) ? args : []) {
    if (!a || typeof a.name !== 'string') continue;
    if (reserved.has(a.name)) {
      log(`${what}: ignoring extraArg ${a.name} (the simulated host sets it)`);
      continue;
    }
    out.push(`--${a.name}=${a.value}`);
  }
  return out;
}

/** The first line of a server start failure plus its last log line: enough to see why, without the 40-line tail. */
function shortStartError(err: unknown): string {
  const text = errorMessage(err);
  const [first, ...rest] = text.split('\n');
  const last = rest.reverse().find((l) => /\S/.test(l) && !l.startsWith('--- capstan:'));
  return last ? `${first} … ${last.trim().slice(0, 300)}` : first!;
}

/**
 * Starts a server on a port picked by freePort, again on a fresh port if another process took the
 * port between the pick and the bind (many clusters booting at once make that likely).
 */
async function withFreshPort<T>(what: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      const text = errorMessage(err);
      if (attempt < 3 && /address already in use/.test(text)) continue;
      throw new Error(`${what} did not start: ${shortStartError(err)}`);
    }
  }
}

export interface ControlPlaneDeps {
  paths: RuntimePaths;
  store: RuntimeStateStore;
  etcd: SharedEtcd;
  options: KubernetesRuntimeOptions;
  log(message: string): void;
  /** Whether the cluster still has a live control-plane VM (a crashed server is restarted only then). */
  wanted(clusterId: string): boolean;
  /**
   * The Kubernetes version the cluster's servers run now (the oldest of its live control-plane
   * VMs'); undefined: the current build's.
   */
  servingVersion(clusterId: string): string | undefined;
  /**
   * The API server is about to stop: the host drops its own long-lived watches on it first, or
   * kube-apiserver (which stops listening at once) waits on them until it is killed 10 s later.
   */
  beforeApiserverStop?(clusterId: string): void;
  /** The API server answers again (after init, a restart or a resume). */
  afterApiserverReady?(clusterId: string): void;
}

export interface EnsureRunningOptions {
  ctx: VmRuntimeContext;
  /** Why it starts: `init`, `resume`, `restart`. */
  reason: string;
  /** The init VM's launchedAt, to report the time from VM running to API ready. */
  vmLaunchedAt?: string;
  signal?: AbortSignal;
}

export class ClusterControlPlane {
  private apiserver: KubeApiserver | undefined;
  /** The version the running servers were started as. */
  private version: string | undefined;
  private kcm: KubeControllerManager | undefined;
  private scheduler: KubeScheduler | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartBackoffMs = 1000;
  /** Fewer healthy etcd members than a majority: the API server cannot serve, the endpoint resets connections. */
  private quorumLost = false;
  readonly pki: PkiDir;

  constructor(
    readonly clusterId: string,
    private readonly deps: ControlPlaneDeps,
  ) {
    this.pki = new PkiDir(deps.paths.pkiDir(clusterId));
  }

  get record(): ClusterRecord | undefined {
    return readJson<ClusterRecord>(this.deps.paths.clusterRecord(this.clusterId));
  }

  get running(): boolean {
    return !!this.apiserver?.process.running;
  }

  get localUrl(): string | undefined {
    return this.running ? this.apiserver!.url : undefined;
  }

  get pids(): { apiserver?: number; controllerManager?: number; scheduler?: number } {
    return { apiserver: this.apiserver?.process.pid, controllerManager: this.kcm?.process.pid, scheduler: this.scheduler?.process.pid };
  }

  /** The runtime's own super-admin identity (system:masters) against the local API server. */
  adminClients(): KubeClients {
    const url = this.localUrl;
    if (!url) throw new Error(`cluster ${this.clusterId}: the API server is not running`);
    const admin = this.pki.pair('super-admin');
    return kubeClients(url, this.pki.read('ca.crt'), admin);
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Starts kube-apiserver (and the controller manager and scheduler) unless running, and points the LB at it. */
  ensureRunning(opts: EnsureRunningOptions): Promise<void> {
    return this.serialize(async () => {
      if (this.closed) throw new Error('runtime is closing');
      if (this.running && this.version !== this.deps.servingVersion(this.clusterId)) {
        await this.changeVersion(opts);
        return;
      }
      if (this.running) {
        if (!this.quorumLost) opts.ctx.setLoadBalancerBackend(this.clusterId, { host: '127.0.0.1', port: this.apiserver!.port });
        if (!this.kcm?.process.running) await this.startControllerManager(opts.ctx);
        if (!this.scheduler?.process.running) await this.startScheduler(opts.ctx);
        return;
      }
      await this.startApiserver(opts);
      await this.startControllerManager(opts.ctx);
      await this.startScheduler(opts.ctx);
    });
  }

  /**
   * The oldest control-plane version changed (its last machine went, in an upgrade): the servers of
   * the new version take over with no gap in the endpoint. The new API server starts next to the
   * old one on the same etcd (two API server versions side by side, as during a real rolling
   * upgrade), the load balancer moves to it, then the old one stops; the controller manager and the
   * scheduler restart as the new version.
   */
  private async changeVersion(opts: EnsureRunningOptions): Promise<void> {
    const from = this.version;
    const old = { apiserver: this.apiserver!, kcm: this.kcm, scheduler: this.scheduler };
    const { store, log } = this.deps;
    await this.startApiserver({ ...opts, reason: `version ${from ?? 'default'} → ${this.deps.servingVersion(this.clusterId) ?? 'default'}` });
    this.stopping = true;
    this.kcm = undefined;
    this.scheduler = undefined;
    try {
      if (old.scheduler) await old.scheduler.stop({ timeoutMs: 10_000 });
      if (old.kcm) await old.kcm.stop({ timeoutMs: 10_000 });
      this.deps.beforeApiserverStop?.(this.clusterId);
      await old.apiserver.stop({ timeoutMs: 10_000 });
      store.forgetProcess(`kube-apiserver/${this.clusterId}/previous`, old.apiserver.process.pid);
      store.forgetProcess(`kube-scheduler/${this.clusterId}`, old.scheduler?.process.pid);
      store.forgetProcess(`kube-controller-manager/${this.clusterId}`, old.kcm?.process.pid);
    } finally {
      this.stopping = false;
      this.deps.afterApiserverReady?.(this.clusterId);
    }
    await this.startControllerManager(opts.ctx);
    await this.startScheduler(opts.ctx);
    log(`cluster ${this.clusterId}: control plane now runs ${this.version ?? 'the default version'} (was ${from ?? 'the default version'})`);
  }

  private async startApiserver(opts: EnsureRunningOptions): Promise<void> {
    const { ctx } = opts;
    const version = this.deps.servingVersion(this.clusterId);
    const record = this.record;
    if (!record) throw new Error(`cluster ${this.clusterId}: no control-plane record (was kubeadm init ever run?)`);
    const { paths, store, options, log } = this.deps;
    const cc = record.clusterConfiguration;
    const dir = paths.clusterDir(this.clusterId);
    const logs = paths.logsDir(this.clusterId);
    mkdirSync(logs, { recursive: true, mode: 0o700 });
    const etcd = await this.deps.etcd.ensure();
    const p = (name: string) => this.pki.path(name);
    const started = Date.now();
    const dnsDomain = cc.networking?.dnsDomain || 'cluster.local';
    const apiserver = await withFreshPort('kube-apiserver', async () =>
      startKubeApiserver({
        ...(version ? { kubernetesVersion: version } : {}),
        etcdServers: etcd.endpoint,
        etcdPrefix: clusterEtcdPrefix(this.clusterId),
        securePort: await freePort(),
        certDir: path.join(dir, 'apiserver-certs'),
        files: {
          clientCaFile: p('ca.crt'),
          tlsCertFile: p('apiserver.crt'),
          tlsPrivateKeyFile: p('apiserver.key'),
          serviceAccountKeyFile: p('sa.pub'),
          serviceAccountSigningKeyFile: p('sa.key'),
          requestheaderClientCaFile: p('front-proxy-ca.crt'),
          proxyClientCertFile: p('front-proxy-client.crt'),
          proxyClientKeyFile: p('front-proxy-client.key'),
        },
        serviceClusterIpRange: cc.networking?.serviceSubnet || '10.96.0.0/12',
        serviceAccountIssuer: `https://kubernetes.default.svc.${dnsDomain}`,
        readinessClient: { certFile: p('super-admin.crt'), keyFile: p('super-admin.key'), caFile: p('ca.crt') },
        extraArgs: [
          `--kubelet-client-certificate=${p('apiserver-kubelet-client.crt')}`,
          `--kubelet-client-key=${p('apiserver-kubelet-client.key')}`,
          ...userArgs(cc.apiServer?.extraArgs, APISERVER_RESERVED, `cluster ${this.clusterId} kube-apiserver`, log),
        ],
        logFile: path.join(logs, 'kube-apiserver.log'),
        readyTimeoutMs: options.apiserverReadyTimeoutMs,
      }),
    );
    const previous = this.apiserver;
    this.apiserver = apiserver;
    this.version = version;
    // Two API servers during a version change: the process table keeps both until the old one stops.
    if (previous?.process.running) store.recordProcess(`kube-apiserver/${this.clusterId}/previous`, previous.process.pid, 'kube-apiserver');
    store.recordProcess(`kube-apiserver/${this.clusterId}`, apiserver.process.pid, 'kube-apiserver');
    this.watchExit(apiserver, ctx);
    log(`cluster ${this.clusterId}: kube-apiserver on ${apiserver.url} ready in ${apiserver.process.readyAfterMs} ms (pid ${apiserver.process.pid})`);

    // Through the load balancer, as every client will reach it (unless etcd has lost quorum: then
    // the endpoint stays dark, and the server answers once a majority is back).
    if (this.quorumLost) {
      this.restartBackoffMs = 1000;
      return;
    }
    ctx.setLoadBalancerBackend(this.clusterId, { host: '127.0.0.1', port: apiserver.port });
    const cluster = ctx.cluster(this.clusterId);
    if (!cluster) throw new Error(`cluster ${this.clusterId} is gone`);
    const endpoint = `https://${cluster.endpoint.host}:${cluster.endpoint.port}`;
    const tls = { ca: this.pki.read('ca.crt'), cert: this.pki.read('super-admin.crt'), key: this.pki.read('super-admin.key') };
    const deadline = started + options.apiserverReadyTimeoutMs;
    let last = '';
    for (;;) {
      try {
        const res = await httpGet(`${endpoint}/readyz`, { ...tls, timeoutMs: 2000 });
        if (res.status === 200) break;
        last = `status ${res.status}`;
      } catch (err) {
        last = errorMessage(err);
      }
      if (!apiserver.process.running) throw new Error('kube-apiserver exited while waiting for /readyz through the load balancer');
      if (Date.now() > deadline) throw new Error(`kube-apiserver did not answer /readyz through the load balancer ${endpoint} within ${seconds(options.apiserverReadyTimeoutMs)} (${last})`);
      await sleep(100, opts.signal);
    }
    this.restartBackoffMs = 1000;
    const now = Date.now();
    const data: Record<string, unknown> = {
      endpoint,
      backend: { host: '127.0.0.1', port: apiserver.port },
      pid: apiserver.process.pid,
      reason: opts.reason,
      startMs: now - started,
      etcdPrefix: clusterEtcdPrefix(this.clusterId),
    };
    if (opts.vmLaunchedAt) data.sinceVmRunningMs = now - Date.parse(opts.vmLaunchedAt);
    if (version) data.version = version;
    ctx.emit('apiserver.ready', { clusterId: this.clusterId, message: `kube-apiserver of ${cluster.name} answers /readyz at ${endpoint}`, data });
    this.deps.afterApiserverReady?.(this.clusterId);
  }

  private async startControllerManager(ctx: VmRuntimeContext): Promise<void> {
    const apiserver = this.apiserver;
    const record = this.record;
    if (!apiserver || !record) return;
    const { paths, store, options, log } = this.deps;
    const dir = paths.clusterDir(this.clusterId);
    const p = (name: string) => this.pki.path(name);
    // kubeadm's controller-manager.conf: the controller manager's own identity, to the local API server.
    const kubeconfigFile = path.join(dir, 'controller-manager.conf');
    const client = this.pki.pair('controller-manager-client');
    writePrivateFile(
      kubeconfigFile,
      buildKubeconfig({
        clusterName: record.clusterConfiguration.clusterName || 'kubernetes',
        server: apiserver.url,
        caCertPem: this.pki.read('ca.crt'),
        userName: 'system:kube-controller-manager',
        clientCertPem: client.certPem,
        clientKeyPem: client.keyPem,
      }),
    );
    const kcm: KubeControllerManager = await withFreshPort('kube-controller-manager', () =>
      startKubeControllerManager({
        ...(this.version ? { kubernetesVersion: this.version } : {}),
        kubeconfigFile,
        clusterSigningCertFile: p('ca.crt'),
        clusterSigningKeyFile: p('ca.key'),
        rootCaFile: p('ca.crt'),
        serviceAccountPrivateKeyFile: p('sa.key'),
        controllers: options.controllers,
        logFile: path.join(paths.logsDir(this.clusterId), 'kube-controller-manager.log'),
        extraArgs: [
          // kubeadm's setting: each controller acts as its own service account
          // (system:serviceaccount:kube-system:certificate-controller, bootstrap-signer, …) with
          // the bootstrap RBAC roles; the controller manager's own identity cannot approve CSRs.
          '--use-service-account-credentials=true',
          `--cluster-name=${record.clusterConfiguration.clusterName || 'kubernetes'}`,
          ...userArgs(record.clusterConfiguration.controllerManager?.extraArgs, KCM_RESERVED, `cluster ${this.clusterId} kube-controller-manager`, log),
        ],
        readyTimeoutMs: options.apiserverReadyTimeoutMs,
      }),
    );
    this.kcm = kcm;
    store.recordProcess(`kube-controller-manager/${this.clusterId}`, kcm.process.pid, 'kube-controller-manager');
    void kcm.process.exited.then((info) => {
      store.forgetProcess(`kube-controller-manager/${this.clusterId}`, kcm.process.pid);
      if (this.kcm !== kcm || this.stopping || this.closed) return;
      this.kcm = undefined;
      log(`cluster ${this.clusterId}: kube-controller-manager exited unexpectedly (code ${info.code}, signal ${info.signal})`);
      ctx.emit('controller-manager.exited', { clusterId: this.clusterId, message: 'kube-controller-manager exited unexpectedly', data: { code: info.code, signal: info.signal } });
      this.scheduleRestart(ctx);
    });
    log(`cluster ${this.clusterId}: kube-controller-manager ready in ${kcm.process.readyAfterMs} ms (pid ${kcm.process.pid})`);
    ctx.emit('controller-manager.ready', {
      clusterId: this.clusterId,
      message: 'kube-controller-manager is running',
      data: { pid: kcm.process.pid, controllers: options.controllers, startMs: kcm.process.readyAfterMs },
    });
  }

  private async startScheduler(ctx: VmRuntimeContext): Promise<void> {
    const apiserver = this.apiserver;
    const record = this.record;
    if (!apiserver || !record) return;
    const { paths, store, options, log } = this.deps;
    // kubeadm's scheduler.conf: the scheduler's own identity (system:kube-scheduler, bound to the
    // bootstrap roles system:kube-scheduler and system:volume-scheduler), to the local API server.
    const kubeconfigFile = path.join(paths.clusterDir(this.clusterId), 'scheduler.conf');
    // A cluster initialised before the host ran a scheduler has no scheduler-client pair yet.
    if (!this.pki.has('scheduler-client.crt') || !this.pki.has('scheduler-client.key')) {
      this.pki.writePair('scheduler-client', await issueClientCertificate(this.pki.pair('ca'), { commonName: 'system:kube-scheduler', organizations: [], now: new Date() }));
    }
    const client = this.pki.pair('scheduler-client');
    writePrivateFile(
      kubeconfigFile,
      buildKubeconfig({
        clusterName: record.clusterConfiguration.clusterName || 'kubernetes',
        server: apiserver.url,
        caCertPem: this.pki.read('ca.crt'),
        userName: 'system:kube-scheduler',
        clientCertPem: client.certPem,
        clientKeyPem: client.keyPem,
      }),
    );
    const scheduler: KubeScheduler = await withFreshPort('kube-scheduler', () =>
      startKubeScheduler({
        ...(this.version ? { kubernetesVersion: this.version } : {}),
        kubeconfigFile,
        logFile: path.join(paths.logsDir(this.clusterId), 'kube-scheduler.log'),
        extraArgs: userArgs((record.clusterConfiguration as { scheduler?: { extraArgs?: Arg[] } }).scheduler?.extraArgs, SCHEDULER_RESERVED, `cluster ${this.clusterId} kube-scheduler`, log),
        readyTimeoutMs: options.apiserverReadyTimeoutMs,
      }),
    );
    this.scheduler = scheduler;
    store.recordProcess(`kube-scheduler/${this.clusterId}`, scheduler.process.pid, 'kube-scheduler');
    void scheduler.process.exited.then((info) => {
      store.forgetProcess(`kube-scheduler/${this.clusterId}`, scheduler.process.pid);
      if (this.scheduler !== scheduler || this.stopping || this.closed) return;
      this.scheduler = undefined;
      log(`cluster ${this.clusterId}: kube-scheduler exited unexpectedly (code ${info.code}, signal ${info.signal})`);
      ctx.emit('scheduler.exited', { clusterId: this.clusterId, message: 'kube-scheduler exited unexpectedly', data: { code: info.code, signal: info.signal } });
      this.scheduleRestart(ctx);
    });
    log(`cluster ${this.clusterId}: kube-scheduler ready in ${scheduler.process.readyAfterMs} ms (pid ${scheduler.process.pid})`);
    ctx.emit('scheduler.ready', {
      clusterId: this.clusterId,
      message: 'kube-scheduler is running',
      data: { pid: scheduler.process.pid, startMs: scheduler.process.readyAfterMs },
    });
  }

  /** A static pod that dies is restarted by its kubelet; so are ours while the cluster has a control plane. */
  private watchExit(apiserver: KubeApiserver, ctx: VmRuntimeContext): void {
    void apiserver.process.exited.then((info) => {
      this.deps.store.forgetProcess(`kube-apiserver/${this.clusterId}`, apiserver.process.pid);
      if (this.apiserver !== apiserver || this.stopping || this.closed) return;
      this.deps.log(`cluster ${this.clusterId}: kube-apiserver exited unexpectedly (code ${info.code}, signal ${info.signal})`);
      ctx.setLoadBalancerBackend(this.clusterId, null);
      ctx.emit('apiserver.exited', { clusterId: this.clusterId, message: 'kube-apiserver exited unexpectedly', data: { code: info.code, signal: info.signal } });
      this.scheduleRestart(ctx);
    });
  }

  private scheduleRestart(ctx: VmRuntimeContext): void {
    if (this.restartTimer || this.closed) return;
    const delay = this.restartBackoffMs;
    this.restartBackoffMs = Math.min(this.restartBackoffMs * 2, 30_000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.closed || !this.deps.wanted(this.clusterId)) return;
      this.ensureRunning({ ctx, reason: 'restart' }).catch((err: unknown) => {
        this.deps.log(`cluster ${this.clusterId}: restarting the control plane failed: ${errorMessage(err)}`);
        this.scheduleRestart(ctx);
      });
    }, delay);
  }

  /**
   * Stops the scheduler, the controller manager and the API server, clears the LB backend and reports
   * `apiserver.stopped` (`ctx` null: the runtime is closing; the backend stays recorded and the next
   * run re-points it).
   */
  stop(ctx: VmRuntimeContext | null, reason: string): Promise<void> {
    return this.serialize(async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      const { apiserver, kcm, scheduler } = this;
      const wasRunning = !!apiserver?.process.running;
      this.stopping = true;
      const took: string[] = [];
      const timed = async (what: string, stop: () => Promise<void>) => {
        const t0 = Date.now();
        await stop();
        took.push(`${what} ${Date.now() - t0} ms`);
      };
      try {
        if (scheduler) {
          await timed('kube-scheduler', () => scheduler.stop({ timeoutMs: 10_000 }));
          this.deps.store.forgetProcess(`kube-scheduler/${this.clusterId}`, scheduler.process.pid);
        }
        if (kcm) {
          await timed('kube-controller-manager', () => kcm.stop({ timeoutMs: 10_000 }));
          this.deps.store.forgetProcess(`kube-controller-manager/${this.clusterId}`, kcm.process.pid);
        }
        if (apiserver) {
          this.deps.beforeApiserverStop?.(this.clusterId);
          await timed('kube-apiserver', () => apiserver.stop({ timeoutMs: 10_000 }));
          this.deps.store.forgetProcess(`kube-apiserver/${this.clusterId}`, apiserver.process.pid);
        }
        if (took.length) this.deps.log(`cluster ${this.clusterId}: stopped ${took.join(', ')} (${reason})`);
      } finally {
        this.scheduler = undefined;
        this.kcm = undefined;
        this.apiserver = undefined;
        this.stopping = false;
      }
      if (!ctx) return;
      const hadBackend = ctx.loadBalancerBackend(this.clusterId) !== null;
      if (hadBackend) ctx.setLoadBalancerBackend(this.clusterId, null);
      if (wasRunning || hadBackend) {
        ctx.emit('apiserver.stopped', { clusterId: this.clusterId, message: `kube-apiserver, kube-controller-manager and kube-scheduler stopped (${reason})`, data: { reason } });
      }
    });
  }

  /**
   * etcd's quorum, as the runtime counts it (etcd-members.ts): lost, the endpoint resets every
   * connection, as a cluster whose etcd cannot commit stops answering; back, it answers again.
   */
  setQuorum(ok: boolean, ctx: VmRuntimeContext, detail: string): void {
    if (ok === !this.quorumLost) return;
    this.quorumLost = !ok;
    if (!ok) {
      ctx.setLoadBalancerBackend(this.clusterId, null);
      this.deps.log(`cluster ${this.clusterId}: etcd lost quorum (${detail}); the API endpoint stops answering`);
      ctx.emit('etcd.quorum-lost', { clusterId: this.clusterId, message: `etcd lost quorum: ${detail}; the API endpoint stops answering`, data: { detail } });
      return;
    }
    if (this.running) ctx.setLoadBalancerBackend(this.clusterId, { host: '127.0.0.1', port: this.apiserver!.port });
    this.deps.log(`cluster ${this.clusterId}: etcd has quorum again (${detail})`);
    ctx.emit('etcd.quorum-restored', { clusterId: this.clusterId, message: `etcd has quorum again: ${detail}`, data: { detail } });
  }

  /** The runtime is closing: stop without touching the cloud (it is closing too). */
  async close(): Promise<void> {
    await this.stop(null, 'cloud stopping');
    this.closed = true;
  }

  get hasPki(): boolean {
    return existsSync(this.pki.path('ca.crt'));
  }
}
