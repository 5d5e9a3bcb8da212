// A SecretStore of Kubernetes Secrets in the management cluster: where Cluster API keeps them, with
// its names (`<cluster>-ca`, `-etcd`, `-proxy`, `-sa`, `<cluster>-kubeconfig`, bootstrap data per
// machine) and its type (`cluster.x-k8s.io/secret`). A Secret the user created before the Cluster
// (a CA of their own) is used as it is: create never overwrites. A Secret of a cluster whose Cluster
// object is in the management cluster is owned by it (an ownerReference), so Kubernetes' garbage
// collector deletes what the workflows leave behind when the Cluster goes, as in Cluster API.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1OwnerReference, type V1Secret } from '@kubernetes/client-node';
import type { SecretStore, StoredSecret } from './store.js';

const status = (err: unknown) => (err as { code?: number }).code;

function toStored(s: V1Secret): StoredSecret {
  const data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { type: s.type ?? 'Opaque', data, ...(s.metadata?.labels && Object.keys(s.metadata.labels).length ? { labels: s.metadata.labels } : {}) };
}

const CLUSTER_NAME_LABEL = 'cluster.capstan.dev/cluster-name';

function toSecret(namespace: string, name: string, secret: StoredSecret, resourceVersion?: string, owner?: V1OwnerReference): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, ...(secret.labels ? { labels: secret.labels } : {}), ...(resourceVersion ? { resourceVersion } : {}), ...(owner ? { ownerReferences: [owner] } : {}) },
    type: secret.type,
    data: Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}

export class KubernetesSecretStore implements SecretStore {
  private readonly core: CoreV1Api;
  private readonly objects: CustomObjectsApi;

  constructor(kubeconfig: KubeConfig) {
    this.core = kubeconfig.makeApiClient(CoreV1Api);
    this.objects = kubeconfig.makeApiClient(CustomObjectsApi);
  }

  /**
   * The Cluster object that owns a cluster's Secrets, when there is one (none: a cluster applied
   * without a management cluster's objects). Looked up at each write, never remembered: a Cluster
   * deleted and created again under its name has a new UID, and a Secret owned by the old one
   * would be collected.
   */
  private async owner(namespace: string, secret: StoredSecret): Promise<V1OwnerReference | undefined> {
    const cluster = secret.labels?.[CLUSTER_NAME_LABEL];
    if (!cluster) return undefined;
    try {
      const o = (await this.objects.getNamespacedCustomObject({ group: 'cluster.capstan.dev', version: 'v1alpha1', namespace, plural: 'clusters', name: cluster })) as { metadata?: { uid?: string } };
      return o.metadata?.uid ? { apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'Cluster', name: cluster, uid: o.metadata.uid } : undefined;
    } catch (err) {
      if (status(err) !== 404) throw err;
      return undefined;
    }
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
      return toStored(await this.core.createNamespacedSecret({ namespace, body: toSecret(namespace, name, secret, undefined, await this.owner(namespace, secret)) }));
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
        const owner = await this.owner(namespace, secret);
        if (current) await this.core.replaceNamespacedSecret({ name, namespace, body: toSecret(namespace, name, secret, current.metadata?.resourceVersion, owner ?? current.metadata?.ownerReferences?.[0]) });
        else await this.core.createNamespacedSecret({ namespace, body: toSecret(namespace, name, secret, undefined, owner) });
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
