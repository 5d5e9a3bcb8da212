// Starts `capstan worker` as its own process (npm start and the end-to-end tests), ready once
// it polls its task queue. Its own process, so a test can kill -9 it mid-rollout.
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from '../scripts/lib/process.js';

const cli = fileURLToPath(new URL('../bin/capstan.mjs', import.meta.url));
const READY = '[capstan worker] polling task queue';

/**
 * The worker's V8 old-generation limit, in MiB (CAPSTAN_WORKER_HEAP_MB). Without one, V8 sizes it
 * from the machine's memory (about 4 GiB here) and collects lazily: a worker whose live heap is
 * ~150–300 MiB grew to 1.2 GiB resident creating 300 machines. config/deploy sets the same through
 * NODE_OPTIONS.
 */
export const DEFAULT_WORKER_HEAP_MB = 512;

export async function startWorkerProcess(o: { env: Record<string, string | undefined>; logFile: string; name?: string }): Promise<ManagedProcess> {
  return startProcess({
    name: o.name ?? 'capstan-worker',
    command: process.execPath,
    args: [`--max-old-space-size=${o.env.CAPSTAN_WORKER_HEAP_MB ?? process.env.CAPSTAN_WORKER_HEAP_MB ?? DEFAULT_WORKER_HEAP_MB}`, cli, 'worker'],
    env: o.env,
    logFile: o.logFile,
    // Bundling the workflows takes a few seconds on a cold start.
    readyTimeoutMs: 120_000,
    ready: async (output) => output().includes(READY),
  });
}
