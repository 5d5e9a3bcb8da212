// `capstan sim`: the simulated cloud in the foreground (for running the pieces separately), and
// `capstan sim kill|node-not-ready|node-ready MACHINE`: break a machine in a running one, to watch
// capstan notice and heal it.
import { join } from 'node:path';
import { SimCloudClient } from '../providers/sim/client.js';
import { startSimCloud } from '../providers/sim/launch.js';
import type { SimVmAction } from '../providers/sim/types.js';

export const SIM_VM_ACTIONS = ['kill', 'node-not-ready', 'node-ready'] as const satisfies readonly SimVmAction[];

/** Runs `action` on the VM of `machine` (the cloud names a machine's VM after it). */
export async function simVmActionCommand(action: SimVmAction, machine: string): Promise<string> {
  const url = process.env.CAPSTAN_SIM_URL;
  if (!url) throw new Error('no simulated cloud: set CAPSTAN_SIM_URL, or start one with `capstan dev`');
  const sim = new SimCloudClient(url);
  const vms = (await sim.listVms()).filter((v) => v.name === machine && v.state !== 'terminated');
  if (vms.length === 0) throw new Error(`no live VM of machine "${machine}" in the simulated cloud (${url})`);
  const vm = await sim.vmAction(vms[0]!.id, action);
  const did = { kill: 'killed: its kubelet is gone, its Node goes Unknown', 'node-not-ready': 'its kubelet posts Ready=False', 'node-ready': 'its kubelet posts Ready=True' }[action];
  return `machine ${machine} (VM ${vm.id}): ${did}`;
}

export async function runSimCloudCommand(o: { port?: number; profile: 'demo' | 'test' }, dataDir: string): Promise<number> {
  const sim = await startSimCloud({
    dataDir: join(dataDir, 'sim'),
    profile: o.profile,
    runtime: 'kubernetes',
    ...(o.port !== undefined ? { port: o.port } : {}),
  });
  console.log(`simulated cloud: ${sim.url}   (export CAPSTAN_SIM_URL=${sim.url})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  return 0;
}
