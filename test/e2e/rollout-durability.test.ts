// A MachineDeployment rollout survives whatever stops under it. One 1-control-plane cluster on
// the simulated cloud (fast test latencies) with a MachineDeployment of REPLICAS workers
// (maxSurge 3, maxUnavailable 1), rolled by a template change four times, each time with
// something broken mid-rollout: (a) the worker process killed with SIGKILL and a new one
// started; (b) the Temporal dev server stopped and restarted on the same SQLite file; (c) the
// simulated cloud killed with SIGKILL and restarted; (d) 20% of provider calls answered 429 or
// 500. Each rollout ends with exactly the desired VMs (each machine the deployment reports has
// one live VM, created once; no other VM), one set with every machine up to date and available,
// and the cloud's event log shows that at no moment were more than replicas + maxSurge of the
// deployment's VMs alive nor fewer than replicas − maxUnavailable running.
// Then (e) stability: once converged, a quiet window with no Temporal action (a long observer's
// heartbeat aside: no workflow task, no write), no cloud event and no write to the workload API
// by capstan's identity (its API server's audit log says who wrote what);
// and (f) continue-as-new: the server suggests it after a few hundred events, so the deployment
// and its sets continue as new during the rollouts, and every run's history replays.
// REPLICAS is 20 (about 3.5 minutes for the file on 2 cores); CAPSTAN_ROLLOUT_REPLICAS overrides it.
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { readKubeconfig } from '../../client/commands.js';
import { machineDeploymentWorkflowId, machineSetWorkflowId } from '../../workflows/ids.js';
import { machineDeploymentStatusQuery, machineSetStatusQuery } from '../../workflows/messages.js';
import type { MachineDeploymentView } from '../../workflows/types.js';
import { eventually, startCapstanEnv, workflowBundle, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, fewestReadyNodes, liveVms, readyNodesLow, slowestActivities, nodeReady, vmExtremes, workloadNodes } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { actions as actionsByType } from '../bench/actions.js';
import { auditExtraArgs, auditWrites, CAPSTAN_WORKLOAD_USER } from '../support/audit-writes.js';
import { type SimCloudClient, SimServerError, SimThrottledError } from '../../providers/sim/client.js';

/** The cloud's client, retrying what the injected faults answer (429, 500) for the test's own reads. */
function patient(sim: SimCloudClient): SimCloudClient {
  return new Proxy(sim, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } catch (err) {
            if (attempt >= 30 || !(err instanceof SimThrottledError || err instanceof SimServerError)) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
    },
  });
}

const REPLICAS = Number(process.env.CAPSTAN_ROLLOUT_REPLICAS ?? 20);
const MAX_SURGE = 3;
const MAX_UNAVAILABLE = 1;
/** The server suggests continue-as-new past this many history events (Temporal's default: 4,096). */
const SUGGEST_CONTINUE_AS_NEW = 200;
const PREFIX = 'demo-md-0-';
const TEMPORAL_DOWN_MS = 10_000;

const sample = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');

/** The sample MachineDeployment at REPLICAS, maxSurge 3, maxUnavailable 1, with this instance type. */
function manifest(instanceType: string): string {
  const text = sample
    .replace('  replicas: 3\n', `  replicas: ${REPLICAS}\n`)
    .replace('maxSurge: 1', `maxSurge: ${MAX_SURGE}`)
    .replace('maxUnavailable: 0', `maxUnavailable: ${MAX_UNAVAILABLE}`)
    .replace('instanceType: sim.medium', `instanceType: ${instanceType}`);
  if (!text.includes(`replicas: ${REPLICAS}`) || !text.includes(`maxSurge: ${MAX_SURGE}`) || !text.includes(`instanceType: ${instanceType}`)) {
    throw new Error('the sample MachineDeployment changed shape: fix manifest()');
  }
  return text;
}

/**
 * Temporal's own `action` counter (what it bills by), summed over the default namespace; without
 * the heartbeats of the long observers (the Cluster's Node-condition mirror heartbeats every
 * ~96 s while it waits: not a workflow task, and no write anywhere).
 */
