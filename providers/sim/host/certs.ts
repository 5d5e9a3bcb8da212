// kubeadm's `certs` phase on the simulated host: take the CAs and the service-account key pair from
// the bootstrap data (Cluster API generates them), check them as kubeadm does, write them as
// /etc/kubernetes/pki would hold them, and issue the leaf certificates the control plane needs.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CERTIFICATES_DIR } from '../../kubeadm/kubeadm-config.js';
import { issueClientCertificate, issueServingCertificate, keyMatchesCertificate, type CertificateAndKey } from '../../kubeadm/pki/cluster-pki.js';
import type { KeyAlgorithm } from '../../kubeadm/pki/keys.js';
import { atomicWriteFileSync } from '../fsutil.js';

/** A failed kubeadm phase, reported the way kubeadm prints it: `error execution phase <phase>: <message>`. */
export class KubeadmPhaseError extends Error {
  constructor(
    readonly phase: string,
    message: string,
  ) {
    super(`error execution phase ${phase}: ${message}`);
    this.name = 'KubeadmPhaseError';
  }
}

export interface ClusterCas {
  ca: CertificateAndKey;
  frontProxyCa: CertificateAndKey;
  /** Written for completeness; the simulated control plane uses the cloud's shared etcd over loopback http. */
  etcdCa?: CertificateAndKey;
  serviceAccount: { privateKeyPem: string; publicKeyPem: string };
}

/**
 * Reads the CAs from the bootstrap data's write_files (under `certificatesDir`). kubeadm loads an
 * existing CA and refuses one whose key does not belong to the certificate (Go's tls.X509KeyPair:
 * "private key does not match public key"), or a certificate that is not a CA.
 */
export function readClusterCas(files: Record<string, string>, certificatesDir = CERTIFICATES_DIR): ClusterCas {
  const file = (name: string) => files[path.posix.join(certificatesDir, name)];
  const loadCa = (baseName: string, uxName: string, phase: string): CertificateAndKey | undefined => {
    const certPem = file(`${baseName}.crt`);
    const keyPem = file(`${baseName}.key`);
    if (certPem === undefined && keyPem === undefined) return undefined;
    if (certPem === undefined) throw new KubeadmPhaseError(phase, `couldn't load ${uxName} certificate authority: ${baseName}.key is present but ${baseName}.crt is not`);
    if (keyPem === undefined) {
      throw new KubeadmPhaseError(phase, `failure loading key for ${uxName}: couldn't load the private key file ${path.posix.join(certificatesDir, `${baseName}.key`)} (external CA mode is not supported by the simulated host)`);
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      throw new KubeadmPhaseError(phase, `failure loading ${uxName} certificate: ${(err as Error).message}`);
    }
    if (!cert.ca) throw new KubeadmPhaseError(phase, `certificate ${baseName} is not a CA`);
    const now = Date.now();
    if (Date.parse(cert.validTo) < now) throw new KubeadmPhaseError(phase, `the certificate ${baseName} has expired (NotAfter ${cert.validTo})`);
    if (!keyMatchesCertificate(certPem, keyPem)) {
      throw new KubeadmPhaseError(phase, `failure loading ${uxName} certificate authority: tls: private key does not match public key`);
    }
    return { certPem, keyPem };
  };
  const ca = loadCa('ca', 'ca', 'certs/ca');
  if (!ca) throw new KubeadmPhaseError('certs/ca', `couldn't load ca certificate authority from ${certificatesDir} (the bootstrap data carries no ca.crt/ca.key)`);
  const frontProxyCa = loadCa('front-proxy-ca', 'front-proxy-ca', 'certs/front-proxy-ca');
  if (!frontProxyCa) throw new KubeadmPhaseError('certs/front-proxy-ca', `couldn't load front-proxy-ca certificate authority from ${certificatesDir}`);
  const etcdCa = loadCa('etcd/ca', 'etcd/ca', 'certs/etcd-ca');

  const saKey = file('sa.key');
  const saPub = file('sa.pub');
  if (saKey === undefined || saPub === undefined) throw new KubeadmPhaseError('certs/sa', `couldn't load the service account key pair sa.key/sa.pub from ${certificatesDir}`);
  try {
    const derived = createPublicKey(createPrivateKey(saKey)).export({ type: 'spki', format: 'der' });
    const given = createPublicKey(saPub).export({ type: 'spki', format: 'der' });
    if (!derived.equals(given)) throw new Error('sa.pub is not the public key of sa.key');
  } catch (err) {
    throw new KubeadmPhaseError('certs/sa', `failure loading the service account key pair: ${(err as Error).message}`);
  }
  return { ca, frontProxyCa, etcdCa, serviceAccount: { privateKeyPem: saKey, publicKeyPem: saPub } };
}

