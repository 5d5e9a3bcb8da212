// One Node informer per workload cluster, shared by every wait of the worker on that cluster:
// a list, then a watch from its resourceVersion (kubernetes-client's ListWatch: it re-lists on
// 410 Gone and reconnects after a watch times out); on any other error it stops, and we start
// it again with a backoff (1 s doubling to 30 s). A wait (a machine's Node to appear, to turn
// Ready) is a predicate over the cache, checked again on every change: no polling, and one
// watch per cluster instead of a LIST of every Node per waiting machine per second.
// A watch nobody waits on for IDLE_STOP_MS is stopped; the next wait starts it again.
import { Context } from '@temporalio/activity';
import { CoreV1Api, ListWatch, Watch, type V1Node } from '@kubernetes/client-node';
import type { SecretStore } from '../providers/secrets/store.js';
import type { ObjectKey } from '../workflows/ids.js';
import { waitTrouble } from './errors.js';
import { heartbeat } from './heartbeat.js';
import { workloadClient, workloadKubeConfig } from './workload-client.js';

const IDLE_STOP_MS = 60_000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** How long the active probe (NodeWatches.answers) waits for /readyz. */
const PROBE_TIMEOUT_MS = 5000;
/** How often a wait looks at its deadline and heartbeats while nothing changes. */
const TICK_MS = 1000;

interface ClusterWatch {
  key: string;
  informer: ListWatch<V1Node>;
  /** The first list has been received: an empty cache means no Node, not "not known yet". */
  synced: boolean;
  /** Since when the watch has been failing, and why (cleared by the next successful list or event). */
  trouble?: { since: number; error: unknown };
  /** Errors seen so far: a start that saw none has listed. */
  errors: number;
  waiters: Set<() => void>;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
  stopped: boolean;
}

export interface NodeWaitOptions {
  /** Why we are still waiting, for the heartbeat and the UI. */
  waiting: (nodes: readonly V1Node[]) => string;
  /** How long a failing watch is tolerated before the attempt fails with its reason (ms). */
  graceMs: number;
  /** Runs every few seconds while waiting (e.g. to refresh a bootstrap token). */
  periodic?: { everyMs: number; run: () => Promise<void> };
}

/** A cluster's Nodes followed outside any activity (NodeWatches.follow). */
export interface NodeFollow {
  nodes(): readonly V1Node[] | undefined;
  failingSince(): number | undefined;
  close(): void;
}

export class NodeWatches {
  private readonly watches = new Map<string, ClusterWatch>();
  private closed = false;

  constructor(private readonly secrets: SecretStore) {}

  /**
   * Resolves with `pick`'s first defined answer over the cluster's Nodes. Throws (retryable)
   * when the watch has failed for longer than graceMs, and the wait's cancellation.
   */
  async waitFor<T>(cluster: ObjectKey, pick: (nodes: readonly V1Node[]) => T | undefined, o: NodeWaitOptions): Promise<T> {
    const w = await this.acquire(cluster);
    let wake: () => void = () => undefined;
    const waiter = () => wake();
    w.waiters.add(waiter);
    let nextPeriodic = Date.now() + (o.periodic?.everyMs ?? Infinity);
    try {
      for (;;) {
        if (w.synced) {
          const found = pick(w.informer.list());
          if (found !== undefined) return found;
        }
        let why = w.synced ? o.waiting(w.informer.list()) : 'listing Nodes';
        if (w.trouble) why = waitTrouble(w.trouble.error, w.trouble.since, o.graceMs);
        if (o.periodic && Date.now() >= nextPeriodic) {
          nextPeriodic = Date.now() + o.periodic.everyMs;
          await o.periodic.run();
        }
        heartbeat(why);
        const changed = new Promise<void>((resolve) => (wake = resolve));
        await Promise.race([changed, Context.current().sleep(TICK_MS)]);
      }
    } finally {
      w.waiters.delete(waiter);
      this.release(w);
    }
  }

  /**
   * Follows the cluster's Nodes outside any activity (the worker's observer waker): `onChange`
   * runs after every change and every failure; `nodes()` is the cache once listed, undefined
   * before that and while the watch is failing; `failingSince()` is when the watch started failing
   * (undefined while it works). `close()` lets the watch stop when nobody else waits.
   */
  async follow(cluster: ObjectKey, onChange: () => void): Promise<NodeFollow> {
    const w = await this.acquire(cluster);
    w.waiters.add(onChange);
    let closed = false;
    return {
      nodes: () => (w.synced && !w.trouble && !w.stopped ? w.informer.list() : undefined),
      failingSince: () => w.trouble?.since,
      close: () => {
        if (closed) return;
        closed = true;
        w.waiters.delete(onChange);
        this.release(w);
      },
    };
  }

