// `capstan dev` (npm start): everything on this machine, on loopback — the Temporal dev server
// with its Web UI (state in a SQLite file), the simulated cloud, a management cluster (a real
// kube-apiserver + etcd with capstan's CRDs and RBAC), a worker and the CRD watcher — then the
// demo, as Cluster API's quick-start: the demo manifest applied to the management cluster, and the
// cluster of 3 control-plane machines and a MachineDeployment of 3 workers created from it, with
// progress; once it is Available, a Deployment of 6 pods with a PodDisruptionBudget installed in
// it; then, until Ctrl-C, each change of its nodes and pods (roll the workers with `capstan apply`
// or kubectl, and watch the pods move).
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { SimCloudClient } from '../providers/sim/client.js';
import { startSimCloud } from '../providers/sim/launch.js';
import { canConnect, freePort } from '../scripts/lib/ports.js';
import { startTemporalDevServer } from '../scripts/lib/temporal.js';
import { secretsDir } from '../workers/config.js';
import { startWorkerProcess } from '../workers/launch.js';
import { clusterWorkflowId } from '../workflows/ids.js';
import { clusterStatusQuery } from '../workflows/messages.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';
import type { ClusterView } from '../workflows/types.js';
import { loadPlan } from './apply.js';
import { getNodes, readKubeconfig } from './commands.js';
import { applyManifest, podsTable, waitForReadyPods, watchWorkload } from './demo-app.js';
import { writeDevEnv } from './dev-env.js';
import { startManagementApi } from './management-api.js';
import { applyToManagement } from './management-apply.js';
import { installCapstan } from './management-install.js';
import { connectClient, TASK_QUEUE } from './temporal.js';
import { Watcher } from './watcher.js';

const DEMO_MANIFEST = fileURLToPath(new URL('../config/samples/demo-cluster.yaml', import.meta.url));
const DEMO_APP = fileURLToPath(new URL('../config/samples/demo-app.yaml', import.meta.url));
const DEMO_HEALTH_CHECK = fileURLToPath(new URL('../config/samples/machinehealthcheck.yaml', import.meta.url));
/** The demo app's pods: config/samples/demo-app.yaml's Deployment. */
const DEMO_APP_PODS = { namespace: 'default', labelSelector: 'app=demo-app', replicas: 6 };

const say = (msg: string) => console.log(`[capstan dev] ${msg}`);

/** The well-known port if it is free, else any free one. */
async function preferPort(port: number): Promise<number> {
  return (await canConnect('127.0.0.1', port, 300)) ? freePort() : port;
}

