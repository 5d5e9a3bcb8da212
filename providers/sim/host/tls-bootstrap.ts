// The kubelet's TLS bootstrap: authenticated with the bootstrap token, file a
// certificates.k8s.io/v1 CertificateSigningRequest for `system:node:<name>` (signer
// kubernetes.io/kube-apiserver-client-kubelet), wait until the workload cluster's
// kube-controller-manager approves (csrapproving, allowed by kubeadm's
// kubeadm:node-autoapprove-bootstrap binding) and signs it (csrsigning, with the cluster CA), and
// keep the issued certificate with its key: the node's identity from then on.
import { createHash, X509Certificate } from 'node:crypto';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { keyMatchesCertificate } from '../../kubeadm/pki/cluster-pki.js';
import { createCertificateRequest } from '../../kubeadm/pki/csr.js';
import { generateKeyPair } from '../../kubeadm/pki/keys.js';
import { KubeadmPhaseError } from './certs.js';
import { callOptions, describeApiError, isAlreadyExists, kubeClients } from './kube.js';
import { seconds, sleep, throwIfAborted } from './util.js';

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';

export interface TlsBootstrapInput {
  server: string;
  caPem: string;
  /** `id.secret`: never logged. */
  token: string;
  nodeName: string;
  timeoutMs: number;
  signal?: AbortSignal;
  log(message: string): void;
}

export interface TlsBootstrapResult {
  certPem: string;
  keyPem: string;
  csrName: string;
}

export async function kubeletTlsBootstrap(input: TlsBootstrapInput): Promise<TlsBootstrapResult> {
  const { keyPem } = generateKeyPair('ECDSA-P256');
  const request = await createCertificateRequest({ commonName: `system:node:${input.nodeName}`, organizations: ['system:nodes'], keyPem });
  // The kubelet names its CSR after a digest of what it asks for, so a retry finds the same one.
  const csrName = `node-csr-${createHash('sha256').update(request).digest('base64url').slice(0, 43)}`;
  const { certificates } = kubeClients(input.server, input.caPem, { token: input.token });
  const body: V1CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: csrName },
    spec: {
      request: Buffer.from(request, 'utf8').toString('base64'),
      signerName: KUBELET_CLIENT_SIGNER,
      usages: ['digital signature', 'client auth'],
    },
  };
  const deadline = Date.now() + input.timeoutMs;
  const fail = (why: string) =>
    new KubeadmPhaseError('kubelet-start', `the kubelet's TLS bootstrap did not complete: ${why}`);

  let created = false;
  let lastError = '';
  while (!created) {
    throwIfAborted(input.signal);
    try {
      await certificates.createCertificateSigningRequest({ body }, callOptions());
      created = true;
    } catch (err) {
      if (isAlreadyExists(err)) created = true;
      else {
        lastError = describeApiError(err);
        if (Date.now() > deadline) throw fail(`could not create CertificateSigningRequest ${csrName}: ${lastError}`);
        await sleep(1000, input.signal);
      }
    }
  }
  input.log(`node ${input.nodeName}: created CertificateSigningRequest ${csrName}, waiting for approval and signing`);

  for (;;) {
    throwIfAborted(input.signal);
    try {
      const csr = await certificates.readCertificateSigningRequest({ name: csrName }, callOptions());
      const conds = csr.status?.conditions ?? [];
      const denied = conds.find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
      if (denied) throw fail(`CertificateSigningRequest ${csrName} was ${denied.type.toLowerCase()}: ${denied.reason ?? ''} ${denied.message ?? ''}`.trim());
      const approved = conds.some((c) => c.type === 'Approved' && c.status === 'True');
      const issued = csr.status?.certificate;
      if (approved && issued) {
        const certPem = Buffer.from(issued, 'base64').toString('utf8');
        if (!keyMatchesCertificate(certPem, keyPem)) throw fail(`the certificate issued for ${csrName} is not for our key`);
        if (!new X509Certificate(certPem).verify(new X509Certificate(input.caPem).publicKey)) {
          throw fail(`the certificate issued for ${csrName} is not signed by the cluster CA`);
        }
        return { certPem, keyPem, csrName };
      }
      lastError = approved ? 'approved, not yet signed' : 'not yet approved';
    } catch (err) {
      if (err instanceof KubeadmPhaseError) throw err;
      lastError = describeApiError(err);
    }
    if (Date.now() > deadline) throw fail(`CertificateSigningRequest ${csrName} was not approved and signed within ${seconds(input.timeoutMs)} (${lastError})`);
    await sleep(300, input.signal);
  }
}
