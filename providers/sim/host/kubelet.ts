// A simulated kubelet, in-process: with the node's own client certificate (system:node:<name>) it
// registers the Node, posts its status (Ready=False until the "CNI" is up after nodeReadyMs, then
// Ready=True; Ready=False again while the node-not-ready fault is in force), renews its
// kube-node-lease Lease every 10 s, and runs the pods bound to its node (pods.ts: reports them
// Running and Ready after podStartMs, confirms their deletion). It stops with its VM; the Node
// object and its pods stay (deleting the Node is the Machine controller's job, as in Cluster API).
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import { callOptions, describeApiError, isConflict, isNotFound, type KubeClients } from './kube.js';
import { NodePods, type ClusterPodInformer } from './pods.js';
import { leaseObject, NOT_READY_NETWORK, nodeObject, nodeStatus, type NodeIdentity, type ReadyState } from './node-objects.js';
import { AbortedError, kubeTime, sleep } from './util.js';

export const NOT_READY_FAULT: ReadyState = {
  ready: false,
  reason: 'KubeletNotReady',
  message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized (injected fault)',
};

export interface KubeletOptions {
  identity: NodeIdentity;
  clients: KubeClients;
  /** Delay from start until the node reports Ready (the profile's nodeReadyMs); 0 after a cloud restart. */
  readyAfterMs: number;
  /** The node-not-ready fault is in force. */
  faultNotReady: boolean;
  leaseRenewMs: number;
  leaseDurationSeconds: number;
  nodeStatusReportMs: number;
  /** The cluster's shared pod watch and the pod start delay; absent: the kubelet runs no pods. */
  pods?: { informer: ClusterPodInformer; startDelayMs(): number; onStarted?(namespace: string, name: string, sinceSeenMs: number): void };
  /** The Node exists: `created` when this kubelet created it. */
  onRegistered(created: boolean): void;
  /** The posted Ready condition changed (`previous` undefined: the first post for a Node that had none). */
  onReadyChanged(state: ReadyState, previous: boolean | undefined): void;
  log(message: string): void;
}

export class SimKubelet {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private faultNotReady: boolean;
  private wake: (() => void) | undefined;
  private nodeUid: string | undefined;
  private lease: V1Lease | undefined;
  private postedReady: boolean | undefined;
  private lastStatusAt = 0;
  private lastLeaseAt = 0;
  private readonly transitions: Record<string, string> = {};
  private lastProblem: string | undefined;
  private podWork: { pods: NodePods; unsubscribe(): void } | undefined;
  registered = false;

  constructor(private readonly opts: KubeletOptions) {
    this.faultNotReady = opts.faultNotReady;
  }

  get nodeName(): string {
    return this.opts.identity.nodeName;
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run().catch((err: unknown) => {
      if (!(err instanceof AbortedError)) this.opts.log(`kubelet ${this.nodeName} stopped on an error: ${describeApiError(err)}`);
    });
  }

  /** Fault injection: report Ready=False (false) until set back (true); posts at once. */
  setFaultNotReady(notReady: boolean): void {
    this.faultNotReady = notReady;
    this.lastStatusAt = 0;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.loop;
    this.podWork?.unsubscribe();
    this.podWork?.pods.stop();
    this.podWork = undefined;
  }

