// X.509 v3 certificates (RFC 5280) built from DER primitives and signed with node:crypto.
import { createHash, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  boolean,
  DerTag,
  explicitTag,
  expectTag,
  fromPem,
  implicitTag,
  integer,
  namedBitString,
  octetString,
  oid,
  readBitStringBytes,
  readChildren,
  readElement,
  readOid,
  readSingle,
  sequence,
  bitString,
  toPem,
  x509Time,
  type DerElement,
} from './der.js';
import { signatureAlgorithmFor, signWith, spkiDer, toPrivateKey } from './keys.js';
import { encodeName, type DistinguishedName } from './name.js';

export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign';
export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

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

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

// KeyUsage ::= BIT STRING { digitalSignature (0), nonRepudiation (1), keyEncipherment (2),
//   dataEncipherment (3), keyAgreement (4), keyCertSign (5), cRLSign (6), ... }
const KEY_USAGE_BIT: Record<KeyUsage, number> = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5 };

export function createCertificate(opts: CreateCertificateOptions): { certPem: string } {
  const subjectPublicKeyInfo = spkiDer(opts.subjectKey);
  const subjectKeyId = keyIdentifier(subjectPublicKeyInfo);

  let signer: KeyObject;
  let issuerName: Buffer;
  let authorityKeyId: Buffer;
  if (opts.issuer) {
    const issuerCert = new X509Certificate(opts.issuer.certPem);
    signer = toPrivateKey(opts.issuer.keyPem);
    if (!issuerCert.ca) throw new Error(`issuer "${issuerCert.subject}" is not a CA certificate`);
    if (!issuerCert.checkPrivateKey(signer)) throw new Error('issuer key does not match the issuer certificate');
    const parts = readCertificate(opts.issuer.certPem);
    // The issuer Name is copied byte for byte: chain building compares encoded names.
    issuerName = parts.subject.raw;
    authorityKeyId = parts.subjectKeyId ?? keyIdentifier(parts.subjectPublicKeyInfo.raw);
  } else {
    signer = toPrivateKey(opts.subjectKey);
    issuerName = encodeName(opts.subject);
    authorityKeyId = subjectKeyId;
  }

  const now = opts.now ?? new Date();
  const notBefore = opts.notBefore ?? new Date(now.getTime() - CLOCK_SKEW_BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(now.getTime() + (opts.validityDays ?? 365) * DAY_MS);
  if (!(notAfter.getTime() > notBefore.getTime())) throw new Error('notAfter must be after notBefore');

  const serial = opts.serialNumber ?? randomSerial();
  if (serial <= 0n) throw new Error('serial number must be positive (RFC 5280 4.1.2.2)');

  const extensions: Buffer[] = [
    // Critical, and CA:FALSE spelled out on leaves, as Go and kubeadm do.
    extension(OID.basicConstraints, true, sequence(...(opts.isCA ? [boolean(true)] : []))),
  ];
  if (opts.keyUsage?.length) {
    extensions.push(extension(OID.keyUsage, true, namedBitString(opts.keyUsage.map((u) => KEY_USAGE_BIT[u]))));
  }
  if (opts.extKeyUsage?.length) {
    extensions.push(extension(OID.extKeyUsage, false, sequence(...opts.extKeyUsage.map((u) => oid(OID[u])))));
  }
  const altNames = [
    // GeneralName: dNSName [2] IA5String, iPAddress [7] OCTET STRING, both implicit.
    ...(opts.dnsNames ?? []).map((dns) => implicitTag(2, Buffer.from(checkDnsName(dns), 'latin1'))),
    ...(opts.ipAddresses ?? []).map((ip) => implicitTag(7, ipAddressBytes(ip))),
  ];
  if (altNames.length) extensions.push(extension(OID.subjectAltName, false, sequence(...altNames)));
  extensions.push(extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)));
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
  extensions.push(extension(OID.authorityKeyIdentifier, false, sequence(implicitTag(0, authorityKeyId))));

  const signatureAlgorithm = signatureAlgorithmFor(signer);
  const tbsCertificate = sequence(
    explicitTag(0, integer(2)), // v3
    integer(serial),
    signatureAlgorithm,
    issuerName,
    sequence(x509Time(notBefore), x509Time(notAfter)),
    encodeName(opts.subject),
    subjectPublicKeyInfo,
    explicitTag(3, sequence(...extensions)),
  );
  const certificate = sequence(tbsCertificate, signatureAlgorithm, bitString(signWith(signer, tbsCertificate)));
  return { certPem: toPem('CERTIFICATE', certificate) };
}

