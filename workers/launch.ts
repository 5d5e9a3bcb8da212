// Starts `capstan worker` as its own process (npm start and the end-to-end tests), ready once
// it polls its task queue. Its own process, so a test can kill -9 it mid-rollout.
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from '../scripts/lib/process.js';

const cli = fileURLToPath(new URL('../bin/capstan.mjs', import.meta.url));
const READY = '[capstan worker] polling task queue';

/**
 * The worker's V8 old-generation limit, in MiB. Without one, V8 sizes it from the machine's memory
 * (about 4 GiB on a 24 GiB machine) and collects lazily: a worker whose live heap is ~150–300 MiB
 * grew to 1.2 GiB resident creating 300 machines. config/deploy passes the same flag.
 */
export const DEFAULT_WORKER_HEAP_MB = 512;

/** `--max-old-space-size=…` from CAPSTAN_WORKER_HEAP_MB (MiB), or the default; anything else is refused. */
export function workerHeapFlag(env: Record<string, string | undefined>): string {
  const setting = env.CAPSTAN_WORKER_HEAP_MB;
  if (setting !== undefined && !/^[1-9][0-9]*$/.test(setting)) throw new Error(`CAPSTAN_WORKER_HEAP_MB: "${setting}" is not a whole number of MiB`);
  return `--max-old-space-size=${setting ?? DEFAULT_WORKER_HEAP_MB}`;
}

export async function startWorkerProcess(o: { env: Record<string, string | undefined>; logFile: string; name?: string }): Promise<ManagedProcess> {
  return startProcess({
    name: o.name ?? 'capstan-worker',
    command: process.execPath,
    // The child's environment is this one overlaid with o.env (startProcess): the setting is read from the same view.
    args: [workerHeapFlag({ ...process.env, ...o.env }), cli, 'worker'],
    env: o.env,
    logFile: o.logFile,
    // Bundling the workflows takes a few seconds on a cold start.
    readyTimeoutMs: 120_000,
    ready: async (output) => output().includes(READY),
  });
}
