// Starts the simulated cloud as its own process (as `npm start` and the tests do) and waits for
// the one ready line it prints on stdout.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, type ExitInfo, type ManagedProcess } from '../../scripts/lib/process.js';

export interface StartSimCloudOptions {
  dataDir: string;
  /** Default: the port of the previous run on this data dir, else a free one. 0: always a free one. */
  port?: number;
  profile: 'demo' | 'test';
  seed?: number;
  runtime?: 'noop' | 'kubernetes';
  /** stdout and stderr of the process; default `<dataDir>/sim-cloud.log`. */
  logFile?: string;
  /** More flags, e.g. `['--boot-ms', '1000-1200', '--runtime-opt', 'backend=127.0.0.1:6443']`. */
  extra?: string[];
  /** Default 60 s. */
  readyTimeoutMs?: number;
  env?: Record<string, string | undefined>;
}

export interface SimCloudProcess {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  logFile: string;
  exited: Promise<ExitInfo>;
  process: ManagedProcess;
  /** SIGTERM, then SIGKILL after 15 s. */
  stop(): Promise<ExitInfo>;
  /** SIGKILL now: a crash, as far as the cloud can tell. */
  kill9(): Promise<ExitInfo>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const READY_LINE = /^\{"ready":true,"url":"(http:\/\/[^"]+)"\}$/m;

export async function startSimCloud(options: StartSimCloudOptions): Promise<SimCloudProcess> {
  const dataDir = path.resolve(options.dataDir);
  const logFile = path.resolve(options.logFile ?? path.join(dataDir, 'sim-cloud.log'));
  const args = ['--import', 'tsx', path.join(here, 'main.ts'), '--data-dir', dataDir, '--profile', options.profile];
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  if (options.runtime !== undefined) args.push('--runtime', options.runtime);
  args.push(...(options.extra ?? []));

  let url: string | undefined;
  const proc = await startProcess({
    name: `sim-cloud(${path.basename(dataDir)})`,
    command: process.execPath,
    args,
    cwd: repoRoot,
    logFile,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    pollMs: 50,
    env: options.env,
    // The ready line is looked for only in what this run writes.
    ready: async (output) => {
      const m = READY_LINE.exec(output());
      if (m) url = m[1];
      return url !== undefined;
    },
  });
  const found = url!;
  return {
    url: found,
    port: Number(new URL(found).port),
    pid: proc.pid,
    dataDir,
    logFile,
    exited: proc.exited,
    process: proc,
    stop: () => proc.stop({ signal: 'SIGTERM', timeoutMs: 15_000 }),
    kill9: () => proc.kill9(),
  };
}
