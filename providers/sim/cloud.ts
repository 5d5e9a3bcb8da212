// The simulated cloud's model: clusters (network + load balancer) and VMs, their lifecycles and
// timers, persistence of every change before it is acknowledged, recovery after a restart, and
// the VmRuntimeContext the runtime works through. HTTP lives in server.ts.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from './errors.js';
import { EventLog, type EventInput } from './events.js';
import { FaultInjector, mergeFaults } from './faults.js';
import { LoadBalancer } from './load-balancer.js';
import { Prng, type SimProfile } from './profile.js';
import type { RuntimeBootstrapStatus, VmRuntime, VmRuntimeContext } from './runtime.js';
import { emptyState, sha256, StateStore, type PersistedState, type StoredCluster, type StoredVm, type Touched } from './state.js';
import { zonesOf, type SimCluster, type SimEndpoint, type SimEtcdEndpoint, type SimEvent, type SimFaults, type SimVm, type SimVmState } from './types.js';
import { parseClusterRequest, parseVmRequest, type ClusterRequest, type VmRequest } from './validate.js';

export interface SimCloudOptions {
  dataDir: string;
  profile: SimProfile;
  seed: number;
  runtime: VmRuntime;
  log?: (message: string) => void;
  /** How long the cloud waits on one runtime call before it goes on without it (default 60 s). */
  runtimeTimeoutMs?: number;
}

const LB_HOST = '127.0.0.1';
const iso = (ms: number) => new Date(ms).toISOString();
const copy = <T>(v: T): T => structuredClone(v);

function notFound(what: string, id: string): ApiError {
  return new ApiError(404, 'NotFound', `${what} ${id} does not exist`);
}

export class SimCloud {
  readonly dataDir: string;
  readonly profile: SimProfile;
  readonly ctx: VmRuntimeContext;
  /** True when this start found state left by an earlier run. */
  restarted = false;

  private readonly store: StateStore;
  private state: PersistedState;
  private readonly events: EventLog;
  private faults: FaultInjector;
  private readonly latencyDice: Prng;
  private readonly runtimeDice: Prng;
  private readonly runtime: VmRuntime;
  private readonly log: (message: string) => void;
  private readonly runtimeTimeoutMs: number;
  private readonly lbs = new Map<string, LoadBalancer>();
  private readonly bootTimers = new Map<string, NodeJS.Timeout>();
  private readonly sleeps = new Set<NodeJS.Timeout>();
  private readonly vmWaiters = new Map<string, Set<() => void>>();
  private readonly background = new Set<Promise<unknown>>();
  private stopping = false;
  private finalized = false;

  private constructor(private readonly opts: SimCloudOptions) {
    this.dataDir = path.resolve(opts.dataDir);
    this.profile = opts.profile;
    this.runtime = opts.runtime;
    this.log = opts.log ?? ((m) => process.stderr.write(`sim-cloud: ${m}\n`));
    this.runtimeTimeoutMs = opts.runtimeTimeoutMs ?? 60_000;
    this.store = new StateStore(this.dataDir);
    this.state = emptyState(); // loaded in start()
    this.events = new EventLog(this.store.eventsFile);
    this.faults = new FaultInjector(opts.seed);
    this.latencyDice = Prng.derive(opts.seed, 1);
    this.runtimeDice = Prng.derive(opts.seed, 2);
    this.ctx = this.makeContext();
  }

  /** Loads (or creates) the data dir, re-opens load balancers, resumes timers and the runtime. */
  static async open(opts: SimCloudOptions): Promise<SimCloud> {
    const cloud = new SimCloud(opts);
    await cloud.start();
    return cloud;
  }