  /** Pods bound to this node are now this kubelet's: started once it has registered its Node. */
  private runPods(): void {
    const p = this.opts.pods;
    if (!p || this.podWork || this.signal.aborted) return;
    const { identity, clients, log } = this.opts;
    const hostIp = identity.vm.addresses.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
    const pods = new NodePods({
      nodeName: identity.nodeName,
      clients,
      hostIp,
      startDelayMs: p.startDelayMs,
      onStarted: (pod, ms) => p.onStarted?.(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', ms),
      log,
    });
    this.podWork = { pods, unsubscribe: p.informer.subscribe(identity.nodeName, pods) };
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private problem(what: string, err: unknown): void {
    const text = `${what}: ${describeApiError(err)}`;
    // One line per change of trouble, not one per retry.
    if (text !== this.lastProblem) this.opts.log(`kubelet ${this.nodeName}: ${text}`);
    this.lastProblem = text;
  }

  private healthy(): void {
    if (this.lastProblem) this.opts.log(`kubelet ${this.nodeName}: API reachable again`);
    this.lastProblem = undefined;
  }

  /** Sleeps up to `ms`, or less when woken (a fault was set) or stopped. */
  private async nap(ms: number): Promise<void> {
    await Promise.race([sleep(ms, this.signal), new Promise<void>((r) => (this.wake = r))]);
    this.wake = undefined;
    if (this.signal.aborted) throw new AbortedError();
  }

  private async run(): Promise<void> {
    const started = Date.now();
    await this.register();
    this.runPods();
    // A kubelet that restarts on a Node it had already made Ready keeps it Ready (it does not
    // replay its start-up NotReady): only a new Node waits out `readyAfterMs`.
    const readyAt = this.postedReady === true ? started : started + this.opts.readyAfterMs;
    for (;;) {
      if (this.signal.aborted) throw new AbortedError();
      const now = Date.now();
      const desired: ReadyState = this.faultNotReady ? NOT_READY_FAULT : now >= readyAt ? { ready: true } : NOT_READY_NETWORK;
      if (desired.ready !== this.postedReady || now - this.lastStatusAt >= this.opts.nodeStatusReportMs) {
        await this.postStatus(desired);
      }
      if (Date.now() - this.lastLeaseAt >= this.opts.leaseRenewMs) await this.renewLease();
      // Wake for the next lease renewal, the Ready deadline, or soon after a failed post.
      let next = this.lastLeaseAt + this.opts.leaseRenewMs - Date.now();
      if (this.postedReady !== desired.ready) next = Math.min(next, 1000);
      if (!this.faultNotReady && this.postedReady !== true) next = Math.min(next, Math.max(10, readyAt - Date.now()));
      await this.nap(Math.max(10, Math.min(next, this.opts.leaseRenewMs)));
    }
  }

  /** Like the kubelet's tryRegisterWithAPIServer: create the Node, or find the one already there. */
  private async register(): Promise<void> {
    let backoff = 200;
    for (;;) {
      if (this.signal.aborted) throw new AbortedError();
      let node: V1Node | undefined;
      let created = false;
      try {
        node = await this.opts.clients.core.readNode({ name: this.nodeName }, callOptions(10_000, undefined, this.signal));
      } catch (err) {
        if (isNotFound(err)) {
          try {
            node = await this.opts.clients.core.createNode({ body: nodeObject(this.opts.identity, NOT_READY_NETWORK, this.transitionsNow()) }, callOptions(10_000, undefined, this.signal));
            created = true;
          } catch (createErr) {
            if (!isConflict(createErr)) this.problem('registering the node', createErr);
          }
        } else {
          this.problem('looking up the node', err);
        }
      }
      if (node) {
        this.healthy();
        this.nodeUid = node.metadata?.uid;
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        for (const c of node.status?.conditions ?? []) {
          if (c.lastTransitionTime) this.transitions[`${c.type}=${c.status}`] = kubeTime(new Date(c.lastTransitionTime));
        }
        // A Node created just now carries Ready=False; a Node found after a restart carries what was posted.
        this.postedReady = created ? false : ready ? ready.status === 'True' : undefined;
        if (created) this.lastStatusAt = Date.now();
        this.registered = true;
        this.opts.onRegistered(created);
        if (created) this.opts.onReadyChanged(NOT_READY_NETWORK, undefined);
        // Said again after a restart: the cloud may have died between the post and its log entry.
        else if (this.postedReady === true && !this.faultNotReady) this.opts.onReadyChanged({ ready: true }, undefined);
        return;
      }
      await this.nap(backoff);
      backoff = Math.min(backoff * 2, 7000);
    }
  }

  private transitionsNow(): Record<string, string> {
    const t = kubeTime();
    for (const c of ['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=False']) this.transitions[c] ??= t;
    return this.transitions;
  }

  private async postStatus(state: ReadyState): Promise<void> {
    const status = state.ready ? 'True' : 'False';
    const changed = this.postedReady !== state.ready;
    const transitions = { ...this.transitionsNow() };
    if (changed) transitions[`Ready=${status}`] = kubeTime();
    try {
      await this.opts.clients.core.patchNodeStatus(
        { name: this.nodeName, body: { status: nodeStatus(this.opts.identity, state, transitions) } },
        callOptions(10_000, 'strategic', this.signal),
      );
    } catch (err) {
      if (this.signal.aborted) throw new AbortedError();
      this.problem('posting node status', err);
      return;
    }
    this.healthy();
    Object.assign(this.transitions, transitions);
    this.lastStatusAt = Date.now();
    const previous = this.postedReady;
    this.postedReady = state.ready;
    if (changed) this.opts.onReadyChanged(state, previous);
  }

  /** Like the kubelet's lease controller: update the cached Lease, re-read on conflict, create when missing. */
  private async renewLease(): Promise<void> {
    const { coordination } = this.opts.clients;
    const ns = 'kube-node-lease';
    const desired = leaseObject(this.nodeName, this.nodeUid, this.opts.leaseDurationSeconds);
    try {
      if (!this.lease) {
        try {
          this.lease = await coordination.readNamespacedLease({ name: this.nodeName, namespace: ns }, callOptions(10_000, undefined, this.signal));
        } catch (err) {
          if (!isNotFound(err)) throw err;
          this.lease = await coordination.createNamespacedLease({ namespace: ns, body: desired }, callOptions(10_000, undefined, this.signal));
          this.lastLeaseAt = Date.now();
          this.healthy();
          return;
        }
      }
      const body: V1Lease = { ...this.lease, metadata: { ...this.lease.metadata, ownerReferences: desired.metadata?.ownerReferences ?? this.lease.metadata?.ownerReferences }, spec: { ...this.lease.spec, ...desired.spec } };
      this.lease = await coordination.replaceNamespacedLease({ name: this.nodeName, namespace: ns, body }, callOptions(10_000, undefined, this.signal));
      this.lastLeaseAt = Date.now();
      this.healthy();
    } catch (err) {
      // Stale cache (409) or the Lease was deleted (404): read it again next time.
      if (isConflict(err) || isNotFound(err)) this.lease = undefined;
      this.problem('renewing the node lease', err);
      // Retry sooner than a full period, as the kubelet's lease controller backs off from 200 ms.
      this.lastLeaseAt = Date.now() - this.opts.leaseRenewMs + Math.min(this.opts.leaseRenewMs, 1000);
    }
  }
}
