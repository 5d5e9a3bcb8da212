// A local management cluster's API: a real etcd and kube-apiserver on loopback, with a fresh CA,
// a serving certificate for 127.0.0.1 and an admin (system:masters) kubeconfig, and a
// kube-controller-manager running the controllers every Kubernetes cluster has that capstan's
// objects meet: the garbage collector (ownerReferences: a Machine's KubeadmConfig and SimMachine go
// with it, a Cluster's Secrets with the Cluster), namespace deletion and default ServiceAccounts.
// The demo runs its capstan CRDs here, and the tests run everything that talks to a management
// cluster against it. In production the management cluster is any Kubernetes cluster (KUBECONFIG).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildKubeconfig } from '../providers/kubeadm/kubeconfig.js';
import { generateCertificateAuthority, generateServiceAccountKeyPair, issueClientCertificate, issueServingCertificate } from '../providers/kubeadm/pki/cluster-pki.js';
import { startEtcd } from '../scripts/lib/etcd.js';
import { startKubeApiserver } from '../scripts/lib/kube-apiserver.js';
import { startKubeControllerManager } from '../scripts/lib/kube-controller-manager.js';

/** The controllers of a management cluster's kube-controller-manager (see above). */
export const MANAGEMENT_CONTROLLERS = ['garbagecollector', 'namespace', 'serviceaccount'];

export interface ManagementApi {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** An admin kubeconfig (system:masters), also written to `<dir>/management.kubeconfig` (0600). */
  kubeconfig: string;
  kubeconfigFile: string;
  /** A kubeconfig for another identity (a client certificate of the API's CA): e.g. a ServiceAccount's user and groups. */
  kubeconfigFor(user: string, groups: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts etcd and kube-apiserver with their state under `dir` (created; reused across runs of the same dir). */
export async function startManagementApi(dir: string, o: { readyTimeoutMs?: number; /** Metadata-level audit log of every request (JSON lines). */ auditLogFile?: string } = {}): Promise<ManagementApi> {
  const pki = path.join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string) => {
    writeFileSync(path.join(pki, name), text, { mode: 0o600 });
    return path.join(pki, name);
  };
  const now = new Date();
  const ca = await generateCertificateAuthority('capstan-management-ca', { now });
  const serving = await issueServingCertificate(ca, { commonName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1'], now });
  const admin = await issueClientCertificate(ca, { commonName: 'capstan-admin', organizations: ['system:masters'], now });
  const sa = generateServiceAccountKeyPair();
  const files = {
    clientCaFile: write('ca.crt', ca.certPem),
    tlsCertFile: write('apiserver.crt', serving.certPem),
    tlsPrivateKeyFile: write('apiserver.key', serving.keyPem),
    serviceAccountKeyFile: write('sa.pub', sa.publicKeyPem),
    serviceAccountSigningKeyFile: write('sa.key', sa.privateKeyPem),
  };
  const adminCert = write('admin.crt', admin.certPem);
  const adminKey = write('admin.key', admin.keyPem);

  const etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
  try {
    const apiserver = await startKubeApiserver({
      etcdServers: etcd.endpoint,
      etcdPrefix: '/registry',
      certDir: path.join(dir, 'apiserver-certs'),
      files,
      enableBootstrapTokenAuth: false,
      authorizationMode: 'RBAC',
      admissionPlugins: 'NamespaceLifecycle,ServiceAccount',
      readinessClient: { certFile: adminCert, keyFile: adminKey, caFile: files.clientCaFile },
      logFile: path.join(dir, 'kube-apiserver.log'),
      ...(o.readyTimeoutMs ? { readyTimeoutMs: o.readyTimeoutMs } : {}),
      ...(o.auditLogFile
        ? {
            extraArgs: [
              `--audit-policy-file=${write('audit-policy.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    omitStages: [RequestReceived]\n')}`,
              `--audit-log-path=${o.auditLogFile}`,
              '--audit-log-format=json',
            ],
          }
        : {}),
    });
    const kubeconfigOf = (user: string, id: { certPem: string; keyPem: string }) =>
      buildKubeconfig({ clusterName: 'capstan-management', server: apiserver.url, caCertPem: ca.certPem, userName: user, clientCertPem: id.certPem, clientKeyPem: id.keyPem });
    const kubeconfig = kubeconfigOf('capstan-admin', admin);
    const kubeconfigFile = path.join(dir, 'management.kubeconfig');
    writeFileSync(kubeconfigFile, kubeconfig, { mode: 0o600 });
    // Its own identity, as kubeadm's controller-manager.conf gives it, in system:masters: kubeadm's
    // controllers act through per-controller ServiceAccounts, and the garbage collector's may delete
    // anything; the controller manager's own role may not.
    const kcmIdentity = await issueClientCertificate(ca, { commonName: 'system:kube-controller-manager', organizations: ['system:masters'], now });
    const kcm = await startKubeControllerManager({
      kubeconfigFile: write('controller-manager.conf', kubeconfigOf('system:kube-controller-manager', kcmIdentity)),
      clusterSigningCertFile: files.clientCaFile,
      clusterSigningKeyFile: write('ca.key', ca.keyPem),
      rootCaFile: files.clientCaFile,
      serviceAccountPrivateKeyFile: files.serviceAccountSigningKeyFile,
      controllers: MANAGEMENT_CONTROLLERS,
      logFile: path.join(dir, 'kube-controller-manager.log'),
    }).catch(async (err: unknown) => {
      await apiserver.stop();
      throw err;
    });
    return {
      url: apiserver.url,
      kubeconfig,
      kubeconfigFile,
      async kubeconfigFor(user, groups) {
        return kubeconfigOf(user, await issueClientCertificate(ca, { commonName: user, organizations: groups, now: new Date() }));
      },
      async stop() {
        await kcm.stop();
        await apiserver.stop();
        await etcd.stop();
      },
    };
  } catch (err) {
    await etcd.stop();
    throw err;
  }
}
