// A SecretStore of Kubernetes Secrets in the management cluster: where Cluster API keeps them, with
// its names (`<cluster>-ca`, `-etcd`, `-proxy`, `-sa`, `<cluster>-kubeconfig`, bootstrap data per
// machine) and its type (`cluster.x-k8s.io/secret`). A Secret the user created before the Cluster
// (a CA of their own) is used as it is: create never overwrites.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { SecretStore, StoredSecret } from './store.js';

const status = (err: unknown) => (err as { code?: number }).code;

function toStored(s: V1Secret): StoredSecret {
  const data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { type: s.type ?? 'Opaque', data, ...(s.metadata?.labels && Object.keys(s.metadata.labels).length ? { labels: s.metadata.labels } : {}) };
}

function toSecret(namespace: string, name: string, secret: StoredSecret, resourceVersion?: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...(secret.labels ? { labels: secret.labels } : {}), ...(resourceVersion ? { resourceVersion } : {}) },
    type: secret.type,
    data: Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}

export class KubernetesSecretStore implements SecretStore {
  private readonly core: CoreV1Api;

  constructor(kubeconfig: KubeConfig) {
    this.core = kubeconfig.makeApiClient(CoreV1Api);
  }

  async get(namespace: string, name: string): Promise<StoredSecret | undefined> {
    try {
      return toStored(await this.core.readNamespacedSecret({ name, namespace }));
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw err;
    }
  }

  async create(namespace: string, name: string, secret: StoredSecret): Promise<StoredSecret> {
    try {
      return toStored(await this.core.createNamespacedSecret({ namespace, body: toSecret(namespace, name, secret) }));
    } catch (err) {
      if (status(err) !== 409) throw err;
      const existing = await this.get(namespace, name);
      if (!existing) throw err;
      return existing;
    }
  }

  async put(namespace: string, name: string, secret: StoredSecret): Promise<void> {
    for (;;) {
      let current: V1Secret | undefined;
      try {
        current = await this.core.readNamespacedSecret({ name, namespace });
      } catch (err) {
        if (status(err) !== 404) throw err;
      }
      try {
        if (current) await this.core.replaceNamespacedSecret({ name, namespace, body: toSecret(namespace, name, secret, current.metadata?.resourceVersion) });
        else await this.core.createNamespacedSecret({ namespace, body: toSecret(namespace, name, secret) });
        return;
      } catch (err) {
        // Changed or created meanwhile: read it again and write over it.
        if (status(err) !== 409) throw err;
      }
    }
  }

  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace });
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
  }

  async list(namespace: string, labels: Record<string, string>): Promise<{ name: string; secret: StoredSecret }[]> {
    const labelSelector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const r = await this.core.listNamespacedSecret({ namespace, ...(labelSelector ? { labelSelector } : {}) });
    return r.items.map((s) => ({ name: s.metadata!.name!, secret: toStored(s) })).sort((a, b) => a.name.localeCompare(b.name));
  }
}