  /**
   * Whether the cluster's API answers now: one GET /readyz (an active probe, as Cluster API's
   * cluster cache makes one, not this worker's view of its watch, which may be a backoff behind
   * or a dead stream ahead). When it answers, a failing watch is started again at once.
   */
  async answers(cluster: ObjectKey, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
    let ok: boolean;
    try {
      ok = (await (await workloadClient(this.secrets, cluster)).get('/readyz', timeoutMs)).status === 200;
    } catch {
      ok = false;
    }
    const w = this.watches.get(`${cluster.namespace}/${cluster.name}`);
    if (ok && w?.trouble && w.restartTimer && !w.stopped) {
      clearTimeout(w.restartTimer);
      w.restartTimer = undefined;
      w.backoffMs = BACKOFF_FIRST_MS;
      this.start(w);
    }
    return ok;
  }

  /** Stops every watch (the worker is shutting down). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(all.map((w) => this.stop(w)));
  }

  /** Watches running now (for tests). */
  get active(): string[] {
    return [...this.watches.keys()];
  }

  private async acquire(cluster: ObjectKey): Promise<ClusterWatch> {
    if (this.closed) throw new Error('the worker is shutting down');
    const key = `${cluster.namespace}/${cluster.name}`;
    let w = this.watches.get(key);
    if (!w) {
      // Reads the kubeconfig here, in the worker; it never leaves this process.
      const kc = await workloadKubeConfig(this.secrets, cluster);
      w = this.watches.get(key); // another wait may have started it meanwhile
      if (!w) {
        const core = kc.makeApiClient(CoreV1Api);
        const informer = new ListWatch<V1Node>('/api/v1/nodes', new Watch(kc), () => core.listNode(), false);
        const created: ClusterWatch = { key, informer, synced: false, waiters: new Set(), backoffMs: BACKOFF_FIRST_MS, stopped: false, errors: 0 };
        const notify = () => {
          created.trouble = undefined;
          created.backoffMs = BACKOFF_FIRST_MS;
          for (const fn of [...created.waiters]) fn();
        };
        informer.on('change', notify);
        informer.on('delete', notify);
        informer.on('error', (err: unknown) => this.failed(created, err));
        this.watches.set(key, created);
        w = created;
        this.start(created);
      }
    }
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.idleTimer = undefined;
    return w;
  }

  private start(w: ClusterWatch): void {
    const errorsBefore = w.errors;
    // Resolves once listed and watching, or after the error callback (which `failed` counts).
    w.informer.start().then(
      () => {
        if (w.stopped || w.errors !== errorsBefore) return;
        w.synced = true;
        w.trouble = undefined;
        w.backoffMs = BACKOFF_FIRST_MS;
        for (const fn of [...w.waiters]) fn();
      },
      (err: unknown) => this.failed(w, err),
    );
  }

  private failed(w: ClusterWatch, err: unknown): void {
    if (w.stopped) return;
    w.errors++;
    w.trouble ??= { since: Date.now(), error: err };
    w.trouble.error = err;
    for (const fn of [...w.waiters]) fn();
    if (w.restartTimer) return;
    const delay = w.backoffMs;
    w.backoffMs = Math.min(w.backoffMs * 2, BACKOFF_MAX_MS);
    w.restartTimer = setTimeout(() => {
      w.restartTimer = undefined;
      if (!w.stopped) this.start(w);
    }, delay);
    w.restartTimer.unref();
  }

  private release(w: ClusterWatch): void {
    if (w.waiters.size > 0 || w.stopped) return;
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.idleTimer = setTimeout(() => {
      if (w.waiters.size > 0) return;
      this.watches.delete(w.key);
      void this.stop(w);
    }, IDLE_STOP_MS);
    w.idleTimer.unref();
  }

  private async stop(w: ClusterWatch): Promise<void> {
    w.stopped = true;
    if (w.restartTimer) clearTimeout(w.restartTimer);
    if (w.idleTimer) clearTimeout(w.idleTimer);
    for (const fn of [...w.waiters]) fn();
    await w.informer.stop().catch(() => undefined);
  }
}
