import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FileSecretStore } from '../providers/secrets/file-store.js';
import { workloadClient } from './workload-client.js';

const cluster = { namespace: 'default', name: 'demo' };

/** An admin kubeconfig as the bootstrap writes it (only its shape matters: nothing connects here). */
const kubeconfig = (server: string) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'demo', cluster: { server, 'certificate-authority-data': Buffer.from('ca').toString('base64') } }],
    users: [{ name: 'demo-admin', user: { token: 'not-a-real-token' } }],
    contexts: [{ name: 'demo-admin@demo', context: { cluster: 'demo', user: 'demo-admin' } }],
    'current-context': 'demo-admin@demo',
  });

describe('workloadClient: one client per workload cluster and admin kubeconfig', () => {
  let dir: string;
  let secrets: FileSecretStore;
  const put = (server: string) => secrets.put('default', 'demo-kubeconfig', { type: 'cluster.x-k8s.io/secret', data: { value: kubeconfig(server) } });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-workload-client-'));
    secrets = new FileSecretStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands every activity the same client while the kubeconfig stays the same', async () => {
    await put('https://127.0.0.1:6443');
    const a = await workloadClient(secrets, cluster);
    expect(await workloadClient(secrets, cluster)).toBe(a);
  });

  it('builds a new client when the kubeconfig changes (a rotated credential, a moved endpoint)', async () => {
    await put('https://127.0.0.1:6443');
    const a = await workloadClient(secrets, cluster);
    await put('https://127.0.0.1:7443');
    const b = await workloadClient(secrets, cluster);
    expect(b).not.toBe(a);
    expect(await workloadClient(secrets, cluster)).toBe(b);
  });

  it('forgets a cluster whose kubeconfig is gone, and names the secret', async () => {
    await put('https://127.0.0.1:6443');
    const a = await workloadClient(secrets, cluster);
    await secrets.delete('default', 'demo-kubeconfig');
    await expect(workloadClient(secrets, cluster)).rejects.toThrow(/demo-kubeconfig/);
    await put('https://127.0.0.1:6443');
    expect(await workloadClient(secrets, cluster)).not.toBe(a);
  });

  it('keeps the clients of two stores apart (two workers, clusters of the same name)', async () => {
    await put('https://127.0.0.1:6443');
    const other = new FileSecretStore(join(dir, 'other'));
    await other.put('default', 'demo-kubeconfig', { type: 'cluster.x-k8s.io/secret', data: { value: kubeconfig('https://127.0.0.1:6443') } });
    expect(await workloadClient(other, cluster)).not.toBe(await workloadClient(secrets, cluster));
  });
});
