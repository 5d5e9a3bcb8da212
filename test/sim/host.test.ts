// The simulated cloud with its Kubernetes runtime (real etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler on loopback): kubeadm init, token discovery, the
// kubelet's TLS bootstrap and simulated kubelets, driven through the cloud's client with bootstrap
// data built by providers/kubeadm, as capstan's activities will.
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificateAuthority, issueClientCertificate } from '../../providers/kubeadm/pki/cluster-pki.js';
import { requestEtcd } from '../../activities/etcd.js';
import { encodeUserData } from '../../providers/sim/client.js';
import { findOurServers } from '../../providers/sim/host/pids.js';
import type { SimCluster, SimVm } from '../../providers/sim/types.js';
import { clusterBootstrap, KUBERNETES_VERSION, type ClusterBootstrap } from './host-fixtures.js';
import { CloudUnderTest, rssMiB, until, workloadClients, type WorkloadClients } from './host-harness.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'capstan-host-'));
const figures: string[] = [];
let cloud: CloudUnderTest;
let token = 0;

async function createCluster(name: string): Promise<SimCluster> {
  return cloud.client.createCluster({ clientToken: `c-${name}-${++token}`, name, region: 'sim-1' });
}

async function createVm(cluster: SimCluster, name: string, userData: string, instanceType = 'sim.medium'): Promise<SimVm> {
  return cloud.client.createVm({ clientToken: `v-${name}-${++token}`, clusterId: cluster.id, name, instanceType, userData: encodeUserData(userData) });
}

function bootstrapOutcome(vm: SimVm, timeoutMs = 120_000) {
  return cloud.waitForEvent(`bootstrap of ${vm.name} to end`, (e) => e.vmId === vm.id && (e.type === 'bootstrap.succeeded' || e.type === 'bootstrap.failed'), timeoutMs);
}

async function deleteAndWait(vm: SimVm): Promise<void> {
  await cloud.client.deleteVm(vm.id);
  await until(`${vm.name} terminated`, async () => (await cloud.client.getVm(vm.id)).state === 'terminated', 60_000);
}

beforeAll(async () => {
  cloud = await CloudUnderTest.start(path.join(work, 'cloud'));
}, 120_000);

