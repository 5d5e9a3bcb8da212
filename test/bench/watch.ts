// Benchmark (not a test) of the CRD watcher (`capstan watch`, its own process) on a real
// management kube-apiserver:
//   1. N Machines changing status: N stand-in Machine workflows (test/bench/watch-workflows.ts: the
//      search attributes and start memo a real Machine has, no VM) are created (Provisioning, as a
//      set starts its machines), go Running, go Deleting and end, each phase for all N at once: the
//      four changes a real worker Machine shows. The watcher mirrors them as Machine objects owned
//      by a KubeadmControlPlane, each with its KubeadmConfig and SimMachine (created, providerID set,
//      status written; the Machine deleted, its parts garbage-collected). Prints the management-API
//      requests the watcher issued (from the API server's audit log, by its own identity) per
//      machine state change (target ≤ 2), also for the Machine objects alone, how long each phase
//      took to show in Kubernetes, and the watcher's peak RSS.
//   2. Lag from a spec change in Kubernetes to the workflow's update: a real cluster (one
//      control-plane machine, a MachineDeployment of one worker; test latencies) whose
//      MachineDeployment's spec.paused is flipped M times; the lag is from the patch's answer to
//      the watcher's log line saying the deployment's workflow took it (target p99 ≤ 200 ms).
//   3. Stability, as Cluster API's e2e checks it: once that cluster has converged, the watcher's
//      writes to the management API and Temporal's actions over --idle-seconds (default 120).
// Figures go to test/bench/out/watch-N<n>.json.
//
//   npm run bench:watch -- --machines 1000 [--changes 50]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startManagementApi } from '../../client/management-api.js';
import { applyToManagement } from '../../client/management-apply.js';
import { installCapstan } from '../../client/management-install.js';
import { LABELS } from '../../api/meta.js';
import { machineWorkflowId } from '../../workflows/ids.js';
import { machineFactsMemo, machineListMemo, startMemo } from '../../workflows/list-memo.js';
import { objectSearchAttributes, SA_QUIET } from '../../workflows/search-attributes.js';
import { eventually, startCapstanEnv } from '../support/capstan-env.js';
import { DEMO_CLUSTER } from '../support/demo-manifests.js';
import { actions, diff } from './actions.js';
import { processRss } from './measure.js';
import { benchPhaseSignal } from './watch-workflows.js';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '100' },
    changes: { type: 'string', default: '50' },
    'idle-seconds': { type: 'string', default: '120' },
    out: { type: 'string', default: new URL('./out/', import.meta.url).pathname },
  },
});
const N = Number(values.machines);
const CHANGES = Number(values.changes);
const IDLE_SECONDS = Number(values['idle-seconds']);
const NS = 'bench';
const TASK_QUEUE = 'bench-machines';
const WATCHER_USER = 'capstan-watcher';
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const say = (line: string) => console.log(`[bench:watch] ${line}`);

const work = mkdtempSync(path.join(os.tmpdir(), 'capstan-bench-watch-'));
const auditLog = path.join(work, 'audit.log');
const env = await startCapstanEnv();
const api = await startManagementApi(path.join(work, 'management'), { auditLogFile: auditLog });
const admin = new KubeConfig();
admin.loadFromString(api.kubeconfig);
await installCapstan(admin);
const objects = admin.makeApiClient(CustomObjectsApi);
const watcherKubeconfig = path.join(work, 'watcher.kubeconfig');
writeFileSync(watcherKubeconfig, await api.kubeconfigFor(WATCHER_USER, ['system:masters']), { mode: 0o600 });

// The watcher as `capstan watch`, its own process; its log lines are timed as they arrive.
const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
const watcher = spawn(process.execPath, [cli, 'watch', '--kubeconfig', watcherKubeconfig], { env: { ...process.env, ...env.env }, stdio: ['ignore', 'pipe', 'inherit'] });
const logLines: { at: number; line: string }[] = [];
watcher.stdout.setEncoding('utf8').on('data', (chunk: string) => {
  const at = performance.now();
  for (const line of chunk.split('\n')) if (line) logLines.push({ at, line });
});
let peakRss = 0;
const rssTimer = setInterval(() => {
  try {
    peakRss = Math.max(peakRss, processRss(watcher.pid!));
  } catch {
    // exited
  }
}, 500);
await eventually('the watcher to start', async () => logLines.some((l) => l.line.includes('watching')), 60_000, 100);

const connection = await NativeConnection.connect({ address: env.temporal.address });
const worker = await Worker.create({ connection, workflowsPath: fileURLToPath(new URL('./watch-workflows.ts', import.meta.url)), taskQueue: TASK_QUEUE, namespace: env.temporal.namespace });
const running = worker.run();

