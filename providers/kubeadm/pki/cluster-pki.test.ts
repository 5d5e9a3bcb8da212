import { createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { caCertHash, generateClusterPki, issueClientCertificate, issueServingCertificate, keyMatchesCertificate } from './cluster-pki.js';
import { hasOpenssl, openssl } from './openssl.test-helper.js';

const now = new Date('2030-01-01T00:00:00Z');
const pki = await generateClusterPki({ clusterName: 'demo', now });

describe('generateClusterPki', () => {
  it('makes kubeadm\'s three CAs, ten years each, in SEC1 EC keys', () => {
    for (const [ca, cn] of [[pki.ca, 'kubernetes'], [pki.etcdCa, 'etcd-ca'], [pki.frontProxyCa, 'front-proxy-ca']] as const) {
      const x509 = new X509Certificate(ca.certPem);
      expect(x509.subject).toBe(`CN=${cn}`);
      expect(x509.ca).toBe(true);
      expect(x509.verify(x509.publicKey)).toBe(true);
      expect(new Date(x509.validFrom).toISOString()).toBe('2029-12-31T23:55:00.000Z');
      expect(new Date(x509.validTo).toISOString()).toBe('2039-12-30T00:00:00.000Z'); // 3650 days
      expect(ca.keyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
      expect(keyMatchesCertificate(ca.certPem, ca.keyPem)).toBe(true);
    }
    expect(pki.clusterName).toBe('demo');
    expect(new Set([pki.ca.keyPem, pki.etcdCa.keyPem, pki.frontProxyCa.keyPem]).size).toBe(3);
  });

  it('makes a service-account key pair that signs and verifies', async () => {
    expect(pki.serviceAccount.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(pki.serviceAccount.privateKeyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    const signature = sign('sha256', Buffer.from('jwt'), createPrivateKey(pki.serviceAccount.privateKeyPem));
    expect(verify('sha256', Buffer.from('jwt'), createPublicKey(pki.serviceAccount.publicKeyPem), signature)).toBe(true);
  });

  it('supports RSA keys in PKCS#1', async () => {
    const rsa = await generateClusterPki({ clusterName: 'rsa', now, keyAlgorithm: 'RSA-2048', validityDays: 10 });
    expect(rsa.ca.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(rsa.serviceAccount.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(new Date(new X509Certificate(rsa.ca.certPem).validTo).toISOString()).toBe('2030-01-11T00:00:00.000Z');
    const leaf = await issueClientCertificate(rsa.ca, { commonName: 'u', now });
    expect(new X509Certificate(leaf.certPem).verify(new X509Certificate(rsa.ca.certPem).publicKey)).toBe(true);
  });
});

describe('issuing leaves', () => {
  it('issues a client certificate that chains only to its CA', async () => {
    const admin = await issueClientCertificate(pki.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], now, validityDays: 30 });
    const x509 = new X509Certificate(admin.certPem);
    expect(x509.subject).toBe('O=system:masters\nCN=kubernetes-admin');
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(x509.checkIssued(new X509Certificate(pki.ca.certPem))).toBe(true);
    expect(x509.verify(new X509Certificate(pki.ca.certPem).publicKey)).toBe(true);
    expect(x509.verify(new X509Certificate(pki.etcdCa.certPem).publicKey)).toBe(false);
    expect(new Date(x509.validTo).toISOString()).toBe('2030-01-31T00:00:00.000Z');
    expect(keyMatchesCertificate(admin.certPem, admin.keyPem)).toBe(true);
    expect(keyMatchesCertificate(admin.certPem, pki.ca.keyPem)).toBe(false);
    expect(keyMatchesCertificate(admin.certPem, 'not a key')).toBe(false);
  });

  it('issues a serving certificate with its SANs', async () => {
    const serving = await issueServingCertificate(pki.ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['kubernetes', 'kubernetes.default', 'demo.example.com'],
      ipAddresses: ['10.96.0.1', '127.0.0.1', '::1'],
      now,
    });
    const x509 = new X509Certificate(serving.certPem);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x509.subjectAltName).toBe('DNS:kubernetes, DNS:kubernetes.default, DNS:demo.example.com, IP Address:10.96.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x509.checkHost('demo.example.com')).toBe('demo.example.com');
    expect(x509.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(x509.checkHost('other.example.com')).toBeUndefined();
    expect(x509.verify(new X509Certificate(pki.ca.certPem).publicKey)).toBe(true);
  });
});

describe('the chain, as openssl sees it', () => {
  it.skipIf(!hasOpenssl)('verifies client and serving leaves with kubeadm\'s one-year window and key identifiers', async () => {
    const client = await issueClientCertificate(pki.ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], now });
    const serving = await issueServingCertificate(pki.ca, { commonName: 'kube-apiserver', dnsNames: ['kubernetes'], ipAddresses: ['10.96.0.1'], now });
    const attime = String(Math.floor(now.getTime() / 1000));
    for (const leaf of [client, serving]) {
      const x509 = new X509Certificate(leaf.certPem);
      expect(new Date(x509.validFrom).toISOString()).toBe('2029-12-31T23:55:00.000Z');
      expect(new Date(x509.validTo).toISOString()).toBe('2031-01-01T00:00:00.000Z'); // 365 days
      const out = openssl(['verify', '-attime', attime, '-purpose', leaf === client ? 'sslclient' : 'sslserver', '-CAfile', '{ca.crt}', '{leaf.crt}'], { 'ca.crt': pki.ca.certPem, 'leaf.crt': leaf.certPem });
      expect(out.toString().trim()).toMatch(/OK$/);
      expect(() => openssl(['verify', '-attime', attime, '-CAfile', '{ca.crt}', '{leaf.crt}'], { 'ca.crt': pki.etcdCa.certPem, 'leaf.crt': leaf.certPem })).toThrow();
    }
    const caText = openssl(['x509', '-noout', '-text', '-in', '{ca.crt}'], { 'ca.crt': pki.ca.certPem }).toString();
    const leafText = openssl(['x509', '-noout', '-text', '-in', '{leaf.crt}'], { 'leaf.crt': serving.certPem }).toString();
    const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(caText)![1]!;
    expect(leafText).toMatch(new RegExp(`Authority Key Identifier:\\s*\\n\\s*(keyid:)?${ski}`));
    expect(leafText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(leafText).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(leafText).toContain('TLS Web Server Authentication');
    expect(leafText).toContain('DNS:kubernetes, IP Address:10.96.0.1');
  });
});

describe('caCertHash', () => {
  it('is sha256 of the DER SubjectPublicKeyInfo', async () => {
    const spki = new X509Certificate(pki.ca.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(caCertHash(pki.ca.certPem)).toBe('sha256:' + createHash('sha256').update(spki).digest('hex'));
    expect(caCertHash(pki.ca.certPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caCertHash(pki.ca.certPem)).not.toBe(caCertHash(pki.etcdCa.certPem));
  });

  it.skipIf(!hasOpenssl)('matches openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256', async () => {
    const pubkeyPem = openssl(['x509', '-pubkey', '-noout', '-in', '{ca.crt}'], { 'ca.crt': pki.ca.certPem });
    const der = openssl(['pkey', '-pubin', '-outform', 'der', '-in', '{pub.pem}'], { 'pub.pem': pubkeyPem });
    const digest = openssl(['dgst', '-sha256', '-r', '{pub.der}'], { 'pub.der': der }).toString().split(' ')[0];
    expect(caCertHash(pki.ca.certPem)).toBe(`sha256:${digest}`);
  });
});
