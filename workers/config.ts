// The worker's settings, from the environment (12-factor; the same in `capstan dev` and in a
// Deployment). Temporal's own variables are read by client/temporal.ts.
import { FileSecretStore } from '../providers/secrets/file-store.js';
import type { SecretStore } from '../providers/secrets/store.js';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { shareConnections } from '../providers/kubernetes/shared-connections.js';

export interface WorkerSettings {
  dataDir: string;
  simUrl: string;
  taskQueue: string;
  /** Concurrent activities per worker; provider calls are cheap, waits are long-lived. */
  maxConcurrentActivities: number;
  maxConcurrentWorkflowTasks: number;
  /**
   * Workflows kept in the worker's sticky cache. An idle Machine costs nothing in Temporal but
   * ~1–4 MiB here while cached; one evicted is replayed (≤ 100 events) when it next has work.
   */
  maxCachedWorkflows: number;
  /** Optional cap on activity starts per second across the task queue (provider rate limits). */
  maxActivitiesPerSecond?: number;
  /** A kubeconfig file for the management cluster (external remediation requests are created there). */
  managementKubeconfig?: string;
  /** Where secrets live: `file` (default: CAPSTAN_DATA_DIR/secrets) or `kubernetes` (Secrets in the management cluster). */
  secretStore?: 'file' | 'kubernetes';
  /**
   * How long an observer (a Cluster's Node conditions, a MachineHealthCheck's targets) sees
   * nothing change before its workflow stops observing and the worker's waker takes over
   * (CAPSTAN_OBSERVER_QUIET_SECONDS; default 50).
   */
  observerQuietSeconds?: number;
}

/**
 * The secret store the environment names (CAPSTAN_SECRETS): files under the data dir, or Secrets
 * in the management cluster (CAPSTAN_MANAGEMENT_KUBECONFIG), with Cluster API's names. Loaded on
 * demand: @kubernetes/client-node takes seconds to import, and a CLI command on files needs none.
 */
export async function openSecretStore(o: { dataDir: string; secretStore?: 'file' | 'kubernetes'; managementKubeconfig?: string }): Promise<SecretStore> {
  if (o.secretStore !== 'kubernetes') return new FileSecretStore(secretsDir(o.dataDir));
  if (!o.managementKubeconfig) throw new Error('CAPSTAN_SECRETS=kubernetes keeps secrets in the management cluster: set CAPSTAN_MANAGEMENT_KUBECONFIG');
  const [{ KubeConfig }, { KubernetesSecretStore }] = await Promise.all([import('@kubernetes/client-node'), import('../providers/secrets/kubernetes-store.js')]);
  const kc = new KubeConfig();
  loadManagementConfig(kc, o.managementKubeconfig);
  return new KubernetesSecretStore(kc);
}

/** CAPSTAN_MANAGEMENT_KUBECONFIG: a kubeconfig file, or `in-cluster` (the pod's ServiceAccount, as in config/deploy). */
export function loadManagementConfig(kc: KubeConfig, setting: string): void {
  if (setting === 'in-cluster') kc.loadFromCluster();
  else kc.loadFromFile(setting);
  // One connection pool for every client of the management cluster (the watcher, the secret store).
  shareConnections(kc);
}

/** The store the CLI reads (e.g. `capstan get kubeconfig`): the same as the worker's, from the same environment. */
export const cliSecretStore = (dir: string, env: NodeJS.ProcessEnv = process.env) => openSecretStore({ dataDir: dir, ...secretSettings(env) });

function secretSettings(env: NodeJS.ProcessEnv): { secretStore?: 'file' | 'kubernetes'; managementKubeconfig?: string } {
  const store = env.CAPSTAN_SECRETS;
  if (store !== undefined && store !== 'file' && store !== 'kubernetes') throw new Error(`CAPSTAN_SECRETS: "${store}" is not file or kubernetes`);
  return { ...(store ? { secretStore: store } : {}), ...(env.CAPSTAN_MANAGEMENT_KUBECONFIG ? { managementKubeconfig: env.CAPSTAN_MANAGEMENT_KUBECONFIG } : {}) };
}

/** Workflows kept in the sticky cache by default: the busy ones (sets, deployments) stay; idle Machines are evicted. */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 100;

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CAPSTAN_DATA_DIR ?? '.capstan');
}

export function workerSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const num = (v: string | undefined, d: number) => (v ? Number(v) : d);
  const simUrl = env.CAPSTAN_SIM_URL;
  if (!simUrl) throw new Error('CAPSTAN_SIM_URL is not set: the URL of the simulated cloud (printed by `capstan dev` or `capstan sim`)');
  return {
    dataDir: dataDir(env),
    simUrl,
    taskQueue: env.CAPSTAN_TASK_QUEUE ?? 'capstan',
    maxConcurrentActivities: num(env.CAPSTAN_MAX_CONCURRENT_ACTIVITIES, 200),
    maxConcurrentWorkflowTasks: num(env.CAPSTAN_MAX_CONCURRENT_WORKFLOW_TASKS, 40),
    maxCachedWorkflows: num(env.CAPSTAN_MAX_CACHED_WORKFLOWS, DEFAULT_MAX_CACHED_WORKFLOWS),
    maxActivitiesPerSecond: env.CAPSTAN_MAX_ACTIVITIES_PER_SECOND ? Number(env.CAPSTAN_MAX_ACTIVITIES_PER_SECOND) : undefined,
    ...(env.CAPSTAN_OBSERVER_QUIET_SECONDS !== undefined ? { observerQuietSeconds: observerQuietSeconds(env.CAPSTAN_OBSERVER_QUIET_SECONDS) } : {}),
    ...secretSettings(env),
  };
}

/** CAPSTAN_OBSERVER_QUIET_SECONDS: a whole number of seconds from 1 to 100 (a quiet round must end before its first heartbeat, at 60 s). */
export function observerQuietSeconds(v: string): number {
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 100)) throw new Error(`CAPSTAN_OBSERVER_QUIET_SECONDS: "${v}" is not a whole number of seconds from 1 to 100`);
  return n;
}

export const secretsDir = (dir: string) => join(dir, 'secrets');