export async function runDev(o: { dataDir: string; profile: 'demo' | 'test'; exitWhenReady: boolean; demo: boolean }): Promise<number> {
  const dir = o.dataDir;
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const { profile, exitWhenReady } = o;
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    say(`starting the Temporal dev server (state in ${join(dir, 'temporal.db')})...`);
    const temporal = await startTemporalDevServer({
      dbFile: join(dir, 'temporal.db'),
      port: await preferPort(7233),
      uiPort: await preferPort(8233),
      searchAttributes: SEARCH_ATTRIBUTES,
      logFile: join(logs, 'temporal.log'),
    });
    stops.push(() => temporal.stop());
    say(`Temporal ${temporal.address} — Web UI: ${temporal.uiUrl}`);

    say(`starting the simulated cloud (profile ${profile}; state in ${join(dir, 'sim')})...`);
    const sim = await startSimCloud({ dataDir: join(dir, 'sim'), profile, runtime: 'kubernetes', logFile: join(logs, 'sim-cloud.log') });
    stops.push(() => sim.stop());
    say(`simulated cloud ${sim.url}`);

    say(`starting the management cluster (kube-apiserver + etcd; state in ${join(dir, 'management')})...`);
    const management = await startManagementApi(join(dir, 'management'));
    stops.push(() => management.stop());
    const managementKubeconfig = join(dir, 'management.kubeconfig');
    writeFileSync(managementKubeconfig, management.kubeconfig, { mode: 0o600 });
    chmodSync(managementKubeconfig, 0o600);
    const kc = new KubeConfig();
    kc.loadFromString(management.kubeconfig);
    await installCapstan(kc, { rbac: true });
    say(`management cluster ${management.url}: capstan's CRDs and RBAC installed (kubeconfig ${managementKubeconfig})`);

    // The cluster's secrets as Secrets in the management cluster, with Cluster API's names
    // (`kubectl get secrets`), unless this data dir's cluster already keeps them in files (a demo
    // started before there was a management cluster keeps its store).
    const secrets = process.env.CAPSTAN_SECRETS ?? (hasFiles(secretsDir(dir)) ? 'file' : 'kubernetes');
    // This process reads them too (the demo's kubeconfig, its Nodes).
    process.env.CAPSTAN_SECRETS = secrets;
    process.env.CAPSTAN_MANAGEMENT_KUBECONFIG = managementKubeconfig;
    say(secrets === 'kubernetes' ? `the cluster's secrets: Secrets in the management cluster, with Cluster API's names` : `the cluster's secrets: files in ${secretsDir(dir)} (as this data dir's cluster started)`);
    const env = { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, CAPSTAN_SIM_URL: sim.url, CAPSTAN_DATA_DIR: dir, CAPSTAN_MANAGEMENT_KUBECONFIG: managementKubeconfig, CAPSTAN_SECRETS: secrets };
    writeDevEnv(dir, env);
    say('starting a worker...');
    const worker = await startWorkerProcess({ env, logFile: join(logs, 'worker.log') });
    stops.push(() => worker.stop());
    say(`worker pid ${worker.pid} (log ${join(logs, 'worker.log')})`);

    const { client, connection } = await connectClient({ address: temporal.address, namespace: temporal.namespace, connection: { address: temporal.address } });
    stops.push(() => connection.close());
    const watcherLog = join(logs, 'watcher.log');
    const watcher = new Watcher({ kubeconfig: kc, temporal: client, taskQueue: TASK_QUEUE, log: (l) => appendFileSync(watcherLog, `${new Date().toISOString()} ${l}\n`) });
    await watcher.start();
    stops.push(() => watcher.stop());
    say(`CRD watcher running (log ${watcherLog}): the management cluster's objects drive the workflows`);

    let kubeconfig: string | undefined;
    if (o.demo) {
      const manifest = [{ file: DEMO_MANIFEST, text: readFileSync(DEMO_MANIFEST, 'utf8') }];
      const cluster = loadPlan(manifest).clusters[0]!.cluster.metadata;
      // Applied only when the cluster does not run yet: applying the sample again on a second
      // start would undo what the user applied since (a rolled MachineDeployment would roll back).
      if (await isRunning(client, clusterWorkflowId(cluster))) say(`cluster "${cluster.name}" exists (state from ${dir}); not applying the sample again`);
      else {
        say(`applying config/samples/demo-cluster.yaml to the management cluster; the watcher starts its workflows:`);
        for (const line of await applyToManagement(kc, manifest)) say(line);
      }
      await followCluster(client, cluster.namespace, cluster.name, temporal.uiUrl!);
      kubeconfig = join(dir, `${cluster.name}.kubeconfig`);
      const admin = await readKubeconfig(dir, cluster.namespace, cluster.name);
      writeFileSync(kubeconfig, admin, { mode: 0o600 });
      chmodSync(kubeconfig, 0o600);
      console.log('\n' + (await getNodes(dir, cluster.namespace, cluster.name)) + '\n');
      say(`cluster "${cluster.name}" is Available; installing config/samples/demo-app.yaml in it (server-side apply)...`);
      if (await installDemoApp(admin)) {
        const started = Date.now();
        const { pods, ready } = await waitForReadyPods(admin, DEMO_APP_PODS.namespace, DEMO_APP_PODS.labelSelector, DEMO_APP_PODS.replicas, 120_000);
        say(ready ? `${pods.length} pods Ready after ${((Date.now() - started) / 1000).toFixed(1)} s:` : `not all ${DEMO_APP_PODS.replicas} pods Ready after 120 s; as they are now:`);
        console.log('\n' + podsTable(pods) + '\n');
      }
      // Health: the quick-start's MachineHealthCheck over the workers (unchanged on a second start).
      for (const line of await applyToManagement(kc, [{ file: DEMO_HEALTH_CHECK, text: readFileSync(DEMO_HEALTH_CHECK, 'utf8') }])) say(line);
      const worker = (await new SimCloudClient(sim.url).listVms()).find((v) => v.name.startsWith('demo-md-0-') && v.state === 'running')?.name ?? 'MACHINE';
      say('Try:');
      console.log(`    kubectl --kubeconfig ${managementKubeconfig} get capstan -A`);
      console.log(`    kubectl --kubeconfig ${managementKubeconfig} describe machinedeployment demo-md-0`);
      console.log(`    kubectl --kubeconfig ${kubeconfig} get nodes,pods -o wide`);
      console.log(`    npx capstan get nodes ${cluster.name}`);
      console.log(`    npx capstan get machines`);
      console.log(`    npx capstan describe cluster ${cluster.name}`);
      console.log(`    npx capstan rollout plan -f config/samples/machinedeployment.yaml`);
      console.log(`    # roll the workers (a new instance type): every node drained, its pods moved, within the PodDisruptionBudget`);
      console.log(`    sed 's/instanceType: sim.medium/instanceType: sim.large/' config/samples/demo-cluster.yaml | npx capstan apply -f -`);
      console.log(`    # or scale them, as with any Cluster API MachineDeployment`);
      console.log(`    kubectl --kubeconfig ${managementKubeconfig} scale machinedeployment demo-md-0 --replicas 4`);
      console.log(`    # heal: kill a worker's VM; its Node goes Unknown (~50 s), the MachineHealthCheck deletes the Machine 60 s later and its MachineSet replaces it`);
      console.log(`    npx capstan sim kill ${worker}`);
      console.log(`    npx capstan get machines -w`);
      console.log(`    npx capstan delete cluster ${cluster.name}`);
    }
    say(`Temporal Web UI: ${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows`);
    if (exitWhenReady) return 0;
    say('running; Ctrl-C stops everything (state stays in ' + dir + ')');
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    if (kubeconfig) {
      say(`from now on, each change of the cluster's nodes and of the demo-app pods:`);
      await watchWorkload(readFileSync(kubeconfig, 'utf8'), DEMO_APP_PODS.namespace, DEMO_APP_PODS.labelSelector, (line) => say(`${clock()}  ${line}`), stopped);
    }
    await stopped;
    say('stopping...');
    return 0;
  } finally {
    await stopAll();
  }
}

