// X.509 v3 certificates (RFC 5280) with the extensions kubeadm gives them, built and signed by
// @peculiar/x509 over WebCrypto.
import { X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from './x509.js';
import { spkiDer, toPrivateKey, toSigningKey } from './keys.js';

export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign';
export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

/** What Kubernetes reads from a certificate subject: the user (CN) and its groups (O). */
export interface DistinguishedName {
  commonName: string;
  organizations?: string[];
}

/** A certificate with its private key, both PEM. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface CreateCertificateOptions {
  subject: DistinguishedName;
  /**
   * The key being certified: public or private, KeyObject or PEM. A self-signed
   * certificate (no `issuer`) needs the private key, because it signs itself.
   */
  subjectKey: KeyObject | string;
  /** The CA that signs. Omitted: self-signed by `subjectKey`. */
  issuer?: CertificateAndKey;
  /** Positive serial; default 128 random bits. */
  serialNumber?: bigint;
  /** Reference time for the defaults below; default the wall clock. */
  now?: Date;
  /** Default `now` − 5 minutes, as kubeadm backdates to absorb clock skew. */
  notBefore?: Date;
  /** Default `now` + `validityDays`. */
  notAfter?: Date;
  /** Default 365. */
  validityDays?: number;
  isCA?: boolean;
  keyUsage?: KeyUsage[];
  extKeyUsage?: ExtKeyUsage[];
  dnsNames?: string[];
  /** IPv4 or IPv6 literals. */
  ipAddresses?: string[];
}

const CLOCK_SKEW_BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const EXT_KEY_USAGE_OID: Record<ExtKeyUsage, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

export async function createCertificate(opts: CreateCertificateOptions): Promise<{ certPem: string }> {
  if (!opts.subject.commonName) throw new Error('a certificate subject needs a commonName');
  const subjectPublicKey = new x509.PublicKey(spkiDer(opts.subjectKey));

  let signerKey: KeyObject;
  let issuerName: x509.Name;
  let authorityKeyId: string;
  const subjectName = toName(opts.subject);
  const subjectKeyId = Buffer.from(await subjectPublicKey.getKeyIdentifier()).toString('hex');
  if (opts.issuer) {
    const issuerCert = new NodeX509Certificate(opts.issuer.certPem);
    signerKey = toPrivateKey(opts.issuer.keyPem);
    if (!issuerCert.ca) throw new Error(`issuer "${issuerCert.subject}" is not a CA certificate`);
    if (!issuerCert.checkPrivateKey(signerKey)) throw new Error('issuer key does not match the issuer certificate');
    const ca = new x509.X509Certificate(opts.issuer.certPem);
    // The issuer's own parsed Name, not a re-typed one: chain building (Go's included)
    // compares encoded names, so string types (UTF8String vs PrintableString) must survive.
    issuerName = ca.subjectName;
    authorityKeyId = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId
      ?? Buffer.from(await ca.publicKey.getKeyIdentifier()).toString('hex');
  } else {
    signerKey = toPrivateKey(opts.subjectKey);
    issuerName = subjectName;
    authorityKeyId = subjectKeyId;
  }

  const now = opts.now ?? new Date();
  const notBefore = opts.notBefore ?? new Date(now.getTime() - CLOCK_SKEW_BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(now.getTime() + (opts.validityDays ?? 365) * DAY_MS);
  if (!(notAfter.getTime() > notBefore.getTime())) throw new Error('notAfter must be after notBefore');

  const serial = opts.serialNumber;
  if (serial !== undefined && serial <= 0n) throw new Error('serial number must be positive (RFC 5280 4.1.2.2)');

  const extensions: x509.Extension[] = [
    // Critical, and CA:FALSE spelled out on leaves, as Go and kubeadm do.
    new x509.BasicConstraintsExtension(opts.isCA ?? false, undefined, true),
  ];
  if (opts.keyUsage?.length) {
    const flags = opts.keyUsage.reduce((all, usage) => all | x509.KeyUsageFlags[usage], 0);
    extensions.push(new x509.KeyUsagesExtension(flags, true));
  }
  if (opts.extKeyUsage?.length) {
    extensions.push(new x509.ExtendedKeyUsageExtension(opts.extKeyUsage.map((u) => EXT_KEY_USAGE_OID[u]), false));
  }
  const altNames: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value: checkDnsName(value) })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value: canonicalIp(value) })),
  ];
  if (altNames.length) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  extensions.push(new x509.SubjectKeyIdentifierExtension(subjectKeyId, false));
  extensions.push(new x509.AuthorityKeyIdentifierExtension(authorityKeyId, false));

  const signer = await toSigningKey(signerKey);
  const certificate = await x509.X509CertificateGenerator.create({
    // Unset: 16 random bytes, made positive by the library.
    serialNumber: serial === undefined ? undefined : evenHex(serial),
    subject: subjectName,
    issuer: issuerName,
    notBefore,
    notAfter,
    publicKey: subjectPublicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signer.algorithm,
    extensions,
  });
  return { certPem: certificate.toString('pem') };
}

/**
 * One attribute per RDN, organizations before the common name (Go's order, so openssl prints
 * "O = system:masters, CN = …"). The library picks PrintableString where the text allows it
 * and UTF8String otherwise, as Go's crypto/x509 does.
 */
export function toName(name: DistinguishedName): x509.Name {
  return new x509.Name([...(name.organizations ?? []).map((o) => ({ O: [o] })), { CN: [name.commonName] }]);
}

function evenHex(value: bigint): string {
  const hex = value.toString(16);
  return hex.length % 2 ? `0${hex}` : hex;
}

function checkDnsName(name: string): string {
  // Wildcards are allowed in the left-most label only; anything else is a caller bug.
  if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(name)) {
    throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * An IP literal in the form the library's parser reads: IPv4 dotted quad, IPv6 as hex groups
 * only. The URL parser rewrites an embedded IPv4 tail ("::ffff:10.0.0.1" → "::ffff:a00:1"),
 * which the library would otherwise misread, and rejects zone IDs.
 */
function canonicalIp(ip: string): string {
  const version = isIP(ip);
  if (version === 4) return ip;
  if (version === 6 && !ip.includes('%')) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
}