async function actions(metricsUrl: string, o: { heartbeats: boolean } = { heartbeats: true }): Promise<number> {
  let sum = 0;
  for (const [type, n] of await actionsByType(metricsUrl)) if (o.heartbeats || type !== HEARTBEAT) sum += n;
  return sum;
}
const HEARTBEAT = 'grpc_RecordActivityTaskHeartbeat';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe(`MachineDeployment rollout of ${REPLICAS} machines (maxSurge ${MAX_SURGE}, maxUnavailable ${MAX_UNAVAILABLE}) through crashes and faults`, () => {
  let env: CapstanEnv;
  /** The workload API server's audit log of writes. */
  let auditLog: string;
  // The test's own calls to the cloud meet the faults it injects in (d): they retry them.
  let cloud: SimCloudClient;
  const id = machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' });
  const status = () => env.client.workflow.getHandle(id).query(machineDeploymentStatusQuery);
  const converged = (v: MachineDeploymentView, revision: number) =>
    v.sets.length === 1 &&
    v.sets[0]!.new &&
    v.sets[0]!.revision === revision &&
    v.status?.replicas === REPLICAS &&
    v.status.upToDateReplicas === REPLICAS &&
    v.status.availableReplicas === REPLICAS;
  const untilConverged = (revision: number) =>
    eventually(`revision ${revision}: one set, ${REPLICAS} up to date and available`, async () => {
      const v = await status();
      return converged(v, revision) ? v : undefined;
    }, 300_000, 300);

  /**
   * Every expectation a rollout ends with; `fromSeq` is the last cloud event before it began
   * (none for the first bring-up, which starts from zero running).
   */
  async function expectExactlyDesired(v: MachineDeploymentView, instanceType: string, fromSeq?: number) {
    expect(v.status?.conditions.find((c) => c.type === 'RollingOut')?.status).toBe('False');
    const set = await env.client.workflow.getHandle(machineSetWorkflowId({ namespace: 'default', name: v.sets[0]!.name })).query(machineSetStatusQuery);
    const machines = set.machines.map((m) => m.name).sort();
    expect(machines).toHaveLength(REPLICAS);
    expect(set.machines.every((m) => m.phase === 'Running' && m.nodeReady && !m.deleting)).toBe(true);
    // No orphan, none lost: the cloud's live VMs of the deployment are exactly its machines, running the new template.
    const vms = (await liveVms(cloud)).filter((x) => x.name.startsWith(PREFIX));
    expect(vms.map((x) => x.name).sort()).toEqual(machines);
    expect(vms.every((x) => x.state === 'running' && x.instanceType === instanceType)).toBe(true);
    // No duplicate: one create per machine name, ever (across every rollout so far).
    const events = await allEvents(cloud);
    const creates = new Map<string, number>();
    for (const e of events) {
      const name = e.type === 'vm.created' ? /^VM (\S+) created/.exec(e.message)?.[1] : undefined;
      if (name?.startsWith(PREFIX)) creates.set(name, (creates.get(name) ?? 0) + 1);
    }
    expect([...creates].filter(([, n]) => n !== 1)).toEqual([]);
    for (const m of machines) expect(creates.get(m), m).toBe(1);
    // Surge and availability at every moment of the cloud's log.
    const { maxAlive, minRunning } = vmExtremes(events, PREFIX, fromSeq ?? events.at(-1)!.seq);
    expect(maxAlive).toBeLessThanOrEqual(REPLICAS + MAX_SURGE);
    if (fromSeq !== undefined) {
      expect(minRunning).toBeGreaterThanOrEqual(REPLICAS - MAX_UNAVAILABLE);
      const { fewest: minReady, seq: lowAt } = readyNodesLow(events, PREFIX, fromSeq);
      console.log(`[rollout-durability] at most ${maxAlive} VMs alive, at least ${minRunning} running and ${minReady} Ready nodes`);
      if (minReady < REPLICAS - MAX_UNAVAILABLE && lowAt !== undefined) {
        // What led to the dip: the cloud's log around it.
        const around = events.filter((e) => e.seq > lowAt - 40 && e.seq <= lowAt + 5);
        console.log(`[rollout-durability] fewest Ready nodes at event ${lowAt}:\n${around.map((e) => `  ${e.seq} ${e.time} ${e.type} ${e.vmId ?? ''} ${e.message}`).join('\n')}`);
      }
      expect(minReady).toBeGreaterThanOrEqual(REPLICAS - MAX_UNAVAILABLE);
    }
    // And the workload cluster has a Ready Node for each machine, and no other worker Node.
    const nodes = (await workloadNodes(env.dataDir, 'demo')).filter((n) => n.metadata!.name!.startsWith(PREFIX));
    expect(nodes.map((n) => n.metadata!.name!).sort()).toEqual(machines);
    expect(nodes.every(nodeReady)).toBe(true);
  }

  let revision = 1;
  /**
   * Rolls to `instanceType` through apply and, once the rollout has replaced some machines but
   * not all (at least maxSurge new VMs running and as many old ones alive), runs `disrupt`.
   */
  async function rollout(instanceType: string, disrupt: () => Promise<void>) {
    const started = Date.now();
    const fromSeq = (await allEvents(cloud)).at(-1)!.seq;
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'md.yaml', text: manifest(instanceType) }]));
    expect(lines.map((l) => `${l.object} ${l.result}`)).toEqual(['machinedeployment.cluster.capstan.dev/demo-md-0 configured']);
    revision++;
    const mid = await eventually('mid-rollout', async () => {
      const vms = (await liveVms(cloud)).filter((x) => x.name.startsWith(PREFIX));
      const fresh = vms.filter((x) => x.instanceType === instanceType && x.state === 'running').length;
      const old = vms.filter((x) => x.instanceType !== instanceType).length;
      return fresh >= MAX_SURGE && old >= MAX_SURGE ? { fresh, old } : undefined;
    }, 120_000, 100);
    await disrupt();
    const v = await untilConverged(revision);
    console.log(`[rollout-durability] ${instanceType}: disrupted with ${mid.fresh} new VMs running and ${mid.old} old alive; converged in ${seconds(Date.now() - started)}`);
    // What took longest, from the histories (for whoever wonders why a run was slow).
    console.log(`[rollout-durability] slowest activities:\n  ${(await slowestActivities(env.client, 'machine/default/demo-md-0-', started)).join('\n  ')}`);
    await expectExactlyDesired(v, instanceType, fromSeq);
  }

  beforeAll(async () => {
    const started = Date.now();
    env = await startCapstanEnv({
      worker: 'process',
      temporalDbFile: true,
      temporalDynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW },
    });
    cloud = patient(env.simClient);
    // The workload API server logs who writes what (for (e)).
    const audit = auditExtraArgs(env.dataDir, '          ');
    auditLog = audit.logFile;
    const anchor = '      apiServer:\n        extraArgs:\n';
    if (!DEMO_CONTROL_PLANE.includes(anchor)) throw new Error('the demo control plane lost its apiServer extraArgs: fix the audit flags');
    const controlPlane = DEMO_CONTROL_PLANE.replace('replicas: 3', 'replicas: 1').replace(anchor, anchor + audit.yaml);
    const plan = loadPlan([{ file: 'demo.yaml', text: controlPlane }, { file: 'md.yaml', text: manifest('sim.medium') }]);
    plan.machines = [];
    await executePlan(env.client, env.taskQueue, plan);
    const v = await untilConverged(1);
    console.log(`[rollout-durability] ${REPLICAS} workers up in ${seconds(Date.now() - started)}`);
    await expectExactlyDesired(v, 'sim.medium');
  }, 400_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('the Ready-node check sees a dip when one is planted', () => {
    const ev = (seq: number, type: string, vmId: string, name = '') => ({ seq, time: '', type, vmId, message: type === 'vm.created' ? `VM ${name} created (worker)` : '' });
    const events = [
      ev(1, 'vm.created', 'a', `${PREFIX}x-a`),
      ev(2, 'vm.created', 'b', `${PREFIX}x-b`),
      ev(3, 'vm.created', 'c', 'other-c'),
      ev(4, 'node.ready', 'a'),
      ev(5, 'node.ready', 'b'),
      ev(6, 'node.ready', 'c'),
      ev(7, 'node.not-ready', 'a'),
      ev(8, 'node.ready', 'a'),
      ev(9, 'vm.shutting-down', 'b'),
    ];
    expect(fewestReadyNodes(events, PREFIX, 5)).toBe(1);
    expect(fewestReadyNodes(events, PREFIX, 7)).toBe(1);
    expect(fewestReadyNodes(events, PREFIX, 8)).toBe(1);
    expect(fewestReadyNodes(events.slice(0, 8), PREFIX, 7)).toBe(2);
  });

  it('(a) kill -9 of the worker mid-rollout: a new worker finishes it with exactly the desired VMs', async () => {
    await rollout('sim.large', async () => {
      const killed = env.workerProcess!;
      await killed.kill9();
      expect(killed.running).toBe(false);
      await env.startWorker();
    });
  }, 400_000);

  it('(b) the Temporal server stopped and restarted on its database mid-rollout: client and worker reconnect and finish it', async () => {
    await rollout('sim.small', async () => {
      const t = Date.now();
      // Down long enough that pollers, completions and heartbeats all fail and back off.
      await env.restartTemporal({ downMs: TEMPORAL_DOWN_MS });
      console.log(`[rollout-durability] Temporal down and back in ${seconds(Date.now() - t)}`);
    });
    // The same worker process carried on: it reconnected rather than exiting.
    expect(env.workerProcess?.running).toBe(true);
  }, 400_000);

  it('(c) kill -9 and restart of the simulated cloud mid-rollout: exactly the desired VMs', async () => {
    await rollout('sim.medium', async () => {
      await env.sim.kill9();
      await env.restartSim();
    });
  }, 400_000);

  it('(d) 20% of provider calls answered 429 or 500 through a rollout: exactly the desired VMs', async () => {
    await cloud.setFaults({ throttleRate: 0.1, errorRate: 0.1, failAfterCommitRate: 0 });
    try {
      // The faults are on from the start; nothing more to break mid-rollout.
      await rollout('sim.large', async () => undefined);
    } finally {
      await cloud.setFaults({ throttleRate: 0, errorRate: 0, failAfterCommitRate: 0 });
    }
    // The faults were really hit: activities of this rollout's machines needed more than one attempt.
    const setName = (await status()).sets[0]!.name;
    let retried = 0;
    for await (const wf of env.client.workflow.list({ query: `WorkflowId STARTS_WITH "machine/default/${setName}-"` })) {
      const h = await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      for (const e of h.events ?? []) if ((e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) retried++;
    }
    console.log(`[rollout-durability] activities retried under faults: ${retried}`);
    expect(retried).toBeGreaterThan(0);
  }, 400_000);

  it('(e) once converged, a quiet window: no Temporal action (but an observer\'s heartbeat), no cloud event, no workload-API write by capstan', async () => {
    // The rollout just converged (d); a moment for the last reports to land, then nothing may move.
    await new Promise((r) => setTimeout(r, 3000));
    // Writes to the workload API by capstan's identity, from the API server's audit log: the
    // cluster's own (kubelets' Leases and Node status, the controller manager's taints and Events)
    // are the cluster's business. capstan's cordons, evictions and Node deletions during the
    // rollouts are there under that identity: the log attributes what the test forbids.
    const byCapstan = (from = 0) => auditWrites(auditLog).slice(from).filter((w) => w.user === CAPSTAN_WORKLOAD_USER).map((w) => w.what);
    expect(byCapstan().filter((w) => w.startsWith('delete nodes ')).length).toBeGreaterThanOrEqual(4 * REPLICAS);
    const seq = (await allEvents(cloud)).at(-1)!.seq;
    const before = await actions(env.temporal.metricsUrl, { heartbeats: false });
    const mark = auditWrites(auditLog).length;
    // No query in the window: a query is an action too.
    await new Promise((r) => setTimeout(r, 10_000));
    const after = await actions(env.temporal.metricsUrl, { heartbeats: false });
    const others = auditWrites(auditLog).slice(mark).filter((w) => w.user !== CAPSTAN_WORKLOAD_USER && !w.user.startsWith('system:node:'));
    if (others.length) console.log(`[rollout-durability] the cluster's own writes in the window:\n  ${others.map((w) => `${w.user}: ${w.what}`).join('\n  ')}`);
    expect(after - before).toBe(0);
    expect((await allEvents(cloud)).filter((e) => e.seq > seq)).toEqual([]);
    expect(byCapstan(mark)).toEqual([]);
    // The check sees a write by capstan's identity (planted: a Node labelled, as a cordon would be).
    const node = (await workloadNodes(env.dataDir, 'demo')).find((n) => n.metadata!.name!.startsWith(PREFIX))!;
    const kc = new KubeConfig();
    kc.loadFromString(await readKubeconfig(env.dataDir, 'default', 'demo'));
    await kc.makeApiClient(CoreV1Api).patchNode({ name: node.metadata!.name!, body: [{ op: 'add', path: '/metadata/labels/planted', value: 'yes' }] });
    expect(byCapstan(mark)).toEqual([`patch nodes ${node.metadata!.name!}`]);
    // The counter is live, not a metric that was never there: the rollouts counted, and a query counts now.
    expect(before).toBeGreaterThan(0);
    await status();
    await eventually('the query to be counted', async () => (await actions(env.temporal.metricsUrl, { heartbeats: false })) > after, 10_000);
  }, 60_000);

  it('(f) the deployment and its sets continued as new during the rollouts, lost nothing, and every run replays', async () => {
    const v = await status();
    expect(v.generation).toBe(revision);
    const runs = new Map<string, number>();
    const histories = [];
    for await (const wf of env.client.workflow.list({ query: 'WorkflowId STARTS_WITH "machinedeployment/" OR WorkflowId STARTS_WITH "machineset/"' })) {
      runs.set(wf.workflowId, (runs.get(wf.workflowId) ?? 0) + 1);
      histories.push({ workflowId: wf.workflowId, history: await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory() });
    }
    console.log(`[rollout-durability] runs: ${JSON.stringify(Object.fromEntries(runs))}`);
    expect(runs.get(id)).toBeGreaterThan(1);
    // At least one set continued as new too (each set creates or deletes REPLICAS machines).
    expect([...runs].some(([w, n]) => w.startsWith('machineset/') && n > 1)).toBe(true);
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) expect(r.error, r.workflowId).toBeUndefined();
  }, 180_000);
});