/** Requests the watcher made since `from` (audit log, its own identity), by verb. */
let machineRequests = 0;
const watcherRequests = (from: Date) => {
  const byVerb: Record<string, number> = {};
  machineRequests = 0;
  for (const l of readFileSync(auditLog, 'utf8').split('\n')) {
    if (!l) continue;
    const e = JSON.parse(l) as { user?: { username?: string }; verb: string; requestURI: string; stageTimestamp: string };
    if (e.user?.username !== WATCHER_USER || new Date(e.stageTimestamp) < from) continue;
    const sub = /\/status(\?|$)/.test(e.requestURI) ? '/status' : '';
    byVerb[`${e.verb}${sub}`] = (byVerb[`${e.verb}${sub}`] ?? 0) + 1;
    if (/\/machines(\/|\?|$)/.test(e.requestURI) && e.verb !== 'watch' && e.verb !== 'list') machineRequests++;
  }
  return byVerb;
};
const machineObjects = async () => ((await objects.listNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: NS, plural: 'machines' })) as { items: { status?: { phase?: string } }[] }).items;

// --- 1. N machines changing status -------------------------------------------------------------
// The machines' owner: a control plane in a namespace of its own, with no Cluster (nothing drives it).
await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
await objects.createNamespacedCustomObject({ group: 'controlplane.capstan.dev', version: 'v1alpha1', namespace: NS, plural: 'kubeadmcontrolplanes', body: { apiVersion: 'controlplane.capstan.dev/v1alpha1', kind: 'KubeadmControlPlane', metadata: { name: 'bench-cp' }, spec: { replicas: 1, version: 'v1.37.2', machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachineTemplate', name: 'bench-cp' } } } } } });
const names = Array.from({ length: N }, (_, i) => `bench-cp-${String(i).padStart(5, '0')}`);
const started = new Date();
const phases: Record<string, number> = {};
const inBatches = async (fn: (name: string) => Promise<unknown>) => {
  for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map(fn));
};
const wait = async (what: string, done: (items: { status?: { phase?: string } }[]) => boolean) => {
  const t0 = performance.now();
  await eventually(what, async () => done(await machineObjects()), 600_000, 250);
  phases[what] = round((performance.now() - t0) / 1000, 1);
  say(`${what}: ${phases[what]} s`);
};
await inBatches((name) =>
  env.client.workflow.start('BenchMachineWorkflow', {
    workflowId: machineWorkflowId({ namespace: NS, name }),
    taskQueue: TASK_QUEUE,
    args: [name],
    typedSearchAttributes: objectSearchAttributes('Machine', NS, 'bench-cluster', 'Provisioning'),
    memo: { ...startMemo(machineListMemo('control-plane-join', 'v1.37.2')), ...machineFactsMemo({ labels: { [LABELS.clusterName]: 'bench-cluster', [LABELS.controlPlaneName]: 'bench-cp' }, ownerKind: 'KubeadmControlPlane', createdAt: new Date().toISOString() }) },
  }),
);
await wait(`${N} Machine objects created`, (items) => items.length === N && items.every((m) => m.status?.phase === 'Provisioning'));
await inBatches((name) => env.client.workflow.getHandle(machineWorkflowId({ namespace: NS, name })).signal(benchPhaseSignal, 'Running'));
await wait(`${N} Running`, (items) => items.length === N && items.every((m) => m.status?.phase === 'Running'));
await inBatches((name) => env.client.workflow.getHandle(machineWorkflowId({ namespace: NS, name })).signal(benchPhaseSignal, 'Deleting'));
await wait(`${N} Deleting`, (items) => items.every((m) => m.status?.phase === 'Deleting'));
await inBatches((name) => env.client.workflow.getHandle(machineWorkflowId({ namespace: NS, name })).signal(benchPhaseSignal, 'Deleted'));
await wait(`${N} gone`, (items) => items.length === 0);
// Their KubeadmConfigs and SimMachines follow by garbage collection (kube-controller-manager's, not
// the watcher's requests; it learns of new kinds every 30 s, and the CRDs were installed just now).
const parts = async (plural: string) => ((await objects.listNamespacedCustomObject({ group: plural === 'kubeadmconfigs' ? 'bootstrap.capstan.dev' : 'infrastructure.capstan.dev', version: 'v1alpha1', namespace: NS, plural })) as { items: unknown[] }).items.length;
{
  const t0 = performance.now();
  await eventually('the KubeadmConfigs and SimMachines to be collected', async () => (await parts('kubeadmconfigs')) + (await parts('simmachines')) === 0, 120_000, 250);
  phases['parts collected'] = round((performance.now() - t0) / 1000, 1);
  say(`their KubeadmConfigs and SimMachines collected: ${phases['parts collected']} s`);
}
await new Promise((r) => setTimeout(r, 3000));
const requests = watcherRequests(started);
const total = Object.values(requests).reduce((a, b) => a + b, 0);
const stateChanges = 4 * N;

const onMachines = machineRequests;
say(`watcher requests: ${total} (${JSON.stringify(requests)}) for ${stateChanges} machine state changes: ${round(total / stateChanges)} per change; ${onMachines} on the Machine objects alone: ${round(onMachines / stateChanges)} per change`);
say(`watcher peak RSS: ${round(peakRss / 2 ** 20, 0)} MiB`);

// --- 2. lag from a spec change to the workflow's update ------------------------------------
const demo = DEMO_CLUSTER.replace(/^( {2}replicas:) 3$/m, '$1 1').replace(/^( {2}replicas:) 3$/m, '$1 1');
await applyToManagement(admin, [{ file: 'demo.yaml', text: demo }]);
await eventually('the demo MachineDeployment to be Running', async () => {
  const md = (await objects.getNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machinedeployments', name: 'demo-md-0' })) as { status?: { readyReplicas?: number } };
  return md.status?.readyReplicas === 1;
}, 300_000, 500);
const lags: number[] = [];
for (let i = 0; i < CHANGES; i++) {
  const before = logLines.length;
  const t0 = performance.now();
  await objects.patchNamespacedCustomObject(
    { group: 'cluster.capstan.dev', version: 'v1alpha1', namespace: 'default', plural: 'machinedeployments', name: 'demo-md-0', body: { spec: { paused: i % 2 === 0 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const t1 = performance.now();
  const seen = await eventually('the watcher to apply the change', async () => logLines.slice(before).find((l) => l.line.includes('machinedeployment.cluster.capstan.dev/demo-md-0 configured')), 10_000, 5);
  lags.push(seen.at - t1);
  if (i === 0) say(`first change: patch took ${round(t1 - t0, 1)} ms`);
  await new Promise((r) => setTimeout(r, 300));
}
const lag = { p50: round(pct(lags, 50), 1), p99: round(pct(lags, 99), 1), max: round(Math.max(...lags), 1) };
say(`lag from the patch's answer to the workflow's update (${CHANGES} changes): p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms`);

// --- 3. stability ---------------------------------------------------------------------------
// Converged: the last change's settling (10 s) over and the real cluster's Node-conditions
// observer quiet (it stops after 50 s without a change: workflows/quiet.ts), then the window.
await new Promise((r) => setTimeout(r, 15_000));
const settleStart = Date.now();
await eventually('the Cluster’s observer quiet', async () => ((await env.client.workflow.getHandle('cluster/default/demo').describe()).typedSearchAttributes.get(SA_QUIET) ? true : undefined), 180_000, 1000);
say(`the Cluster's Node-conditions observer quiet ${round((Date.now() - settleStart) / 1000, 1)} s later`);
await new Promise((r) => setTimeout(r, 5000));
const idleFrom = new Date();
const actionsBefore = await actions(env.temporal.metricsUrl);
await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
const idleRequests = watcherRequests(idleFrom);
const idleWrites = Object.entries(idleRequests).filter(([verb]) => !['get', 'list', 'watch'].includes(verb)).reduce((a, [, n]) => a + n, 0);
const idleActions = Object.fromEntries(diff(await actions(env.temporal.metricsUrl), actionsBefore));
say(`idle ${IDLE_SECONDS} s after convergence: ${idleWrites} writes by the watcher (${JSON.stringify(idleRequests)}), Temporal actions ${JSON.stringify(idleActions)}`);

clearInterval(rssTimer);
const figures = { machines: N, stateChanges, watcherRequests: requests, requestsPerStateChange: round(total / stateChanges), machineObjectRequestsPerStateChange: round(onMachines / stateChanges), phasesSeconds: phases, watcherPeakRssMiB: round(peakRss / 2 ** 20, 0), lagMs: lag, lagChanges: CHANGES, statusIntervalMs: 2000, idle: { seconds: IDLE_SECONDS, watcherWrites: idleWrites, watcherRequests: idleRequests, temporalActions: idleActions } };
mkdirSync(values.out!, { recursive: true });
writeFileSync(path.join(values.out!, `watch-N${N}.json`), JSON.stringify(figures, null, 2));
say(`figures: ${path.join(values.out!, `watch-N${N}.json`)}`);

watcher.kill('SIGTERM');
worker.shutdown();
await running;
await connection.close();
await api.stop();
await env.stop();
process.exit(0);
