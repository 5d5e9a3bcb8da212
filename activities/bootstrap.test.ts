import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { caCertHash } from '../providers/kubeadm/pki/cluster-pki.js';
import { hasOpenssl, openssl } from '../providers/kubeadm/pki/openssl.test-helper.js';
import { FileSecretStore } from '../providers/secrets/file-store.js';
import type { ClusterContext } from '../workflows/types.js';
import { bootstrapActivities, loadCaCert, loadPki } from './bootstrap.js';

const cluster = {
  key: { namespace: 'default', name: 'demo' },
  uid: 'uid-demo',
  providerClusterId: 'sim-demo',
  endpoint: { host: '127.0.0.1', port: 6443 },
  clusterNetwork: {},
} as unknown as ClusterContext;

/** A CA the way a user would make one with openssl: SEC1 EC key, CA:TRUE, UTF8String names. */
function opensslCa(commonName: string): { 'tls.crt': string; 'tls.key': string } {
  const key = openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout']).toString();
  const crt = openssl(
    ['req', '-x509', '-new', '-key', '{ca.key}', '-subj', `/CN=${commonName}`, '-days', '3650',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign'],
    { 'ca.key': key },
  ).toString();
  return { 'tls.crt': crt, 'tls.key': key };
}

describe.skipIf(!hasOpenssl)('ensureClusterCertificates', () => {
  let dir: string;
  let secrets: FileSecretStore;
  const file = (name: string) => readFileSync(join(dir, 'default', `${name}.json`));
  const seed = (name: string, data: Record<string, string>) =>
    secrets.create('default', name, { type: 'cluster.x-k8s.io/secret', data });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-bootstrap-'));
    secrets = new FileSecretStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses a user-supplied cluster CA unchanged and issues the admin kubeconfig from it', async () => {
    const userCa = opensslCa('my-corp-kubernetes-ca');
    await seed('demo-ca', userCa);
    const before = file('demo-ca');

    const { caCertHash: pin } = await bootstrapActivities({ secrets }).ensureClusterCertificates({ cluster });

    expect(file('demo-ca').equals(before)).toBe(true);
    expect(pin).toBe(caCertHash(userCa['tls.crt']));
    const kubeconfig = parse((await secrets.get('default', 'demo-kubeconfig'))!.data.value!) as {
      clusters: Array<{ cluster: Record<string, string> }>;
      users: Array<{ user: Record<string, string> }>;
    };
    expect(Buffer.from(kubeconfig.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString()).toBe(userCa['tls.crt']);
    const clientCert = Buffer.from(kubeconfig.users[0]!.user['client-certificate-data']!, 'base64').toString();
    const verified = openssl(['verify', '-purpose', 'sslclient', '-CAfile', '{ca.crt}', '{admin.crt}'], { 'ca.crt': userCa['tls.crt'], 'admin.crt': clientCert });
    expect(verified.toString().trim()).toMatch(/OK$/);
    expect(new X509Certificate(clientCert).issuer).toBe('CN=my-corp-kubernetes-ca');

    // The CAs the user did not supply are made, kubeadm's, and distinct from the user's.
    for (const [name, cn] of [['demo-etcd', 'CN=etcd-ca'], ['demo-proxy', 'CN=front-proxy-ca']] as const) {
      const ca = new X509Certificate((await secrets.get('default', name))!.data['tls.crt']!);
      expect(ca.subject).toBe(cn);
      expect(ca.ca).toBe(true);
    }
    expect((await secrets.get('default', 'demo-sa'))!.data['tls.key']).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
  });

  it('generates only what is missing from a partial set, and a second run changes nothing', async () => {
    await seed('demo-ca', opensslCa('kubernetes'));
    await seed('demo-etcd', opensslCa('etcd-ca'));
    const userFiles = { ca: file('demo-ca'), etcd: file('demo-etcd') };
    const activities = bootstrapActivities({ secrets });

    await activities.ensureClusterCertificates({ cluster });
    expect(file('demo-ca').equals(userFiles.ca)).toBe(true);
    expect(file('demo-etcd').equals(userFiles.etcd)).toBe(true);
    const made = ['demo-proxy', 'demo-sa', 'demo-kubeconfig'].map((name) => [name, file(name)] as const);

    await activities.ensureClusterCertificates({ cluster });
    for (const [name, bytes] of [...made, ['demo-ca', userFiles.ca], ['demo-etcd', userFiles.etcd]] as const) {
      expect(file(name).equals(bytes), name).toBe(true);
    }
  });
});

describe.skipIf(!hasOpenssl)('loadCaCert (a worker join: the CA certificate only)', () => {
  let dir: string;
  let secrets: FileSecretStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-bootstrap-'));
    secrets = new FileSecretStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the CA certificate without its key or the other CAs; what is wrong names the secret', async () => {
    const ca = opensslCa('kubernetes');
    await secrets.create('default', 'demo-ca', { type: 'cluster.x-k8s.io/secret', data: { 'tls.crt': ca['tls.crt'] } });
    expect(await loadCaCert(secrets, cluster.key)).toBe(ca['tls.crt']);
    // A control-plane machine needs every CA with its key: the same store is not enough for it.
    await expect(loadPki(secrets, cluster.key)).rejects.toThrow(/default\/demo-ca.*missing tls\.key/);

    await expect(loadCaCert(secrets, { namespace: 'default', name: 'other' })).rejects.toThrow(/default\/other-ca/);
    await secrets.create('default', 'bad-ca', { type: 'cluster.x-k8s.io/secret', data: { 'tls.crt': 'not a certificate' } });
    await expect(loadCaCert(secrets, { namespace: 'default', name: 'bad' })).rejects.toThrow(/default\/bad-ca.*tls\.crt is not a PEM certificate/);
  });
});
