// Asks a workload cluster's API for /version every 200 ms until stopped, counting every failure:
// "the workload API answers throughout" is a count of 0.
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { readKubeconfig } from '../../client/commands.js';

export interface ApiPoller {
  /** Stops polling; returns how many polls there were and each failure (time and message). */
  stop(): Promise<{ polls: number; failures: string[] }>;
  readonly polls: number;
  readonly failures: readonly string[];
  /** Each gitVersion the endpoint reported, in order, a repeat only after another (v1.36.3, v1.37.2). */
  readonly versions: readonly string[];
}

export async function pollWorkloadApi(dataDir: string, cluster: string, namespace = 'default'): Promise<ApiPoller> {
  const kc = new KubeConfig();
  kc.loadFromString(await readKubeconfig(dataDir, namespace, cluster));
  const version = kc.makeApiClient(VersionApi);
  let polls = 0;
  const failures: string[] = [];
  const versions: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      polls++;
      await version
        .getCode()
        .then((v) => v.gitVersion !== versions.at(-1) && versions.push(v.gitVersion))
        .catch((err: Error) => failures.push(`${new Date().toISOString()} ${err.message}`));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    get polls() {
      return polls;
    },
    get failures() {
      return failures;
    },
    get versions() {
      return versions;
    },
    async stop() {
      stopped = true;
      await loop;
      return { polls, failures };
    },
  };
}
