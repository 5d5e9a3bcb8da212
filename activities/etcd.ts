// The workload cluster's etcd members, reached as Cluster API's KCP reaches them: over mutual TLS
// with a client certificate it issues from the cluster's etcd CA (`<cluster>-etcd`). The simulated
// cloud tells where the members answer (providers/sim/host/etcd-members.ts).
import https from 'node:https';
import { Context } from '@temporalio/activity';
import { issueClientCertificate, type CertificateAndKey } from '../providers/kubeadm/pki/cluster-pki.js';
import type { SecretStore } from '../providers/secrets/store.js';
import type { SimCloudClient, SimEtcdEndpoint } from '../providers/sim/client.js';
import type { ClusterContext } from '../workflows/types.js';
import { loadPki } from './bootstrap.js';
import { callProvider, isNotFound } from './errors.js';

export interface EtcdMemberView {
  id: string;
  name: string;
  healthy: boolean;
}

/** The etcd client identity capstan uses (Cluster API's KCP: a client certificate of the etcd CA). */
const ETCD_CLIENT_COMMON_NAME = 'capstan-etcd-client';

/** One call to the member API, over mutual TLS: `ca` is the cluster's etcd CA, `certPem`/`keyPem` a client certificate it signed. */
export function requestEtcd<T>(
  endpoint: SimEtcdEndpoint,
  tls: { ca: string; certPem: string; keyPem: string },
  method: 'GET' | 'DELETE',
  path: string,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = https.request(
      `${endpoint.endpoint}${path}`,
      { method, ca: tls.ca, cert: tls.certPem, key: tls.keyPem, servername: endpoint.serverName, timeout: 10_000, ...(signal ? { signal } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let body: T & { error?: string };
          try {
            body = (text ? JSON.parse(text) : {}) as T & { error?: string };
          } catch {
            return reject(new Error(`etcd ${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
          }
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`etcd ${method} ${path}: ${res.statusCode} ${body.error ?? text}`));
          else resolve(body);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`etcd ${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

export function etcdActivities({ sim, secrets }: { sim: SimCloudClient; secrets: SecretStore }) {
  // One client certificate per cluster and worker process: issued once, kept in memory only.
  const clients = new Map<string, Promise<{ ca: string; client: CertificateAndKey }>>();
  const identity = (cluster: ClusterContext) => {
    const key = `${cluster.key.namespace}/${cluster.key.name}`;
    let c = clients.get(key);
    if (!c) {
      c = (async () => {
        const { etcdCa } = await loadPki(secrets, cluster.key);
        return { ca: etcdCa.certPem, client: await issueClientCertificate(etcdCa, { commonName: ETCD_CLIENT_COMMON_NAME, now: new Date() }) };
      })();
      c.catch(() => clients.delete(key));
      clients.set(key, c);
    }
    return c;
  };

  /** Calls the member API; undefined when the cluster has no members to manage (none yet, or no etcd in this cloud). */
  const call = async <T>(cluster: ClusterContext, method: 'GET' | 'DELETE', path: string): Promise<T | undefined> => {
    let endpoint: SimEtcdEndpoint;
    try {
      endpoint = await callProvider(() => sim.getEtcdEndpoint(cluster.providerClusterId));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const { ca, client } = await identity(cluster);
    return requestEtcd<T>(endpoint, { ca, ...client }, method, path, Context.current().cancellationSignal);
  };

  return {
    /** The cluster's etcd members and their health ([] when it has none to manage). */
    async listEtcdMembers(input: { cluster: ClusterContext }): Promise<EtcdMemberView[]> {
      const r = await call<{ members: EtcdMemberView[] }>(input.cluster, 'GET', '/members');
      return (r?.members ?? []).map(({ id, name, healthy }) => ({ id, name, healthy }));
    },

    /**
     * Removes the etcd member of a control-plane machine's node before the machine is deleted, as
     * Cluster API's KCP does (a member whose host is gone would still count against quorum).
     * Idempotent: a member already gone, or a cluster without members, is nothing to do.
     */
    async removeEtcdMember(input: { cluster: ClusterContext; nodeName: string }): Promise<{ removed: boolean; members: number }> {
      const r = await call<{ members: EtcdMemberView[] }>(input.cluster, 'GET', '/members');
      const member = r?.members.find((m) => m.name === input.nodeName);
      if (!r || !member) return { removed: false, members: r?.members.length ?? 0 };
      const after = await call<{ members: EtcdMemberView[] }>(input.cluster, 'DELETE', `/members/${member.id}`);
      return { removed: true, members: after?.members.length ?? 0 };
    },
  };
}