  private async start(): Promise<void> {
    const { state, existed } = this.store.load();
    this.state = state;
    this.restarted = existed;
    mkdirSync(path.join(this.dataDir, 'runtime'), { recursive: true, mode: 0o700 });
    this.events.load(state.outbox);
    this.faults = new FaultInjector(this.opts.seed, state.faults);
    // State written before clusters had zones.
    for (const sc of Object.values(state.clusters)) sc.cluster.failureDomains ??= zonesOf(sc.cluster.region);

    // Load balancers first, on the ports their clusters advertise, so the runtime can point them.
    for (const sc of Object.values(state.clusters)) {
      if (sc.cluster.state !== 'available') continue;
      const lb = new LoadBalancer(`lb(${sc.cluster.id})`, this.log);
      lb.setBackend(sc.backend);
      try {
        await lb.listen(sc.cluster.endpoint.port);
        this.lbs.set(sc.cluster.id, lb);
      } catch (err) {
        this.log(`cluster ${sc.cluster.id}: could not re-open its load balancer on port ${sc.cluster.endpoint.port}: ${(err as Error).message}`);
        await lb.close();
      }
    }
    this.emit('cloud.started', {
      message: existed ? 'cloud restarted on its existing data dir' : 'cloud started on a new data dir',
      data: { restarted: existed, pid: process.pid, profile: this.profile.name },
    });

    for (const sc of Object.values(state.clusters)) {
      if (sc.cluster.state === 'deleting') this.track(this.finishClusterDelete(sc.cluster.id));
    }
    for (const sv of Object.values(state.vms)) {
      const vm = sv.vm;
      if (vm.state === 'pending' && !sv.neverBoot) this.scheduleBoot(vm.id);
      else if (vm.state === 'running') {
        const snapshot = copy(vm);
        const userData = this.readUserDataOrFail(vm.id);
        if (userData !== undefined) {
          this.track(this.runRuntime(`resume ${vm.id}`, () => this.runtime.resume(snapshot, userData, this.ctx), (msg) => this.failBootstrap(vm.id, msg)));
        }
      } else if (vm.state === 'shutting-down') this.track(this.finishVmTermination(vm.id));
    }
  }

  // ---- API: clusters ---------------------------------------------------------------------------

  async createCluster(body: unknown): Promise<{ cluster: SimCluster; created: boolean }> {
    this.assertRunning();
    const req = parseClusterRequest(body);
    const replay = this.replayCluster(req);
    if (replay) return { cluster: replay, created: false };

    const lb = new LoadBalancer(`lb(${req.name})`, this.log);
    const port = await lb.listen(0);
    // Another request with this token may have committed while we waited for the listener.
    const raced = this.replayCluster(req);
    if (raced || this.stopping) {
      await lb.close();
      if (raced) return { cluster: raced, created: false };
      this.assertRunning();
    }
    const id = this.newId('simc-', 4, this.state.clusters);
    let octet: number;
    try {
      octet = this.allocateOctet();
    } catch (err) {
      await lb.close();
      throw err;
    }
    const now = Date.now();
    const cluster: SimCluster = {
      id,
      name: req.name,
      region: req.region,
      failureDomains: zonesOf(req.region),
      clientToken: req.clientToken,
      state: 'available',
      endpoint: { host: LB_HOST, port },
      network: { cidr: `10.${octet}.0.0/16` },
      createdAt: iso(now),
    };
    this.state.clusters[id] = { cluster, backend: null, octet, nextHost: 10 };
    this.state.clusterTokens[req.clientToken] = id;
    try {
      this.commit([this.event('cluster.created', { clusterId: id, message: `cluster ${req.name} created`, data: { name: req.name, region: req.region, endpoint: cluster.endpoint, cidr: cluster.network.cidr } })], { clusters: [id] });
    } catch (err) {
      delete this.state.clusters[id];
      delete this.state.clusterTokens[req.clientToken];
      await lb.close();
      throw err;
    }
    this.lbs.set(id, lb);
    this.log(`cluster ${id} (${req.name}) created, load balancer on ${LB_HOST}:${port}`);
    return { cluster: copy(cluster), created: true };
  }

