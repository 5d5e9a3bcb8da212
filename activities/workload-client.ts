// Clients for a workload cluster's API, built from the admin kubeconfig in the secret store.
// The kubeconfig is read here, inside the activity, and never returned to a workflow.
import { createHash } from 'node:crypto';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { closeConnections, shareConnections } from '../providers/kubernetes/shared-connections.js';
import type { SecretStore } from '../providers/secrets/store.js';
import type { ObjectKey } from '../workflows/ids.js';
import { malformedSecret, secretNotFound } from './errors.js';

export const kubeconfigSecretName = (cluster: string) => `${cluster}-kubeconfig`;

export interface WorkloadClient {
  core: CoreV1Api;
  /** GET a raw path (e.g. /readyz) with the admin credentials; resolves status and body. */
  get(path: string, timeoutMs?: number): Promise<{ status: number; body: string }>;
}

/** The admin kubeconfig of a workload cluster, checked: a current cluster with a URL, and a user. */
export async function workloadKubeConfig(secrets: SecretStore, cluster: ObjectKey): Promise<KubeConfig> {
  return parseKubeconfig(cluster, await readKubeconfig(secrets, cluster));
}

async function readKubeconfig(secrets: SecretStore, cluster: ObjectKey): Promise<string> {
  const name = kubeconfigSecretName(cluster.name);
  const secret = await secrets.get(cluster.namespace, name);
  if (!secret?.data.value) throw secretNotFound(cluster.namespace, name, 'the cluster has no admin kubeconfig yet');
  return secret.data.value;
}

function parseKubeconfig(cluster: ObjectKey, value: string): KubeConfig {
  const name = kubeconfigSecretName(cluster.name);
  const kc = new KubeConfig();
  try {
    kc.loadFromString(value);
  } catch (err) {
    // The message of a YAML error quotes no content; never pass the kubeconfig itself on.
    throw malformedSecret(cluster.namespace, name, `not a kubeconfig (${(err as Error).name})`);
  }
  const c = kc.getCurrentCluster();
  const u = kc.getCurrentUser();
  if (!c?.server || !u) throw malformedSecret(cluster.namespace, name, 'no current cluster or user');
  try {
    new URL(c.server);
  } catch {
    throw malformedSecret(cluster.namespace, name, `server ${JSON.stringify(c.server)} is not a URL`);
  }
  return shareConnections(kc);
}

/**
 * The worker's clients of its workload clusters, one per cluster (Cluster API's ClusterCache):
 * built once per admin kubeconfig and kept while the Secret holds the same one, so activities share
 * its connections instead of each opening its own. Keyed by the store, so two workers in one
 * process (the tests) never share a cluster of the same name; a changed kubeconfig builds a new
 * client and lets the old one's connections close once their requests are done.
 */
interface CachedClient {
  /** sha256 of the kubeconfig it was built from. */
  digest: string;
  kc: KubeConfig;
  client: WorkloadClient;
}
const cache = new WeakMap<SecretStore, Map<string, CachedClient>>();

export async function workloadClient(secrets: SecretStore, cluster: ObjectKey): Promise<WorkloadClient> {
  const clusters = cache.get(secrets) ?? new Map<string, CachedClient>();
  cache.set(secrets, clusters);
  const key = `${cluster.namespace}/${cluster.name}`;
  const cached = clusters.get(key);
  let value: string;
  try {
    value = await readKubeconfig(secrets, cluster);
  } catch (err) {
    // The cluster is gone (or not up yet): so is what this worker kept for it.
    if (cached) {
      clusters.delete(key);
      void closeConnections(cached.kc);
    }
    throw err;
  }
  const digest = createHash('sha256').update(value).digest('hex');
  if (cached?.digest === digest) return cached.client;
  const kc = parseKubeconfig(cluster, value);
  const client = buildClient(kc);
  clusters.set(key, { digest, kc, client });
  if (cached) void closeConnections(cached.kc);
  return client;
}

function buildClient(kc: KubeConfig): WorkloadClient {
  const c = kc.getCurrentCluster()!;
  const u = kc.getCurrentUser()!;
  const decode = (s?: string) => (s ? Buffer.from(s, 'base64') : undefined);
  const server = new URL(c.server);
  // Raw GETs (/readyz) keep their connection too, for at most 30 s idle: nothing else closes the
  // agent of a client a changed kubeconfig replaced.
  const agent = new HttpsAgent({ keepAlive: true, timeout: 30_000, ca: decode(c.caData), cert: decode(u.certData), key: decode(u.keyData) });
  return {
    core: kc.makeApiClient(CoreV1Api),
    get: (path, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          { host: server.hostname, port: server.port, path, method: 'GET', agent, timeout: timeoutMs },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error(`GET ${path} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        req.on('error', reject);
        req.end();
      }),
  };
}

export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  return undefined;
}