function extension(extensionOid: string, critical: boolean, value: Buffer): Buffer {
  // critical is DEFAULT FALSE, and DER omits default values.
  return sequence(oid(extensionOid), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value (Go does this). */
function keyIdentifier(subjectPublicKeyInfo: Buffer): Buffer {
  const [, subjectPublicKey] = readChildren(readSingle(subjectPublicKeyInfo, DerTag.SEQUENCE));
  if (!subjectPublicKey) throw new Error('DER: malformed SubjectPublicKeyInfo');
  return createHash('sha1').update(readBitStringBytes(subjectPublicKey)).digest();
}

function randomSerial(): bigint {
  const serial = BigInt('0x' + randomBytes(16).toString('hex'));
  return serial === 0n ? 1n : serial;
}

function checkDnsName(name: string): string {
  // Wildcards are allowed in the left-most label only; anything else is a caller bug.
  if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(name)) {
    throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
  }
  return name;
}

/** The 4 or 16 network-order bytes of an IP literal. */
export function ipAddressBytes(ip: string): Buffer {
  const version = isIP(ip);
  if (version === 4) return Buffer.from(ip.split('.').map(Number));
  if (version !== 6 || ip.includes('%')) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
  let text = ip;
  let ipv4Tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail ("::ffff:10.0.0.1") stands for the last two groups.
    ipv4Tail = text.slice(lastColon + 1).split('.').map(Number);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head = '', tail] = text.split('::');
  const parseGroups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const headGroups = parseGroups(head);
  const tailGroups = tail === undefined ? [] : parseGroups(tail);
  const groups = [...headGroups, ...new Array(8 - headGroups.length - tailGroups.length).fill(0), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  if (ipv4Tail.length) Buffer.from(ipv4Tail).copy(bytes, 12);
  return bytes;
}

// ---------------------------------------------------------------- reading our own output

export interface CertificateParts {
  tbsCertificate: DerElement;
  subject: DerElement;
  subjectPublicKeyInfo: DerElement;
  subjectKeyId?: Buffer;
}

/** The few raw pieces of a certificate that node:crypto does not expose as bytes. */
export function readCertificate(certPem: string): CertificateParts {
  const certificate = readSingle(fromPem('CERTIFICATE', certPem), DerTag.SEQUENCE);
  const [tbsCertificate] = readChildren(certificate);
  if (!tbsCertificate) throw new Error('DER: certificate without tbsCertificate');
  const fields = readChildren(expectTag(tbsCertificate, DerTag.SEQUENCE));
  // version [0] is optional (absent means v1); the fixed fields follow it.
  const fixed = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  const [, , , , subject, subjectPublicKeyInfo, ...optional] = fixed;
  if (!subject || !subjectPublicKeyInfo) throw new Error('DER: truncated tbsCertificate');
  let subjectKeyId: Buffer | undefined;
  const extensionsWrapper = optional.find((e) => e.tag === 0xa3);
  if (extensionsWrapper) {
    const [extensions] = readChildren(extensionsWrapper);
    for (const ext of extensions ? readChildren(extensions) : []) {
      const parts = readChildren(ext);
      if (readOid(parts[0]!) !== OID.subjectKeyIdentifier) continue;
      const value = expectTag(parts[parts.length - 1]!, DerTag.OCTET_STRING);
      subjectKeyId = Buffer.from(expectTag(readElement(value.contents), DerTag.OCTET_STRING).contents);
    }
  }
  return { tbsCertificate, subject, subjectPublicKeyInfo, subjectKeyId };
}
