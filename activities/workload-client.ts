// Clients for a workload cluster's API, built from the admin kubeconfig in the secret store.
// The kubeconfig is read here, inside the activity, and never returned to a workflow.
import { request as httpsRequest } from 'node:https';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { SecretStore } from '../providers/secrets/store.js';
import type { ObjectKey } from '../workflows/ids.js';

export const kubeconfigSecretName = (cluster: string) => `${cluster}-kubeconfig`;

export interface WorkloadClient {
  core: CoreV1Api;
  /** GET a raw path (e.g. /readyz) with the admin credentials; resolves status and body. */
  get(path: string, timeoutMs?: number): Promise<{ status: number; body: string }>;
}

export async function workloadClient(secrets: SecretStore, cluster: ObjectKey): Promise<WorkloadClient> {
  const secret = await secrets.get(cluster.namespace, kubeconfigSecretName(cluster.name));
  if (!secret?.data.value) throw new Error(`kubeconfig for cluster ${cluster.namespace}/${cluster.name} not found`);
  const kc = new KubeConfig();
  kc.loadFromString(secret.data.value);
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
        req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end();
      }),
  };
}

export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  return undefined;
}
