import { createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificate } from './certificate.js';
import { generateClusterPki } from './cluster-pki.js';
import { createCertificateRequest, parseCertificateRequest } from './csr.js';
import { fromPem, toPem } from './der.js';
import { generateKeyPair } from './keys.js';
import { hasOpenssl, openssl } from './openssl.test-helper.js';

describe('certificate requests', () => {
  it('round-trips a kubelet CSR with its subject and public key', () => {
    const { keyPem, publicKeyPem } = generateKeyPair();
    const pem = createCertificateRequest({ commonName: 'system:node:worker-0', organizations: ['system:nodes'], keyPem });
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
    const parsed = parseCertificateRequest(pem);
    expect(parsed.commonName).toBe('system:node:worker-0');
    expect(parsed.organizations).toEqual(['system:nodes']);
    expect(parsed.publicKey.export({ type: 'spki', format: 'pem' })).toBe(publicKeyPem);
  });

  it('round-trips RSA requests, several organizations and non-printable names', () => {
    const { keyPem } = generateKeyPair('RSA-2048');
    const pem = createCertificateRequest({ commonName: 'jörg@example', organizations: ['a', 'b_c'], keyPem });
    const parsed = parseCertificateRequest(pem);
    expect(parsed).toMatchObject({ commonName: 'jörg@example', organizations: ['a', 'b_c'] });
    expect(parsed.publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('rejects a request whose signature does not verify', () => {
    const { keyPem } = generateKeyPair();
    const der = fromPem('CERTIFICATE REQUEST', createCertificateRequest({ commonName: 'x', keyPem }));
    der[der.length - 5] ^= 0x01; // inside the signature
    expect(() => parseCertificateRequest(toPem('CERTIFICATE REQUEST', der))).toThrow(/signature|DER/);
    // Tamper with the signed subject ("x" → "y") instead.
    const der2 = fromPem('CERTIFICATE REQUEST', createCertificateRequest({ commonName: 'x', keyPem }));
    der2[der2.indexOf(Buffer.from('130178', 'hex')) + 2] = 0x79;
    expect(() => parseCertificateRequest(toPem('CERTIFICATE REQUEST', der2))).toThrow(/does not verify/);
    expect(() => parseCertificateRequest('nope')).toThrow(/CERTIFICATE REQUEST/);
  });

  it('can be turned into a certificate by a CA (as the CSR signer does)', () => {
    const pki = generateClusterPki({ clusterName: 'c', now: new Date() });
    const { keyPem } = generateKeyPair();
    const request = parseCertificateRequest(createCertificateRequest({ commonName: 'system:node:n1', organizations: ['system:nodes'], keyPem }));
    const { certPem } = createCertificate({ subject: request, subjectKey: request.publicKey, issuer: pki.ca, extKeyUsage: ['clientAuth'] });
    const cert = new X509Certificate(certPem);
    expect(cert.verify(new X509Certificate(pki.ca.certPem).publicKey)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }));
    expect(cert.subject).toBe('O=system:nodes\nCN=system:node:n1');
  });

  it.skipIf(!hasOpenssl)('verifies with openssl req -verify', () => {
    for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) {
      const { keyPem } = generateKeyPair(algorithm);
      const pem = createCertificateRequest({ commonName: 'system:node:n1', organizations: ['system:nodes'], keyPem });
      const out = openssl(['req', '-verify', '-noout', '-subject', '-in', '{csr.pem}'], { 'csr.pem': pem }).toString();
      expect(out).toContain('subject=O = system:nodes, CN = system:node:n1');
    }
  });
});
