// Benchmark (not a test): creates N workers (a MachineDeployment scaled from 0 to N on a cluster
// whose control plane is up), then rolls them, on a fresh capstan, and prints
//   - the creation's wall time (scale → N Nodes Ready) against the cloud's own lower bound for it:
//     the slowest new VM's created → Node Ready (all are created at once), and its actions;
//   - wall time of the rollout (apply of the template change → every Node of the new set Ready,
//     the old ones gone, the deployment reporting N available), against the lower bound
//     ⌈N / maxSurge⌉ × (boot + Node Ready), and where the rest goes (cloud's event log);
//   - history events per workflow kind (max, mean), and the commands each kind issued during
//     the rollout, per replaced machine (read from the histories);
//   - Temporal actions by type per replaced machine: the server's own `action` counter over the
//     rollout's window only, the benchmark's own queries excluded;
//   - worker CPU-ms per machine and peak worker RSS, of the worker's own process (`capstan
//     worker`, from /proc; `--worker in-process` runs it in this process instead, with the
//     benchmark's client and polling), and the CPU of the Temporal server and of the simulated
//     cloud (with its kube-apiservers) from /proc;
//   - workload kube-apiserver requests per machine (apiserver_request_total, admin kubeconfig);
//   - actions while converged and idle (default 120 s, as Cluster API's stability check), once
//     the Cluster's Node-conditions observer has gone quiet (its 50 s quiet period).
// Figures go to test/bench/out/rollout-N<n>.json; `npm run bench:plot` draws them against N.
//
// The simulated cloud runs its `demo` profile: boot 10 s ± 20 %, Node Ready 2 s ± 20 %, API
// latency 20–80 ms, VM deletion 2 s ± 20 %; kubelets renew their Lease every 10 s (kubelet
// default; `--lease-renew-ms` changes it). Temporal is the in-memory dev server.
//
//   npm run bench:rollout -- --machines 30 [--create-only] [--idle-seconds 120] [--lease-renew-ms 10000] [--worker process|in-process]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, type Informer, type ObjectCache, type V1Node } from '@kubernetes/client-node';
import proto from '@temporalio/proto';
import { executePlan, loadPlan } from '../../client/apply.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { readKubeconfig } from '../../client/commands.js';
import type { SimEvent } from '../../providers/sim/types.js';
import { machineDeploymentWorkflowId, parseWorkflowId } from '../../workflows/ids.js';
import { machineDeploymentStatusQuery, scaleMachineDeploymentUpdate } from '../../workflows/messages.js';
import { SA_QUIET } from '../../workflows/search-attributes.js';
import type { MachineDeploymentView } from '../../workflows/types.js';
import { startCapstanEnv } from '../support/capstan-env.js';
import { allEvents, liveVms, nodeReady, waitForAvailable } from '../support/cluster-checks.js';
import { actions, diff } from './actions.js';
import { apiserverRequests, procCpuMs, processRss, treeCpuMs } from './measure.js';

const { values } = parseArgs({
  options: {
    machines: { type: 'string', default: '10' },
    'idle-seconds': { type: 'string', default: '120' },
    'lease-renew-ms': { type: 'string', default: '10000' },
    'create-only': { type: 'boolean', default: false },
    worker: { type: 'string', default: 'process' },
    out: { type: 'string', default: new URL('./out/', import.meta.url).pathname },
  },
});
const N = Number(values.machines);
const idleSeconds = Number(values['idle-seconds']);
const leaseRenewMs = Number(values['lease-renew-ms']);
if (values.worker !== 'process' && values.worker !== 'in-process') throw new Error(`--worker: "${values.worker}" is neither process nor in-process`);
const workerInProcess = values.worker === 'in-process';
const SURGE = Math.ceil(N * 0.1); // maxSurge 10 % rounds up
const BOOT_MS = 10_000;
const READY_MS = 2_000;
const LOWER_BOUND_MS = Math.ceil(N / SURGE) * (BOOT_MS + READY_MS);
const MD = 'demo-md-0';
const EventType = proto.temporal.api.enums.v1.EventType;

