// PKCS#10 certificate requests (RFC 2986): what a kubelet files as a Kubernetes
// CertificateSigningRequest to get its client certificate.
import type { KeyObject } from 'node:crypto';
import * as x509 from './x509.js';
import { toName } from './certificate.js';
import { toSigningKey } from './keys.js';

export interface CreateCertificateRequestOptions {
  commonName: string;
  organizations?: string[];
  /** The requester's private key (PEM or KeyObject); EC P-256 or RSA. */
  keyPem: string | KeyObject;
}

/** A "CERTIFICATE REQUEST" PEM signed by `keyPem` (proof the requester holds the key). */
export async function createCertificateRequest(opts: CreateCertificateRequestOptions): Promise<string> {
  if (!opts.commonName) throw new Error('a certificate request needs a commonName');
  const { privateKey, publicKey, algorithm } = await toSigningKey(opts.keyPem);
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: toName({ commonName: opts.commonName, organizations: opts.organizations }),
    keys: { privateKey, publicKey },
    signingAlgorithm: algorithm,
  });
  return request.toString('pem');
}
