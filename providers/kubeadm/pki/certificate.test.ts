import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as x509 from './x509.js';
import { createCertificate } from './certificate.js';
import { generateKeyPair } from './keys.js';
import { hasOpenssl, openssl } from './openssl.test-helper.js';

const now = new Date('2030-06-01T12:00:00Z');

/** OID → { critical, DER value } for each extension, as the certificate carries them. */
function extensions(certPem: string): Map<string, { critical: boolean; value: Buffer }> {
  const result = new Map<string, { critical: boolean; value: Buffer }>();
  for (const ext of new x509.X509Certificate(certPem).extensions) {
    result.set(ext.type, { critical: ext.critical, value: Buffer.from(ext.value) });
  }
  return result;
}

async function selfSignedCa(commonName = 'test-ca', algorithm: 'ECDSA-P256' | 'RSA-2048' = 'ECDSA-P256') {
  const { keyPem } = generateKeyPair(algorithm);
  const { certPem } = await createCertificate({ subject: { commonName }, subjectKey: keyPem, now, isCA: true, keyUsage: ['digitalSignature', 'keyEncipherment', 'keyCertSign'], validityDays: 3650 });
  return { certPem, keyPem };
}

describe('createCertificate', async () => {
  it('makes a self-signed CA that verifies with its own key', async () => {
    const ca = await selfSignedCa();
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

  it('signs a leaf that chains to its CA and not to another CA', async () => {
    const ca = await selfSignedCa('ca-one');
    const other = await selfSignedCa('ca-two');
    const { keyPem, publicKeyPem } = generateKeyPair();
    const { certPem } = await createCertificate({
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
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }, the
    // CA's SubjectKeyIdentifier, which is SHA-1 of its subjectPublicKey (RFC 5280 4.2.1.2 (1)).
    const caSki = extensions(ca.certPem).get('2.5.29.14')!.value;
    expect(caSki.subarray(0, 2).toString('hex')).toBe('0414');
    const expectedCaSki = await new x509.X509Certificate(ca.certPem).publicKey.getKeyIdentifier();
    expect(caSki.subarray(2).equals(Buffer.from(expectedCaSki))).toBe(true);
    expect(ext.get('2.5.29.35')!.value.toString('hex')).toBe('30168014' + caSki.subarray(2).toString('hex'));
    expect(ext.get('2.5.29.14')!.value.length).toBe(22); // OCTET STRING of 20 bytes
  });

  it('uses the given validity window and the kubeadm default (now − 5 min .. + days)', async () => {
    const ca = await selfSignedCa();
    const { publicKeyPem } = generateKeyPair();
    const explicit = await createCertificate({
      subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca,
      notBefore: new Date('2031-01-01T00:00:00Z'), notAfter: new Date('2061-01-01T00:00:00Z'),
    });
    const x = new X509Certificate(explicit.certPem);
    expect(new Date(x.validFrom).toISOString()).toBe('2031-01-01T00:00:00.000Z');
    expect(new Date(x.validTo).toISOString()).toBe('2061-01-01T00:00:00.000Z'); // GeneralizedTime
    const defaulted = new X509Certificate((await createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, validityDays: 30 })).certPem);
    expect(new Date(defaulted.validFrom).toISOString()).toBe('2030-06-01T11:55:00.000Z');
    expect(new Date(defaulted.validTo).toISOString()).toBe('2030-07-01T12:00:00.000Z');
    await expect(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, notBefore: now, notAfter: now })).rejects.toThrow(/notAfter/);
  });

  it('signs with RSA (sha256WithRSAEncryption) and mixes key types across the chain', async () => {
    const rsaCa = await selfSignedCa('rsa-ca', 'RSA-2048');
    expect(rsaCa.keyPem).toContain('BEGIN RSA PRIVATE KEY');
    const { publicKeyPem } = generateKeyPair('ECDSA-P256');
    const { certPem } = await createCertificate({ subject: { commonName: 'ec-leaf' }, subjectKey: publicKeyPem, issuer: rsaCa, now });
    const leaf = new X509Certificate(certPem);
    expect(leaf.verify(new X509Certificate(rsaCa.certPem).publicKey)).toBe(true);
    expect(leaf.publicKey.asymmetricKeyType).toBe('ec');
    expect(new x509.X509Certificate(certPem).signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    // sha256WithRSAEncryption with NULL parameters (RFC 4055), as Go writes it.
    expect(new X509Certificate(certPem).raw.includes(Buffer.from('300d06092a864886f70d01010b0500', 'hex'))).toBe(true);
  });

  it('gives each certificate a distinct positive serial', async () => {
    const ca = await selfSignedCa();
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { publicKeyPem } = generateKeyPair();
      const x = new X509Certificate((await createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now })).certPem);
      serials.add(x.serialNumber);
    }
    expect(serials.size).toBe(20);
    const { publicKeyPem } = generateKeyPair();
    const fixed = new X509Certificate((await createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, serialNumber: 0xff00n })).certPem);
    expect(fixed.serialNumber).toBe('FF00');
  });

  it('refuses what would make a broken certificate', async () => {
    const ca = await selfSignedCa();
    const { publicKeyPem, keyPem } = generateKeyPair();
    const leaf = await createCertificate({ subject: { commonName: 'leaf' }, subjectKey: keyPem, issuer: ca, now });
    await expect(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, now })).rejects.toThrow(/private key/);
    await expect(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: { certPem: leaf.certPem, keyPem }, now })).rejects.toThrow(/not a CA/);
    await expect(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: { certPem: ca.certPem, keyPem }, now })).rejects.toThrow(/does not match/);
    await expect(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, dnsNames: ['bad name'] })).rejects.toThrow(/DNS name/);
    await expect(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, ipAddresses: ['10.0.0.300'] })).rejects.toThrow(/IP address/);
    await expect(createCertificate({ subject: { commonName: '' }, subjectKey: publicKeyPem, issuer: ca, now })).rejects.toThrow(/commonName/);
  });

  it('encodes IP addresses as network-order bytes', async () => {
    const ca = await selfSignedCa();
    const { publicKeyPem } = generateKeyPair();
    const ips = ['10.96.0.1', '::1', '2001:db8::8:800:200c:417a', 'fe80::', '::ffff:192.0.2.1'];
    const { certPem } = await createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, ipAddresses: ips });
    // GeneralName iPAddress is [7] IMPLICIT OCTET STRING: tag 0x87, length, the address bytes.
    const san = extensions(certPem).get('2.5.29.17')!.value.toString('hex');
    expect(san).toBe(
      '304e' + '87040a600001' + '871000000000000000000000000000000001' + '871020010db80000000000080800200c417a' +
        '8710fe800000000000000000000000000000' + '871000000000000000000000ffffc0000201',
    );
    await expect(createCertificate({ subject: { commonName: 'x' }, subjectKey: publicKeyPem, issuer: ca, now, ipAddresses: ['fe80::1%eth0'] })).rejects.toThrow(/invalid IP/);
  });

  it.skipIf(!hasOpenssl)('copies an openssl-made issuer name byte for byte (Go matches issuer to subject as bytes)', async () => {
    // openssl writes UTF8String names by default; re-typing "kubernetes" as PrintableString
    // (what a fresh name would get) would still satisfy openssl but not Go's chain building.
    const keyPem = openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout']).toString();
    const caPem = openssl(['req', '-x509', '-new', '-key', '{ca.key}', '-subj', '/CN=kubernetes', '-days', '3650'], { 'ca.key': keyPem }).toString();
    const utf8Name = Buffer.from('3015311330110603550403' + '0c0a' + Buffer.from('kubernetes').toString('hex'), 'hex');
    expect(new X509Certificate(caPem).raw.includes(utf8Name)).toBe(true);
    const { publicKeyPem } = generateKeyPair();
    const { certPem } = await createCertificate({ subject: { commonName: 'kubernetes' }, subjectKey: publicKeyPem, issuer: { certPem: caPem, keyPem }, extKeyUsage: ['clientAuth'] });
    const leaf = new X509Certificate(certPem).raw;
    expect(leaf.includes(utf8Name)).toBe(true); // the issuer, as the CA spells it
    expect(leaf.includes(Buffer.from('3015311330110603550403' + '130a' + Buffer.from('kubernetes').toString('hex'), 'hex'))).toBe(true); // our subject, PrintableString as Go writes it
    expect(openssl(['verify', '-CAfile', '{ca.pem}', '{leaf.pem}'], { 'ca.pem': caPem, 'leaf.pem': certPem }).toString().trim()).toMatch(/OK$/);
  });

  it.skipIf(!hasOpenssl)('is parsed and verified by openssl', async () => {
    const ca = await selfSignedCa('openssl-ca');
    const { publicKeyPem } = generateKeyPair();
    const leaf = await createCertificate({
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
    const other = await selfSignedCa('other-ca');
    expect(() => openssl(['verify', '-attime', String(Math.floor(now.getTime() / 1000)), '-CAfile', '{ca.pem}', '{leaf.pem}'], { 'ca.pem': other.certPem, 'leaf.pem': leaf.certPem })).toThrow();
  });
});

