// The pods of the simulated kubelets. A real kubelet watches the pods bound to its node
// (fieldSelector spec.nodeName=<node>), starts their containers, reports them Running and Ready,
// and when one is deleted (graceful deletion by a delete or by the Eviction API) stops its
// containers and confirms with a delete of grace period 0.
//
// Here the watch is ONE list+watch per workload cluster (ClusterPodInformer), shared by all of the
// cluster's simulated kubelets in this process and routed by spec.nodeName: a cluster of 1,000
// workers costs its API server one watch, not 1,000 (and not 1,000 reconnects per watch timeout).
// It reads with the host's own admin identity, as only a reader. Every WRITE is made by the node's
// own kubelet with its node client certificate (NodePods), so the Node authorizer and
// NodeRestriction police them exactly as they police a real kubelet: status of pods bound to the
// node, deletion of pods bound to the node.
import { createHash, randomBytes } from 'node:crypto';
import { ListWatch, Watch, type KubeConfig, type V1Container, type V1ContainerStatus, type V1Pod, type V1PodCondition } from '@kubernetes/client-node';
import { callOptions, describeApiError, isConflict, isNotFound, type KubeClients } from './kube.js';
import { kubeTime } from './util.js';

export interface PodHandler {
  /** A pod bound to the node was added or changed (also replayed for pods already there). */
  onPod(pod: V1Pod): void;
  /** A pod bound to the node is gone from the API. */
  onGone(pod: V1Pod): void;
}

export interface ClusterPodInformerOptions {
  clusterId: string;
  /** A reader of every pod of the cluster (the host's admin identity), through the load balancer. */
  reader(): { clients: KubeClients; config: KubeConfig };
  log(message: string): void;
}

/** One list+watch of the cluster's bound pods (`spec.nodeName!=`), routed to node handlers. */
export class ClusterPodInformer {
  private readonly handlers = new Map<string, PodHandler>();
  private lw: ListWatch<V1Pod> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 500;
  private lastProblem: string | undefined;
  private stopped = false;

  constructor(private readonly opts: ClusterPodInformerOptions) {}

  get nodes(): number {
    return this.handlers.size;
  }

  /** Routes the pods bound to `nodeName` to `handler` (replaying those already known); returns the unsubscribe. */
  subscribe(nodeName: string, handler: PodHandler): () => void {
    this.handlers.set(nodeName, handler);
    if (!this.lw) this.start();
    else for (const pod of this.lw.list()) if (pod.spec?.nodeName === nodeName) handler.onPod(pod);
    return () => {
      if (this.handlers.get(nodeName) === handler) this.handlers.delete(nodeName);
      if (this.handlers.size === 0) this.stop();
    };
  }

  private start(): void {
    this.stopped = false;
    const { clients, config } = this.opts.reader();
    const lw = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(config),
      () => clients.core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=' }, callOptions(30_000)),
      false,
      undefined,
      'spec.nodeName!=',
    );
    const route = (verb: 'pod' | 'gone') => (pod: V1Pod) => {
      this.healthy();
      const handler = pod.spec?.nodeName ? this.handlers.get(pod.spec.nodeName) : undefined;
      if (!handler) return;
      if (verb === 'pod') handler.onPod(pod);
      else handler.onGone(pod);
    };
    lw.on('add', route('pod'));
    lw.on('update', route('pod'));
    lw.on('delete', route('gone'));
    // ListWatch stops on any error but a 410 or a watch timeout (client-node's cache.ts): a watcher
    // that stops silently is the classic informer bug, so restart it, backing off while it fails.
    lw.on('error', (err: unknown) => {
      if (this.stopped || this.lw !== lw) return;
      const text = `pod watch of cluster ${this.opts.clusterId}: ${describeApiError(err)}; retrying`;
      if (text !== this.lastProblem) this.opts.log(text);
      this.lastProblem = text;
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.stopped && this.lw === lw) void lw.start();
      }, delay);
    });
    this.lw = lw;
    void lw.start();
  }

  private healthy(): void {
    this.retryMs = 500;
    if (this.lastProblem) this.opts.log(`pod watch of cluster ${this.opts.clusterId}: watching again`);
    this.lastProblem = undefined;
  }

  /** Drops the watch (the API server is stopping); subscriptions stay, and resume() watches again. */
  pause(): void {
    this.stop();
  }

  /** Watches again after pause(), if any kubelet still subscribes. */
  resume(): void {
    if (!this.lw && this.handlers.size > 0) this.start();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const lw = this.lw;
    this.lw = undefined;
    void lw?.stop();
  }
}

