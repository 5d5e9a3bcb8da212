import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificate, ipAddressBytes, readCertificate } from './certificate.js';
import { DerTag, expectTag, fromPem, readChildren, readOid, readSingle } from './der.js';
import { generateKeyPair } from './keys.js';
import { hasOpenssl, openssl } from './openssl.test-helper.js';

const now = new Date('2030-06-01T12:00:00Z');

/** OID → { critical, value } for each extension, read independently of node:crypto. */
function extensions(certPem: string): Map<string, { critical: boolean; value: Buffer }> {
  const { tbsCertificate } = readCertificate(certPem);
  const wrapper = readChildren(tbsCertificate).find((e) => e.tag === 0xa3)!;
  const result = new Map<string, { critical: boolean; value: Buffer }>();
  for (const ext of readChildren(readChildren(wrapper)[0]!)) {
    const parts = readChildren(ext);
    const critical = parts.length === 3 && parts[1]!.contents[0] === 0xff;
    result.set(readOid(parts[0]!), { critical, value: Buffer.from(parts[parts.length - 1]!.contents) });
  }
  return result;
}

function selfSignedCa(commonName = 'test-ca', algorithm: 'ECDSA-P256' | 'RSA-2048' = 'ECDSA-P256') {
  const { keyPem } = generateKeyPair(algorithm);
  const { certPem } = createCertificate({ subject: { commonName }, subjectKey: keyPem, now, isCA: true, keyUsage: ['digitalSignature', 'keyEncipherment', 'keyCertSign'], validityDays: 3650 });
  return { certPem, keyPem };
}

