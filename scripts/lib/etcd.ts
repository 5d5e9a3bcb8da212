// etcd on loopback: one member, its own data dir, client and peer ports on 127.0.0.1.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ports.js';
import { httpGet } from './probe.js';
import { startProcess, type ManagedProcess, type StopOptions } from './process.js';
import { toolPath } from './tools.js';

export interface StartEtcdOptions {
  dataDir: string;
  /** Default `<dataDir>.log` (not inside the data dir: etcd warns about foreign files there). */
  logFile?: string;
  /** Pass the ports of a previous run to restart a member on its existing data dir. */
  clientPort?: number;
  peerPort?: number;
  /**
   * Keep fsync on. Default false: `--unsafe-no-fsync`, as envtest does, which loses recent
   * writes on a crash. The simulated cloud sets true because its state must survive kill -9.
   */
  durable?: boolean;
  /** Member name, default `default`. */
  name?: string;
  readyTimeoutMs?: number;
  extraArgs?: string[];
}

export interface EtcdServer {
  /** `http://127.0.0.1:PORT`, for `--etcd-servers`. */
  endpoint: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  process: ManagedProcess;
  stop(options?: StopOptions): Promise<void>;
}

export async function startEtcd(options: StartEtcdOptions): Promise<EtcdServer> {
  const dataDir = path.resolve(options.dataDir);
  const logFile = options.logFile ?? `${dataDir}.log`;
  const clientPort = options.clientPort ?? (await freePort());
  const peerPort = options.peerPort ?? (await freePort());
  const name = options.name ?? 'default';
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    `--data-dir=${dataDir}`,
    `--name=${name}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    '--log-level=warn',
  ];
  if (!options.durable) args.push('--unsafe-no-fsync');
  args.push(...(options.extraArgs ?? []));

  const proc = await startProcess({
    name: `etcd(${dataDir})`,
    command: toolPath('etcd'),
    args,
    logFile,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    pollMs: 100,
    ready: async () => {
      // /health is 200 with {"health":"true"} once the member has a leader and serves reads.
      const res = await httpGet(`${client}/health`, { timeoutMs: 1000 });
      if (res.status !== 200) return false;
      return (JSON.parse(res.body) as { health?: string }).health === 'true';
    },
  });
  return {
    endpoint: client,
    clientPort,
    peerPort,
    dataDir,
    process: proc,
    stop: async (stopOptions) => {
      await proc.stop(stopOptions);
    },
  };
}
