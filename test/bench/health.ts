// Benchmark (not a test): N workers of a MachineDeployment under one MachineHealthCheck
// (Ready=False for `--timeout-seconds` is unhealthy), on a fresh capstan. It prints
//   - Temporal actions per healthy machine per hour while nothing happens (the server's own
//     `action` counter over an idle window), the worker's CPU over that window, and the workload
//     kube-apiserver's requests in it;
//   - then 5 % of the workers made NotReady at once (the simulated cloud's node-not-ready fault):
//     for each, the time from its timeout's expiry (the kubelet's NotReady post, from the cloud's
//     event log, plus the timeout) to its remediation's start (the deleteMachine signal in the
//     Machine's history, in the server's time), as min / median / max;
//   - workload kube-apiserver requests per node change during the remediation (kubelet Lease
//     renewals left out), and the time until the replacements are all available.
// Figures go to test/bench/out/health-N<n>.json.
//
// The simulated cloud runs its `test` profile (boot ~0.2 s) so that the fleet comes up fast;
// remediation latency does not depend on boot times. Kubelets renew their Lease every 10 s
// (kubelet default; `--lease-renew-ms` changes it: at N = 1,000 on 2 cores, 20 s).
//
//   npm run bench:health -- --machines 1000 [--idle-seconds 300] [--timeout-seconds 10] [--unhealthy-percent 5] [--lease-renew-ms 10000]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { executePlan, loadPlan } from '../../client/apply.js';
import { readKubeconfig } from '../../client/commands.js';
import { machineDeploymentWorkflowId, machineHealthCheckWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { machineDeploymentStatusQuery, machineHealthCheckStatusQuery } from '../../workflows/messages.js';
import { SA_QUIET } from '../../workflows/search-attributes.js';
import { startCapstanEnv } from '../support/capstan-env.js';
import { allEvents, liveVms } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { actions, diff } from './actions.js';
import { apiserverRequests, processRss, treeCpuMs } from './measure.js';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '100' },
    'idle-seconds': { type: 'string', default: '120' },
    'timeout-seconds': { type: 'string', default: '10' },
    'unhealthy-percent': { type: 'string', default: '5' },
    'lease-renew-ms': { type: 'string', default: '10000' },
    out: { type: 'string', default: new URL('./out/', import.meta.url).pathname },
  },
});
const N = Number(values.machines);
const idleSeconds = Number(values['idle-seconds']);
const timeoutSeconds = Number(values['timeout-seconds']);
const K = Math.max(1, Math.ceil((N * Number(values['unhealthy-percent'])) / 100));
const MD = 'demo-md-0';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const sorted = (m: Map<string, number>) => Object.fromEntries([...m].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]));
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]! : 0);
async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const md = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8')
  .replace('replicas: 3', `replicas: ${N}`)
  .replace('maxSurge: 1', `maxSurge: "10%"`);
const mhc = `
apiVersion: cluster.capstan.dev/v1alpha1
kind: MachineHealthCheck
metadata:
  name: ${MD}-unhealthy
  namespace: default
spec:
  clusterName: demo
  selector:
    matchLabels:
      cluster.capstan.dev/deployment-name: ${MD}
  checks:
    unhealthyNodeConditions:
      - type: Ready
        status: "False"
        timeoutSeconds: ${timeoutSeconds}
      - type: Ready
        status: Unknown
        timeoutSeconds: ${timeoutSeconds}
  remediation:
    triggerIf:
      unhealthyLessThanOrEqualTo: 40%
`;