  listClusters(): SimCluster[] {
    return Object.values(this.state.clusters)
      .map((c) => copy(c.cluster))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  getCluster(id: string): SimCluster {
    const sc = this.state.clusters[id];
    if (!sc) throw notFound('cluster', id);
    return copy(sc.cluster);
  }

  /** Where the cluster's etcd members are reached; 404 EtcdNotAvailable when it has none. */
  async etcdEndpoint(id: string): Promise<SimEtcdEndpoint> {
    this.getCluster(id);
    const endpoint = await this.runtime.etcdEndpoint?.(id);
    if (!endpoint) throw new ApiError(404, 'EtcdNotAvailable', `cluster ${id} has no etcd members (no control plane yet, or a runtime without etcd)`);
    return endpoint;
  }

  async deleteCluster(id: string): Promise<SimCluster> {
    this.assertRunning();
    const sc = this.state.clusters[id];
    if (!sc) throw notFound('cluster', id);
    if (sc.cluster.state !== 'available') return copy(sc.cluster);
    const live = Object.values(this.state.vms).filter((v) => v.vm.clusterId === id && v.vm.state !== 'terminated');
    if (live.length > 0) {
      const ids = live.slice(0, 5).map((v) => `${v.vm.id} (${v.vm.state})`);
      throw new ApiError(409, 'DependencyViolation', `cluster ${id} has ${live.length} VM(s) not yet terminated: ${ids.join(', ')}${live.length > 5 ? ', …' : ''}`);
    }
    sc.cluster.state = 'deleting';
    sc.deleteAt = Date.now() + this.latencyDice.sample(this.profile.deleteMs);
    const hadBackend = sc.backend !== null;
    sc.backend = null;
    const events = [this.event('cluster.deleting', { clusterId: id, message: `cluster ${sc.cluster.name} deleting` })];
    if (hadBackend) events.push(this.event('loadbalancer.backend', { clusterId: id, message: 'load balancer backend cleared (cluster deleting)', data: { backend: null } }));
    this.commit(events, { clusters: [id] });
    // The listener is gone before the caller hears 202.
    const lb = this.lbs.get(id);
    this.lbs.delete(id);
    await lb?.close();
    this.track(this.finishClusterDelete(id));
    return copy(sc.cluster);
  }

  private async finishClusterDelete(id: string): Promise<void> {
    const sc = this.state.clusters[id];
    if (!sc) return;
    const snapshot = copy(sc.cluster);
    await Promise.all([
      this.sleepUntil(sc.deleteAt ?? Date.now()),
      this.runRuntime(`deleteCluster ${id}`, () => this.runtime.deleteCluster(snapshot, this.ctx)),
    ]);
    if (this.stopping || sc.cluster.state !== 'deleting') return;
    sc.cluster.state = 'deleted';
    sc.cluster.deletedAt = iso(Date.now());
    delete sc.deleteAt;
    this.commitInBackground(`cluster ${id} deleted`, [this.event('cluster.deleted', { clusterId: id, message: `cluster ${sc.cluster.name} deleted` })], { clusters: [id] });
  }

  // ---- API: VMs --------------------------------------------------------------------------------

  createVm(body: unknown): { vm: SimVm; created: boolean } {
    this.assertRunning();
    const req = parseVmRequest(body);
    const digest = sha256(req.userData);
    const replay = this.replayVm(req, digest);
    if (replay) return { vm: replay, created: false };

    const sc = this.state.clusters[req.clusterId];
    if (!sc || sc.cluster.state !== 'available') {
      throw new ApiError(400, 'InvalidClusterID.NotFound', `clusterId: cluster ${req.clusterId} does not exist or is being deleted`, 'clusterId');
    }
    const zones = sc.cluster.failureDomains;
    if (req.failureDomain !== undefined && !zones.includes(req.failureDomain)) {
      throw new ApiError(400, 'InvalidParameterValue', `failureDomain: ${JSON.stringify(req.failureDomain)} is not a zone of region ${sc.cluster.region} (zones: ${zones.join(', ')})`, 'failureDomain');
    }
    let role = 'unknown';
    try {
      role = this.runtime.classify(req.userData).role;
    } catch (err) {
      this.log(`runtime classify failed: ${(err as Error).message}`);
    }
    const id = this.newId('i-', 6, this.state.vms);
    const address = this.allocateAddress(sc);
    const now = Date.now();
    const neverBoot = this.faults.takeNeverBoot();
    const vm: SimVm = {
      id,
      name: req.name,
      clusterId: req.clusterId,
      instanceType: req.instanceType,
      ...(req.image ? { image: req.image } : {}),
      ...(req.failureDomain ? { failureDomain: req.failureDomain } : {}),
      clientToken: req.clientToken,
      state: 'pending',
      providerID: `sim:///${sc.cluster.region}/${id}`,
      addresses: [
        { type: 'InternalIP', address },
        { type: 'Hostname', address: req.name },
      ],
      createdAt: iso(now),
      bootstrap: { status: 'pending' },
    };
    // The user data file exists before any state refers to it.
    this.store.writeUserData(id, req.userData);
    const stored: StoredVm = { vm, userDataSha256: digest };
    if (neverBoot) stored.neverBoot = true;
    else stored.bootAt = now + this.latencyDice.sample(this.profile.bootMs);
    this.state.vms[id] = stored;
    this.state.vmTokens[req.clientToken] = id;
    this.state.faults = this.faults.current;
    const data: Record<string, unknown> = { role, name: req.name, instanceType: req.instanceType, address };
    if (neverBoot) data.neverBoot = true;
    // The cluster too: the VM took its next address.
    this.commit([this.event('vm.created', { clusterId: req.clusterId, vmId: id, message: `VM ${req.name} created (${role})`, data })], { vms: [id], clusters: [req.clusterId] });
    if (!neverBoot) this.scheduleBoot(id);
    this.log(`vm ${id} (${req.name}) created in ${req.clusterId}, role ${role}${neverBoot ? ', will never boot (fault)' : ''}`);
    return { vm: copy(vm), created: true };
  }

  listVms(clusterId?: string): SimVm[] {
    return Object.values(this.state.vms)
      .filter((v) => clusterId === undefined || v.vm.clusterId === clusterId)
      .map((v) => copy(v.vm))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  getVm(id: string): SimVm {
    const sv = this.state.vms[id];
    if (!sv) throw notFound('VM', id);
    return copy(sv.vm);
  }

  /**
   * Long poll: the VM once it is in `target`, or can no longer get there (terminated, or shutting
   * down while waiting for running), or when `timeoutMs` passes or `signal` aborts.
   */
  async waitForVm(id: string, target: SimVmState, timeoutMs: number, signal?: AbortSignal): Promise<SimVm> {
    const sv = this.state.vms[id];
    if (!sv) throw notFound('VM', id);
    const settled = () => {
      const s = sv.vm.state;
      return s === target || s === 'terminated' || (target === 'running' && s === 'shutting-down') || this.stopping;
    };
    if (!settled() && timeoutMs > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        let waiters = this.vmWaiters.get(id);
        if (!waiters) this.vmWaiters.set(id, (waiters = new Set()));
        const set = waiters;
        const done = () => {
          clearTimeout(timer);
          set.delete(check);
          if (set.size === 0) this.vmWaiters.delete(id);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const check = () => {
          if (settled()) done();
        };
        const timer = setTimeout(done, timeoutMs);
        set.add(check);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    return copy(sv.vm);
  }

  deleteVm(id: string): SimVm {
    this.assertRunning();
    const sv = this.state.vms[id];
    if (!sv) throw notFound('VM', id);
    if (sv.vm.state === 'shutting-down' || sv.vm.state === 'terminated') return copy(sv.vm);
    this.cancelBoot(id);
    sv.vm.state = 'shutting-down';
    sv.terminateAt = Date.now() + this.latencyDice.sample(this.profile.deleteMs);
    delete sv.bootAt;
    this.commit([this.event('vm.shutting-down', { clusterId: sv.vm.clusterId, vmId: id, message: `VM ${sv.vm.name} shutting down` })], { vms: [id] });
    this.notifyVm(id);
    this.track(this.finishVmTermination(id));
    return copy(sv.vm);
  }

  private async finishVmTermination(id: string): Promise<void> {
    const sv = this.state.vms[id];
    if (!sv) return;
    const snapshot = copy(sv.vm);
    await Promise.all([
      this.sleepUntil(sv.terminateAt ?? Date.now()),
      snapshot.launchedAt ? this.runRuntime(`shutdown ${id}`, () => this.runtime.shutdown(snapshot, 'deleted', this.ctx)) : undefined,
    ]);
    if (this.stopping || sv.vm.state !== 'shutting-down') return;
    sv.vm.state = 'terminated';
    sv.vm.terminatedAt = iso(Date.now());
    delete sv.terminateAt;
    this.commitInBackground(`vm ${id} terminated`, [this.event('vm.terminated', { clusterId: sv.vm.clusterId, vmId: id, message: `VM ${sv.vm.name} terminated`, data: { reason: 'deleted' } })], { vms: [id] });
    this.notifyVm(id);
  }

  // ---- API: fault injection --------------------------------------------------------------------

  getFaults(): SimFaults {
    return this.faults.current;
  }

  setFaults(body: unknown): SimFaults {
    const next = mergeFaults(this.faults.current, body);
    this.faults.set(next);
    this.state.faults = next;
    this.commit([this.event('faults.set', { message: 'fault injection changed', data: { ...next } })], {});
    return next;
  }

  /** The seeded dice for request faults (used by the HTTP layer before a request does anything). */
  get faultInjector(): FaultInjector {
    return this.faults;
  }

  async vmAction(id: string, action: string): Promise<SimVm> {
    const sv = this.state.vms[id];
    if (!sv) throw notFound('VM', id);
    switch (action) {
      case 'kill':
        return this.killVm(sv);
      case 'node-not-ready':
      case 'node-ready': {
        if (sv.vm.state !== 'running') {
          throw new ApiError(409, 'IncorrectInstanceState', `VM ${id} is ${sv.vm.state}; ${action} needs a running VM`);
        }
        const ready = action === 'node-ready';
        const snapshot = copy(sv.vm);
        try {
          await this.withTimeout(this.runtime.setNodeReady(snapshot, ready, this.ctx), `setNodeReady ${id}`);
        } catch (err) {
          throw new ApiError(500, 'InternalError', `runtime could not ${action}: ${(err as Error).message}`);
        }
        return copy(sv.vm);
      }
      default:
        throw new ApiError(404, 'NotFound', `no VM action ${JSON.stringify(action)} (actions: kill, node-not-ready, node-ready)`);
    }
  }

  private killVm(sv: StoredVm): SimVm {
    const vm = sv.vm;
    if (vm.state === 'terminated') return copy(vm);
    this.cancelBoot(vm.id);
    const wasLaunched = vm.launchedAt !== undefined;
    const from = vm.state;
    vm.state = 'terminated';
    vm.stateReason = 'killed';
    vm.terminatedAt = iso(Date.now());
    delete sv.bootAt;
    delete sv.terminateAt;
    this.commit([
      this.event('vm.killed', { clusterId: vm.clusterId, vmId: vm.id, message: `VM ${vm.name} killed (was ${from})`, data: { from } }),
      this.event('vm.terminated', { clusterId: vm.clusterId, vmId: vm.id, message: `VM ${vm.name} terminated`, data: { reason: 'killed' } }),
    ], { vms: [vm.id] });
    this.notifyVm(vm.id);
    if (wasLaunched) {
      const snapshot = copy(vm);
      this.track(this.runRuntime(`shutdown(killed) ${vm.id}`, () => this.runtime.shutdown(snapshot, 'killed', this.ctx)));
    }
    this.log(`vm ${vm.id} killed`);
    return copy(vm);
  }

  // ---- API: events -----------------------------------------------------------------------------

  eventsSince(seq: number, limit?: number): SimEvent[] {
    return this.events.since(seq, limit);
  }

  waitForEvents(since: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.events.waitAfter(since, this.stopping ? 0 : timeoutMs, signal);
  }

  // ---- latency, process lifecycle --------------------------------------------------------------

  apiLatencyMs(): number {
    return this.latencyDice.sample(this.profile.apiLatencyMs);
  }

  retryAfterMs(): number {
    return this.latencyDice.sample(this.profile.retryAfterMs);
  }

  get savedApiPort(): number | undefined {
    return this.state.apiPort;
  }

  /** Remembers the API port so a restart without `--port` comes back on the same URL. */
  recordApiPort(port: number): void {
    if (this.state.apiPort === port) return;
    this.state.apiPort = port;
    this.commit([], {});
  }

  /** Stops timers and waits, closes the runtime, the load balancers and the event log. State stays on disk. */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.bootTimers.values()) clearTimeout(t);
    this.bootTimers.clear();
    for (const t of this.sleeps) clearTimeout(t);
    this.sleeps.clear();
    for (const id of [...this.vmWaiters.keys()]) this.notifyVm(id);
    try {
      await this.withTimeout(this.runtime.close(), 'runtime close', 30_000);
    } catch (err) {
      this.log(`runtime close: ${(err as Error).message}`);
    }
    await Promise.all([...this.lbs.values()].map((lb) => lb.close()));
    this.lbs.clear();
    this.finalized = true;
    this.events.close();
    this.store.close();
  }

  // ---- internals -------------------------------------------------------------------------------

  private assertRunning(): void {
    if (this.stopping) throw new ApiError(503, 'ServiceUnavailable', 'the cloud is shutting down');
  }

  private event(type: string, e: EventInput): SimEvent {
    return this.events.make(type, e);
  }

  /**
   * State first (with its events in the outbox), then the event log: see events.ts. `touched`
   * names every VM and cluster record the change altered (state.ts journals those alone).
   */
  private commit(events: SimEvent[], touched: Touched): void {
    this.state.outbox = events;
    this.store.save(this.state, touched);
    this.events.append(events);
  }

  private commitInBackground(what: string, events: SimEvent[], touched: Touched): void {
    try {
      this.commit(events, touched);
    } catch (err) {
      this.log(`could not persist (${what}): ${(err as Error).message}`);
    }
  }

  private emit(type: string, e: EventInput): void {
    this.events.append([this.events.make(type, e)]);
  }

  private replayCluster(req: ClusterRequest): SimCluster | undefined {
    const id = this.state.clusterTokens[req.clientToken];
    if (id === undefined) return undefined;
    const c = this.state.clusters[id]!.cluster;
    const diff = [c.name !== req.name && 'name', c.region !== req.region && 'region'].filter(Boolean);
    if (diff.length > 0) {
      throw new ApiError(409, 'IdempotentParameterMismatch', `clientToken was used for cluster ${id} with a different ${diff.join(', ')}`, 'clientToken');
    }
    return copy(c);
  }

  private replayVm(req: VmRequest, digest: string): SimVm | undefined {
    const id = this.state.vmTokens[req.clientToken];
    if (id === undefined) return undefined;
    const sv = this.state.vms[id]!;
    const v = sv.vm;
    const diff = [
      v.clusterId !== req.clusterId && 'clusterId',
      v.name !== req.name && 'name',
      v.instanceType !== req.instanceType && 'instanceType',
      v.image !== req.image && 'image',
      v.failureDomain !== req.failureDomain && 'failureDomain',
      sv.userDataSha256 !== digest && 'userData',
    ].filter(Boolean);
    if (diff.length > 0) {
      throw new ApiError(409, 'IdempotentParameterMismatch', `clientToken was used for VM ${id} with a different ${diff.join(', ')}`, 'clientToken');
    }
    return copy(v);
  }

  private newId(prefix: string, bytes: number, taken: Record<string, unknown>): string {
    for (;;) {
      const id = prefix + randomBytes(bytes).toString('hex');
      if (!(id in taken)) return id;
    }
  }

  private allocateOctet(): number {
    const used = new Set(Object.values(this.state.clusters).filter((c) => c.cluster.state !== 'deleted').map((c) => c.octet));
    for (let i = 0; i < 254; i++) {
      const octet = ((this.state.nextOctet - 1 + i) % 254) + 1;
      if (!used.has(octet)) {
        this.state.nextOctet = (octet % 254) + 1;
        return octet;
      }
    }
    throw new ApiError(400, 'AddressLimitExceeded', 'all 254 cluster networks (10.1-254.0.0/16) are in use');
  }

  private allocateAddress(sc: StoredCluster): string {
    let n = sc.nextHost;
    while ((n & 255) === 0 || (n & 255) === 255) n++;
    if (n >= 65535) throw new ApiError(400, 'InsufficientFreeAddressesInSubnet', `cluster ${sc.cluster.id} has no free addresses`);
    sc.nextHost = n + 1;
    return `10.${sc.octet}.${n >> 8}.${n & 255}`;
  }

  private scheduleBoot(id: string): void {
    const sv = this.state.vms[id];
    if (!sv || sv.bootAt === undefined) return;
    this.cancelBoot(id);
    const t = setTimeout(() => this.bootNow(id), Math.max(0, sv.bootAt - Date.now()));
    this.bootTimers.set(id, t);
  }

  private cancelBoot(id: string): void {
    const t = this.bootTimers.get(id);
    if (t) clearTimeout(t);
    this.bootTimers.delete(id);
  }

  private bootNow(id: string): void {
    this.bootTimers.delete(id);
    const sv = this.state.vms[id];
    if (!sv || sv.vm.state !== 'pending' || this.stopping) return;
    sv.vm.state = 'running';
    sv.vm.launchedAt = iso(Date.now());
    delete sv.bootAt;
    this.commitInBackground(`vm ${id} running`, [this.event('vm.running', { clusterId: sv.vm.clusterId, vmId: id, message: `VM ${sv.vm.name} running` })], { vms: [id] });
    this.notifyVm(id);
    const snapshot = copy(sv.vm);
    const userData = this.readUserDataOrFail(id);
    if (userData === undefined) return;
    this.track(this.runRuntime(`boot ${id}`, () => this.runtime.boot(snapshot, userData, this.ctx), (msg) => this.failBootstrap(id, msg)));
  }

  private readUserDataOrFail(id: string): string | undefined {
    try {
      return this.store.readUserData(id);
    } catch (err) {
      this.failBootstrap(id, `user data unreadable: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return undefined;
    }
  }

  private failBootstrap(id: string, message: string): void {
    if (this.finalized) return;
    this.setBootstrapStatus(id, 'failed', message);
    this.emit('bootstrap.failed', { clusterId: this.state.vms[id]?.vm.clusterId, vmId: id, message });
  }

  private notifyVm(id: string): void {
    const set = this.vmWaiters.get(id);
    if (set) for (const check of [...set]) check();
  }

  private sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleeps.delete(t);
        resolve();
      }, Math.max(0, at - Date.now()));
      this.sleeps.add(t);
    });
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    p.finally(() => this.background.delete(p)).catch(() => {});
  }

  private withTimeout<T>(p: Promise<T>, what: string, ms = this.runtimeTimeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: runtime did not answer within ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Runs a runtime call in the background; never rejects (errors are logged and handed to onError). */
  private async runRuntime(what: string, call: () => Promise<void>, onError?: (message: string) => void): Promise<void> {
    try {
      await this.withTimeout(Promise.resolve().then(call), what);
    } catch (err) {
      const message = `runtime ${what} failed: ${(err as Error).message}`;
      this.log(message);
      if (!this.stopping) onError?.(message);
    }
  }

  private setLoadBalancerBackend(clusterId: string, backend: SimEndpoint | null): void {
    const sc = this.state.clusters[clusterId];
    if (!sc || sc.cluster.state !== 'available') {
      this.log(`runtime set a backend on cluster ${clusterId}, which is ${sc ? sc.cluster.state : 'unknown'}: ignored`);
      return;
    }
    const next = backend ? { host: backend.host, port: backend.port } : null;
    const same = (sc.backend === null && next === null) || (sc.backend && next && sc.backend.host === next.host && sc.backend.port === next.port);
    this.lbs.get(clusterId)?.setBackend(next);
    if (same) return;
    sc.backend = next;
    this.commitInBackground(`backend of ${clusterId}`, [
      this.event('loadbalancer.backend', {
        clusterId,
        message: next ? `load balancer forwards to ${next.host}:${next.port}` : 'load balancer backend cleared',
        data: { backend: next },
      }),
    ], { clusters: [clusterId] });
  }

  private setBootstrapStatus(vmId: string, status: RuntimeBootstrapStatus, message?: string): void {
    const sv = this.state.vms[vmId];
    if (!sv) return;
    sv.vm.bootstrap = message === undefined ? { status } : { status, message };
    this.commitInBackground(`bootstrap of ${vmId}`, [], { vms: [vmId] });
  }

  private makeContext(): VmRuntimeContext {
    const guard = (what: string): boolean => {
      if (this.finalized) {
        this.log(`runtime called ${what} after the cloud closed: ignored`);
        return false;
      }
      return true;
    };
    return {
      dataDir: this.dataDir,
      profile: this.profile,
      random: () => this.runtimeDice.next(),
      sample: (range) => this.runtimeDice.sample(range),
      emit: (type, e) => {
        if (!guard(`emit(${type})`)) return;
        if (typeof type !== 'string' || type === '') throw new Error('emit: type must be a non-empty string');
        this.emit(type, e);
      },
      setLoadBalancerBackend: (clusterId, backend) => {
        if (guard('setLoadBalancerBackend')) this.setLoadBalancerBackend(clusterId, backend);
      },
      loadBalancerBackend: (clusterId) => {
        const b = this.state.clusters[clusterId]?.backend;
        return b ? { ...b } : null;
      },
      cluster: (clusterId) => {
        const sc = this.state.clusters[clusterId];
        return sc ? copy(sc.cluster) : undefined;
      },
      vm: (vmId) => {
        const sv = this.state.vms[vmId];
        return sv ? copy(sv.vm) : undefined;
      },
      vmsOf: (clusterId) => this.listVms(clusterId),
      setBootstrapStatus: (vmId, status, message) => {
        if (guard('setBootstrapStatus')) this.setBootstrapStatus(vmId, status, message);
      },
      log: (message) => this.log(`runtime: ${message}`),
    };
  }
}
