// Clients for a workload cluster's API, built from the admin kubeconfig in the secret store.
// The kubeconfig is read here, inside the activity, and never returned to a workflow.
import { request as httpsRequest } from 'node:https';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
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
  const name = kubeconfigSecretName(cluster.name);
  const secret = await secrets.get(cluster.namespace, name);
  if (!secret?.data.value) throw secretNotFound(cluster.namespace, name, 'the cluster has no admin kubeconfig yet');
  const kc = new KubeConfig();
  try {
    kc.loadFromString(secret.data.value);
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
  return kc;
}

export async function workloadClient(secrets: SecretStore, cluster: ObjectKey): Promise<WorkloadClient> {
  const kc = await workloadKubeConfig(secrets, cluster);
  const c = kc.getCurrentCluster()!;
  const u = kc.getCurrentUser()!;
  const decode = (s?: string) => (s ? Buffer.from(s, 'base64') : undefined);
  const tls = { ca: decode(c.caData), cert: decode(u.certData), key: decode(u.keyData) };
  const server = new URL(c.server);
  return {
    core: kc.makeApiClient(CoreV1Api),
    get: (path, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          { host: server.hostname, port: server.port, path, method: 'GET', ...tls, timeout: timeoutMs },
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
