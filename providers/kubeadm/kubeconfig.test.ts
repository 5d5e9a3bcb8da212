import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { adminKubeconfig, buildBootstrapKubeconfig, buildKubeconfig } from './kubeconfig.js';
import { generateClusterPki, issueClientCertificate } from './pki/cluster-pki.js';

const now = new Date('2030-01-01T00:00:00Z');
const pki = await generateClusterPki({ clusterName: 'demo', now });
const fromB64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  'current-context': string;
  users: Array<{ name: string; user: Record<string, string> }>;
}

describe('kubeconfig', () => {
  it('carries the CA and a client certificate, base64, with a current context', async () => {
    const client = await issueClientCertificate(pki.ca, { commonName: 'alice', now });
    const config = parse(buildKubeconfig({ clusterName: 'demo', server: 'https://10.0.0.10:6443', caCertPem: pki.ca.certPem, userName: 'alice', clientCertPem: client.certPem, clientKeyPem: client.keyPem })) as Kubeconfig;
    expect(config).toMatchObject({ apiVersion: 'v1', kind: 'Config', 'current-context': 'alice@demo' });
    expect(config.clusters).toEqual([{ name: 'demo', cluster: { server: 'https://10.0.0.10:6443', 'certificate-authority-data': Buffer.from(pki.ca.certPem).toString('base64') } }]);
    expect(config.contexts).toEqual([{ name: 'alice@demo', context: { cluster: 'demo', user: 'alice' } }]);
    expect(fromB64(config.users[0]!.user['client-certificate-data']!)).toBe(client.certPem);
    expect(fromB64(config.users[0]!.user['client-key-data']!)).toBe(client.keyPem);
  });

  it('admin kubeconfig holds a kubernetes-admin / system:masters cert that verifies against the CA', async () => {
    const config = parse(await adminKubeconfig(pki.ca, { clusterName: 'demo', server: 'https://demo.example:6443', now })) as Kubeconfig;
    expect(config['current-context']).toBe('kubernetes-admin@demo');
    const user = config.users[0]!;
    expect(user.name).toBe('kubernetes-admin');
    const cert = new X509Certificate(fromB64(user.user['client-certificate-data']!));
    const ca = new X509Certificate(fromB64(config.clusters[0]!.cluster['certificate-authority-data']));
    expect(cert.subject).toBe('O=system:masters\nCN=kubernetes-admin');
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.checkPrivateKey(createPrivateKey(fromB64(user.user['client-key-data']!)))).toBe(true);
    expect(cert.verify(new X509Certificate(pki.etcdCa.certPem).publicKey)).toBe(false);
  });

  it('bootstrap kubeconfig uses the token, like bootstrap-kubelet.conf', async () => {
    const config = parse(buildBootstrapKubeconfig({ clusterName: 'demo', server: 'https://10.0.0.10:6443', caCertPem: pki.ca.certPem, token: 'abcdef.0123456789abcdef' })) as Kubeconfig;
    expect(config.users).toEqual([{ name: 'tls-bootstrap-token-user', user: { token: 'abcdef.0123456789abcdef' } }]);
    expect(config['current-context']).toBe('tls-bootstrap-token-user@demo');
  });

  it('refuses a non-https server', async () => {
    expect(() => buildBootstrapKubeconfig({ clusterName: 'demo', server: '10.0.0.10:6443', caCertPem: pki.ca.certPem, token: 't' })).toThrow(/https/);
  });
});
