// `capstan sim`: the simulated cloud in the foreground (for running the pieces separately).
import { join } from 'node:path';
import { startSimCloud } from '../providers/sim/launch.js';

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