afterAll(async () => {
  await cloud?.stop().catch(() => undefined);
  if (figures.length) console.log(figures.join('\n'));
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('kubeadm init and join on the simulated cloud', () => {
  let main: SimCluster;
  let boot: ClusterBootstrap;
  let api: WorkloadClients;
  let init: SimVm;
  let worker: SimVm;
  let cpJoin: SimVm;

  it('fails a worker join whose cluster has no control plane yet, within the discovery timeout', async () => {
    const early = await createCluster('early');
    const b = await clusterBootstrap(early);
    const vm = await createVm(early, 'early-worker', b.workerJoin('early-worker'), 'sim.small');
    const outcome = await bootstrapOutcome(vm, 90_000);
    expect(outcome.type).toBe('bootstrap.failed');
    expect(outcome.message).toMatch(/couldn't validate the identity of the API Server/);
    expect(outcome.data).toMatchObject({ role: 'worker-join', phase: 'preflight' });
    expect((await cloud.client.getVm(vm.id)).bootstrap).toMatchObject({ status: 'failed' });
    // The token never appears in what the cloud reports.
    expect(JSON.stringify(cloud.events)).not.toContain(b.token.secret);
    await deleteAndWait(vm);
  }, 120_000);

  it('refuses init data whose ca.key does not belong to ca.crt, as kubeadm does', async () => {
    const bad = await createCluster('badca');
    const b = await clusterBootstrap(bad);
    const otherCa = await generateCertificateAuthority('kubernetes', { now: new Date() });
    const vm = await createVm(bad, 'badca-cp', b.init('badca-cp', { pki: { ...b.pki, ca: { certPem: b.pki.ca.certPem, keyPem: otherCa.keyPem } } }));
    const outcome = await bootstrapOutcome(vm);
    expect(outcome.type).toBe('bootstrap.failed');
    expect(outcome.message).toMatch(/error execution phase certs\/ca: .*private key does not match public key/);
    expect(cloud.events.some((e) => e.clusterId === bad.id && e.type === 'apiserver.ready')).toBe(false);
    expect(JSON.stringify(cloud.events)).not.toContain('PRIVATE KEY');
    await deleteAndWait(vm);
  }, 120_000);

  it('boots an init VM into an API server that answers /readyz through the load balancer', async () => {
    main = await createCluster('main');
    boot = await clusterBootstrap(main);
    api = await workloadClients(main, boot.pki);
    init = await createVm(main, 'main-cp-0', boot.init('main-cp-0'));
    const running = await cloud.waitForEvent('init VM running', (e) => e.vmId === init.id && e.type === 'vm.running', 30_000);
    const ready = await cloud.waitForEvent('apiserver.ready', (e) => e.clusterId === main.id && e.type === 'apiserver.ready', 120_000);
    figures.push(`init VM running → apiserver.ready: ${Date.parse(ready.time) - Date.parse(running.time)} ms (event data sinceVmRunningMs ${ready.data?.sinceVmRunningMs})`);
    expect(ready.data).toMatchObject({ endpoint: api.server, reason: 'init' });
    const outcome = await bootstrapOutcome(init);
    expect(outcome.type, outcome.message).toBe('bootstrap.succeeded');

    const readyz = await api.get('/readyz');
    expect(readyz.status).toBe(200);
    expect(JSON.parse((await api.get('/version')).body).gitVersion).toBe('v1.37.2');

    // kubeadm's post-init objects.
    const clusterInfo = await api.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: 'kube-public' });
    expect(clusterInfo.data?.kubeconfig).toContain(`server: ${api.server}`);
    const kubeadmConfig = await api.core.readNamespacedConfigMap({ name: 'kubeadm-config', namespace: 'kube-system' });
    expect(kubeadmConfig.data?.ClusterConfiguration).toContain(`kubernetesVersion: ${KUBERNETES_VERSION}`);
    const secret = await api.core.readNamespacedSecret({ name: `bootstrap-token-${boot.token.id}`, namespace: 'kube-system' });
    expect(secret.type).toBe('bootstrap.kubernetes.io/token');
    expect(Buffer.from(secret.data!['token-secret']!, 'base64').toString()).toBe(boot.token.secret);
    // The bootstrap signer (in the cluster's kube-controller-manager) signs cluster-info for the token.
    await until('the cluster-info JWS', async () => {
      const cm = await api.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: 'kube-public' });
      return cm.data?.[`jws-kubeconfig-${boot.token.id}`];
    }, 30_000);

    // The init node: registered by its kubelet, marked control-plane by kubeadm.
    const node = await until('init Node Ready', async () => {
      const n = await api.core.readNode({ name: 'main-cp-0' });
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    }, 30_000);
    expect(node.spec?.providerID).toBe(init.providerID);
    expect(node.metadata?.labels).toMatchObject({ 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
    expect(node.spec?.taints).toEqual([expect.objectContaining({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' })]);
  }, 180_000);

  it('joins a worker through token discovery and a CSR, and its Node turns Ready', async () => {
    worker = await createVm(main, 'main-worker-0', boot.workerJoin('main-worker-0'), 'sim.small');
    const outcome = await bootstrapOutcome(worker);
    expect(outcome.type, outcome.message).toBe('bootstrap.succeeded');
    await cloud.waitForEvent('worker node.ready', (e) => e.vmId === worker.id && e.type === 'node.ready', 60_000);
    const registered = await cloud.waitForEvent('worker node.registered', (e) => e.vmId === worker.id && e.type === 'node.registered', 1000);
    expect(registered.data).toMatchObject({ nodeName: 'main-worker-0', providerID: worker.providerID });

    const csrs = await api.certificates.listCertificateSigningRequest();
    const csr = csrs.items.find((c) => c.spec.username === `system:bootstrap:${boot.token.id}`);
    expect(csr, 'a CSR filed with the bootstrap token').toBeDefined();
    expect(csr!.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(csr!.spec.usages).toEqual(expect.arrayContaining(['client auth']));
    expect(csr!.status?.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Approved', status: 'True', reason: 'AutoApproved' })]));
    expect(csr!.status?.certificate).toBeTruthy();

    const node = await api.core.readNode({ name: 'main-worker-0' });
    expect(node.spec?.providerID).toBe(worker.providerID);
    expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': 'main-worker-0', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
    expect(node.metadata?.labels?.['node-role.kubernetes.io/control-plane']).toBeUndefined();
    expect(node.status?.nodeInfo?.kubeletVersion).toBe(KUBERNETES_VERSION);
    expect(node.status?.capacity).toMatchObject({ cpu: '2', memory: '4Gi', pods: '110' });
    expect(node.status?.addresses).toEqual(expect.arrayContaining(worker.addresses.map((a) => expect.objectContaining(a))));
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    const lease = await api.coordination.readNamespacedLease({ name: 'main-worker-0', namespace: 'kube-node-lease' });
    expect(lease.spec?.holderIdentity).toBe('main-worker-0');
    expect(lease.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'main-worker-0', uid: node.metadata?.uid });
  }, 180_000);

  it('refuses to join a cluster whose CA is not the pinned one', async () => {
    const vm = await createVm(main, 'main-wrong-pin', boot.workerJoin('main-wrong-pin', { caCertHashes: [`sha256:${'ab'.repeat(32)}`] }), 'sim.small');
    const outcome = await bootstrapOutcome(vm, 60_000);
    expect(outcome.type).toBe('bootstrap.failed');
    expect(outcome.message).toMatch(/couldn't validate the identity of the API Server: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys .* are pinned/);
    await expect(api.core.readNode({ name: 'main-wrong-pin' })).rejects.toThrow();
    await deleteAndWait(vm);
  }, 90_000);

  it('refuses a second kubeadm init next to a live control plane', async () => {
    const vm = await createVm(main, 'main-second-init', boot.init('main-second-init'));
    const outcome = await bootstrapOutcome(vm, 60_000);
    expect(outcome.type).toBe('bootstrap.failed');
    expect(outcome.message).toMatch(/error execution phase preflight: .*already has a live control plane/);
    await deleteAndWait(vm);
    expect((await api.get('/readyz')).status).toBe(200);
  }, 90_000);

  it('reports Ready=False while the node-not-ready fault is in force', async () => {
    const readyStatus = async () => (await api.core.readNode({ name: 'main-worker-0' })).status?.conditions?.find((c) => c.type === 'Ready');
    const from = cloud.lastSeq;
    await cloud.client.vmAction(worker.id, 'node-not-ready');
    const notReady = await until('Ready=False', async () => ((await readyStatus())?.status === 'False' ? readyStatus() : undefined), 30_000);
    expect(notReady).toMatchObject({ reason: 'KubeletNotReady', message: expect.stringMatching(/container runtime network not ready/) });
    await cloud.waitForEvent('node.not-ready', (e) => e.vmId === worker.id && e.type === 'node.not-ready', 10_000, from);
    await cloud.client.vmAction(worker.id, 'node-ready');
    await until('Ready=True again', async () => (await readyStatus())?.status === 'True', 30_000);
    await cloud.waitForEvent('node.ready', (e) => e.vmId === worker.id && e.type === 'node.ready', 10_000, from);
  }, 90_000);

  it('marks a control-plane join with the control-plane label and taint', async () => {
    cpJoin = await createVm(main, 'main-cp-1', boot.controlPlaneJoin('main-cp-1'));
    const outcome = await bootstrapOutcome(cpJoin);
    expect(outcome.type, outcome.message).toBe('bootstrap.succeeded');
    const node = await api.core.readNode({ name: 'main-cp-1' });
    expect(node.spec?.providerID).toBe(cpJoin.providerID);
    expect(node.metadata?.labels).toMatchObject({ 'node-role.kubernetes.io/control-plane': '' });
    expect(node.spec?.taints).toEqual([expect.objectContaining({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' })]);
    // One API server per cluster, however many control-plane VMs.
    expect(cloud.events.filter((e) => e.clusterId === main.id && e.type === 'apiserver.ready')).toHaveLength(1);

    const ready = cloud.events.find((e) => e.clusterId === main.id && e.type === 'apiserver.ready')!;
    const kcm = cloud.events.find((e) => e.clusterId === main.id && e.type === 'controller-manager.ready')!;
    const scheduler = cloud.events.find((e) => e.clusterId === main.id && e.type === 'scheduler.ready')!;
    const a = await rssMiB(ready.data!.pid as number);
    const k = await rssMiB(kcm.data!.pid as number);
    const s = await rssMiB(scheduler.data!.pid as number);
    figures.push(`RSS of one cluster (3 nodes): kube-apiserver ${a.toFixed(0)} MiB + kube-controller-manager ${k.toFixed(0)} MiB + kube-scheduler ${s.toFixed(0)} MiB = ${(a + k + s).toFixed(0)} MiB`);
  }, 180_000);

  it('keeps the API while a control-plane VM remains, and stops it when the last one is killed', async () => {
    // As Cluster API's KCP does, the member leaves etcd before its VM goes: a deleted VM's member
    // would stay, unhealthy, and 1 of 2 members is no majority (etcd-quorum.test.ts).
    const endpoint = await cloud.client.getEtcdEndpoint(main.id);
    const etcdCa = boot.pki.etcdCa;
    const tls = { ca: etcdCa.certPem, ...(await issueClientCertificate(etcdCa, { commonName: 'test', now: new Date() })) };
    const { members } = await requestEtcd<{ members: { id: string; name: string; healthy: boolean }[] }>(endpoint, tls, 'GET', '/members');
    expect(members.map((m) => [m.name, m.healthy])).toEqual([['main-cp-0', true], ['main-cp-1', true]]);
    await requestEtcd(endpoint, tls, 'DELETE', `/members/${members.find((m) => m.name === 'main-cp-1')!.id}`);
    await deleteAndWait(cpJoin);
    expect((await api.get('/readyz')).status).toBe(200);
    expect(cloud.events.some((e) => e.clusterId === main.id && e.type === 'apiserver.stopped')).toBe(false);

    const from = cloud.lastSeq;
    await cloud.client.vmAction(init.id, 'kill');
    const stopped = await cloud.waitForEvent('apiserver.stopped', (e) => e.clusterId === main.id && e.type === 'apiserver.stopped', 30_000, from);
    expect(stopped.message).toMatch(/last control-plane VM main-cp-0 killed/);
    await cloud.waitForEvent('backend cleared', (e) => e.clusterId === main.id && e.type === 'loadbalancer.backend' && e.data?.backend === null, 10_000, from);
    expect((await cloud.client.getCluster(main.id)).endpoint).toEqual(main.endpoint);
    await expect(api.get('/readyz')).rejects.toThrow();
  }, 120_000);

  it('deletes the cluster\'s runtime files and etcd keys with the cluster', async () => {
    await deleteAndWait(worker);
    const runtimeDir = path.join(cloud.proc.dataDir, 'runtime');
    const clusterDir = path.join(runtimeDir, 'clusters', main.id);
    expect(existsSync(clusterDir)).toBe(true);
    await cloud.client.deleteCluster(main.id);
    await until('cluster deleted', async () => (await cloud.client.getCluster(main.id)).state === 'deleted', 60_000);
    expect(existsSync(clusterDir)).toBe(false);
    const { etcd } = JSON.parse(readFileSync(path.join(runtimeDir, 'state.json'), 'utf8')) as { etcd: { clientPort: number } };
    const prefix = Buffer.from(`/clusters/${main.id}/`);
    const end = Buffer.from(prefix);
    end[end.length - 1] += 1;
    const res = await fetch(`http://127.0.0.1:${etcd.clientPort}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: prefix.toString('base64'), range_end: end.toString('base64'), count_only: true }),
    });
    expect(((await res.json()) as { count?: string }).count ?? '0').toBe('0');
  }, 120_000);

  it('leaves no server running once the cloud has stopped', async () => {
    const runtimeDir = path.join(cloud.proc.dataDir, 'runtime');
    expect(findOurServers(runtimeDir).length).toBeGreaterThan(0); // etcd at least
    await cloud.stop();
    expect(findOurServers(runtimeDir)).toEqual([]);
  }, 60_000);
});
