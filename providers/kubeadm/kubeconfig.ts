// kubeconfig files (clientcmd v1 Config) for a workload cluster: the admin kubeconfig Cluster
// API stores as `<cluster>-kubeconfig`, and kubeadm's token-based bootstrap-kubelet.conf.
import { stringify } from 'yaml';
import { YAML_OUTPUT } from './kubeadm-config.js';
import { issueClientCertificate, type CertificateAndKey } from './pki/cluster-pki.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

type KubeconfigUser = { 'client-certificate-data': string; 'client-key-data': string } | { token: string };

function renderKubeconfig(clusterName: string, server: string, caCertPem: string, userName: string, user: KubeconfigUser): string {
  if (!/^https:\/\//.test(server)) throw new Error(`kubeconfig server must be an https:// URL, got ${JSON.stringify(server)}`);
  const contextName = `${userName}@${clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { 'certificate-authority-data': b64(caCertPem), server } }],
    contexts: [{ name: contextName, context: { cluster: clusterName, user: userName } }],
    'current-context': contextName,
    preferences: {},
    users: [{ name: userName, user }],
  }, YAML_OUTPUT);
}

export interface BuildKubeconfigOptions {
  clusterName: string;
  /** `https://host:port` of the API server (the control-plane endpoint). */
  server: string;
  caCertPem: string;
  userName: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/** A client-certificate kubeconfig, context `<user>@<cluster>` made current. */
export function buildKubeconfig(opts: BuildKubeconfigOptions): string {
  return renderKubeconfig(opts.clusterName, opts.server, opts.caCertPem, opts.userName, {
    'client-certificate-data': b64(opts.clientCertPem),
    'client-key-data': b64(opts.clientKeyPem),
  });
}

/** kubeadm's user name in bootstrap-kubelet.conf. */
export const BOOTSTRAP_TOKEN_USER = 'tls-bootstrap-token-user';

/** Like kubeadm's /etc/kubernetes/bootstrap-kubelet.conf: the bootstrap token as bearer token. */
export function buildBootstrapKubeconfig(opts: { clusterName: string; server: string; caCertPem: string; token: string }): string {
  return renderKubeconfig(opts.clusterName, opts.server, opts.caCertPem, BOOTSTRAP_TOKEN_USER, { token: opts.token });
}

/**
 * Issues a `kubernetes-admin` / `system:masters` client certificate from the cluster CA and
 * returns the kubeconfig holding it (what Cluster API puts in the `<cluster>-kubeconfig`
 * Secret). Validity defaults to 365 days from `now`.
 */
export async function adminKubeconfig(ca: CertificateAndKey, opts: { clusterName: string; server: string; now: Date; validityDays?: number }): Promise<string> {
  const admin = await issueClientCertificate(ca, {
    commonName: 'kubernetes-admin',
    organizations: ['system:masters'],
    now: opts.now,
    validityDays: opts.validityDays,
  });
  return buildKubeconfig({
    clusterName: opts.clusterName,
    server: opts.server,
    caCertPem: ca.certPem,
    userName: 'kubernetes-admin',
    clientCertPem: admin.certPem,
    clientKeyPem: admin.keyPem,
  });
}
