// A test's view of a workload cluster's etcd members: the simulated cloud's member API, reached as
// capstan reaches it (activities/etcd.ts), with a client certificate of the cluster's etcd CA, or
// of another CA to see it refused.
import { loadPki } from '../../activities/bootstrap.js';
import { requestEtcd, type EtcdMemberView } from '../../activities/etcd.js';
import { generateCertificateAuthority, issueClientCertificate } from '../../providers/kubeadm/pki/cluster-pki.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import type { SimCloudClient } from '../../providers/sim/client.js';
import { secretsDir } from '../../workers/config.js';

export async function etcdMembers(o: { dataDir: string; sim: SimCloudClient; cluster: string; namespace?: string; foreignCa?: boolean }): Promise<EtcdMemberView[]> {
  const sc = (await o.sim.listClusters()).find((c) => c.name === `${o.namespace ?? 'default'}-${o.cluster}` && c.state === 'available');
  if (!sc) throw new Error(`no simulated cluster named ${o.cluster}`);
  const endpoint = await o.sim.getEtcdEndpoint(sc.id);
  const { etcdCa } = await loadPki(new FileSecretStore(secretsDir(o.dataDir)), { namespace: o.namespace ?? 'default', name: o.cluster });
  const signer = o.foreignCa ? await generateCertificateAuthority('etcd-ca', { now: new Date() }) : etcdCa;
  const client = await issueClientCertificate(signer, { commonName: 'test-etcd-client', now: new Date() });
  const r = await requestEtcd<{ members: EtcdMemberView[] }>(endpoint, { ca: etcdCa.certPem, ...client }, 'GET', '/members');
  return r.members.map(({ id, name, healthy }) => ({ id, name, healthy }));
}