describe('createCertificate', () => {
  it('makes a self-signed CA that verifies with its own key', () => {
    const ca = selfSignedCa();
    const x509 = new X509Certificate(ca.certPem);
    expect(x509.ca).toBe(true);
    expect(x509.subject).toBe('CN=test-ca');
    expect(x509.issuer).toBe('CN=test-ca');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkIssued(x509)).toBe(true);
    const basic = extensions(ca.certPem).get('2.5.29.19')!;
    expect(basic.critical).toBe(true);
    expect(basic.value.toString('hex')).toBe('30030101ff');
    // digitalSignature, keyEncipherment, keyCertSign
    expect(extensions(ca.certPem).get('2.5.29.15')!.value.toString('hex')).toBe('030202a4');
  });

  it('signs a leaf that chains to its CA and not to another CA', () => {
    const ca = selfSignedCa('ca-one');
    const other = selfSignedCa('ca-two');
    const { keyPem, publicKeyPem } = generateKeyPair();
    const { certPem } = createCertificate({
      subject: { commonName: 'kube-apiserver' },
      subjectKey: publicKeyPem, // a public key is enough when a CA signs
      issuer: ca,
      now,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
      dnsNames: ['kubernetes', 'kubernetes.default.svc.cluster.local', '*.example.com'],
      ipAddresses: ['10.96.0.1', '127.0.0.1', 'fd00::1', '::ffff:10.0.0.1'],
    });
    const leaf = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.certPem);
    const otherCert = new X509Certificate(other.certPem);
    expect(leaf.ca).toBe(false);
    expect(leaf.issuer).toBe('CN=ca-one');
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(otherCert.publicKey)).toBe(false);
    expect(leaf.checkIssued(otherCert)).toBe(false);
    expect(leaf.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.subjectAltName).toBe(
      'DNS:kubernetes, DNS:kubernetes.default.svc.cluster.local, DNS:*.example.com, ' +
        'IP Address:10.96.0.1, IP Address:127.0.0.1, IP Address:FD00:0:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:A00:1',
    );
    const ext = extensions(certPem);
    expect(ext.get('2.5.29.19')!.value.toString('hex')).toBe('3000'); // CA:FALSE
    expect(ext.get('2.5.29.15')!.value.toString('hex')).toBe('030205a0');
    // AuthorityKeyIdentifier [0] == the CA's SubjectKeyIdentifier
    const caSki = readCertificate(ca.certPem).subjectKeyId!;
    const aki = readChildren(readSingle(ext.get('2.5.29.35')!.value, DerTag.SEQUENCE))[0]!;
    expect(aki.tag).toBe(0x80);
    expect(aki.contents.equals(caSki)).toBe(true);
    expect(readCertificate(certPem).subjectKeyId!.length).toBe(20);
  });

  it('uses the given validity window and the kubeadm default (now − 5 min .. + days)', () => {
    const ca = selfSignedCa();
    const { publicKeyPem } = generateKeyPair();
    const explicit = createCertificate({
      subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca,
      notBefore: new Date('2031-01-01T00:00:00Z'), notAfter: new Date('2061-01-01T00:00:00Z'),
    });
    const x = new X509Certificate(explicit.certPem);
    expect(new Date(x.validFrom).toISOString()).toBe('2031-01-01T00:00:00.000Z');
    expect(new Date(x.validTo).toISOString()).toBe('2061-01-01T00:00:00.000Z'); // GeneralizedTime
    const defaulted = new X509Certificate(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, validityDays: 30 }).certPem);
    expect(new Date(defaulted.validFrom).toISOString()).toBe('2030-06-01T11:55:00.000Z');
    expect(new Date(defaulted.validTo).toISOString()).toBe('2030-07-01T12:00:00.000Z');
    expect(() => createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, notBefore: now, notAfter: now })).toThrow(/notAfter/);
  });

  it('signs with RSA (sha256WithRSAEncryption) and mixes key types across the chain', () => {
    const rsaCa = selfSignedCa('rsa-ca', 'RSA-2048');
    expect(rsaCa.keyPem).toContain('BEGIN RSA PRIVATE KEY');
    const { publicKeyPem } = generateKeyPair('ECDSA-P256');
    const { certPem } = createCertificate({ subject: { commonName: 'ec-leaf' }, subjectKey: publicKeyPem, issuer: rsaCa, now });
    const leaf = new X509Certificate(certPem);
    expect(leaf.verify(new X509Certificate(rsaCa.certPem).publicKey)).toBe(true);
    expect(leaf.publicKey.asymmetricKeyType).toBe('ec');
    const [, algorithm] = readChildren(readSingle(fromPem('CERTIFICATE', certPem)));
    expect(readOid(readChildren(expectTag(algorithm!, DerTag.SEQUENCE))[0]!)).toBe('1.2.840.113549.1.1.11');
  });

  it('gives each certificate a distinct positive serial', () => {
    const ca = selfSignedCa();
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { publicKeyPem } = generateKeyPair();
      const x = new X509Certificate(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now }).certPem);
      serials.add(x.serialNumber);
    }
    expect(serials.size).toBe(20);
    const { publicKeyPem } = generateKeyPair();
    const fixed = new X509Certificate(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, serialNumber: 0xff00n }).certPem);
    expect(fixed.serialNumber).toBe('FF00');
  });

  it('refuses what would make a broken certificate', () => {
    const ca = selfSignedCa();
    const { publicKeyPem, keyPem } = generateKeyPair();
    const leaf = createCertificate({ subject: { commonName: 'leaf' }, subjectKey: keyPem, issuer: ca, now });
    expect(() => createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, now })).toThrow(/private key/);
    expect(() => createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: { certPem: leaf.certPem, keyPem }, now })).toThrow(/not a CA/);
    expect(() => createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: { certPem: ca.certPem, keyPem }, now })).toThrow(/does not match/);
    expect(() => createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, dnsNames: ['bad name'] })).toThrow(/DNS name/);
    expect(() => createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, ipAddresses: ['10.0.0.300'] })).toThrow(/IP address/);
    expect(() => createCertificate({ subject: { commonName: '' }, subjectKey: publicKeyPem, issuer: ca, now })).toThrow(/commonName/);
  });

  it('encodes IP addresses as network-order bytes', () => {
    expect(ipAddressBytes('10.96.0.1').toString('hex')).toBe('0a600001');
    expect(ipAddressBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipAddressBytes('2001:db8::8:800:200c:417a').toString('hex')).toBe('20010db80000000000080800200c417a');
    expect(ipAddressBytes('fe80::').toString('hex')).toBe('fe800000000000000000000000000000');
    expect(ipAddressBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(() => ipAddressBytes('fe80::1%eth0')).toThrow(/invalid IP/);
  });

  it.skipIf(!hasOpenssl)('is parsed and verified by openssl', () => {
    const ca = selfSignedCa('openssl-ca');
    const { publicKeyPem } = generateKeyPair();
    const leaf = createCertificate({
      subject: { commonName: 'leaf', organizations: ['system:masters'] }, subjectKey: publicKeyPem, issuer: ca, now,
      keyUsage: ['digitalSignature', 'keyEncipherment'], extKeyUsage: ['clientAuth'], dnsNames: ['a.example'], ipAddresses: ['fd00::10'],
    });
    const text = openssl(['x509', '-noout', '-text', '-in', '{leaf.pem}'], { 'leaf.pem': leaf.certPem }).toString();
    expect(text).toContain('Issuer: CN = openssl-ca');
    expect(text).toContain('Subject: O = system:masters, CN = leaf');
    expect(text).toContain('Digital Signature, Key Encipherment');
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toContain('DNS:a.example, IP Address:FD00:0:0:0:0:0:0:10');
    expect(text).toMatch(/X509v3 Authority Key Identifier/);
    const caText = openssl(['x509', '-noout', '-text', '-in', '{ca.pem}'], { 'ca.pem': ca.certPem }).toString();
    expect(caText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(caText).toContain('Certificate Sign');
    // Chain verification at a time inside the validity window (the window is in 2030).
    const verified = openssl(['verify', '-attime', String(Math.floor(now.getTime() / 1000)), '-CAfile', '{ca.pem}', '{leaf.pem}'], { 'ca.pem': ca.certPem, 'leaf.pem': leaf.certPem }).toString();
    expect(verified.trim()).toMatch(/OK$/);
    const other = selfSignedCa('other-ca');
    expect(() => openssl(['verify', '-attime', String(Math.floor(now.getTime() / 1000)), '-CAfile', '{ca.pem}', '{leaf.pem}'], { 'ca.pem': other.certPem, 'leaf.pem': leaf.certPem })).toThrow();
  });
});

