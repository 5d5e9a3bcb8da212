// Starts `capstan worker` as its own process (npm start and the end-to-end tests), ready once
// it polls its task queue. Its own process, so a test can kill -9 it mid-rollout.
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from '../scripts/lib/process.js';

const cli = fileURLToPath(new URL('../bin/capstan.mjs', import.meta.url));
const READY = '[capstan worker] polling task queue';

export async function startWorkerProcess(o: { env: Record<string, string | undefined>; logFile: string; name?: string }): Promise<ManagedProcess> {
  return startProcess({
    name: o.name ?? 'capstan-worker',
    command: process.execPath,
    args: [cli, 'worker'],
    env: o.env,
    logFile: o.logFile,
    // Bundling the workflows takes a few seconds on a cold start.
    readyTimeoutMs: 120_000,
    ready: async (output) => output().includes(READY),
  });
}
