// A workload cluster's PKI the way kubeadm (and Cluster API's certificate Secrets) lay it
// out: three CAs and the service-account signing key pair, plus leaf issuing helpers.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import * as x509 from './x509.js';
import { createCertificate, type CertificateAndKey } from './certificate.js';
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
/** The subjects kubeadm gives its CAs. */
export const CA_COMMON_NAMES = { ca: 'kubernetes', etcdCa: 'etcd-ca', frontProxyCa: 'front-proxy-ca' } as const;
const LEAF_VALIDITY_DAYS = 365;

export async function generateCertificateAuthority(
  commonName: string,
  opts: { now: Date; validityDays?: number; keyAlgorithm?: KeyAlgorithm },
): Promise<CertificateAndKey> {
  const { keyPem } = generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const { certPem } = await createCertificate({
    subject: { commonName },
    subjectKey: keyPem,
    now: opts.now,
    validityDays: opts.validityDays ?? CA_VALIDITY_DAYS,
    isCA: true,
    keyUsage: ['digitalSignature', 'keyEncipherment', 'keyCertSign'],
  });
  return { certPem, keyPem };
}

export async function generateClusterPki(opts: GenerateClusterPkiOptions): Promise<ClusterPki> {
  if (!opts.clusterName) throw new Error('clusterName is required');
  const caOpts = { now: opts.now, validityDays: opts.validityDays, keyAlgorithm: opts.keyAlgorithm };
  return {
    clusterName: opts.clusterName,
    ca: await generateCertificateAuthority(CA_COMMON_NAMES.ca, caOpts),
    etcdCa: await generateCertificateAuthority(CA_COMMON_NAMES.etcdCa, caOpts),
    frontProxyCa: await generateCertificateAuthority(CA_COMMON_NAMES.frontProxyCa, caOpts),
    serviceAccount: generateServiceAccountKeyPair(opts.keyAlgorithm),
  };
}

/** kubeadm's sa.key / sa.pub: the key pair service-account tokens are signed with. */
export function generateServiceAccountKeyPair(keyAlgorithm: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): ServiceAccountKeyPair {
  const { keyPem, publicKeyPem } = generateKeyPair(keyAlgorithm);
  return { publicKeyPem, privateKeyPem: keyPem };
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
export async function issueClientCertificate(ca: CertificateAndKey, opts: IssueClientCertificateOptions): Promise<CertificateAndKey> {
  const { keyPem } = generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const { certPem } = await createCertificate({
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
export async function issueServingCertificate(ca: CertificateAndKey, opts: IssueServingCertificateOptions): Promise<CertificateAndKey> {
  const { keyPem } = generateKeyPair(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM);
  const { certPem } = await createCertificate({
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
 * kubeadm's `--discovery-token-ca-cert-hash`: SHA-256 of the certificate's
 * SubjectPublicKeyInfo DER (Go's RawSubjectPublicKeyInfo). The library re-serializes the
 * parsed structure field by field, which gives back the certificate's own bytes for DER input;
 * node:crypto's export would instead re-encode the key itself.
 */
export function caCertHash(certPem: string): string {
  const { publicKey } = new x509.X509Certificate(certPem);
  return 'sha256:' + createHash('sha256').update(Buffer.from(publicKey.rawData)).digest('hex');
}

/** Whether `keyPem` is the private key of the certificate's public key. False on unparsable input. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