// As the rollout bench: the run's data under the ignored output folder.
const tmp = `${values.out!.replace(/\/$/, '')}/tmp`;
mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;
const leaseRenewMs = Number(values['lease-renew-ms']);
const env = await startCapstanEnv({ profile: 'test', worker: 'process', simExtra: ['--runtime-opt', `lease-renew-ms=${leaseRenewMs}`] });
const workerPid = env.workerProcess!.pid;
let rssPeak = 0;
const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, processRss(workerPid))), 500);
try {
  const mdHandle = env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: MD }));
  const mhcHandle = env.client.workflow.getHandle(machineHealthCheckWorkflowId({ namespace: 'default', name: `${MD}-unhealthy` }));

  // 1. The fleet and its health check.
  const t00 = Date.now();
  const plan = loadPlan([{ file: 'demo.yaml', text: `${DEMO_CONTROL_PLANE.replace('replicas: 3', 'replicas: 1')}\n---\n${md}\n---\n${mhc}` }]);
  await executePlan(env.client, env.taskQueue, plan);
  await until(`${N} available workers`, async () => ((await mdHandle.query(machineDeploymentStatusQuery)).status?.availableReplicas === N ? true : undefined), 60 * 60_000, 2000);
  await until(`${N} healthy targets`, async () => {
    const s = (await mhcHandle.query(machineHealthCheckStatusQuery)).status;
    return s?.expectedMachines === N && s.currentHealthy === N ? true : undefined;
  }, 10 * 60_000, 2000);
  const createdMs = Date.now() - t00;
  // Settled: the Cluster's Node-conditions observer and the health check's have both gone quiet
  // (nothing changed for their quiet period, workflows/quiet.ts), then 5 s for the server's counters.
  console.error(`[bench] ${N} workers up and healthy in ${createdMs} ms; waiting for the observers to go quiet, then ${idleSeconds} s idle`);
  const settleStart = Date.now();
  await until('the observers quiet', async () => {
    const quiet = await Promise.all([env.client.workflow.getHandle('cluster/default/demo'), mhcHandle].map(async (h) => (await h.describe()).typedSearchAttributes.get(SA_QUIET)));
    return quiet.every(Boolean) ? true : undefined;
  }, 5 * 60_000, 1000);
  const observersQuietAfterSeconds = round((Date.now() - settleStart) / 1000, 1);
  await sleep(5000);
  const kc = new KubeConfig();
  kc.loadFromString(await readKubeconfig(env.dataDir, 'default', 'demo'));

  // 2. Idle: nothing happens.
  const idleBefore = await actions(env.temporal.metricsUrl);
  const idleReqBefore = await apiserverRequests(kc);
  const idleCpuBefore = treeCpuMs(workerPid);
  await sleep(idleSeconds * 1000);
  const idleCpuMs = treeCpuMs(workerPid) - idleCpuBefore;
  const idle = diff(await actions(env.temporal.metricsUrl), idleBefore);
  const idleReqs = diff(await apiserverRequests(kc), idleReqBefore);

  // 3. K workers NotReady at once.
  const vms = (await liveVms(env.simClient)).filter((v) => v.name.startsWith(`${MD}-`) && v.state === 'running');
  const victims = vms.slice(0, K);
  const seqBefore = (await allEvents(env.simClient)).at(-1)!.seq;
  const reqBefore = await apiserverRequests(kc);
  const actionsBefore = await actions(env.temporal.metricsUrl);
  const t0 = Date.now();
  await Promise.all(victims.map((v) => env.simClient.vmAction(v.id, 'node-not-ready')));
  console.error(`[bench] ${K} workers made NotReady; waiting for their remediation`);
  const remediatedAt = new Map<string, number>();
  for (const v of victims) {
    const handle = env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: v.name }));
    await until(`${v.name} deleted`, async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined), 10 * 60_000, 500);
    const signal = (await handle.fetchHistory()).events!.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'deleteMachine')!;
    remediatedAt.set(v.name, Number(signal.eventTime!.seconds) * 1000 + Math.floor((signal.eventTime!.nanos ?? 0) / 1e6));
  }
  await until(`${N} available again`, async () => ((await mdHandle.query(machineDeploymentStatusQuery)).status?.availableReplicas === N ? true : undefined), 30 * 60_000, 1000);
  const healedMs = Date.now() - t0;
  const reqs = diff(await apiserverRequests(kc), reqBefore);
  const remediationActions = diff(await actions(env.temporal.metricsUrl), actionsBefore);
  const notReadyAt = new Map<string, number>();
  for (const e of await allEvents(env.simClient)) {
    if (e.seq <= seqBefore || e.type !== 'node.not-ready') continue;
    const vm = victims.find((v) => v.id === e.vmId);
    if (vm && !notReadyAt.has(vm.name)) notReadyAt.set(vm.name, Date.parse(e.time));
  }
  const latencies = victims.map((v) => remediatedAt.get(v.name)! - (notReadyAt.get(v.name)! + timeoutSeconds * 1000));
  const leaseReqs = [...reqs].filter(([k]) => k.includes('coordination.k8s.io/leases')).reduce((a, [, n]) => a + n, 0);
  // Node changes: each victim's Node went NotReady and was deleted, and its replacement's Node joined and became Ready.
  const nodeChanges = 4 * K;

  const result = {
    machines: N,
    unhealthy: K,
    leaseRenewMs,
    timeoutSeconds,
    createdMs,
    idle: {
      observersQuietAfterSeconds,
      seconds: idleSeconds,
      actions: sum(idle),
      perHealthyMachineHour: round((sum(idle) / N) * (3600 / idleSeconds), 3),
      byType: sorted(idle),
      workerCpuMsPerMinute: round((idleCpuMs / idleSeconds) * 60, 1),
      apiserverRequests: sum(idleReqs),
      apiserverTop: Object.fromEntries(Object.entries(sorted(idleReqs)).slice(0, 5)),
    },
    remediation: {
      latencyMs: { min: Math.min(...latencies), median: pct(latencies, 0.5), max: Math.max(...latencies) },
      healedMs,
      actions: sum(remediationActions),
      actionsPerRemediation: round(sum(remediationActions) / K, 1),
      apiserverRequestsPerNodeChange: round((sum(reqs) - leaseReqs) / nodeChanges, 1),
      apiserverTop: Object.fromEntries(Object.entries(sorted(reqs)).slice(0, 8)),
    },
    workerRssPeakMiB: Math.round(rssPeak / 2 ** 20),
  };
  mkdirSync(values.out!, { recursive: true });
  const file = `${values.out!.replace(/\/$/, '')}/health-N${N}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`health bench, N = ${N} under one MachineHealthCheck, ${K} made NotReady at once (timeout ${timeoutSeconds} s; kubelet leases every ${leaseRenewMs / 1000} s):`);
  console.log(`  idle ${idleSeconds} s: ${result.idle.actions} actions → ${result.idle.perHealthyMachineHour} per healthy machine-hour; worker CPU ${result.idle.workerCpuMsPerMinute} ms/min; ${result.idle.apiserverRequests} apiserver requests`);
  console.log(`  timeout expiry → remediation start: min ${result.remediation.latencyMs.min} ms, median ${result.remediation.latencyMs.median} ms, max ${result.remediation.latencyMs.max} ms`);
  console.log(`  all ${K} replaced and available ${round(healedMs / 1000, 1)} s after the fault; ${result.remediation.actionsPerRemediation} actions per remediation (replacement included)`);
  console.log(`  workload apiserver: ${result.remediation.apiserverRequestsPerNodeChange} requests per node change (Lease renewals left out)`);
  console.log(`  worker peak RSS ${result.workerRssPeakMiB} MiB; figures in ${file}`);
} finally {
  clearInterval(rssTimer);
  await env.stop();
}
