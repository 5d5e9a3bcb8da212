// Machine conditions that follow their Node for the machine's whole life. One long activity per
// cluster (run by its Cluster workflow) joins the cluster's running Machines (visibility) with
// the worker's Node watch of that cluster, and tells each machine whose NodeReady/NodeHealthy
// (workflows/planners/node-conditions.ts) differ from what it was last told, by one signal. A
// healthy Node is what a machine sets itself on coming up, so only a change away from or back to
// healthy sends anything: a steady fleet costs no signal, and the activity returns only then
// with what it told, which the Cluster keeps for the next round. After quietMs with nothing to
// tell it returns its mark instead (observer-marks.ts): the Cluster stops observing until the
// worker's waker sees the mark no longer match (observer-waker.ts), so an idle cluster costs no
// action at all.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { V1Node } from '@kubernetes/client-node';
import type { ObjectKey } from '../workflows/ids.js';
import { nodeConditionsSignal } from '../workflows/messages.js';
import { HEALTHY_NODE_KEY } from '../workflows/planners/node-conditions.js';
import { listMachines, type MachineRecord, waitOnMachinesAndNodes } from './machine-list.js';
import { failingSinceOf } from './errors.js';
import { heartbeat } from './heartbeat.js';
import type { NodeWatches } from './node-watch.js';
import { nodeConditionChanges, nodeConditionsMark, OBSERVER_QUIET_MS } from './observer-marks.js';

export interface NodeConditionsDeps {
  temporal?: Client;
  nodeWatches: NodeWatches;
  unreachableGraceMs?: number;
  /** How long an observer sees nothing change before it returns quiet (ms). */
  observerQuietMs?: number;
}

/** How often a round that waits for a workload API to answer again asks it (revision 6). */
const PROBE_EVERY_MS = 2000;

export function nodeConditionActivities({ temporal, nodeWatches, unreachableGraceMs = 60_000, observerQuietMs = OBSERVER_QUIET_MS }: NodeConditionsDeps) {
  return {
    /**
     * Waits until a Running machine's Node conditions differ from `told`, signals each such
     * machine, and returns what it has now told (healthy machines and machines gone dropped).
     * Signals are idempotent: a retried attempt may tell a machine the same thing again.
     * Nothing to tell for observerQuietMs (or maxWaitSeconds, if shorter): returns `quiet`, the
     * mark the worker's waker compares with what it sees.
     *
     * Revision 6 (`probe` given): the round is also the Cluster's RemoteConnectionProbe. A watch
     * that has failed for the grace, on an API that does not answer /readyz either, ends it with
     * `unreachable` (since when the watch failed) instead of failing; a round that starts knowing so
     * (`probe.failedSince`) asks /readyz every few seconds, however long, and returns as soon as
     * the API answers. Both ask the API itself, not only this worker's watch, which may be a
     * backoff behind or a dead stream ahead of it.
     */
    async mirrorNodeConditions(input: {
      cluster: ObjectKey;
      told: Record<string, string>;
      maxWaitSeconds: number;
      probe?: { failedSince?: string };
    }): Promise<{ told: Record<string, string>; changed: string[]; quiet?: string; unreachable?: string }> {
      if (input.probe?.failedSince) {
        await untilAnswering(input.cluster, input.probe.failedSince);
        return { told: input.told, changed: [] };
      }
      try {
        return await mirrorRound(input);
      } catch (err) {
        const since = input.probe && err instanceof ApplicationFailure ? failingSinceOf(err.details) : undefined;
        // The watch failed for the grace: unreachable, unless the API answers after all (then the
        // watch, started again, is retried as any failing round is).
        if (since && !(await nodeWatches.answers(input.cluster))) return { told: input.told, changed: [], unreachable: since };
        throw err;
      }
    },
  };

  /** Returns once the cluster's API answers /readyz, heartbeating meanwhile (cancellable). */
  async function untilAnswering(cluster: ObjectKey, since: string): Promise<void> {
    const ctx = Context.current();
    while (!(await nodeWatches.answers(cluster))) {
      heartbeat(`workload API not answering since ${since}`);
      await ctx.sleep(PROBE_EVERY_MS);
    }
  }

  async function mirrorRound(input: { cluster: ObjectKey; told: Record<string, string>; maxWaitSeconds: number }): Promise<{ told: Record<string, string>; changed: string[]; quiet?: string }> {
    const deadline = Date.now() + Math.min(input.maxWaitSeconds * 1000, observerQuietMs);
    const deps = { temporal, nodeWatches, graceMs: unreachableGraceMs };
    let machines: MachineRecord[];
    let changes: ReturnType<typeof nodeConditionChanges>;
    let quiet: string | undefined;
    for (;;) {
      ({ machines, changes, quiet } = await waitOnMachinesAndNodes(deps, input.cluster, 'node conditions', (ms, nodes) => {
        const c = nodeConditionChanges(ms, nodes, input.told);
        if (c.length) return { machines: ms, changes: c, quiet: undefined };
        return Date.now() >= deadline ? { machines: ms, changes: c, quiet: nodeConditionsMark(ms, nodes) } : undefined;
      }));
      if (!changes.length) break; // the deadline: return what was told, and the mark
      // Look again before telling: a machine the list showed Running may be deleting by now
      // (its Node drained and deleted): it has nothing to hear, and a signal (and this
      // activity's return) are actions. Only what is still so is told; else wait on.
      machines = await listMachines(temporal, input.cluster, 'node conditions');
      const listed = machines;
      changes = await nodeWatches.waitFor(input.cluster, (nodes) => nodeConditionChanges(listed, nodes, input.told), { waiting: () => 'reading Nodes', graceMs: unreachableGraceMs });
      if (changes.length || Date.now() >= deadline) break;
    }
    const live = new Set(machines.map((m) => m.name));
    const told = Object.fromEntries(Object.entries(input.told).filter(([name]) => live.has(name)));
    for (const c of changes) {
      // A machine that finished meanwhile has nobody to tell; it is recorded as told all the
      // same, so it is not tried again in a loop (and leaves the record once it is not listed).
      await temporal!.workflow
        .getHandle(c.machine.workflowId)
        .signal(nodeConditionsSignal, c.conditions)
        .catch(() => undefined);
      if (c.key === HEALTHY_NODE_KEY) delete told[c.machine.name];
      else told[c.machine.name] = c.key;
    }
    return { told, changed: changes.map((c) => c.machine.name), ...(quiet && !changes.length ? { quiet } : {}) };
  }
}
