// The simulated cloud as a process: its API, idempotency, validation, long polls, the order of a
// VM's states, deletion rules, and that user data never leaks. Real process, real HTTP, loopback.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeUserData,
  SimCloudClient,
  SimNotFoundError,
  SimValidationError,
  type SimCluster,
  type SimEvent,
} from '../../providers/sim/client.js';
import { startSimCloud, type SimCloudProcess } from '../../providers/sim/launch.js';
import { probeTcp, tempDataDir, waitForEvent } from './support.js';

const SECRET = 'SUPER-SECRET-PRIVATE-KEY-3f1d9c';
const initData = (extra = '') => encodeUserData(`#cloud-config\nwrite_files:\n- path: /etc/kubernetes/pki/ca.key\n  content: ${SECRET}\nruncmd:\n- kubeadm init --config /run/kubeadm.yaml\n${extra}`);
const workerData = () => encodeUserData(`#cloud-config\nruncmd:\n- kubeadm join 10.0.0.1:6443 --token ${SECRET}\n`);

describe('simulated cloud API (process)', () => {
  let dataDir: string;
  let cloud: SimCloudProcess;
  let client: SimCloudClient;
  // Every response body the client saw, to check that user data never comes back.
  const bodies: string[] = [];
  let cluster: SimCluster;

  beforeAll(async () => {
    dataDir = tempDataDir('api');
    cloud = await startSimCloud({ dataDir, profile: 'test', seed: 42 });
    const recordingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const text = await res.clone().text();
      bodies.push(text);
      return res;
    };
    client = new SimCloudClient(cloud.url, { fetch: recordingFetch });
    cluster = await client.createCluster({ clientToken: 'api-cluster-1', name: 'api', region: 'sim-local-1' });
  });

  afterAll(async () => {
    await cloud?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers healthz and describes a cluster with its load balancer endpoint', async () => {
    expect(await client.healthz()).toBe(true);
    expect(cluster.id).toMatch(/^simc-[0-9a-f]{8}$/);
    expect(cluster.state).toBe('available');
    expect(cluster.endpoint.host).toBe('127.0.0.1');
    expect(cluster.endpoint.port).toBeGreaterThan(0);
    expect(cluster.network.cidr).toMatch(/^10\.\d+\.0\.0\/16$/);
    expect(cluster.failureDomains).toEqual([`${cluster.region}a`, `${cluster.region}b`, `${cluster.region}c`]);
    expect(await client.getCluster(cluster.id)).toEqual(cluster);
    expect((await client.listClusters()).map((c) => c.id)).toContain(cluster.id);
  });

  it('creates a cluster once per clientToken and refuses the token with other parameters', async () => {
    const again = await client.createCluster({ clientToken: 'api-cluster-1', name: 'api', region: 'sim-local-1' });
    expect(again).toEqual(cluster);
    const err = await client.createCluster({ clientToken: 'api-cluster-1', name: 'other', region: 'sim-local-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimValidationError);
    expect((err as SimValidationError).status).toBe(409);
    expect((err as SimValidationError).code).toBe('IdempotentParameterMismatch');
    expect((err as SimValidationError).retryable).toBe(false);
  });

  it('creates a VM once per clientToken; a mismatch is 409', async () => {
    const input = { clientToken: 'api-vm-1', clusterId: cluster.id, name: 'api-cp-0', instanceType: 'sim.medium', userData: initData() };
    const raw1 = await fetch(`${cloud.url}/v1/vms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    expect(raw1.status).toBe(201);
    const vm = ((await raw1.json()) as { vm: { id: string } }).vm;
    const raw2 = await fetch(`${cloud.url}/v1/vms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    expect(raw2.status).toBe(200);
    expect(((await raw2.json()) as { vm: { id: string } }).vm.id).toBe(vm.id);
    expect((await client.createVm(input)).id).toBe(vm.id);

    for (const change of [{ name: 'api-cp-1' }, { instanceType: 'sim.large' }, { userData: initData('# different') }]) {
      const err = await client.createVm({ ...input, ...change }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SimValidationError);
      expect((err as SimValidationError).code).toBe('IdempotentParameterMismatch');
      expect((err as SimValidationError).status).toBe(409);
    }
    const same = (await client.listVms({ clusterId: cluster.id })).filter((v) => v.clientToken === 'api-vm-1');
    expect(same).toHaveLength(1);
  });

  it('names the field of a validation error, which is not retryable', async () => {
    const base = { clientToken: 'api-bad', clusterId: cluster.id, name: 'bad-0', instanceType: 'sim.small', userData: workerData() };
    const cases: [Record<string, unknown>, string, string][] = [
      [{ instanceType: 'sim.huge' }, 'instanceType', 'InvalidParameterValue'],
      [{ userData: undefined }, 'userData', 'InvalidParameterValue'],
      [{ userData: 'not base64!' }, 'userData', 'InvalidParameterValue'],
      [{ name: 'Not_A_Hostname' }, 'name', 'InvalidParameterValue'],
      [{ clientToken: '' }, 'clientToken', 'InvalidParameterValue'],
      [{ image: 'ubuntu-24.04' }, 'image', 'InvalidParameterValue'],
      [{ failureDomain: 'mars-1a' }, 'failureDomain', 'InvalidParameterValue'],
      [{ clusterId: 'simc-00000000' }, 'clusterId', 'InvalidClusterID.NotFound'],
    ];
    for (const [change, field, code] of cases) {
      const err = await client.createVm({ ...base, ...change } as never).catch((e: unknown) => e);
      expect(err, field).toBeInstanceOf(SimValidationError);
      const v = err as SimValidationError;
      expect(v.status).toBe(400);
      expect(v.code).toBe(code);
      expect(v.field).toBe(field);
      expect(v.retryable).toBe(false);
      expect(v.message).toContain(field);
    }
    const offered = await client.createVm({ ...base, instanceType: 'sim.huge' }).catch((e: SimValidationError) => e.message);
    expect(offered).toContain('sim.small');
    const region = await client.createCluster({ clientToken: 'bad-c', name: 'x', region: 'Not A Region' }).catch((e: unknown) => e);
    expect((region as SimValidationError).field).toBe('region');
    expect(await client.listVms({ clusterId: cluster.id }).then((vms) => vms.some((v) => v.clientToken === 'api-bad'))).toBe(false);
  });

  it('answers 404 for unknown objects', async () => {
    for (const call of [() => client.getVm('i-000000000000'), () => client.getCluster('simc-00000000'), () => client.deleteVm('i-000000000000')]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SimNotFoundError);
      expect((err as SimNotFoundError).code).toBe('NotFound');
      expect((err as SimNotFoundError).retryable).toBe(false);
    }
  });

  it('boots a VM pending → running, then bootstrap; the long poll returns on the change', async () => {
    const vm = await client.createVm({ clientToken: 'api-vm-boot', clusterId: cluster.id, name: 'api-boot-0', instanceType: 'sim.small', userData: initData() });
    expect(vm.state).toBe('pending');
    expect(vm.id).toMatch(/^i-[0-9a-f]{12}$/);
    expect(vm.providerID).toBe(`sim:///sim-local-1/${vm.id}`);
    expect(vm.addresses[0]!.type).toBe('InternalIP');
    expect(vm.addresses[0]!.address.startsWith(cluster.network.cidr.split('.').slice(0, 2).join('.') + '.')).toBe(true);
    expect(vm.addresses[1]).toEqual({ type: 'Hostname', address: 'api-boot-0' });
    expect(vm.bootstrap.status).toBe('pending');
    expect(vm.launchedAt).toBeUndefined();

    // A long poll for a state the VM cannot reach in 0 s answers at once, still pending.
    expect((await client.waitForVmState(vm.id, 'running', { timeoutSeconds: 0 })).state).toBe('pending');
    // The long poll answers when the VM runs (well before its 30 s timeout).
    const running = await client.waitForVmState(vm.id, 'running', { timeoutSeconds: 30 });
    expect(running.state).toBe('running');
    expect(Date.parse(running.launchedAt!)).toBeGreaterThanOrEqual(Date.parse(vm.createdAt));

    const boot = await waitForEvent(client, (e) => e.type === 'bootstrap.succeeded' && e.vmId === vm.id);
    const all = await client.events(0);
    const mine = all.filter((e) => e.vmId === vm.id).map((e) => e.type);
    expect(mine).toEqual(['vm.created', 'vm.running', 'bootstrap.succeeded']);
    const created = all.find((e) => e.vmId === vm.id && e.type === 'vm.created')!;
    expect(created.data?.role).toBe('init');
    expect(boot.seq).toBeGreaterThan(created.seq);
    expect((await client.getVm(vm.id)).bootstrap.status).toBe('succeeded');
    // Sequence numbers are increasing and times are ISO with milliseconds.
    for (let i = 1; i < all.length; i++) expect(all[i]!.seq).toBeGreaterThan(all[i - 1]!.seq);
    expect(all[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await client.events(all[all.length - 1]!.seq)).toEqual([]);
  });

  it('classifies join data in vm.created', async () => {
    const vm = await client.createVm({ clientToken: 'api-vm-worker', clusterId: cluster.id, name: 'api-worker-0', instanceType: 'sim.small', userData: workerData() });
    const e = await waitForEvent(client, (x) => x.type === 'vm.created' && x.vmId === vm.id);
    expect(e.data?.role).toBe('worker-join');
  });

  it('refuses to delete a cluster with live VMs, deletes it once they are terminated, and closes its LB', async () => {
    const c = await client.createCluster({ clientToken: 'api-del-cluster', name: 'del', region: 'sim-local-1' });
    const vm = await client.createVm({ clientToken: 'api-del-vm', clusterId: c.id, name: 'del-0', instanceType: 'sim.small', userData: workerData() });
    expect(await probeTcp(c.endpoint.port, 'x')).toEqual(expect.objectContaining({ kind: expect.stringMatching(/^(reset|closed)$/) }));

    const refused = await client.deleteCluster(c.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SimValidationError);
    expect((refused as SimValidationError).status).toBe(409);
    expect((refused as SimValidationError).code).toBe('DependencyViolation');
    expect((refused as SimValidationError).message).toContain(vm.id);

    const deleting = await client.deleteVm(vm.id);
    expect(deleting.state).toBe('shutting-down');
    expect((await client.deleteVm(vm.id)).state).toMatch(/^(shutting-down|terminated)$/);
    // Still refused while the VM is shutting down.
    const stillRefused = await client.deleteCluster(c.id).catch((e: unknown) => e);
    if ((await client.getVm(vm.id)).state !== 'terminated') expect((stillRefused as SimValidationError).code).toBe('DependencyViolation');
    const gone = await client.waitForVmState(vm.id, 'terminated', { timeoutSeconds: 30 });
    expect(gone.state).toBe('terminated');
    expect(gone.terminatedAt).toBeDefined();
    expect(gone.stateReason).toBeUndefined();

    const del = await client.deleteCluster(c.id);
    expect(del.state).toMatch(/^(deleting|deleted)$/);
    expect(await probeTcp(c.endpoint.port, 'x')).toEqual({ kind: 'refused' });
    await waitForEvent(client, (e) => e.type === 'cluster.deleted' && e.clusterId === c.id);
    const deleted = await client.getCluster(c.id);
    expect(deleted.state).toBe('deleted');
    expect(deleted.deletedAt).toBeDefined();
    expect((await client.deleteCluster(c.id)).state).toBe('deleted');

    // No new VMs in a deleted cluster.
    const err = await client.createVm({ clientToken: 'api-del-vm-2', clusterId: c.id, name: 'del-1', instanceType: 'sim.small', userData: workerData() }).catch((e: unknown) => e);
    expect((err as SimValidationError).code).toBe('InvalidClusterID.NotFound');

    const events = await client.events(0);
    const seqOf = (type: string, pred: (e: SimEvent) => boolean) => events.find((e) => e.type === type && pred(e))?.seq ?? -1;
    const ofVm = (e: SimEvent) => e.vmId === vm.id;
    const ofCluster = (e: SimEvent) => e.clusterId === c.id;
    const order = [
      seqOf('cluster.created', ofCluster),
      seqOf('vm.created', ofVm),
      seqOf('vm.shutting-down', ofVm),
      seqOf('vm.terminated', ofVm),
      seqOf('cluster.deleting', ofCluster),
      seqOf('cluster.deleted', ofCluster),
    ];
    expect(order.every((s) => s > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('kills a VM on request: terminated with stateReason killed', async () => {
    const vm = await client.createVm({ clientToken: 'api-kill', clusterId: cluster.id, name: 'kill-0', instanceType: 'sim.small', userData: workerData() });
    await client.waitForVmState(vm.id, 'running', { timeoutSeconds: 30 });
    const killed = await client.vmAction(vm.id, 'kill');
    expect(killed.state).toBe('terminated');
    expect(killed.stateReason).toBe('killed');
    const types = (await client.events(0)).filter((e) => e.vmId === vm.id).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['vm.killed', 'vm.terminated']);
    // node-ready faults need a running VM.
    const err = await client.vmAction(vm.id, 'node-not-ready').catch((e: unknown) => e);
    expect((err as SimValidationError).code).toBe('IncorrectInstanceState');
  });

  it('delegates node-not-ready / node-ready to the runtime', async () => {
    const vm = await client.createVm({ clientToken: 'api-nnr', clusterId: cluster.id, name: 'nnr-0', instanceType: 'sim.small', userData: workerData() });
    await client.waitForVmState(vm.id, 'running', { timeoutSeconds: 30 });
    await client.vmAction(vm.id, 'node-not-ready');
    await waitForEvent(client, (e) => e.type === 'node.not-ready' && e.vmId === vm.id);
    await client.vmAction(vm.id, 'node-ready');
    await waitForEvent(client, (e) => e.type === 'node.ready' && e.vmId === vm.id);
  });

  it('never returns or logs user data; keeps it in a 0600 file', async () => {
    expect(bodies.length).toBeGreaterThan(10);
    const b64 = initData().slice(0, 40);
    for (const body of bodies) {
      expect(body).not.toContain(SECRET);
      expect(body).not.toContain(b64);
    }
    const log = readFileSync(cloud.logFile, 'utf8');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(b64);
    const vm = (await client.listVms({ clusterId: cluster.id })).find((v) => v.clientToken === 'api-vm-boot')!;
    // The state is a snapshot and a journal after it; the VM's record is in one of them.
    let state = '';
    for (const f of ['state.json', 'state.journal', 'events.jsonl']) {
      const text = existsSync(path.join(dataDir, f)) ? readFileSync(path.join(dataDir, f), 'utf8') : '';
      if (f !== 'events.jsonl') state += text;
      expect(text, f).not.toContain(SECRET);
      expect(text, f).not.toContain(b64);
    }
    expect(state).toContain(vm.id);
    const file = path.join(dataDir, 'userdata', vm.id);
    expect(readFileSync(file, 'utf8')).toContain(SECRET);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
