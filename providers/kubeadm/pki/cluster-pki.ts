// A workload cluster's PKI the way kubeadm (and Cluster API's certificate Secrets) lay it
// out: three CAs and the service-account signing key pair, plus leaf issuing helpers.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { createCertificate, readCertificate, type CertificateAndKey } from './certificate.js';
import { DEFAULT_KEY_ALGORITHM, generateKeyPair, type KeyAlgorithm } from './keys.js';

export type { CertificateAndKey } from './certificate.js';

export interface ServiceAccountKeyPair {
  /** "PUBLIC KEY" (SubjectPublicKeyInfo), kubeadm's sa.pub. */
  publicKeyPem: string;
  /** "EC PRIVATE KEY" or "RSA PRIVATE KEY", kubeadm's sa.key. */
  privateKeyPem: string;
}

export interface ClusterPki {
  /** The cluster this PKI was made for (the CAs themselves carry kubeadm's fixed names). */
  clusterName: string;
  ca: CertificateAndKey;
  etcdCa: CertificateAndKey;
  frontProxyCa: CertificateAndKey;
  serviceAccount: ServiceAccountKeyPair;
}

export interface GenerateClusterPkiOptions {
  clusterName: string;
  now: Date;
  /** CA lifetime; default 3650 days, as kubeadm. */
  validityDays?: number;
  /** Default ECDSA-P256 (kubeadm's `encryptionAlgorithm: ECDSA-P256`). */
  keyAlgorithm?: KeyAlgorithm;
}

const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 365;

export function generateCertificateAuthority(
  commonName: string,
  opts: { now: Date; validityDays?: number; keyAlgorithm?: KeyAlgorithm },
): CertificateAndKey {
  const { keyPem } = generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const { certPem } = createCertificate({
    subject: { commonName },
    subjectKey: keyPem,
    now: opts.now,
    validityDays: opts.validityDays ?? CA_VALIDITY_DAYS,
    isCA: true,
    keyUsage: ['digitalSignature', 'keyEncipherment', 'keyCertSign'],
  });
  return { certPem, keyPem };
}

export function generateClusterPki(opts: GenerateClusterPkiOptions): ClusterPki {
  if (!opts.clusterName) throw new Error('clusterName is required');
  const caOpts = { now: opts.now, validityDays: opts.validityDays, keyAlgorithm: opts.keyAlgorithm };
  const serviceAccount = generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  return {
    clusterName: opts.clusterName,
    ca: generateCertificateAuthority('kubernetes', caOpts),
    etcdCa: generateCertificateAuthority('etcd-ca', caOpts),
    frontProxyCa: generateCertificateAuthority('front-proxy-ca', caOpts),
    serviceAccount: { publicKeyPem: serviceAccount.publicKeyPem, privateKeyPem: serviceAccount.keyPem },
  };
}

export interface IssueClientCertificateOptions {
  /** The user name Kubernetes sees (e.g. `kubernetes-admin`, `system:node:<name>`). */
  commonName: string;
  /** The groups Kubernetes sees (e.g. `system:masters`). */
  organizations?: string[];
  now: Date;
  /** Default 365. */
  validityDays?: number;
  keyAlgorithm?: KeyAlgorithm;
}

/** A fresh key and a clientAuth certificate for it, signed by `ca`. */
export function issueClientCertificate(ca: CertificateAndKey, opts: IssueClientCertificateOptions): CertificateAndKey {
  const { keyPem } = generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const { certPem } = createCertificate({
    subject: { commonName: opts.commonName, organizations: opts.organizations },
    subjectKey: keyPem,
    issuer: ca,
    now: opts.now,
    validityDays: opts.validityDays ?? LEAF_VALIDITY_DAYS,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['clientAuth'],
  });
  return { certPem, keyPem };
}

export interface IssueServingCertificateOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  now: Date;
  /** Default 365. */
  validityDays?: number;
  keyAlgorithm?: KeyAlgorithm;
}

/** A fresh key and a serverAuth certificate for the given names, signed by `ca`. */
export function issueServingCertificate(ca: CertificateAndKey, opts: IssueServingCertificateOptions): CertificateAndKey {
  const { keyPem } = generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const { certPem } = createCertificate({
    subject: { commonName: opts.commonName },
    subjectKey: keyPem,
    issuer: ca,
    now: opts.now,
    validityDays: opts.validityDays ?? LEAF_VALIDITY_DAYS,
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['serverAuth'],
    dnsNames: opts.dnsNames,
    ipAddresses: opts.ipAddresses,
  });
  return { certPem, keyPem };
}

/**
 * kubeadm's `--discovery-token-ca-cert-hash`: SHA-256 of the certificate's raw
 * SubjectPublicKeyInfo bytes (hashed as they appear in the certificate, as Go's
 * RawSubjectPublicKeyInfo, not a re-encoding).
 */
export function caCertHash(certPem: string): string {
  const { subjectPublicKeyInfo } = readCertificate(certPem);
  return 'sha256:' + createHash('sha256').update(subjectPublicKeyInfo.raw).digest('hex');
}

/** Whether `keyPem` is the private key of the certificate's public key. False on unparsable input. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