/**
 * The node's pod range: a /24 of 100.64.0.0/10 picked by the node's host number in its cluster
 * network (InternalIP 10.c.h.l → 100.(64 + h%64).l.0/24), so nodes of one cluster never share one
 * (up to 16,384 nodes). Pods get .2 to .254.
 */
export function nodePodPrefix(internalIp: string | undefined): string {
  const m = /^\d+\.\d+\.(\d+)\.(\d+)$/.exec(internalIp ?? '');
  const h = m ? Number(m[1]) : 0;
  const l = m ? Number(m[2]) : 1;
  return `100.${64 + (h % 64)}.${l}`;
}

export interface NodePodsOptions {
  nodeName: string;
  /** The node's own credentials (system:node:<name>). */
  clients: KubeClients;
  hostIp: string;
  /** From a pod seen bound to the node until it is reported Running and Ready (the profile's podStartMs). */
  startDelayMs(): number;
  /** The pod was reported Running and Ready, `sinceSeenMs` after this kubelet first saw it bound here. */
  onStarted?(pod: V1Pod, sinceSeenMs: number): void;
  log(message: string): void;
}

/** A kubelet's pod work, with the node's credentials: start what is bound here, confirm deletions. */
export class NodePods implements PodHandler {
  private readonly starting = new Map<string, NodeJS.Timeout>();
  private readonly deleting = new Set<string>();
  /** When each pod waiting to start was first seen bound here (creationTimestamp has whole seconds only). */
  private readonly seenAt = new Map<string, number>();
  /** Pod IPs in use on this node, by pod UID (learned from status too, so a restart reuses none). */
  private readonly ips = new Map<string, string>();
  private readonly prefix: string;
  private nextHost = 2;
  private stopped = false;

  constructor(private readonly opts: NodePodsOptions) {
    this.prefix = nodePodPrefix(opts.hostIp);
  }

  onPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || this.stopped) return;
    if (pod.status?.podIP) this.ips.set(uid, pod.status.podIP);
    if (pod.metadata?.deletionTimestamp) {
      this.cancelStart(uid);
      this.seenAt.delete(uid);
      this.confirmDeletion(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    if (isRunningAndReady(pod) || this.starting.has(uid)) return;
    this.scheduleStart(pod, this.opts.startDelayMs());
  }

  onGone(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.cancelStart(uid);
    this.seenAt.delete(uid);
    this.deleting.delete(uid);
    this.ips.delete(uid);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.starting.values()) clearTimeout(t);
    this.starting.clear();
  }

  private cancelStart(uid: string): void {
    const t = this.starting.get(uid);
    if (t) clearTimeout(t);
    this.starting.delete(uid);
  }

  private scheduleStart(pod: V1Pod, delayMs: number): void {
    const uid = pod.metadata!.uid!;
    if (!this.seenAt.has(uid)) this.seenAt.set(uid, Date.now());
    const timer = setTimeout(() => {
      void this.start(pod).then(
        (done) => {
          if (this.starting.get(uid) !== timer) return;
          this.starting.delete(uid);
          if (!done && !this.stopped) this.scheduleStart(pod, 1000);
        },
        () => undefined,
      );
    }, delayMs);
    this.starting.set(uid, timer);
  }

  private podIp(uid: string): string {
    const have = this.ips.get(uid);
    if (have) return have;
    const used = new Set(this.ips.values());
    for (let i = 0; i < 253; i++) {
      const ip = `${this.prefix}.${this.nextHost}`;
      this.nextHost = this.nextHost >= 254 ? 2 : this.nextHost + 1;
      if (!used.has(ip)) {
        this.ips.set(uid, ip);
        return ip;
      }
    }
    throw new Error(`node ${this.opts.nodeName} has no free pod IP in ${this.prefix}.0/24`);
  }

  /** Reports the pod Running and Ready, as the kubelet's status manager does: a strategic merge patch of pods/status with a UID precondition. True when done (or moot). */
  private async start(pod: V1Pod): Promise<boolean> {
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    let podIp: string;
    try {
      podIp = this.podIp(uid);
    } catch (err) {
      this.opts.log(`kubelet ${this.opts.nodeName}: pod ${namespace}/${name}: ${(err as Error).message}`);
      return false;
    }
    const body = { metadata: { uid }, status: runningStatus(pod, this.opts.hostIp, podIp) };
    try {
      await this.opts.clients.core.patchNamespacedPodStatus({ name, namespace, body }, callOptions(10_000, 'strategic'));
    } catch (err) {
      // Gone, or a different pod of the same name now (UID precondition): nothing to start.
      if (isNotFound(err) || isConflict(err)) return true;
      this.opts.log(`kubelet ${this.opts.nodeName}: starting pod ${namespace}/${name}: ${describeApiError(err)}`);
      return false;
    }
    const seen = this.seenAt.get(uid);
    this.seenAt.delete(uid);
    this.opts.onStarted?.(pod, seen === undefined ? 0 : Date.now() - seen);
    return true;
  }

  /** The containers are "stopped" at once: confirm the deletion with grace period 0, as the kubelet does once they have exited. */
  private confirmDeletion(pod: V1Pod): void {
    const { namespace, name, uid } = pod.metadata as { namespace: string; name: string; uid: string };
    if (this.deleting.has(uid)) return;
    this.deleting.add(uid);
    const attempt = async (backoffMs: number): Promise<void> => {
      if (this.stopped || !this.deleting.has(uid)) return;
      try {
        await this.opts.clients.core.deleteNamespacedPod(
          { name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } },
          callOptions(10_000),
        );
        return;
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return;
        this.opts.log(`kubelet ${this.opts.nodeName}: deleting pod ${namespace}/${name}: ${describeApiError(err)}`);
      }
      await new Promise((r) => setTimeout(r, backoffMs));
      await attempt(Math.min(backoffMs * 2, 10_000));
    };
    void attempt(500);
  }
}

export function isRunningAndReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !!pod.status.podIP && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

const hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the kubelet reports once every container runs: phase, conditions, IPs and container states. */
export function runningStatus(pod: V1Pod, hostIp: string, podIp: string, now = new Date()): NonNullable<V1Pod['status']> {
  const t = kubeTime(now) as unknown as Date;
  const condition = (type: string): V1PodCondition => ({ type, status: 'True', lastProbeTime: null as unknown as Date, lastTransitionTime: t });
  const types = ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'];
  // PodScheduled is the scheduler's (kept with its own time); a pod created with spec.nodeName set has none.
  if (!pod.status?.conditions?.some((c) => c.type === 'PodScheduled')) types.push('PodScheduled');
  const base = (c: V1Container) => ({
    name: c.name,
    image: c.image ?? '',
    imageID: `sha256:${hex(c.image ?? c.name)}`,
    containerID: `containerd://${randomBytes(32).toString('hex')}`,
    restartCount: 0,
  });
  const running = (c: V1Container): V1ContainerStatus => ({ ...base(c), ready: true, started: true, state: { running: { startedAt: t } } });
  const initStatuses = (pod.spec?.initContainers ?? []).map(
    (c): V1ContainerStatus =>
      c.restartPolicy === 'Always'
        ? running(c) // a sidecar keeps running
        : { ...base(c), ready: true, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } } },
  );
  return {
    phase: 'Running',
    conditions: types.map(condition),
    hostIP: hostIp,
    hostIPs: [{ ip: hostIp }],
    podIP: podIp,
    podIPs: [{ ip: podIp }],
    startTime: pod.status?.startTime ?? t,
    containerStatuses: (pod.spec?.containers ?? []).map(running),
    ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
  };
}