const sum = (m: Map<string, number> | Record<string, number>) => [...(m instanceof Map ? m.values() : Object.values(m))].reduce((a, b) => a + b, 0);
const sorted = (m: Map<string, number>) => Object.fromEntries([...m].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]));
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (a: string, b: string) => Date.parse(b) - Date.parse(a);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]! : 0);

const sample = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8')
  .replace('replicas: 3', `replicas: ${N}`)
  .replace('maxSurge: 1', `maxSurge: "10%"`);
if (!sample.includes(`replicas: ${N}`) || !sample.includes('maxSurge: "10%"')) throw new Error('the sample MachineDeployment changed shape: fix the benchmark');
const rolled = sample.replace('instanceType: sim.medium', 'instanceType: sim.large');

// The run's data (secrets, the cloud's state) lives under the ignored output folder, not in the
// shared temporary directory where another session's cleanup of capstan-test-* can delete it
// mid-run (it happened: the admin kubeconfig vanished during a rollout).
const tmp = `${values.out!.replace(/\/$/, '')}/tmp`;
mkdirSync(tmp, { recursive: true });
process.env.TMPDIR = tmp;
const env = await startCapstanEnv({ profile: 'demo', simExtra: ['--runtime-opt', `lease-renew-ms=${leaseRenewMs}`], worker: workerInProcess ? 'in-process' : 'process' });
const workerPid = workerInProcess ? undefined : env.workerProcess!.pid;
/** The worker's resident memory: its own process's VmRSS, or this process's. */
function workerRss(): number {
  if (workerPid === undefined) return process.memoryUsage().rss;
  return processRss(workerPid);
}
/** The worker's CPU so far, in ms. */
const workerCpuMs = () => {
  if (workerPid !== undefined) return treeCpuMs(workerPid);
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let rssPeak = 0;
/** The workload cluster's Nodes, followed from the first call of mdNodes. */
let nodeInformer: (Informer<V1Node> & ObjectCache<V1Node>) | undefined;
let nodesStopped = false;
let rssPeakRollout = 0;
let inRollout = false;
const rssTimer = setInterval(() => {
  const rss = workerRss();
  rssPeak = Math.max(rssPeak, rss);
  if (inRollout) rssPeakRollout = Math.max(rssPeakRollout, rss);
}, 250);
try {
  const mdHandle = env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: MD }));
  /** The deployment's status; a query a saturated worker could not answer in time is asked again. */
  const mdStatus = async () => {
    for (;;) {
      try {
        return await mdHandle.query(machineDeploymentStatusQuery);
      } catch (err) {
        if (!String((err as Error).cause ?? err).includes('DEADLINE_EXCEEDED')) throw err;
        console.error('[bench] the status query timed out (the worker is saturated); asking again');
      }
    }
  };
  /** Asks the deployment's status every `everyMs` until `ok`; returns how many queries it took (excluded from the actions). */
  const untilStatus = async (ok: (v: MachineDeploymentView) => boolean, everyMs: number) => {
    for (let queries = 1; ; queries++) {
      if (ok(await mdStatus())) return queries;
      await sleep(everyMs);
    }
  };
  // The benchmark follows the workload cluster's Nodes with one informer (a LIST, then a WATCH),
  // as kubectl get -w would: a LIST of every Node each 250–500 ms cost ~100 ms of kube-apiserver
  // CPU and ~200 ms of this process's at 2,000 Nodes, taken from the two cores it measures. Its
  // LISTs and WATCHes are counted and taken off the apiserver's figures.
  let nodeLists = 0;
  let nodeWatches = 0;
  const mdNodes = async (): Promise<V1Node[]> => {
    if (!nodeInformer) {
      const kc = new KubeConfig();
      kc.loadFromString(await readKubeconfig(env.dataDir, 'default', 'demo'));
      const core = kc.makeApiClient(CoreV1Api);
      const informer = makeInformer<V1Node>(kc, '/api/v1/nodes', () => {
        nodeLists++;
        return core.listNode({});
      });
      informer.on('connect', () => nodeWatches++);
      // Restarted after an error, unless the benchmark is stopping (stop() ends the watch with one).
      informer.on('error', () => setTimeout(() => void (nodesStopped ? undefined : informer.start().catch(() => {})), 1000));
      await informer.start();
      nodeInformer = informer;
    }
    return nodeInformer.list().filter((n) => n.metadata!.name!.startsWith(`${MD}-`));
  };

  // 1. A one-control-plane cluster with its deployment at 0, then the deployment scaled to N:
  //    the creation of N workers, measured against what the cloud itself took for the slowest.
  const t00 = Date.now();
  const plan = loadPlan([{ file: 'demo.yaml', text: DEMO_CONTROL_PLANE.replace('replicas: 3', 'replicas: 1') }, { file: 'md.yaml', text: sample.replace(`replicas: ${N}`, 'replicas: 0') }]);
  plan.machines = [];
  await executePlan(env.client, env.taskQueue, plan);
  await waitForAvailable(env.client, 'demo');
  const clusterMs = Date.now() - t00;
  const createSeq = (await allEvents(env.simClient)).at(-1)!.seq;
  const createBefore = await actions(env.temporal.metricsUrl);
  const tc = Date.now();
  const tcIso = new Date(tc).toISOString();
  await mdHandle.executeUpdate(scaleMachineDeploymentUpdate, { args: [{ replicas: N }] });
  for (;;) {
    const nodes = await mdNodes();
    if (nodes.length === N && nodes.every(nodeReady)) break;
    await sleep(250);
  }
  const createNodesMs = Date.now() - tc;
  const createQueries = await untilStatus((v) => v.status?.availableReplicas === N && v.sets.length === 1, 250);
  const createdMs = Date.now() - tc;
  await sleep(5000);
  const createActions = diff(await actions(env.temporal.metricsUrl), createBefore);
  createActions.set('grpc_QueryWorkflow', (createActions.get('grpc_QueryWorkflow') ?? 0) - createQueries);
  const createEvents = (await allEvents(env.simClient)).filter((e) => e.seq > createSeq && e.clusterId && e.vmId);
  const createdAt = new Map(createEvents.filter((e) => e.type === 'vm.created').map((e) => [e.vmId!, e.time]));
  const readyAt = new Map(createEvents.filter((e) => e.type === 'node.ready').map((e) => [e.vmId!, e.time]));
  const ownCreate = [...createdAt].map(([id, t]) => ms(t, readyAt.get(id) ?? t));
  const creates = [...createdAt.values()].sort();
  // Where the fan-out goes: per new machine, from the scale to its workflow's start, its first
  // task, its provisionMachine's start and end (the VM is created inside it).
  const stages: Record<string, number[]> = { workflowStarted: [], firstTaskStarted: [], provisionStarted: [], provisionCompleted: [] };
  const eventMs = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  for await (const wf of env.client.workflow.list({ query: `StartTime >= "${tcIso}"` })) {
    if (parseWorkflowId(wf.workflowId)?.kind !== 'machine') continue;
    const evs = (await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [];
    const at = (pred: (e: (typeof evs)[number]) => unknown) => {
      const e = evs.find(pred);
      return e ? eventMs(e) - tc : undefined;
    };
    const scheduled = evs.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'provisionMachine');
    const id = scheduled ? Number(scheduled.eventId) : -1;
    const points = {
      workflowStarted: at((e) => e.workflowExecutionStartedEventAttributes),
      firstTaskStarted: at((e) => e.workflowTaskStartedEventAttributes),
      provisionStarted: at((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === id),
      provisionCompleted: at((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id),
    };
    for (const [k, v] of Object.entries(points)) if (v !== undefined) stages[k]!.push(v);
  }
  const fanOut = Object.fromEntries(Object.entries(stages).map(([k, xs]) => [k, { p50: pct(xs, 0.5), max: Math.max(0, ...xs) }]));
  const create = {
    wallMs: createNodesMs,
    availableMs: createdMs,
    // The cloud's own lower bound: every VM is created at once, so the slowest one's created → Ready.
    lowerBoundMs: Math.max(...ownCreate),
    ratio: round(createNodesMs / Math.max(...ownCreate), 3),
    nominalBoundMs: BOOT_MS + READY_MS,
    ratioToNominal: round(createNodesMs / (BOOT_MS + READY_MS), 3),
    scaleToFirstCreateMs: ms(tcIso, creates[0]!),
    firstToLastCreateMs: ms(creates[0]!, creates.at(-1)!),
    fanOutMsAfterScale: fanOut,
    actions: sum(createActions),
    actionsPerMachine: round(sum(createActions) / N, 2),
    byTypePerMachine: Object.fromEntries(Object.entries(sorted(createActions)).map(([k, v]) => [k, round(v / N, 2)])),
  };
  console.error(`[bench] cluster in ${clusterMs} ms; ${N} workers Ready ${createNodesMs} ms after the scale (slowest VM's own path ${create.lowerBoundMs} ms); settling 10 s, then rolling`);
  if (values['create-only']) {
    console.log(`capstan bench: create ${N} workers (scale 0 → ${N}); --create-only, no rollout`);
    console.log(JSON.stringify(create, null, 2));
  } else {
    const oldNodes = new Set((await mdNodes()).map((n) => n.metadata!.name!));
    const kc = new KubeConfig();
    kc.loadFromString(await readKubeconfig(env.dataDir, 'default', 'demo'));
    const seqBefore = (await allEvents(env.simClient)).at(-1)!.seq;
    await sleep(10_000);

    // 2. The rollout, measured over its own window.
    const before = await actions(env.temporal.metricsUrl);
    const reqBefore = await apiserverRequests(kc);
    nodeLists = 0;
    nodeWatches = 0;
    const cpuBefore = workerCpuMs();
    const temporalCpuBefore = procCpuMs(env.temporal.process.pid);
    const simCpuBefore = treeCpuMs(env.sim.pid);
    inRollout = true;
    const t0 = Date.now();
    const t0Iso = new Date(t0).toISOString();
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'md.yaml', text: rolled }]));
    // Wait on the workload cluster and the cloud, not on Temporal, so the benchmark adds no
    // actions while it runs; then confirm with queries, counted and excluded.
    for (;;) {
      const nodes = await mdNodes();
      if (nodes.length === N && nodes.every((n) => nodeReady(n) && !oldNodes.has(n.metadata!.name!))) {
        const vms = (await liveVms(env.simClient)).filter((v) => v.name.startsWith(`${MD}-`));
        if (vms.length === N) break;
      }
      await sleep(500);
    }
    const nodesDoneMs = Date.now() - t0;
    const queries = await untilStatus((v) => v.sets.length === 1 && v.sets[0]!.revision === 2 && v.status?.availableReplicas === N && v.status.upToDateReplicas === N, 200);
    const elapsed = Date.now() - t0;
    const tEndIso = new Date().toISOString();
    inRollout = false;
    const cpuMs = workerCpuMs() - cpuBefore;
    const temporalCpu = procCpuMs(env.temporal.process.pid) - temporalCpuBefore;
    const simCpu = treeCpuMs(env.sim.pid) - simCpuBefore;
    const reqs = diff(await apiserverRequests(kc), reqBefore);
    const benchLists = nodeLists;
    reqs.set('LIST nodes', (reqs.get('LIST nodes') ?? 0) - benchLists);
    reqs.set('WATCH nodes', (reqs.get('WATCH nodes') ?? 0) - nodeWatches);
    // The server's counters trail the calls a little: let them settle before reading.
    await sleep(5000);
    const rollout = diff(await actions(env.temporal.metricsUrl), before);
    rollout.set('grpc_QueryWorkflow', (rollout.get('grpc_QueryWorkflow') ?? 0) - queries);

    // 3. Where the time went, from the cloud's event log.
    const events = (await allEvents(env.simClient)).filter((e) => e.seq > seqBefore);
    const names = new Map<string, string>();
    for (const e of events) {
      const name = e.type === 'vm.created' ? /^VM (\S+) created/.exec(e.message)?.[1] : undefined;
      if (name && e.vmId) names.set(e.vmId, name);
    }
    const isNew = (e: SimEvent) => !!e.vmId && names.has(e.vmId);
    const firstOf = (type: string, vmId: string) => events.find((e) => e.type === type && e.vmId === vmId)?.time;
    const newVms = [...names.keys()];
    const own = newVms.map((id) => ms(firstOf('vm.created', id)!, firstOf('node.ready', id) ?? firstOf('vm.created', id)!));
    const boot = newVms.map((id) => ms(firstOf('vm.created', id)!, firstOf('vm.running', id) ?? firstOf('vm.created', id)!));
    // Each wave after the first: a new VM is created after an old one was let go, which happens
    // after some new Node became Ready. Gaps: node.ready(new) → shutting-down(old) → created(new).
    const readyToShutdown: number[] = [];
    const shutdownToCreate: number[] = [];
    const readyToCreate: number[] = [];
    let lastReady: string | undefined;
    let lastShutdown: string | undefined;
    for (const e of events) {
      if (e.type === 'node.ready' && isNew(e)) lastReady = e.time;
      if (e.type === 'vm.shutting-down' && !isNew(e)) {
        if (lastReady) readyToShutdown.push(ms(lastReady, e.time));
        lastShutdown = e.time;
      }
      if (e.type === 'vm.created' && isNew(e) && lastReady) {
        readyToCreate.push(ms(lastReady, e.time));
        if (lastShutdown) shutdownToCreate.push(ms(lastShutdown, e.time));
      }
    }
    // Where the surge's slots went, by Little's law: at every moment the N + maxSurge slots hold old
    // VMs up, old VMs shutting down, new VMs booting, new VMs Ready, or nothing. Beyond N, a slot
    // is a new VM booting (the cloud), a new Ready VM whose old one is not yet shutting down
    // (capstan: seeing it Ready, letting an old machine go, draining it), an old VM shutting down
    // (the cloud), or empty. An empty slot is capstan's latency only while a replacement is still
    // to be made: before the first new VM (the apply reaching the cloud), and between (seeing the
    // old VM gone, creating the next). Once all N new VMs exist, a freed slot stays empty until the
    // slowest replacement ends: the tail, the spread of N chains of random delays (T4), not capstan.
    // Each stage's slot-time over N is its mean per replacement; they add up to maxSurge × wall time / N.
    const slotMs = { booting: 0, readyUntilOldShutsDown: 0, oldShuttingDown: 0, emptyAtStart: 0, empty: 0, emptyTail: 0 };
    {
      const booting = new Set<string>();
      const ready = new Set<string>();
      const oldDown = new Set<string>();
      const oldGone = new Set<string>();
      let at = t0;
      let created = 0;
      const until = (tMs: number) => {
        const dt = Math.max(0, tMs - at);
        const oldUp = N - oldDown.size - oldGone.size;
        slotMs.booting += booting.size * dt;
        slotMs.readyUntilOldShutsDown += Math.max(0, ready.size + oldUp - N) * dt;
        slotMs.oldShuttingDown += oldDown.size * dt;
        const empty = Math.max(0, N + SURGE - (booting.size + ready.size + oldUp + oldDown.size)) * dt;
        if (created === 0) slotMs.emptyAtStart += empty;
        else if (created < N) slotMs.empty += empty;
        else slotMs.emptyTail += empty;
        at = Math.max(at, tMs);
      };
      for (const e of events) {
        if (!e.vmId) continue;
        until(Date.parse(e.time));
        if (isNew(e)) {
          if (e.type === 'vm.created') {
            booting.add(e.vmId);
            created++;
          }
          if (e.type === 'node.ready' && booting.delete(e.vmId)) ready.add(e.vmId);
        } else if (e.type === 'vm.shutting-down' && !oldGone.has(e.vmId)) {
          oldDown.add(e.vmId);
        } else if (e.type === 'vm.terminated' && oldDown.delete(e.vmId)) {
          oldGone.add(e.vmId);
        }
      }
      until(Date.parse(tEndIso));
    }
    const perReplacement = Object.fromEntries(Object.entries(slotMs).map(([k, v]) => [k, Math.round(v / N)])) as Record<keyof typeof slotMs, number>;
    const firstCreate = events.find((e) => e.type === 'vm.created' && isNew(e))!.time;
    const lastNodeReady = events.filter((e) => e.type === 'node.ready' && isNew(e)).at(-1)!.time;
    const lastTerminated = events.filter((e) => e.type === 'vm.terminated' && !isNew(e)).at(-1)?.time ?? lastNodeReady;
    const waves = Math.ceil(N / SURGE);
    const cloudPath = mean(own) * waves; // what the cloud itself takes, wave after wave

    // 4. Histories: events per workflow kind, and the commands each kind issued in the window.
    const kinds: Record<string, { workflows: number; events: number[]; windowCommands: Record<string, number> }> = {};
    const allHistories: Record<string, number> = {};
    for await (const wf of env.client.workflow.list()) {
      const kind = parseWorkflowId(wf.workflowId)?.kind ?? 'other';
      const k = (kinds[kind] ??= { workflows: 0, events: [], windowCommands: {} });
      const h = await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const evs = h.events ?? [];
      k.workflows++;
      k.events.push(evs.length);
      allHistories[wf.workflowId] = evs.length;
      for (const e of evs) {
        const secs = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
        const iso = new Date(secs).toISOString();
        if (iso < t0Iso || iso > tEndIso) continue;
        let t = String(EventType[e.eventType ?? 0] ?? e.eventType).replace(/^EVENT_TYPE_/, '');
        if (t === 'ACTIVITY_TASK_SCHEDULED') t += ` ${e.activityTaskScheduledEventAttributes?.activityType?.name}`;
        if (t === 'WORKFLOW_EXECUTION_SIGNALED') t += ` ${e.workflowExecutionSignaledEventAttributes?.signalName}`;
        if (t === 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED') t += ` ${e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName}`;
        k.windowCommands[t] = (k.windowCommands[t] ?? 0) + 1;
      }
    }
    const histories = Object.fromEntries(
      Object.entries(kinds).map(([kind, k]) => [
        kind,
        {
          workflows: k.workflows,
          maxEvents: Math.max(...k.events),
          meanEvents: round(mean(k.events), 1),
          // Per replaced machine: the kind's events of that type in the rollout window, / N.
          perReplacedMachine: Object.fromEntries(Object.entries(k.windowCommands).sort((a, b) => b[1] - a[1]).map(([t, c]) => [t, round(c / N, 2)])),
        },
      ]),
    );

    // 5. Idle: converged, nothing to do. The Cluster's Node-conditions observer stops (goes quiet)
    // once it has seen nothing change for its quiet period (workflows/quiet.ts); the window starts then.
    const settleStart = Date.now();
    for (let deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(1000)) {
      if ((await env.client.workflow.getHandle('cluster/default/demo').describe()).typedSearchAttributes.get(SA_QUIET)) break;
    }
    const observersQuietAfterSeconds = round((Date.now() - settleStart) / 1000, 1);
    await sleep(5000);
    const idleBefore = await actions(env.temporal.metricsUrl);
    const idleReqBefore = await apiserverRequests(kc);
    await sleep(idleSeconds * 1000);
    await sleep(5000);
    const idle = diff(await actions(env.temporal.metricsUrl), idleBefore);
    const idleReqs = diff(await apiserverRequests(kc), idleReqBefore);

    const reqTotal = sum(reqs);
    const leaseReqs = [...reqs].filter(([k]) => k.includes('coordination.k8s.io/leases')).reduce((a, [, v]) => a + v, 0);
    const result = {
      machines: N,
      maxSurge: SURGE,
      maxUnavailable: 0,
      sim: { profile: 'demo', bootMs: '8000-12000', nodeReadyMs: '1600-2400', apiLatencyMs: '20-80', deleteMs: '1600-2400', leaseRenewMs },
      temporal: 'dev server, in memory',
      clusterMs,
      create,
      rollout: {
        wallMs: elapsed,
        nodesDoneMs,
        lowerBoundMs: LOWER_BOUND_MS,
        ratio: round(elapsed / LOWER_BOUND_MS, 3),
        waves,
        cloud: {
          meanCreatedToNodeReadyMs: Math.round(mean(own)),
          p90CreatedToNodeReadyMs: pct(own, 0.9),
          meanBootMs: Math.round(mean(boot)),
          cloudPathMs: Math.round(cloudPath),
          ratioToCloudPath: round(elapsed / cloudPath, 3),
          applyToFirstCreateMs: ms(t0Iso, firstCreate),
          slotMsPerReplacement: perReplacement,
          newNodeReadyToOldShutdownMeanMs: Math.round(mean(readyToShutdown)),
          oldShutdownToNewCreateMeanMs: Math.round(mean(shutdownToCreate)),
          newNodeReadyToNextCreateMeanMs: Math.round(mean(readyToCreate)),
          newNodeReadyToNextCreateP90Ms: pct(readyToCreate, 0.9),
          lastNodeReadyToDoneMs: ms(lastNodeReady, tEndIso),
          lastOldTerminatedToDoneMs: ms(lastTerminated, tEndIso),
        },
      },
      actions: {
        total: sum(rollout),
        perReplacedMachine: round(sum(rollout) / N, 2),
        byType: sorted(rollout),
        byTypePerMachine: Object.fromEntries(Object.entries(sorted(rollout)).map(([k, v]) => [k, round(v / N, 2)])),
        benchQueriesExcluded: queries,
      },
      histories,
      worker: {
        cpuMsPerMachine: round(cpuMs / N, 1),
        cpuMsTotal: Math.round(cpuMs),
        peakRssMiB: round(rssPeak / 2 ** 20, 1),
        peakRssDuringRolloutMiB: round(rssPeakRollout / 2 ** 20, 1),
        note: workerInProcess ? 'worker in the benchmark process (client and polling included)' : 'the worker process alone (capstan worker)',
      },
      otherCpu: { temporalServerMsPerMachine: round(temporalCpu / N, 1), simCloudTreeMsPerMachine: round(simCpu / N, 1) },
      apiserver: {
        requestsPerMachine: round(reqTotal / N, 2),
        requestsPerMachineWithoutLeases: round((reqTotal - leaseReqs) / N, 2),
        benchNodeListsExcluded: benchLists,
        benchNodeWatchesExcluded: nodeWatches,
        top: Object.fromEntries(Object.entries(sorted(reqs)).slice(0, 15)),
      },
      idle: {
        observersQuietAfterSeconds,
        seconds: idleSeconds,
        actions: sum(idle),
        perMachineHour: round((sum(idle) / N) * (3600 / idleSeconds), 2),
        byType: sorted(idle),
        apiserverRequests: sum(idleReqs),
        apiserverTop: Object.fromEntries(Object.entries(sorted(idleReqs)).slice(0, 5)),
      },
      maxHistoryEvents: Math.max(...Object.values(allHistories)),
    };

    const r = result.rollout;
    console.log(`capstan bench: create ${N} workers (scale 0 → ${N}), then roll them`);
    console.log(`  creation: Nodes Ready ${create.wallMs} ms after the scale; the slowest VM's own created → Ready ${create.lowerBoundMs} ms → ratio ${create.ratio} (${create.ratioToNominal} of boot + Ready)`);
    console.log(`    scale → first VM ${create.scaleToFirstCreateMs} ms, first → last VM created ${create.firstToLastCreateMs} ms; ${create.actionsPerMachine} actions per machine`);
    console.log(`    after the scale (p50 / max ms): ${Object.entries(fanOut).map(([k, v]) => `${k} ${v.p50} / ${v.max}`).join(', ')}`);
    console.log(`capstan bench: roll a MachineDeployment of ${N} workers (maxSurge ${SURGE}, maxUnavailable 0), sim "demo" (boot 10 s, Ready 2 s, ±20 %), lease renewal ${leaseRenewMs} ms`);
    console.log(`  rollout wall time:          ${r.wallMs} ms (Nodes done at ${r.nodesDoneMs} ms)`);
    console.log(`  lower bound:                ${r.lowerBoundMs} ms = ${waves} waves × 12 s → ratio ${r.ratio}`);
    console.log(`  cloud's own path:           ${r.cloud.cloudPathMs} ms (${waves} × mean created→Ready ${r.cloud.meanCreatedToNodeReadyMs} ms) → ratio ${r.cloud.ratioToCloudPath}`);
    const slot = r.cloud.slotMsPerReplacement;
    console.log(`  a surge slot per replacement: new VM booting ${slot.booting} ms, Ready → old VM shutting down ${slot.readyUntilOldShutsDown} ms, shutting down ${slot.oldShuttingDown} ms, empty ${slot.emptyAtStart} ms at the start + ${slot.empty} ms between + ${slot.emptyTail} ms in the tail`);
    console.log(`  nearest events (per wave only when maxSurge is 1): new Node Ready → old shutting down ${r.cloud.newNodeReadyToOldShutdownMeanMs} ms, → next new VM created ${r.cloud.newNodeReadyToNextCreateMeanMs} ms (p90 ${r.cloud.newNodeReadyToNextCreateP90Ms})`);
    console.log(`  apply → first VM ${r.cloud.applyToFirstCreateMs} ms; last Node Ready → done ${r.cloud.lastNodeReadyToDoneMs} ms`);
    console.log(`  Temporal actions: ${result.actions.total} → ${result.actions.perReplacedMachine} per replaced machine (${queries} bench queries excluded)`);
    for (const [k, v] of Object.entries(result.actions.byTypePerMachine)) console.log(`    ${k.padEnd(45)} ${v}`);
    console.log('  history events per workflow kind (max / mean), and per replaced machine in the window:');
    for (const [kind, h] of Object.entries(histories)) {
      console.log(`    ${kind.padEnd(20)} ${h.workflows} workflows, max ${h.maxEvents}, mean ${h.meanEvents}`);
      for (const [t, v] of Object.entries(h.perReplacedMachine)) console.log(`      ${t.padEnd(60)} ${v}`);
    }
    console.log(`  worker CPU: ${result.worker.cpuMsPerMachine} ms per machine; peak RSS ${result.worker.peakRssMiB} MiB (${result.worker.peakRssDuringRolloutMiB} during the rollout)`);
    console.log(`  Temporal server CPU ${result.otherCpu.temporalServerMsPerMachine} ms/machine; sim cloud + apiservers ${result.otherCpu.simCloudTreeMsPerMachine} ms/machine`);
    console.log(`  workload apiserver: ${result.apiserver.requestsPerMachine} requests per machine (${result.apiserver.requestsPerMachineWithoutLeases} without kubelet leases)`);
    console.log(`  idle ${idleSeconds} s (from ${observersQuietAfterSeconds} s after convergence, the observer quiet): ${result.idle.actions} actions → ${result.idle.perMachineHour} per machine-hour; ${result.idle.apiserverRequests} apiserver requests`);
    mkdirSync(values.out!, { recursive: true });
    const file = `${values.out!.replace(/\/$/, '')}/rollout-N${N}.json`;
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`  figures: test/bench/out/rollout-N${N}.json`);
  }
} finally {
  clearInterval(rssTimer);
  nodesStopped = true;
  await nodeInformer?.stop();
  await env.stop();
}
