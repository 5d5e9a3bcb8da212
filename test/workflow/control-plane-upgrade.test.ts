// A KubeadmControlPlane of 3 machines upgraded from the previous Kubernetes minor to the current one
// through its Cluster's manifest, as a user edits cluster.yaml: real binaries of both versions run in
// the simulated cloud. Machines are replaced one at a time (maxSurge 1: a new one joins, then an old
// one goes; never more than 4), kubeadm's configuration names the new version before the first new
// machine joins, the Nodes report their machine's version, the endpoint's /version moves to the new
// version only once the last old machine is gone, and the workload API, polled every 200 ms, never
// fails. Then a template change with maxSurge 0 replaces them again, deleting first (never more than
// 3). A minor skipped, a downgrade, or maxSurge 0 below 3 replicas is refused at apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyError, executePlan, loadPlan } from '../../client/apply.js';
import { ManifestError } from '../../client/manifests.js';
import { kubernetesVersions } from '../../scripts/lib/tools.js';
import { controlPlaneWorkflowId, machineDeploymentWorkflowId } from '../../workflows/ids.js';
import { controlPlaneStatusQuery, machineDeploymentStatusQuery } from '../../workflows/messages.js';
import type { SimEvent } from '../../providers/sim/types.js';
import { type ApiPoller, pollWorkloadApi } from '../support/api-poller.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, clusterView, liveVms, nodeReady, waitForAvailable, workloadNodes } from '../support/cluster-checks.js';
import { DEMO_CLUSTER, DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { etcdMembers } from '../support/etcd-members.js';
import { getObjects } from '../../client/commands.js';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { readKubeconfig } from '../../client/commands.js';

const { current, previous } = kubernetesVersions();

const manifest = (o: { version: string; instanceType?: string; maxSurge?: 0 | 1; replicas?: number }) => {
  let text = DEMO_CONTROL_PLANE.replace('  version: v1.37.2\n', `  version: ${o.version}\n`)
    .replace('  replicas: 3\n', `  replicas: ${o.replicas ?? 3}\n`)
    .replace('      instanceType: sim.large\n', `      instanceType: ${o.instanceType ?? 'sim.large'}\n`);
  if (o.maxSurge !== undefined) text = text.replace('  kubeadmConfigSpec:\n', `  rollout:\n    strategy:\n      rollingUpdate:\n        maxSurge: ${o.maxSurge}\n  kubeadmConfigSpec:\n`);
  if (!text.includes(`version: ${o.version}\n`)) throw new Error('demo-cluster.yaml changed shape: fix manifest()');
  return text;
};

/** The demo's MachineDeployment demo-md-0 and its templates, with one worker of `version`. */
const workers = (version: string) => {
  const docs = DEMO_CLUSTER.split(/^---\n/m).filter((d) => /^ {2}name: demo-md-0$/m.test(d));
  const text = docs.join('---\n').replace('  replicas: 3\n', '  replicas: 1\n').replace('      version: v1.37.2\n', `      version: ${version}\n`);
  if (docs.length !== 3 || !text.includes(`version: ${version}`)) throw new Error('demo-cluster.yaml changed shape: fix workers()');
  return text;
};

/** The most control-plane VMs alive (created, not yet terminated) at one moment of the cloud's log after `fromSeq`. */
function mostAlive(events: SimEvent[], fromSeq: number, aliveAtStart: number): number {
  const cp = new Set<string>();
  let alive = aliveAtStart;
  let most = alive;
  for (const e of events) {
    if (e.type === 'vm.created' && e.vmId && /^VM demo-control-plane-\S+ created/.test(e.message)) cp.add(e.vmId);
    if (e.seq <= fromSeq || !e.vmId) continue;
    if (e.type === 'vm.created' && cp.has(e.vmId)) alive++;
    if (e.type === 'vm.terminated' && cp.has(e.vmId)) alive--;
    most = Math.max(most, alive);
  }
  return most;
}

describe('control-plane upgrade', () => {
  let env: CapstanEnv;
  let api: ApiPoller | undefined;
  const kcp = () => env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' }));
  const apply = async (text: string) => executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text }]));
  const workloadCore = async () => {
    const kc = new KubeConfig();
    kc.loadFromString(await readKubeconfig(env.dataDir, 'default', 'demo'));
    return kc.makeApiClient(CoreV1Api);
  };
  /** The messages of the MachineSets' ScalingUp conditions (`capstan get machinesets -o json`). */
  const scalingUp = async (): Promise<string[]> => {
    const text = await getObjects(env.client, 'MachineSet', { namespace: 'default' }, 'json').catch(() => '[]');
    const parsed = JSON.parse(text) as { items?: unknown[] } | unknown[];
    const items = (Array.isArray(parsed) ? parsed : (parsed.items ?? [parsed])) as { status?: { conditions?: { type: string; message?: string }[] } }[];
    return items.flatMap((i) => i.status?.conditions ?? []).filter((c) => c.type === 'ScalingUp').map((c) => c.message ?? '');
  };
  /** The control plane once its 3 machines are up to date and ready. */
  const rolledOut = () =>
    eventually('3 up-to-date ready control-plane machines', async () => {
      const v = await kcp().query(controlPlaneStatusQuery);
      return v.machines.length === 3 && v.status.readyReplicas === 3 && v.status.upToDateReplicas === 3 && v.machines.every((m) => m.upToDate) ? v : undefined;
    }, 300_000, 250);

  beforeAll(async () => {
    env = await startCapstanEnv();
    await apply(manifest({ version: previous }));
    await waitForAvailable(env.client, 'demo');
    await rolledOut();
    api = await pollWorkloadApi(env.dataDir, 'demo');
  }, 400_000);
  afterAll(async () => {
    await api?.stop();
    await env?.stop();
  });

  it('runs the previous minor first: /version, the Nodes and status.version say so', async () => {
    const v = await kcp().query(controlPlaneStatusQuery);
    expect(v.status.version).toBe(previous);
    const nodes = (await workloadNodes(env.dataDir, 'demo')).filter((n) => n.metadata!.name!.startsWith('demo-control-plane-'));
    expect(nodes.map((n) => n.status?.nodeInfo?.kubeletVersion)).toEqual([previous, previous, previous]);
    await eventually('the endpoint to report a version', async () => api!.versions.length > 0);
    expect(api!.versions).toEqual([previous]);
  });

  it('refuses a skipped minor, a downgrade and maxSurge 0 below 3 replicas, naming the field; nothing changes', async () => {
    const [major, minor] = current.slice(1).split('.').map(Number);
    await expect(apply(manifest({ version: `v${major}.${minor! + 1}.0` }))).rejects.toThrow(ApplyError);
    await expect(apply(manifest({ version: `v${major}.${minor! + 1}.0` }))).rejects.toThrow(`spec.version: Forbidden: cannot update Kubernetes version from ${previous} to v${major}.${minor! + 1}.0`);
    await expect(apply(manifest({ version: `v${major}.${minor! - 2}.0` }))).rejects.toThrow(/a control plane is never downgraded/);
    await expect(apply(manifest({ version: previous, replicas: 1, maxSurge: 0 }))).rejects.toThrow(ManifestError);
    await expect(apply(manifest({ version: previous, replicas: 1, maxSurge: 0 }))).rejects.toThrow(
      /spec\.rollout\.strategy\.rollingUpdate\.maxSurge: when KubeadmControlPlane is configured to scale-in, replica count needs to be at least 3/,
    );
    const v = await kcp().query(controlPlaneStatusQuery);
    expect(v.spec.version).toBe(previous);
    expect(v.machines).toHaveLength(3);
  });

  it('holds a worker newer than the control plane (Cluster API\'s KubernetesVersionSkew preflight check)', async () => {
    const lines = await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: manifest({ version: previous }) }, { file: 'workers.yaml', text: workers(current) }]));
    expect(lines.find((l) => l.object.startsWith('machinedeployment'))?.result).toBe('created');
    const blocked = await eventually('the MachineSet to say why it creates nothing', async () => (await scalingUp()).find((m) => m.includes('"KubernetesVersionSkew" preflight check failed')), 60_000, 250);
    expect(blocked).toContain('MachineSet version is higher than ControlPlane version');
    expect((await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-md-0-'))).toEqual([]);
    // The deployment says it too, as Cluster API's does: its ScalingUp names the set and the reason (revision 9).
    const md = env.client.workflow.getHandle(machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' }));
    const scaling = await eventually('the MachineDeployment to say why it does not scale up', async () => {
      const c = (await md.query(machineDeploymentStatusQuery)).status?.conditions.find((x) => x.type === 'ScalingUp');
      return c?.message?.includes('"KubernetesVersionSkew" preflight check failed') ? c : undefined;
    }, 60_000, 250);
    expect(scaling.message).toMatch(/^Scaling up from 0 to \d+ replicas is blocked because:\n\* MachineSet demo-md-0-[a-z0-9]{5}: /);
  }, 90_000);

  it(`upgrades 3 machines to ${current} one at a time with the workload API answering throughout`, async () => {
    const before = (await kcp().query(controlPlaneStatusQuery)).machines.map((m) => m.name);
    const fromSeq = (await allEvents(env.simClient)).at(-1)!.seq;
    const lines = await apply(manifest({ version: current }));
    expect(lines.map((l) => `${l.object} ${l.result}`)).toEqual(['cluster.cluster.capstan.dev/demo unchanged', 'kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured']);
    // While it rolls out, the control plane says so and reports the oldest version, and the
    // worker's set waits for it to be stable (Cluster API's ControlPlaneIsStable check).
    const rolling = await eventually('RollingOut', async () => {
      const v = await kcp().query(controlPlaneStatusQuery);
      return v.status.conditions.some((c) => c.type === 'RollingOut' && c.status === 'True') ? v : undefined;
    }, 60_000, 100);
    expect(rolling.status.version).toBe(previous);
    await eventually('the MachineSet to wait for the upgrade', async () => (await scalingUp()).some((m) => m.includes('"ControlPlaneIsStable" preflight check failed')), 60_000, 100);

    const v = await rolledOut();
    expect(v.status.version).toBe(current);
    expect(v.machines.map((m) => m.name).filter((n) => before.includes(n))).toEqual([]);
    expect(v.machines.every((m) => m.version === current)).toBe(true);
    // Each old machine left etcd before it went: the members are exactly the new machines.
    const members = await etcdMembers({ dataDir: env.dataDir, sim: env.simClient, cluster: 'demo' });
    expect(members.map((m) => m.name).sort()).toEqual(v.machines.map((m) => m.name).sort());
    expect(members.every((m) => m.healthy)).toBe(true);
    // Still one machine per zone after the rollout.
    expect((await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-control-plane-')).map((x) => x.failureDomain).sort()).toEqual(['sim-local-1a', 'sim-local-1b', 'sim-local-1c']);
    expect(v.status.conditions.find((c) => c.type === 'RollingOut')).toMatchObject({ status: 'False' });
    expect(mostAlive(await allEvents(env.simClient), fromSeq, 3)).toBe(4);

    const nodes = await eventually('3 control-plane Nodes of the new version', async () => {
      const all = (await workloadNodes(env.dataDir, 'demo')).filter((n) => n.metadata!.name!.startsWith('demo-control-plane-'));
      return all.length === 3 && all.every(nodeReady) ? all : undefined;
    }, 60_000, 250);
    expect(nodes.map((n) => n.status?.nodeInfo?.kubeletVersion)).toEqual([current, current, current]);
    const cm = await (await workloadCore()).readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' });
    expect(cm.data?.ClusterConfiguration).toMatch(new RegExp(`kubernetesVersion: "?${current.replace(/\./g, '\\.')}"?\\n`));
    // The endpoint moved to the new version once, when the last old machine went, and never failed.
    await eventually(`the endpoint to report ${current}`, async () => api!.versions.at(-1) === current, 60_000, 200);
    expect(api!.versions).toEqual([previous, current]);
    expect(api!.failures).toEqual([]);
    expect((await clusterView(env.client, 'demo')).controlPlane.version).toBe(current);

    // The worker joins only now, after the last old control-plane machine went, at its version.
    const worker = await eventually('the worker Node', async () => (await workloadNodes(env.dataDir, 'demo')).find((n) => n.metadata!.name!.startsWith('demo-md-0-') && nodeReady(n)), 120_000, 250);
    expect(worker.status?.nodeInfo?.kubeletVersion).toBe(current);
    const events = await allEvents(env.simClient);
    const workerCreated = events.find((e) => e.seq > fromSeq && e.type === 'vm.created' && /^VM demo-md-0-/.test(e.message))!;
    const oldGone = events.filter((e) => e.seq > fromSeq && e.type === 'vm.terminated').at(-1)!;
    expect(workerCreated.seq).toBeGreaterThan(oldGone.seq);
  }, 400_000);

  it('a template change with maxSurge 0 deletes first: never more than 3 machines', async () => {
    const fromSeq = (await allEvents(env.simClient)).at(-1)!.seq;
    await apply(manifest({ version: current, instanceType: 'sim.medium', maxSurge: 0 }));
    await eventually('a machine not up to date', async () => (await kcp().query(controlPlaneStatusQuery)).status.upToDateReplicas < 3, 30_000, 100);
    await rolledOut();
    expect(mostAlive(await allEvents(env.simClient), fromSeq, 3)).toBe(3);
    const vms = (await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-control-plane-'));
    expect(vms.map((x) => x.instanceType)).toEqual(['sim.medium', 'sim.medium', 'sim.medium']);
    expect(api!.failures).toEqual([]);
  }, 400_000);
});
