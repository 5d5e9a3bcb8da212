// `capstan sim`: the simulated cloud in the foreground (for running the pieces separately).
import { join } from 'node:path';
import { startSimCloud } from '../providers/sim/launch.js';
import { flag, type ParsedArgs } from './args.js';

export async function runSimCloudCommand(args: ParsedArgs, dataDir: string): Promise<number> {
  const port = flag(args, 'port');
  const sim = await startSimCloud({
    dataDir: join(dataDir, 'sim'),
    profile: (flag(args, 'profile') ?? 'demo') as 'demo' | 'test',
    runtime: 'kubernetes',
    ...(port ? { port: Number(port) } : {}),
  });
  console.log(`simulated cloud: ${sim.url}   (export CAPSTAN_SIM_URL=${sim.url})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  return 0;
}
