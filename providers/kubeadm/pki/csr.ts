// PKCS#10 certificate requests (RFC 2986): what a kubelet files as a Kubernetes
// CertificateSigningRequest to get its client certificate.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { bitString, DerTag, expectTag, fromPem, implicitTag, integer, readBitStringBytes, readChildren, readOid, readSingle, sequence, toPem } from './der.js';
import { describeSignatureOid, signatureAlgorithmFor, signWith, spkiDer, toPrivateKey } from './keys.js';
import { encodeName, parseName } from './name.js';

export interface CreateCertificateRequestOptions {
  commonName: string;
  organizations?: string[];
  /** The requester's private key (PEM or KeyObject); EC P-256 or RSA. */
  keyPem: string | KeyObject;
}

/** A "CERTIFICATE REQUEST" PEM signed by `keyPem` (proof the requester holds the key). */
export function createCertificateRequest(opts: CreateCertificateRequestOptions): string {
  const key = toPrivateKey(opts.keyPem);
  const certificationRequestInfo = sequence(
    integer(0), // version v1
    encodeName({ commonName: opts.commonName, organizations: opts.organizations }),
    spkiDer(key),
    implicitTag(0, Buffer.alloc(0), true), // attributes [0] IMPLICIT SET OF Attribute: none
  );
  const signatureAlgorithm = signatureAlgorithmFor(key);
  const request = sequence(certificationRequestInfo, signatureAlgorithm, bitString(signWith(key, certificationRequestInfo)));
  return toPem('CERTIFICATE REQUEST', request);
}

export interface ParsedCertificateRequest {
  commonName: string;
  organizations: string[];
  publicKey: KeyObject;
}

/** Parses a PKCS#10 PEM and verifies its self-signature; throws if it does not verify. */
export function parseCertificateRequest(pem: string): ParsedCertificateRequest {
  const request = readSingle(fromPem('CERTIFICATE REQUEST', pem), DerTag.SEQUENCE);
  const [info, algorithm, signature] = readChildren(request);
  if (!info || !algorithm || !signature) throw new Error('CSR: malformed CertificationRequest');
  const [version, subject, spki] = readChildren(expectTag(info, DerTag.SEQUENCE));
  if (!version || !subject || !spki) throw new Error('CSR: malformed CertificationRequestInfo');
  if (version.contents.length !== 1 || version.contents[0] !== 0) throw new Error('CSR: unsupported version');

  const [algorithmOid] = readChildren(expectTag(algorithm, DerTag.SEQUENCE));
  const algorithmName = algorithmOid && readOid(algorithmOid);
  const expected = algorithmName ? describeSignatureOid(algorithmName) : undefined;
  if (!expected) throw new Error(`CSR: unsupported signature algorithm ${algorithmName}`);
  const publicKey = createPublicKey({ key: spki.raw, format: 'der', type: 'spki' });
  if (publicKey.asymmetricKeyType !== expected.keyType) {
    throw new Error(`CSR: signature algorithm ${algorithmName} does not fit a ${publicKey.asymmetricKeyType} key`);
  }
  const signatureBytes = readBitStringBytes(signature);
  const valid = verify(
    'sha256',
    info.raw,
    expected.keyType === 'ec' ? { key: publicKey, dsaEncoding: 'der' } : publicKey,
    signatureBytes,
  );
  if (!valid) throw new Error('CSR: signature does not verify against the request public key');
  const name = parseName(subject);
  return { commonName: name.commonName, organizations: name.organizations, publicKey };
}