/** The demo app, applied again (idempotent) if the workload API fails; the cluster runs on without it if it keeps failing. */
async function installDemoApp(kubeconfig: string): Promise<boolean> {
  const text = readFileSync(DEMO_APP, 'utf8');
  for (let attempt = 1; ; attempt++) {
    try {
      for (const line of await applyManifest(kubeconfig, text)) say(line);
      return true;
    } catch (err) {
      if (attempt === 5) {
        say(`could not install the demo app after ${attempt} attempts (${err instanceof Error ? err.message : String(err)}); the cluster runs without it`);
        return false;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

async function isRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Prints each change of the cluster and its machines until the cluster is Available. */
async function followCluster(client: Client, namespace: string, name: string, uiUrl: string): Promise<void> {
  const handle = client.workflow.getHandle(clusterWorkflowId({ namespace, name }));
  say(`follow it in the Temporal UI: ${uiUrl}/namespaces/default/workflows/${encodeURIComponent(clusterWorkflowId({ namespace, name }))}`);
  const started = Date.now();
  let last = '';
  for (;;) {
    // The watcher starts the workflow a moment after the objects are written.
    const v: ClusterView | undefined = await handle.query(clusterStatusQuery).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError && Date.now() - started < 60_000) return undefined;
      throw err;
    });
    if (!v) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const line = summary(v);
    if (line !== last) {
      say(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${line}`);
      last = line;
    }
    if (v.status.conditions.some((c) => c.type === 'Available' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const clock = () => new Date().toISOString().slice(11, 19);

function hasFiles(d: string): boolean {
  try {
    return readdirSync(d).length > 0;
  } catch {
    return false;
  }
}

function summary(v: ClusterView): string {
  const s = v.status;
  const cp = v.controlPlaneStatus;
  const workers = [
    `${s.workers.readyReplicas}/${s.workers.desiredReplicas} ready`,
    ...(v.deployments ?? []).map((d) => `${d.name}: ${d.replicas} machine(s)`),
    ...v.machines.map((m) => `${m.name}=${m.phase}${m.nodeReady ? '(Ready)' : ''}`),
  ].join('; ');
  return `${v.name}: ${s.phase}; control plane ${cp?.initialized ? 'initialized' : 'not initialized'} ${cp?.readyReplicas ?? 0}/${s.controlPlane.desiredReplicas} ready; workers ${workers}`;
}
