// A cluster's load balancer in the simulated cloud's process: resets connections while it has no
// backend, forwards bytes once the runtime sets one (the noop runtime's `backend` option points
// it at a TCP echo server when the init VM boots), and stops forwarding when that VM dies.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUserData, SimCloudClient } from '../../providers/sim/client.js';
import { startSimCloud, type SimCloudProcess } from '../../providers/sim/launch.js';
import { probeTcp, startEchoServer, tempDataDir, waitForEvent, type EchoServer } from './support.js';

describe('simulated cloud load balancer (process)', () => {
  let dataDir: string;
  let echo: EchoServer;
  let cloud: SimCloudProcess;
  let client: SimCloudClient;

  beforeAll(async () => {
    dataDir = tempDataDir('lb');
    echo = await startEchoServer('echo:');
    cloud = await startSimCloud({ dataDir, profile: 'test', seed: 3, extra: ['--runtime-opt', `backend=127.0.0.1:${echo.port}`] });
    client = new SimCloudClient(cloud.url);
  });

  afterAll(async () => {
    await cloud?.stop();
    await echo?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('resets connections without a backend, forwards bytes with one, and stops when the backend goes', async () => {
    const c = await client.createCluster({ clientToken: 'lb-cluster', name: 'lb', region: 'sim-local-1' });
    const before = await probeTcp(c.endpoint.port, 'hello');
    expect(['reset', 'closed']).toContain(before.kind);
    expect(echo.connections).toBe(0);

    const init = await client.createVm({
      clientToken: 'lb-init',
      clusterId: c.id,
      name: 'lb-cp-0',
      instanceType: 'sim.medium',
      userData: encodeUserData('#cloud-config\nruncmd:\n- kubeadm init\n'),
    });
    const set = await waitForEvent(client, (e) => e.type === 'loadbalancer.backend' && e.clusterId === c.id);
    expect(set.data?.backend).toEqual({ host: '127.0.0.1', port: echo.port });

    expect(await probeTcp(c.endpoint.port, 'hello')).toEqual({ kind: 'data', text: 'echo:hello' });
    expect(await probeTcp(c.endpoint.port, 'again')).toEqual({ kind: 'data', text: 'echo:again' });
    expect(echo.connections).toBe(2);

    // The init VM dies: the runtime clears the backend, new connections are reset again.
    await client.vmAction(init.id, 'kill');
    await waitForEvent(client, (e) => e.type === 'loadbalancer.backend' && e.clusterId === c.id && e.data?.backend === null);
    const after = await probeTcp(c.endpoint.port, 'hello');
    expect(['reset', 'closed']).toContain(after.kind);
    expect(echo.connections).toBe(2);
  });
});
