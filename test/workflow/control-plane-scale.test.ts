// A KubeadmControlPlane scaled 1 → 3 → 1 through its Cluster's manifest, as a user edits
// cluster.yaml: machines are added one at a time (each joins once the others are Ready) and
// removed one at a time, oldest first, with the workload API polled throughout and never failing.
// An even count, or any other change to the Cluster or its control plane, is refused at apply.
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyError, executePlan, loadPlan } from '../../client/apply.js';
import { getObjects } from '../../client/commands.js';
import { ManifestError } from '../../client/manifests.js';
import { controlPlaneWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { controlPlaneStatusQuery, machineStatusQuery } from '../../workflows/messages.js';
import { type ApiPoller, pollWorkloadApi } from '../support/api-poller.js';
import { eventually, fetchHistories, startCapstanEnv, workflowBundle, type CapstanEnv } from '../support/capstan-env.js';
import { allEvents, clusterView, liveVms, nodeReady, waitForAvailable, workloadNodes } from '../support/cluster-checks.js';
import type { SimEvent } from '../../providers/sim/types.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';
import { etcdMembers } from '../support/etcd-members.js';

const manifest = (replicas: number) => {
  const text = DEMO_CONTROL_PLANE.replace('  replicas: 3\n  version', `  replicas: ${replicas}\n  version`);
  if (!text.includes(`replicas: ${replicas}\n  version`)) throw new Error('demo-cluster.yaml changed shape: fix manifest()');
  return text;
};

/**
 * The most control-plane VMs in transition at one moment of the cloud's log after `fromSeq`:
 * joining (created, its Node not yet Ready) or leaving (shutting down, not yet terminated).
 */
function mostInTransition(events: SimEvent[], fromSeq: number): number {
  const names = new Map<string, string>();
  const moving = new Set<string>();
  let most = 0;
  for (const e of events) {
    const name = e.type === 'vm.created' ? /^VM (\S+) created/.exec(e.message)?.[1] : e.vmId ? names.get(e.vmId) : undefined;
    if (e.type === 'vm.created' && e.vmId && name) names.set(e.vmId, name);
    if (!name?.startsWith('demo-control-plane-') || !e.vmId || e.seq <= fromSeq) continue;
    if (e.type === 'vm.created' || e.type === 'vm.shutting-down') moving.add(e.vmId);
    if (e.type === 'node.ready' || e.type === 'vm.terminated') moving.delete(e.vmId);
    most = Math.max(most, moving.size);
  }
  return most;
}

describe('control-plane scale', () => {
  let env: CapstanEnv;
  const kcp = () => env.client.workflow.getHandle(controlPlaneWorkflowId({ namespace: 'default', name: 'demo-control-plane' }));
  // The workload API, asked every 200 ms for the whole test: every failure is counted.
  let api: ApiPoller | undefined;
  const apply = async (text: string) => executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text }]));
  /** The control plane's machines, VMs and Nodes once it has `n` ready machines and no other. */
  const settled = async (n: number) => {
    const v = await eventually(`${n} ready control-plane machines`, async () => {
      const x = await kcp().query(controlPlaneStatusQuery);
      return x.machines.length === n && x.status.readyReplicas === n ? x : undefined;
    }, 180_000, 250);
    const names = v.machines.map((m) => m.name).sort();
    const vms = (await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-control-plane-'));
    expect(vms.map((x) => x.name).sort()).toEqual(names);
    const nodes = await eventually(`${n} control-plane Nodes`, async () => {
      const all = (await workloadNodes(env.dataDir, 'demo')).filter((x) => x.metadata!.name!.startsWith('demo-control-plane-'));
      return all.length === n ? all : undefined;
    }, 60_000, 250);
    expect(nodes.map((x) => x.metadata!.name!).sort()).toEqual(names);
    expect(nodes.every(nodeReady)).toBe(true);
    return { view: v, names };
  };

  beforeAll(async () => {
    env = await startCapstanEnv();
    await apply(manifest(1));
    await waitForAvailable(env.client, 'demo');
    api = await pollWorkloadApi(env.dataDir, 'demo');
  }, 300_000);
  afterAll(async () => {
    await api?.stop();
    await env?.stop();
  });

  it('the one-at-a-time check sees two machines joining at once when one is planted', () => {
    const ev = (seq: number, type: string, vmId: string, name = '') => ({ seq, time: '', type, vmId, message: type === 'vm.created' ? `VM ${name} created (control-plane)` : '' });
    const joinsOneByOne = [ev(1, 'vm.created', 'a', 'demo-control-plane-a'), ev(2, 'node.ready', 'a'), ev(3, 'vm.created', 'b', 'demo-control-plane-b'), ev(4, 'node.ready', 'b')];
    expect(mostInTransition(joinsOneByOne, 0)).toBe(1);
    const planted = [ev(1, 'vm.created', 'a', 'demo-control-plane-a'), ev(2, 'vm.created', 'b', 'demo-control-plane-b'), ev(3, 'node.ready', 'a'), ev(4, 'node.ready', 'b')];
    expect(mostInTransition(planted, 0)).toBe(2);
  });

  it('refuses an even count, and any other change, naming the field; nothing changes', async () => {
    await expect(apply(manifest(2))).rejects.toThrow(ManifestError);
    await expect(apply(manifest(2))).rejects.toThrow(/spec\.replicas: cannot be an even number when etcd is stacked/);
    await expect(apply(manifest(3).replace('value: "7"', 'value: "8"'))).rejects.toThrow(ApplyError);
    await expect(apply(manifest(3).replace('value: "7"', 'value: "8"'))).rejects.toThrow(
      /already exists with a different spec \(controlPlane\.spec\.kubeadmConfigSpec\.clusterConfiguration\.apiServer\.extraArgs\[0\]\.value\); of a Cluster and its control plane, only the control plane's spec\.replicas, spec\.version, .* can change after creation/,
    );
    expect((await kcp().query(controlPlaneStatusQuery)).machines).toHaveLength(1);
  });

  it('scales 1 → 3: one machine at a time, the workload API answering throughout', async () => {
    const { names: [first] } = await settled(1);
    const fromSeq = (await allEvents(env.simClient)).at(-1)!.seq;
    const lines = await apply(manifest(3));
    expect(lines.map((l) => `${l.object} ${l.result}`)).toEqual(['cluster.cluster.capstan.dev/demo unchanged', 'kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured']);
    // Applying the same again changes nothing.
    expect((await apply(manifest(3))).map((l) => l.result)).toEqual(['unchanged', 'unchanged']);
    const { names } = await settled(3);
    expect(names).toContain(first);
    // Spread across the region's zones (Cluster API's failure domains), one machine in each.
    const zones = (await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-control-plane-')).map((x) => x.failureDomain).sort();
    expect(zones).toEqual(['sim-local-1a', 'sim-local-1b', 'sim-local-1c']);
    expect((await clusterView(env.client, 'demo')).status.failureDomains?.map((d) => d.name)).toEqual(zones);
    expect(mostInTransition(await allEvents(env.simClient), fromSeq)).toBe(1);
    expect((await clusterView(env.client, 'demo')).status.controlPlane).toMatchObject({ desiredReplicas: 3, replicas: 3, readyReplicas: 3 });
    // `capstan get kubeadmcontrolplanes`, with Cluster API's columns, and the scaled spec in -o yaml.
    const table = (await getObjects(env.client, 'KubeadmControlPlane', { namespace: 'default' }, 'table')).split('\n');
    expect(table[0]!.split(/\s{2,}/)).toEqual(['NAME', 'CLUSTER', 'INITIALIZED', 'API SERVER AVAILABLE', 'REPLICAS', 'READY', 'UPDATED', 'UNAVAILABLE', 'AGE', 'VERSION']);
    const row = table[1]!.split(/\s+/);
    expect([...row.slice(0, 8), row[9]]).toEqual(['demo-control-plane', 'demo', 'true', 'true', '3', '3', '3', '0', 'v1.37.2']);
    const yaml = await getObjects(env.client, 'KubeadmControlPlane', { namespace: 'default', name: 'demo-control-plane' }, 'yaml');
    expect(yaml).toContain('apiVersion: controlplane.capstan.dev/v1alpha1');
    expect(yaml).toMatch(/spec:\n(.*\n)*?  replicas: 3\n/);
  }, 240_000);

  it("changes the machine template's labels, annotations and deletion timeouts in place on every control-plane machine, replacing none (Cluster API's in-place propagation)", async () => {
    const before = (await kcp().query(controlPlaneStatusQuery)).machines.map((m) => m.name).sort();
    expect(before).toHaveLength(3);
    const vms = (await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-control-plane-')).map((x) => x.id).sort();
    const changed = manifest(3).replace(
      '  machineTemplate:\n    spec:\n',
      '  machineTemplate:\n    metadata:\n      labels:\n        example.com/tier: control\n      annotations:\n        example.com/team: platform\n    spec:\n      deletion:\n        nodeDrainTimeoutSeconds: 45\n',
    );
    expect(changed).toContain('nodeDrainTimeoutSeconds: 45');
    const lines = await apply(changed);
    expect(lines.map((l) => `${l.object} ${l.result}`)).toContain('kubeadmcontrolplane.controlplane.capstan.dev/demo-control-plane configured');
    const views = await eventually('every control-plane machine to take them', async () => {
      const vs = await Promise.all(before.map((n) => env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: n })).query(machineStatusQuery)));
      return vs.every((v) => v.annotations?.['example.com/team'] === 'platform' && v.labels?.['example.com/tier'] === 'control' && v.spec.deletion.nodeDrainTimeoutSeconds === 45) ? vs : undefined;
    }, 60_000, 250);
    for (const v of views) expect(v.labels).toMatchObject({ 'cluster.capstan.dev/control-plane-name': 'demo-control-plane', 'cluster.capstan.dev/cluster-name': 'demo' });
    expect((await kcp().query(controlPlaneStatusQuery)).machines.map((m) => m.name).sort()).toEqual(before);
    expect((await liveVms(env.simClient)).filter((x) => x.name.startsWith('demo-control-plane-')).map((x) => x.id).sort()).toEqual(vms);
    // Back as it was: the annotation goes from every machine.
    await apply(manifest(3));
    await eventually('the annotation gone from every control-plane machine', async () => {
      const vs = await Promise.all(before.map((n) => env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: n })).query(machineStatusQuery)));
      return vs.every((v) => v.annotations?.['example.com/team'] === undefined && v.labels?.['example.com/tier'] === undefined) ? true : undefined;
    }, 60_000, 250);
  }, 120_000);

  it('scales 3 → 1: oldest first, one at a time, and the API never fails', async () => {
    const before = (await kcp().query(controlPlaneStatusQuery)).machines.map((m) => m.name);
    const fromSeq = (await allEvents(env.simClient)).at(-1)!.seq;
    await apply(manifest(1));
    const { names, view } = await settled(1);
    expect(mostInTransition(await allEvents(env.simClient), fromSeq)).toBe(1);
    // The newest stays: the first machine and the next-oldest went, each after its etcd member
    // (else 1 of 3 members would be healthy, and the API would have stopped answering).
    expect(names[0]).toBe(before.at(-1));
    expect((await etcdMembers({ dataDir: env.dataDir, sim: env.simClient, cluster: 'demo' })).map((m) => m.name)).toEqual(names);
    expect((await allEvents(env.simClient)).filter((e) => e.seq > fromSeq && e.type === 'etcd.member-removed')).toHaveLength(2);
    expect(view.status.conditions.find((c) => c.type === 'ScalingDown')).toMatchObject({ status: 'False' });
    expect((await clusterView(env.client, 'demo')).status.controlPlane).toMatchObject({ desiredReplicas: 1, replicas: 1, readyReplicas: 1 });
    expect(api!.polls).toBeGreaterThan(5);
    expect(api!.failures).toEqual([]);
  }, 240_000);

  it("replays the control plane's and its machines' histories with today's workflow code", async () => {
    const histories = await fetchHistories(env.client, 'WorkflowId STARTS_WITH "kubeadmcontrolplane/" OR WorkflowId STARTS_WITH "machine/default/demo-control-plane-"');
    expect(histories.length).toBeGreaterThanOrEqual(4);
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) expect(r.error, r.workflowId).toBeUndefined();
  }, 120_000);
});
