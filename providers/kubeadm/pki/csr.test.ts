import { createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificate } from './certificate.js';
import { generateClusterPki } from './cluster-pki.js';
import { createCertificateRequest } from './csr.js';
import { generateKeyPair } from './keys.js';
import { hasOpenssl, openssl } from './openssl.test-helper.js';
import * as x509 from './x509.js';

/** The request as a CSR signer reads it: subject, public key, and whether the self-signature holds. */
async function readRequest(pem: string) {
  const request = new x509.Pkcs10CertificateRequest(pem);
  return {
    commonName: request.subjectName.getField('CN')[0],
    organizations: request.subjectName.getField('O'),
    publicKeyPem: createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString(),
    verified: await request.verify(),
  };
}

describe('certificate requests', () => {
  it('round-trips a kubelet CSR with its subject and public key', async () => {
    const { keyPem, publicKeyPem } = generateKeyPair();
    const pem = await createCertificateRequest({ commonName: 'system:node:worker-0', organizations: ['system:nodes'], keyPem });
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
    expect(await readRequest(pem)).toEqual({ commonName: 'system:node:worker-0', organizations: ['system:nodes'], publicKeyPem, verified: true });
  });

  it('round-trips RSA requests, several organizations and non-printable names', async () => {
    const { keyPem, publicKeyPem } = generateKeyPair('RSA-2048');
    const pem = await createCertificateRequest({ commonName: 'jörg@example', organizations: ['a', 'b_c'], keyPem });
    expect(await readRequest(pem)).toEqual({ commonName: 'jörg@example', organizations: ['a', 'b_c'], publicKeyPem, verified: true });
  });

  it('is not verified once the signed subject is changed', async () => {
    const { keyPem } = generateKeyPair();
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(await createCertificateRequest({ commonName: 'x', keyPem })).rawData);
    der[der.indexOf(Buffer.from('130178', 'hex')) + 2] = 0x79; // PrintableString "x" → "y"
    const tampered = new x509.Pkcs10CertificateRequest(der);
    expect(tampered.subjectName.getField('CN')).toEqual(['y']);
    expect(await tampered.verify()).toBe(false);
    await expect(createCertificateRequest({ commonName: 'x', keyPem: generateKeyPair().publicKeyPem })).rejects.toThrow(/private key/);
  });

  it('can be turned into a certificate by a CA (as the CSR signer does)', async () => {
    const pki = await generateClusterPki({ clusterName: 'c', now: new Date() });
    const { keyPem, publicKeyPem } = generateKeyPair();
    const request = await readRequest(await createCertificateRequest({ commonName: 'system:node:n1', organizations: ['system:nodes'], keyPem }));
    const { certPem } = await createCertificate({ subject: request, subjectKey: request.publicKeyPem, issuer: pki.ca, extKeyUsage: ['clientAuth'] });
    const cert = new X509Certificate(certPem);
    expect(cert.verify(new X509Certificate(pki.ca.certPem).publicKey)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(publicKeyPem);
    expect(cert.subject).toBe('O=system:nodes\nCN=system:node:n1');
  });

  it.skipIf(!hasOpenssl)('verifies with openssl req -verify', async () => {
    for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) {
      const { keyPem } = generateKeyPair(algorithm);
      const pem = await createCertificateRequest({ commonName: 'system:node:n1', organizations: ['system:nodes'], keyPem });
      const out = openssl(['req', '-verify', '-noout', '-subject', '-in', '{csr.pem}'], { 'csr.pem': pem }).toString();
      expect(out).toContain('subject=O = system:nodes, CN = system:node:n1');
    }
  });
});
