// Injected faults in the simulated cloud's process: throttling, errors before anything happens,
// commits that answer 500 anyway (the retry with the same clientToken must find the same VM),
// VMs that never boot, and fault endpoints that are never throttled.
import { rmSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeUserData,
  SimCloudClient,
  SimServerError,
  SimThrottledError,
  type SimCluster,
} from '../../providers/sim/client.js';
import { startSimCloud, type SimCloudProcess } from '../../providers/sim/launch.js';
import { tempDataDir } from './support.js';

const userData = encodeUserData('#cloud-config\nruncmd:\n- kubeadm join 10.0.0.1:6443\n');

describe('simulated cloud fault injection (process)', () => {
  let dataDir: string;
  let cloud: SimCloudProcess;
  let client: SimCloudClient;
  let cluster: SimCluster;

  beforeAll(async () => {
    dataDir = tempDataDir('faults');
    cloud = await startSimCloud({ dataDir, profile: 'test', seed: 7 });
    client = new SimCloudClient(cloud.url);
    cluster = await client.createCluster({ clientToken: 'faults-cluster', name: 'faults', region: 'sim-local-1' });
  });

  afterEach(async () => {
    await client.setFaults({ throttleRate: 0, errorRate: 0, failAfterCommitRate: 0, neverBoot: 0 });
  });

  afterAll(async () => {
    await cloud?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads and changes fault settings, validating them', async () => {
    expect(await client.getFaults()).toEqual({ throttleRate: 0, errorRate: 0, failAfterCommitRate: 0, neverBoot: 0 });
    expect(await client.setFaults({ errorRate: 0.25 })).toEqual({ throttleRate: 0, errorRate: 0.25, failAfterCommitRate: 0, neverBoot: 0 });
    const bad = await client.setFaults({ throttleRate: 2 }).catch((e: unknown) => e);
    expect((bad as { field?: string }).field).toBe('throttleRate');
  });

  it('a create that commits and then answers 500 is found again by retrying with the same clientToken', async () => {
    await client.setFaults({ failAfterCommitRate: 1 });
    const input = { clientToken: 'fac-vm-1', clusterId: cluster.id, name: 'fac-0', instanceType: 'sim.small', userData };
    const err = await client.createVm(input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimServerError);
    expect((err as SimServerError).status).toBe(500);
    expect((err as SimServerError).retryable).toBe(true);
    // The retry (same token, fault still on: it only hits creates that make something new).
    const vm = await client.createVm(input);
    await client.setFaults({ failAfterCommitRate: 0 });
    const again = await client.createVm(input);
    expect(again.id).toBe(vm.id);
    const withToken = (await client.listVms({ clusterId: cluster.id })).filter((v) => v.clientToken === 'fac-vm-1');
    expect(withToken).toHaveLength(1);
    // Same for clusters.
    await client.setFaults({ failAfterCommitRate: 1 });
    const cErr = await client.createCluster({ clientToken: 'fac-cluster', name: 'fac', region: 'sim-local-1' }).catch((e: unknown) => e);
    expect(cErr).toBeInstanceOf(SimServerError);
    const c = await client.createCluster({ clientToken: 'fac-cluster', name: 'fac', region: 'sim-local-1' });
    expect((await client.listClusters()).filter((x) => x.clientToken === 'fac-cluster')).toEqual([c]);
  });

  it('throttles with 429 and Retry-After; the client throws SimThrottledError; fault endpoints are not throttled', async () => {
    await client.setFaults({ throttleRate: 1 });
    const raw = await fetch(`${cloud.url}/v1/vms?clusterId=${cluster.id}`);
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await raw.json()) as { error: { code: string; retryAfterMs: number } };
    expect(body.error.code).toBe('RequestLimitExceeded');

    const err = await client.createVm({ clientToken: 'thr-1', clusterId: cluster.id, name: 'thr-0', instanceType: 'sim.small', userData }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimThrottledError);
    expect((err as SimThrottledError).retryable).toBe(true);
    expect((err as SimThrottledError).retryAfterMs).toBeGreaterThan(0);
    expect((err as SimThrottledError).code).toBe('RequestLimitExceeded');

    // Still reachable while everything else is throttled.
    expect((await client.getFaults()).throttleRate).toBe(1);
    expect(await client.healthz()).toBe(true);
    expect(Array.isArray(await client.events(0))).toBe(true);
    await client.setFaults({ throttleRate: 0 });
    // Throttled before doing anything: no VM was made.
    expect((await client.listVms({ clusterId: cluster.id })).some((v) => v.clientToken === 'thr-1')).toBe(false);
  });

  it('an injected 500 happens before anything is done', async () => {
    await client.setFaults({ errorRate: 1 });
    const err = await client.createVm({ clientToken: 'err-1', clusterId: cluster.id, name: 'err-0', instanceType: 'sim.small', userData }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimServerError);
    expect((err as SimServerError).code).toBe('InternalError');
    await client.setFaults({ errorRate: 0 });
    expect((await client.listVms({ clusterId: cluster.id })).some((v) => v.clientToken === 'err-1')).toBe(false);
  });

  it('a partial rate throttles some requests and lets others through', async () => {
    await client.setFaults({ throttleRate: 0.5 });
    let throttled = 0;
    let ok = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await client.getCluster(cluster.id);
        ok++;
      } catch (e) {
        expect(e).toBeInstanceOf(SimThrottledError);
        throttled++;
      }
    }
    expect(throttled).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(0);
  });

  it('neverBoot keeps the next N VMs pending; later ones boot', async () => {
    await client.setFaults({ neverBoot: 1 });
    const stuck = await client.createVm({ clientToken: 'nb-1', clusterId: cluster.id, name: 'nb-0', instanceType: 'sim.small', userData });
    expect((await client.getFaults()).neverBoot).toBe(0);
    const fine = await client.createVm({ clientToken: 'nb-2', clusterId: cluster.id, name: 'nb-1', instanceType: 'sim.small', userData });
    expect((await client.waitForVmState(fine.id, 'running', { timeoutSeconds: 30 })).state).toBe('running');
    // The healthy VM, created after it, is already running; the stuck one still is not.
    expect((await client.waitForVmState(stuck.id, 'running', { timeoutSeconds: 1 })).state).toBe('pending');
    // It can still be deleted.
    await client.deleteVm(stuck.id);
    expect((await client.waitForVmState(stuck.id, 'terminated', { timeoutSeconds: 30 })).state).toBe('terminated');
  });

  it('connection refused is a retryable SimServerError', async () => {
    // A port that was just free: nothing listens there.
    const server = net.createServer();
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const dead = new SimCloudClient(`http://127.0.0.1:${port}`, { timeoutMs: 2000 });
    const err = await dead.getVm('i-000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimServerError);
    expect((err as SimServerError).code).toBe('ECONNREFUSED');
    expect((err as SimServerError).retryable).toBe(true);
  });
});
