// Benchmark (not a test): creates the demo cluster's control plane (3 machines) with 2 individual
// worker Machines (the demo as it was before its workers came from a MachineDeployment, so the
// figures stay comparable with earlier runs) on a fresh capstan and prints
//   - time from apply to Available, against the simulated cloud's own lower bound: the init
//     machine (boot, API, Ready), then each control-plane join one after another (workers join in
//     parallel with them);
//   - history events per workflow;
//   - Temporal actions (the server's own `action` counter, what Temporal bills by) per machine,
//     by type;
//   - actions while the cluster sits Available with nothing to do, per machine-hour (should be 0).
//
//   node --import tsx test/bench/create-cluster.ts [--profile test|demo] [--idle-seconds 60]
import { parseArgs } from 'node:util';
import { executePlan, loadPlan } from '../../client/apply.js';
import type { SimEvent } from '../../providers/sim/types.js';
import { startCapstanEnv } from '../support/capstan-env.js';
import { allEvents, clusterView, isAvailable, nodeReady, workloadNodes } from '../support/cluster-checks.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';
import { actions, diff } from './actions.js';

const { values } = parseArgs({ options: { profile: { type: 'string', default: 'test' }, 'idle-seconds': { type: 'string', default: '60' } } });
const profile = values.profile as 'test' | 'demo';
const idleSeconds = Number(values['idle-seconds']);
const MACHINES = 5;



const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const ms = (a: string, b: string) => Date.parse(b) - Date.parse(a);

function lowerBound(events: SimEvent[], clusterId: string): { total: number; parts: string } {
  const vmEvents = events.filter((e) => e.clusterId === clusterId);
  const created = vmEvents.filter((e) => e.type === 'vm.created');
  const at = (type: string, vmId?: string) => vmEvents.find((e) => e.type === type && (!vmId || e.vmId === vmId))?.time;
  // Per VM, what the cloud itself takes: boot, then bootstrap until its Node is Ready.
  const own = (vmId: string) => ms(at('vm.created', vmId)!, at('node.ready', vmId)!);
  const init = created.find((e) => e.data?.role === 'init')!;
  const initToApi = ms(init.time, at('apiserver.ready')!);
  const cpJoins = created.filter((e) => e.data?.role === 'control-plane-join').map((e) => own(e.vmId!));
  const workers = created.filter((e) => e.data?.role === 'worker-join').map((e) => own(e.vmId!));
  const controlPlanePath = own(init.vmId!) + cpJoins.reduce((a, b) => a + b, 0);
  const workerPath = initToApi + Math.max(0, ...workers);
  return {
    total: Math.max(controlPlanePath, workerPath),
    parts: `init ${own(init.vmId!)} ms (API after ${initToApi} ms) + control-plane joins ${cpJoins.join(' + ')} ms; workers ${workers.join(', ')} ms in parallel`,
  };
}

const env = await startCapstanEnv({ profile });
try {
  const demo = DEMO_WITH_WORKER_MACHINES;
  const before = await actions(env.temporal.metricsUrl);
  const t0 = Date.now();
  await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: demo }]));
  // Wait on the workload cluster, not on Temporal, so the benchmark adds no queries while it runs.
  for (;;) {
    const nodes = await workloadNodes(env.dataDir, 'demo').catch(() => []);
    if (nodes.length === MACHINES && nodes.every(nodeReady)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  let queries = 0;
  for (;;) {
    queries++;
    if (isAvailable(await clusterView(env.client, 'demo'))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const elapsed = Date.now() - t0;
  // The server's counters trail the calls a little: let them settle before reading.
  await new Promise((r) => setTimeout(r, 5000));
  const afterCreate = await actions(env.temporal.metricsUrl);

  const events = await allEvents(env.simClient);
  const clusterId = events.find((e) => e.type === 'cluster.created')!.clusterId!;
  const bound = lowerBound(events, clusterId);

  console.log(`capstan bench: create the demo cluster (3 control-plane + 2 workers), sim profile "${profile}"`);
  console.log(`  apply → Available:          ${elapsed} ms`);
  console.log(`  cloud's own lower bound:    ${bound.total} ms  (${bound.parts})`);
  console.log(`  orchestration overhead:     ${elapsed - bound.total} ms (${((elapsed / bound.total - 1) * 100).toFixed(0)}% over the bound)`);

  console.log('  history events per workflow:');
  for await (const wf of env.client.workflow.list()) {
    const h = await env.client.workflow.getHandle(wf.workflowId).fetchHistory();
    console.log(`    ${wf.workflowId.padEnd(45)} ${h.events?.length ?? 0}`);
  }

  const created = diff(afterCreate, before);
  created.set('grpc_QueryWorkflow', (created.get('grpc_QueryWorkflow') ?? 0) - queries);
  console.log(`  Temporal actions to create: ${sum(created)} (${(sum(created) / MACHINES).toFixed(1)} per machine; the benchmark's own ${queries} queries excluded)`);
  for (const [k, v] of [...created].sort((a, b) => b[1] - a[1])) if (v > 0) console.log(`    ${k.padEnd(45)} ${v}`);

  console.log(`  idle: Available with nothing to do for ${idleSeconds} s...`);
  const idleBefore = await actions(env.temporal.metricsUrl);
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  await new Promise((r) => setTimeout(r, 5000));
  const idle = diff(await actions(env.temporal.metricsUrl), idleBefore);
  const perMachineHour = (sum(idle) / MACHINES) * (3600 / idleSeconds);
  console.log(`  idle actions: ${sum(idle)} in ${idleSeconds} s → ${perMachineHour.toFixed(1)} per machine-hour`);
  for (const [k, v] of idle) console.log(`    ${k.padEnd(45)} ${v}`);
} finally {
  await env.stop();
}
