// The worker's observer waker: what lets an idle cluster cost no Temporal action at all.
//
// A Cluster's Node-conditions mirror and a MachineHealthCheck observe through a long activity,
// and a long activity heartbeats (each heartbeat is a billed action) so that a dead worker is
// noticed. When such an observer has seen nothing change for a while it returns its mark
// (observer-marks.ts) and its workflow stops observing, showing the mark in its CapstanQuiet
// search attribute. This waker, in every worker process and outside any activity, lists the quiet
// workflows (visibility: no action), follows their clusters' Nodes through the worker's Node
// watches and their Machines through visibility, computes the same mark, and signals a workflow
// whose mark no longer matches; it then observes again. A workload API that fails for longer than
// a wait tolerates wakes them too, so the Cluster shows the failure as an observing one does.
// Nothing here is state that matters: a worker that dies loses nothing (another worker's waker,
// or its replacement's, lists the same workflows), and a second worker only repeats a wake-up,
// which a workflow that is no longer quiet ignores.
import type { Client } from '@temporalio/client';
import type { V1Node } from '@kubernetes/client-node';
import { flowOf } from '../workflows/flow.js';
import type { ObjectKey } from '../workflows/ids.js';
import { wakeObserverSignal } from '../workflows/messages.js';
import { markOf, SA_CLUSTER, SA_KIND, SA_NAMESPACE, SA_PHASE, SA_QUIET } from '../workflows/search-attributes.js';
import { describeError } from './errors.js';
import { listDeployments, listMachines, type MachineRecord } from './machine-list.js';
import type { NodeFollow, NodeWatches } from './node-watch.js';
import { healthTargetsMark, nodeConditionsMark } from './observer-marks.js';

export interface ObserverWakerOptions {
  temporal: Client;
  nodeWatches: NodeWatches;
  /** The worker's task queue: the quiet workflows of another capstan sharing the namespace are not this one's. */
  taskQueue: string;
  /** How often the quiet workflows are listed (ms). */
  listEveryMs?: number;
  /** How often a followed cluster's Machines are listed again (ms). */
  relistMachinesMs?: number;
  /** How long a cluster's workload API may fail before its quiet observers are woken to show it (ms; the waits' grace, 60 s). */
  unreachableGraceMs?: number;
  /** Where a failure is told (a line, no secret); default: stderr. */
  log?: (line: string) => void;
}

/** A workflow that stopped observing, and the mark it showed. */
interface Sleeper {
  workflowId: string;
  kind: string;
  value: string;
  mark: string;
  /** Its behaviour revision: a revision-10 health check's mark also holds the deployments' current sets. */
  flow: number;
}

/** Whether a sleeper's mark holds its cluster's deployments' current sets (revision 10). */
const withSets = (s: Pick<Sleeper, 'kind' | 'flow'>) => s.kind === 'MachineHealthCheck' && s.flow >= 10;

interface FollowedCluster {
  key: ObjectKey;
  sleepers: Sleeper[];
  follow?: NodeFollow;
  following?: Promise<void>;
  machines?: MachineRecord[];
  /** Each deployment's current set (and remediation limit), listed with the machines while a revision-10 health check sleeps. */
  currentSets?: Record<string, string>;
  maxInFlight?: Record<string, number>;
  listedAt: number;
  checking?: Promise<void>;
  again: boolean;
  debounce?: NodeJS.Timeout;
}

const DEBOUNCE_MS = 200;
/** A mismatch seen on a machine list older than this is checked on a new list before anyone is woken. */
const RELIST_BEFORE_WAKE_MS = 1000;

/** The mark a quiet workflow of `kind` would compute now. */
export function currentMark(kind: string, machines: readonly MachineRecord[], nodes: readonly V1Node[], currentSets?: Record<string, string>, maxInFlight?: Record<string, number>): string {
  return kind === 'Cluster' ? nodeConditionsMark(machines, nodes) : healthTargetsMark(machines, nodes, currentSets, maxInFlight);
}

