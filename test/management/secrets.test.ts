// Secrets in the management cluster (CAPSTAN_SECRETS=kubernetes): the Kubernetes store keeps the
// SecretStore contract the file store keeps, on a real kube-apiserver; a cluster's CAs, keys and
// kubeconfig land there under Cluster API's names (and nothing in the data directory); and a CA the
// user put there first (`<cluster>-ca`) is the one the workload API's serving chain ends at.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan, loadPlan } from '../../client/apply.js';
import { startManagementApi, type ManagementApi } from '../../client/management-api.js';
import { generateCertificateAuthority } from '../../providers/kubeadm/pki/cluster-pki.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { KubernetesSecretStore } from '../../providers/secrets/kubernetes-store.js';
import type { SecretStore } from '../../providers/secrets/store.js';
import { secretsDir } from '../../workers/config.js';
import { startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { waitForAvailable } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';

describe('secrets in the management cluster', () => {
  let api: ManagementApi;
  let work: string;
  let store: KubernetesSecretStore;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'capstan-secrets-'));
    api = await startManagementApi(path.join(work, 'management'));
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfig);
    store = new KubernetesSecretStore(kc);
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.each([
    ['file', () => new FileSecretStore(path.join(work, 'files'))],
    ['kubernetes', () => store],
  ] as [string, () => SecretStore][])('the %s store keeps the SecretStore contract', async (_name, make) => {
    const s = make();
    const a = { type: 'cluster.x-k8s.io/secret', data: { 'tls.crt': 'A', 'tls.key': 'a' }, labels: { 'cluster.capstan.dev/cluster-name': 'x' } };
    expect(await s.get('default', 'x-ca')).toBeUndefined();
    expect(await s.create('default', 'x-ca', a)).toEqual(a);
    // create never overwrites: what is stored wins.
    expect(await s.create('default', 'x-ca', { ...a, data: { 'tls.crt': 'B', 'tls.key': 'b' } })).toEqual(a);
    await s.put('default', 'x-kubeconfig', { type: 'cluster.x-k8s.io/secret', data: { value: 'one' } });
    await s.put('default', 'x-kubeconfig', { type: 'cluster.x-k8s.io/secret', data: { value: 'two' } });
    expect((await s.get('default', 'x-kubeconfig'))?.data.value).toBe('two');
    expect((await s.list('default', { 'cluster.capstan.dev/cluster-name': 'x' })).map((e) => e.name)).toEqual(['x-ca']);
    await s.delete('default', 'x-ca');
    await s.delete('default', 'x-ca');
    expect(await s.get('default', 'x-ca')).toBeUndefined();
  });

  describe('a cluster whose worker keeps its secrets there', () => {
    let env: CapstanEnv;
    let userCa: { certPem: string; keyPem: string };

    beforeAll(async () => {
      // The user's own CA, put there before the Cluster exists, as Cluster API lets one do.
      userCa = await generateCertificateAuthority('my-company-root', { now: new Date() });
      await store.create('default', 'demo-ca', { type: 'cluster.x-k8s.io/secret', data: { 'tls.crt': userCa.certPem, 'tls.key': userCa.keyPem } });
      env = await startCapstanEnv({ managementKubeconfig: api.kubeconfigFile, secretStore: 'kubernetes' });
      await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: DEMO_CONTROL_PLANE.replace('  replicas: 3\n', '  replicas: 1\n') }]));
      await waitForAvailable(env.client, 'demo');
    }, 300_000);
    afterAll(async () => {
      await env?.stop();
    });

    it('stores them as Cluster API names them, and nothing in the data directory', async () => {
      const names = (await store.list('default', { 'cluster.capstan.dev/cluster-name': 'demo' })).map((e) => e.name);
      expect(names).toEqual(expect.arrayContaining(['demo-etcd', 'demo-kubeconfig', 'demo-proxy', 'demo-sa']));
      expect(await store.get('default', 'demo-ca')).toMatchObject({ data: { 'tls.crt': userCa.certPem } });
      expect(existsSync(path.join(secretsDir(env.dataDir), 'default'))).toBe(false);
    });

    it('capstan get kubeconfig reads it from the management cluster it is given (--kubeconfig), as clusterctl does', async () => {
      const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
      const run = (args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          // Neither CAPSTAN_SECRETS nor a management kubeconfig in the environment: only the flag says where.
          const { CAPSTAN_SECRETS: _s, CAPSTAN_MANAGEMENT_KUBECONFIG: _m, KUBECONFIG: _k, ...rest } = process.env;
          execFile(process.execPath, [cli, 'get', 'kubeconfig', 'demo', ...args], { encoding: 'utf8', env: { ...rest, CAPSTAN_DATA_DIR: env.dataDir }, timeout: 60_000 }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
        });
      const found = await run(['--kubeconfig', api.kubeconfigFile]);
      expect({ code: found.code, stderr: found.stderr }).toEqual({ code: 0, stderr: '' });
      expect(found.stdout).toBe((await store.get('default', 'demo-kubeconfig'))!.data.value);
      // Without it, the worker's file store is all there is, and it holds nothing: the error says so.
      const missing = await run([]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no kubeconfig for cluster "demo" in namespace "default"');
    });

    it("serves the workload API with a chain that ends at the user's CA", async () => {
      const kubeconfig = (await store.get('default', 'demo-kubeconfig'))!.data.value!;
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig);
      const server = new URL(kc.getCurrentCluster()!.server);
      const peer = await new Promise<tls.PeerCertificate>((resolve, reject) => {
        const socket = tls.connect({ host: server.hostname, port: Number(server.port), ca: userCa.certPem, servername: 'kubernetes' }, () => {
          resolve(socket.getPeerCertificate(true));
          socket.end();
        });
        socket.on('error', reject);
      });
      // Verified against the user's CA alone (the connection above would fail otherwise), and signed by it.
      expect(new X509Certificate(peer.raw).verify(new X509Certificate(userCa.certPem).publicKey)).toBe(true);
    });
  });
});