/** PEM files of a control plane, in kubeadm's names, under one pki dir. */
export class PkiDir {
  constructor(readonly dir: string) {}

  path(name: string): string {
    return path.join(this.dir, name);
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  read(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  /** Keys 0600, certificates 0644 (kubeadm's modes). */
  write(name: string, content: string): void {
    const file = this.path(name);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const mode = /\.key$|\.conf$/.test(name) ? 0o600 : 0o644;
    atomicWriteFileSync(file, content, mode);
    chmodSync(file, mode);
  }

  pair(baseName: string): CertificateAndKey {
    return { certPem: this.read(`${baseName}.crt`), keyPem: this.read(`${baseName}.key`) };
  }

  writePair(baseName: string, pair: CertificateAndKey): void {
    this.write(`${baseName}.key`, pair.keyPem);
    this.write(`${baseName}.crt`, pair.certPem);
  }

  writeCas(cas: ClusterCas): void {
    this.writePair('ca', cas.ca);
    this.writePair('front-proxy-ca', cas.frontProxyCa);
    if (cas.etcdCa) this.writePair('etcd/ca', cas.etcdCa);
    this.write('sa.key', cas.serviceAccount.privateKeyPem);
    this.write('sa.pub', cas.serviceAccount.publicKeyPem);
  }

  readCas(): ClusterCas {
    return {
      ca: this.pair('ca'),
      frontProxyCa: this.pair('front-proxy-ca'),
      etcdCa: this.has('etcd/ca.crt') ? this.pair('etcd/ca') : undefined,
      serviceAccount: { privateKeyPem: this.read('sa.key'), publicKeyPem: this.read('sa.pub') },
    };
  }
}

/** A leaf on disk is reused when its key matches, the CA signed it, it has 30+ days left and carries `sans`. */
function usableLeaf(pki: PkiDir, baseName: string, ca: CertificateAndKey, sans: string[] = []): boolean {
  if (!pki.has(`${baseName}.crt`) || !pki.has(`${baseName}.key`)) return false;
  try {
    const { certPem, keyPem } = pki.pair(baseName);
    if (!keyMatchesCertificate(certPem, keyPem)) return false;
    const cert = new X509Certificate(certPem);
    if (!cert.verify(new X509Certificate(ca.certPem).publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < 30 * 24 * 3600_000) return false;
    const have = new Set((cert.subjectAltName ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')));
    return sans.every((s) => have.has(s));
  } catch {
    return false;
  }
}

export interface ControlPlaneLeafOptions {
  dnsNames: string[];
  ipAddresses: string[];
  keyAlgorithm?: KeyAlgorithm;
}

/**
 * kubeadm's leaf certificates, issued from the given CAs unless a usable one is on disk (a restart
 * reuses them): apiserver (serving), apiserver-kubelet-client, front-proxy-client, and the client
 * certificates of the controller manager, of the scheduler and of the runtime itself (super-admin, system:masters).
 */
export async function ensureControlPlaneLeaves(pki: PkiDir, cas: ClusterCas, opts: ControlPlaneLeafOptions): Promise<void> {
  const now = new Date();
  const keyAlgorithm = opts.keyAlgorithm;
  if (!usableLeaf(pki, 'apiserver', cas.ca, [...opts.dnsNames, ...opts.ipAddresses])) {
    pki.writePair('apiserver', await issueServingCertificate(cas.ca, { commonName: 'kube-apiserver', dnsNames: opts.dnsNames, ipAddresses: opts.ipAddresses, now, keyAlgorithm }));
  }
  const clients: Array<[string, CertificateAndKey, string, string[]]> = [
    ['apiserver-kubelet-client', cas.ca, 'kube-apiserver-kubelet-client', ['kubeadm:cluster-admins']],
    ['front-proxy-client', cas.frontProxyCa, 'front-proxy-client', []],
    ['controller-manager-client', cas.ca, 'system:kube-controller-manager', []],
    ['scheduler-client', cas.ca, 'system:kube-scheduler', []],
    ['super-admin', cas.ca, 'kubernetes-super-admin', ['system:masters']],
  ];
  for (const [baseName, ca, commonName, organizations] of clients) {
    if (usableLeaf(pki, baseName, ca)) continue;
    pki.writePair(baseName, await issueClientCertificate(ca, { commonName, organizations, now, keyAlgorithm }));
  }
}

/** Plain file write with a mode, for the few files that are not PEM (kubeconfigs). */
export function writePrivateFile(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}