export class ObserverWaker {
  private readonly clusters = new Map<string, FollowedCluster>();
  /** workflow ID → the CapstanQuiet value it was woken for (not woken again for the same one). */
  private readonly woken = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private passing?: Promise<void>;
  private readonly listEveryMs: number;
  private readonly relistMachinesMs: number;
  private readonly unreachableGraceMs: number;
  private readonly log: (line: string) => void;
  private lastLogged = '';
  /** Wake-ups sent (for tests and the benchmark). */
  wakes = 0;

  constructor(private readonly o: ObserverWakerOptions) {
    this.listEveryMs = o.listEveryMs ?? 5000;
    this.relistMachinesMs = o.relistMachinesMs ?? 30_000;
    this.unreachableGraceMs = o.unreachableGraceMs ?? 60_000;
    this.log = o.log ?? ((line) => process.stderr.write(`[capstan worker] observer waker: ${line}\n`));
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.passing = this.pass()
        .catch((err: unknown) => this.warn(`listing quiet observers: ${describeError(err)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.listEveryMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.passing;
    for (const c of this.clusters.values()) this.drop(c);
    this.clusters.clear();
  }

  /** One pass: list the quiet workflows, follow their clusters, wake those whose mark no longer matches. */
  async pass(): Promise<void> {
    const query = `${SA_QUIET.name} != '' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.o.taskQueue}'`;
    const byCluster = new Map<string, { key: ObjectKey; sleepers: Sleeper[] }>();
    for await (const wf of this.o.temporal.workflow.list({ query })) {
      const value = wf.typedSearchAttributes.get(SA_QUIET);
      const mark = markOf(value);
      const kind = wf.typedSearchAttributes.get(SA_KIND);
      const name = wf.typedSearchAttributes.get(SA_CLUSTER);
      const namespace = wf.typedSearchAttributes.get(SA_NAMESPACE);
      // A deleting object has stopped observing for good.
      if (!mark || !value || !kind || !name || !namespace || wf.typedSearchAttributes.get(SA_PHASE) === 'Deleting') continue;
      const id = `${namespace}/${name}`;
      const entry = byCluster.get(id) ?? { key: { namespace, name }, sleepers: [] };
      entry.sleepers.push({ workflowId: wf.workflowId, kind, value, mark, flow: flowOf(wf.memo) });
      byCluster.set(id, entry);
    }
    if (this.stopped) return;
    const shown = new Set<string>();
    for (const [id, { key, sleepers }] of byCluster) {
      for (const s of sleepers) shown.add(s.workflowId);
      let c = this.clusters.get(id);
      if (!c) {
        c = { key, sleepers, listedAt: 0, again: false };
        this.clusters.set(id, c);
      }
      // A new quiet spell may have been marked from machines this waker has not listed yet.
      if (sleepers.some((s) => !c!.sleepers.some((o) => o.workflowId === s.workflowId && o.value === s.value))) c.listedAt = 0;
      c.sleepers = sleepers;
      await this.ensureFollowing(c);
      this.check(c);
    }
    for (const [id, c] of this.clusters) {
      if (byCluster.has(id)) continue;
      this.drop(c);
      this.clusters.delete(id);
    }
    for (const id of [...this.woken.keys()]) if (!shown.has(id)) this.woken.delete(id);
  }

  /** Waits for the checks running now (tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.checking));
  }

  private async ensureFollowing(c: FollowedCluster): Promise<void> {
    if (c.follow) return;
    c.following ??= this.o.nodeWatches
      .follow(c.key, () => this.soon(c))
      .then(
        (f) => {
          if (this.stopped || this.clusters.get(`${c.key.namespace}/${c.key.name}`) !== c) f.close();
          else c.follow = f;
        },
        (err: unknown) => this.warn(`following the Nodes of cluster ${c.key.namespace}/${c.key.name}: ${describeError(err)}`),
      )
      .finally(() => (c.following = undefined));
    await c.following;
  }

  private soon(c: FollowedCluster): void {
    if (c.debounce || this.stopped) return;
    c.debounce = setTimeout(() => {
      c.debounce = undefined;
      this.check(c);
    }, DEBOUNCE_MS);
    c.debounce.unref();
  }

  /** Compares each sleeper's mark with what the cluster shows now; one check at a time per cluster. */
  private check(c: FollowedCluster): void {
    if (c.checking) {
      c.again = true;
      return;
    }
    c.checking = this.checkOnce(c)
      .catch((err: unknown) => this.warn(`cluster ${c.key.namespace}/${c.key.name}: ${describeError(err)}`))
      .finally(() => {
        c.checking = undefined;
        if (c.again && !this.stopped) {
          c.again = false;
          this.check(c);
        }
      });
  }

  private async checkOnce(c: FollowedCluster): Promise<void> {
    const waiting = c.sleepers.filter((s) => this.woken.get(s.workflowId) !== s.value);
    if (!waiting.length) return;
    const nodes = c.follow?.nodes();
    if (!nodes) {
      // Not listed yet, or the workload API is failing. Once it has failed for as long as a wait
      // tolerates, the observers are woken: their failing rounds show why on their objects (the
      // Cluster's "following Nodes: …"), where a quiet observer would show nothing.
      const since = c.follow?.failingSince();
      if (since !== undefined && Date.now() - since >= this.unreachableGraceMs) await this.wake(waiting);
      return;
    }
    if (!c.machines || Date.now() - c.listedAt >= this.relistMachinesMs) await this.listMachines(c);
    // Each kind's mark once per list (every sleeper of a kind watches the same machines and Nodes).
    const changed = () => {
      const marks = new Map<string, string>();
      return waiting.filter((s) => {
        const key = `${s.kind}/${withSets(s)}`;
        if (!marks.has(key)) marks.set(key, currentMark(s.kind, c.machines!, nodes, withSets(s) ? (c.currentSets ?? {}) : undefined, withSets(s) ? c.maxInFlight : undefined));
        return marks.get(key) !== s.mark;
      });
    };
    let wake = changed();
    // A Node that changed may belong to a machine whose new phase the list does not show yet (a
    // deleting machine's Node goes): look again before waking anyone, as the mirror does before telling.
    if (wake.length && Date.now() - c.listedAt >= RELIST_BEFORE_WAKE_MS) {
      await this.listMachines(c);
      wake = changed();
    }
    await this.wake(wake);
  }

  private async listMachines(c: FollowedCluster): Promise<void> {
    const sets = c.sleepers.some(withSets);
    const [machines, deployments] = await Promise.all([
      listMachines(this.o.temporal, c.key, 'the observer waker'),
      sets ? listDeployments(this.o.temporal, c.key, 'the observer waker') : Promise.resolve(undefined),
    ]);
    c.machines = machines;
    c.currentSets = deployments?.currentSets;
    c.maxInFlight = deployments?.maxInFlight;
    c.listedAt = Date.now();
  }

  /** Signals each one wakeObserver, once per CapstanQuiet value. */
  private async wake(sleepers: Sleeper[]): Promise<void> {
    for (const s of sleepers) {
      try {
        await this.o.temporal.workflow.getHandle(s.workflowId).signal(wakeObserverSignal);
        this.wakes++;
      } catch (err) {
        // Gone meanwhile: nothing to wake. Anything else is tried again at the next pass.
        if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      }
      this.woken.set(s.workflowId, s.value);
    }
  }

  private drop(c: FollowedCluster): void {
    if (c.debounce) clearTimeout(c.debounce);
    c.follow?.close();
    c.follow = undefined;
  }

  /** One line per distinct failure in a row, so a cluster that stays unreachable does not flood the log. */
  private warn(line: string): void {
    if (line === this.lastLogged) return;
    this.lastLogged = line;
    this.log(line);
  }
}
