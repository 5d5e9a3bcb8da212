// The simulated cloud survives `kill -9`: restarted on the same data dir it has the same
// clusters and VMs, finishes boots and deletions that were under way, re-opens each load
// balancer on the same port, keeps its event log, and has lost nothing it acknowledged.
import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeUserData, SimCloudClient, type SimVm } from '../../providers/sim/client.js';
import { startSimCloud, type SimCloudProcess } from '../../providers/sim/launch.js';
import { probeTcp, startEchoServer, tempDataDir, waitForEvent, type EchoServer } from './support.js';

const initData = encodeUserData('#cloud-config\nruncmd:\n- kubeadm init\n');
const joinData = encodeUserData('#cloud-config\nruncmd:\n- kubeadm join 10.0.0.1:6443\n');

describe('simulated cloud restart after kill -9 (process)', () => {
  const dirs: string[] = [];
  let running: SimCloudProcess[] = [];
  let echo: EchoServer | undefined;

  afterEach(async () => {
    await Promise.all(running.map((p) => p.stop()));
    running = [];
  });

  afterAll(async () => {
    await echo?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('keeps VMs, finishes a boot and a deletion, re-opens the LB on the same port, keeps the events', async () => {
    const dataDir = tempDataDir('restart');
    dirs.push(dataDir);
    echo = await startEchoServer('echo:');
    // Slow enough boots and deletes that the kill lands in the middle of them.
    const flags = ['--boot-ms', '1200-1500', '--delete-ms', '1200-1500', '--runtime-opt', `backend=127.0.0.1:${echo.port}`];
    const first = await startSimCloud({ dataDir, profile: 'test', seed: 11, extra: flags });
    running.push(first);
    const client1 = new SimCloudClient(first.url);

    const cluster = await client1.createCluster({ clientToken: 'rs-cluster', name: 'rs', region: 'sim-local-1' });
    const worker = await client1.createVm({ clientToken: 'rs-worker', clusterId: cluster.id, name: 'rs-worker-0', instanceType: 'sim.small', userData: joinData });
    expect((await client1.waitForVmState(worker.id, 'running', { timeoutSeconds: 30 })).state).toBe('running');
    expect((await client1.deleteVm(worker.id)).state).toBe('shutting-down');
    const booting = await client1.createVm({ clientToken: 'rs-init', clusterId: cluster.id, name: 'rs-cp-0', instanceType: 'sim.medium', userData: initData });
    expect(booting.state).toBe('pending');
    const eventsBefore = await client1.events(0);

    await first.kill9();
    running = running.filter((p) => p !== first);
    expect((await probeTcp(cluster.endpoint.port, 'x')).kind).toBe('refused');

    const second = await startSimCloud({ dataDir, profile: 'test', seed: 12, extra: flags });
    running.push(second);
    // Without --port, the restarted cloud comes back on the same URL.
    expect(second.url).toBe(first.url);
    const client = new SimCloudClient(second.url);

    expect(await client.getCluster(cluster.id)).toEqual(cluster);
    const vms = await client.listVms({ clusterId: cluster.id });
    expect(vms.map((v) => v.id).sort()).toEqual([worker.id, booting.id].sort());
    const afterRestart = vms.find((v) => v.id === booting.id)!;
    expect(afterRestart.createdAt).toBe(booting.createdAt);
    expect(['pending', 'running']).toContain(afterRestart.state);

    // The load balancer listens on the same port again.
    expect((await probeTcp(cluster.endpoint.port, 'x')).kind).not.toBe('refused');

    // The interrupted boot completes, the runtime boots the VM, the LB forwards to its backend.
    const booted = await client.waitForVmState(booting.id, 'running', { timeoutSeconds: 30 });
    expect(booted.state).toBe('running');
    await waitForEvent(client, (e) => e.type === 'bootstrap.succeeded' && e.vmId === booting.id);
    expect(await probeTcp(cluster.endpoint.port, 'ping')).toEqual({ kind: 'data', text: 'echo:ping' });

    // The interrupted deletion completes.
    const gone = await client.waitForVmState(worker.id, 'terminated', { timeoutSeconds: 30 });
    expect(gone.state).toBe('terminated');

    // The event log kept everything and goes on with higher sequence numbers.
    const eventsAfter = await client.events(0);
    expect(eventsAfter.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    const restarted = eventsAfter.find((e) => e.type === 'cloud.started' && e.data?.restarted === true);
    expect(restarted).toBeDefined();
    expect(restarted!.seq).toBeGreaterThan(eventsBefore[eventsBefore.length - 1]!.seq);
    for (let i = 1; i < eventsAfter.length; i++) expect(eventsAfter[i]!.seq).toBeGreaterThan(eventsAfter[i - 1]!.seq);
    expect(eventsAfter.filter((e) => e.type === 'vm.running' && e.vmId === booting.id)).toHaveLength(1);
    expect(eventsAfter.filter((e) => e.type === 'vm.terminated' && e.vmId === worker.id)).toHaveLength(1);
  });

  it('loses no acknowledged create when killed during a burst of them', async () => {
    const dataDir = tempDataDir('burst');
    dirs.push(dataDir);
    const first = await startSimCloud({ dataDir, profile: 'test', seed: 5, extra: ['--api-latency-ms', '0-3'] });
    running.push(first);
    const client1 = new SimCloudClient(first.url, { timeoutMs: 5000 });
    const cluster = await client1.createCluster({ clientToken: 'burst-cluster', name: 'burst', region: 'sim-local-1' });

    const acknowledged = new Map<string, SimVm>();
    const tokens: string[] = [];
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop && i < 200; i++) {
        const token = `burst-${w}-${i}`;
        tokens.push(token);
        try {
          const vm = await client1.createVm({ clientToken: token, clusterId: cluster.id, name: `burst-${w}-${i}`, instanceType: 'sim.small', userData: joinData });
          acknowledged.set(token, vm);
        } catch {
          return; // the process is gone
        }
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    // Kill once a few creates have been acknowledged, with more in flight.
    while (acknowledged.size < 12) await new Promise((r) => setTimeout(r, 5));
    await first.kill9();
    running = running.filter((p) => p !== first);
    stop = true;
    await Promise.all(workers);

    const second = await startSimCloud({ dataDir, profile: 'test', seed: 6 });
    running.push(second);
    const client = new SimCloudClient(second.url);
    const vms = await client.listVms({ clusterId: cluster.id });
    const byToken = new Map(vms.map((v) => [v.clientToken, v]));
    for (const [token, vm] of acknowledged) {
      expect(byToken.get(token)?.id, token).toBe(vm.id);
    }
    // Retrying every token the client sent (acknowledged or not) gives exactly one VM per token.
    for (const token of tokens) {
      const [, w, i] = token.split('-');
      const vm = await client.createVm({ clientToken: token, clusterId: cluster.id, name: `burst-${w}-${i}`, instanceType: 'sim.small', userData: joinData });
      if (acknowledged.has(token)) expect(vm.id).toBe(acknowledged.get(token)!.id);
    }
    const final = await client.listVms({ clusterId: cluster.id });
    expect(final).toHaveLength(new Set(tokens).size);
    expect(new Set(final.map((v) => v.clientToken)).size).toBe(final.length);
  });
  it('on SIGTERM answers pending long polls, exits 0, and comes back with backends, faults and running VMs', async () => {
    const dataDir = tempDataDir('sigterm');
    dirs.push(dataDir);
    echo ??= await startEchoServer('echo:');
    const flags = ['--runtime-opt', `backend=127.0.0.1:${echo.port}`];
    const first = await startSimCloud({ dataDir, profile: 'test', seed: 21, extra: flags });
    running.push(first);
    const client1 = new SimCloudClient(first.url);
    const cluster = await client1.createCluster({ clientToken: 'st-cluster', name: 'st', region: 'sim-local-1' });
    const init = await client1.createVm({ clientToken: 'st-init', clusterId: cluster.id, name: 'st-cp-0', instanceType: 'sim.medium', userData: initData });
    await waitForEvent(client1, (e) => e.type === 'bootstrap.succeeded' && e.vmId === init.id);
    expect(await probeTcp(cluster.endpoint.port, 'a')).toEqual({ kind: 'data', text: 'echo:a' });
    await client1.setFaults({ neverBoot: 1 });
    const stuck = await client1.createVm({ clientToken: 'st-stuck', clusterId: cluster.id, name: 'st-w-0', instanceType: 'sim.small', userData: joinData });

    const initBefore = await client1.getVm(init.id);
    const poll = client1.waitForVmState(stuck.id, 'running', { timeoutSeconds: 30 });
    await new Promise((r) => setTimeout(r, 100));
    const exit = await first.stop();
    running = running.filter((p) => p !== first);
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await poll).state).toBe('pending');
    expect((await probeTcp(cluster.endpoint.port, 'x')).kind).toBe('refused');

    const second = await startSimCloud({ dataDir, profile: 'test', seed: 22, extra: flags });
    running.push(second);
    const client = new SimCloudClient(second.url);
    // The persisted backend is in place as soon as the cloud is up again.
    expect(await probeTcp(cluster.endpoint.port, 'b')).toEqual({ kind: 'data', text: 'echo:b' });
    const again = await client.getVm(init.id);
    expect(again.state).toBe('running');
    expect(again.bootstrap.status).toBe('succeeded');
    expect(again).toEqual(initBefore);
    // A never-boot VM stays pending across the restart, and the fault counter stays used up.
    expect((await client.waitForVmState(stuck.id, 'running', { timeoutSeconds: 1 })).state).toBe('pending');
    expect((await client.getFaults()).neverBoot).toBe(0);
    // bootstrap.succeeded is not reported twice for a VM that had finished.
    const events = await client.events(0);
    expect(events.filter((e) => e.type === 'bootstrap.succeeded' && e.vmId === init.id)).toHaveLength(1);
  });
});
