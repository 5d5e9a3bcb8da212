import { gzipSync } from 'node:zlib';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateBootstrapToken } from './bootstrap-token.js';
import { BOOTSTRAP_SENTINEL_PATH, INIT_CONFIG_PATH, JOIN_CONFIG_PATH, parseBootstrapData, renderInitData, renderJoinData } from './cloud-init.js';
import { buildClusterConfiguration, buildInitConfiguration, buildJoinConfiguration, CONTAINERD_CRI_SOCKET, CONTROL_PLANE_TAINT } from './kubeadm-config.js';
import { caCertHash, generateClusterPki, keyMatchesCertificate } from './pki/cluster-pki.js';

const now = new Date('2030-01-01T00:00:00Z');
const pki = await generateClusterPki({ clusterName: 'demo', now });
const token = generateBootstrapToken({ now });
const endpoint = { host: '10.0.0.10', port: 6443 };
const clusterConfiguration = buildClusterConfiguration({
  clusterName: 'demo',
  kubernetesVersion: 'v1.31.0',
  controlPlaneEndpoint: endpoint,
  networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '192.168.0.0/16', dnsDomain: 'cluster.local' },
  apiServerExtraArgs: {},
  controllerManagerExtraArgs: {},
});
const initConfiguration = buildInitConfiguration({
  bootstrapToken: { token: token.token, ttlSeconds: 900, groups: ['system:bootstrappers:kubeadm:default-node-token'] },
  nodeRegistration: { name: 'demo-cp-0', criSocket: CONTAINERD_CRI_SOCKET, kubeletExtraArgs: {}, taints: [CONTROL_PLANE_TAINT] },
  localAPIEndpoint: { advertiseAddress: '10.0.0.10', bindPort: 6443 },
});
const join = (name: string, controlPlane?: { localAPIEndpoint: { advertiseAddress: string; bindPort: number } }) =>
  buildJoinConfiguration({
    apiServerEndpoint: endpoint,
    token: token.token,
    caCertHashes: [caCertHash(pki.ca.certPem)],
    nodeRegistration: { name, criSocket: CONTAINERD_CRI_SOCKET, kubeletExtraArgs: {}, taints: controlPlane ? [CONTROL_PLANE_TAINT] : [] },
    controlPlane,
  });

const PKI_PATHS = ['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.pub', 'sa.key'].map((p) => `/etc/kubernetes/pki/${p}`);

interface WriteFile { path: string; owner: string; permissions: string; content: string }

describe('init data', () => {
  const userData = renderInitData({ clusterConfiguration, initConfiguration, pki, preKubeadmCommands: ['echo pre'], postKubeadmCommands: ['echo post'], files: [{ path: '/etc/motd', content: 'hello\n', permissions: '0644' }] });

  it('is #cloud-config with the CA files, the kubeadm config and the init command', async () => {
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    const config = parse(userData) as { write_files: WriteFile[]; runcmd: string[] };
    const byPath = new Map(config.write_files.map((f) => [f.path, f]));
    for (const path of PKI_PATHS) {
      const file = byPath.get(path)!;
      expect(file.owner).toBe('root:root');
      expect(file.permissions).toBe(path.endsWith('.key') ? '0600' : '0640');
    }
    expect(byPath.get('/etc/kubernetes/pki/ca.crt')!.content).toBe(pki.ca.certPem);
    expect(byPath.get('/etc/kubernetes/pki/sa.key')!.content).toBe(pki.serviceAccount.privateKeyPem);
    expect(byPath.get('/etc/motd')!.permissions).toBe('0644');
    expect(config.runcmd).toEqual(['echo pre', `kubeadm init --config ${INIT_CONFIG_PATH} && echo success > ${BOOTSTRAP_SENTINEL_PATH}`, 'echo post']);
  });

  it('round-trips through parseBootstrapData', async () => {
    const parsed = parseBootstrapData(userData);
    expect(parsed.role).toBe('init');
    expect(parsed.kubeadm).toEqual({ clusterConfiguration, initConfiguration });
    expect(parsed.files['/etc/kubernetes/pki/ca.key']).toBe(pki.ca.keyPem);
    expect(parsed.files['/etc/kubernetes/pki/etcd/ca.crt']).toBe(pki.etcdCa.certPem);
    expect(parsed.files['/etc/kubernetes/pki/front-proxy-ca.key']).toBe(pki.frontProxyCa.keyPem);
    expect(parsed.files['/etc/kubernetes/pki/sa.pub']).toBe(pki.serviceAccount.publicKeyPem);
    expect(keyMatchesCertificate(parsed.files['/etc/kubernetes/pki/ca.crt']!, parsed.files['/etc/kubernetes/pki/ca.key']!)).toBe(true);
    expect(parsed.files['/etc/motd']).toBe('hello\n');
    expect(parsed.commands).toHaveLength(3);
  });
});

describe('join data', () => {
  it('control-plane join carries the shared CAs and a JoinConfiguration with controlPlane', async () => {
    const joinConfiguration = join('demo-cp-1', { localAPIEndpoint: { advertiseAddress: '10.0.0.11', bindPort: 6443 } });
    const userData = renderJoinData({ joinConfiguration, controlPlane: true, pki });
    const parsed = parseBootstrapData(userData);
    expect(parsed.role).toBe('control-plane-join');
    expect(parsed.kubeadm).toEqual({ joinConfiguration });
    expect(parsed.kubeadm.joinConfiguration!.controlPlane).toEqual({ localAPIEndpoint: { advertiseAddress: '10.0.0.11', bindPort: 6443 } });
    for (const path of PKI_PATHS) expect(parsed.files[path]).toBeTruthy();
    expect(parsed.commands).toEqual([`kubeadm join --config ${JOIN_CONFIG_PATH} && echo success > ${BOOTSTRAP_SENTINEL_PATH}`]);
  });

  it('worker join has no controlPlane and no private key at all', async () => {
    const joinConfiguration = join('demo-md-0-abcde');
    const userData = renderJoinData({ joinConfiguration, controlPlane: false, preKubeadmCommands: ['swapoff -a'] });
    expect(userData).not.toContain('PRIVATE KEY');
    const parsed = parseBootstrapData(userData);
    expect(parsed.role).toBe('worker-join');
    expect(parsed.kubeadm.joinConfiguration).toEqual(joinConfiguration);
    expect(parsed.kubeadm.joinConfiguration!.controlPlane).toBeUndefined();
    expect(Object.keys(parsed.files).filter((p) => p.startsWith('/etc/kubernetes/pki'))).toEqual([]);
    // The CA pin in the join config is the CA that signed the cluster.
    const pinned = parsed.kubeadm.joinConfiguration!.discovery.bootstrapToken.caCertHashes[0];
    expect(pinned).toBe(caCertHash(pki.ca.certPem));
    expect(new X509Certificate(pki.ca.certPem).ca).toBe(true);
    expect(parsed.commands[0]).toBe('swapoff -a');
  });

  it('refuses inconsistent or key-leaking join input', async () => {
    const worker = join('w-0');
    const member = join('cp-1', { localAPIEndpoint: { advertiseAddress: '10.0.0.11', bindPort: 6443 } });
    expect(() => renderJoinData({ joinConfiguration: worker, controlPlane: true, pki })).toThrow(/needs joinConfiguration.controlPlane/);
    expect(() => renderJoinData({ joinConfiguration: member, controlPlane: false })).toThrow(/must not carry joinConfiguration.controlPlane/);
    expect(() => renderJoinData({ joinConfiguration: worker, controlPlane: false, pki } as never)).toThrow(/must not carry the cluster CAs/);
    expect(() => renderJoinData({ joinConfiguration: worker, controlPlane: false, files: [{ path: '/root/leak.key', content: pki.ca.keyPem }] })).toThrow(/private key/);
    expect(() => renderJoinData({ joinConfiguration: worker, controlPlane: false, files: [{ path: 'relative', content: '' }] })).toThrow(/absolute/);
    expect(() => renderJoinData({ joinConfiguration: worker, controlPlane: false, files: [{ path: JOIN_CONFIG_PATH, content: '' }] })).toThrow(/given twice/);
    expect(() => renderJoinData({ joinConfiguration: worker, controlPlane: false, files: [{ path: '/x', content: '', permissions: '644' }] })).toThrow(/octal/);
  });
});

describe('parseBootstrapData', () => {
  const joinYaml = (cp: boolean) =>
    'apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: 10.0.0.10:6443\n    token: abcdef.0123456789abcdef\n    caCertHashes: []\n' +
    (cp ? 'controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: 10.0.0.11\n    bindPort: 6443\n' : '');

  it('accepts Cluster API\'s jinja header, encoded files, argv commands and --control-plane', () => {
    const userData = [
      '## template: jinja',
      '#cloud-config',
      'write_files:',
      '  - path: /tmp/j.yaml',
      '    encoding: gz+b64',
      `    content: ${gzipSync(joinYaml(false)).toString('base64')}`,
      '  - path: /tmp/b.txt',
      '    encoding: b64',
      `    content: ${Buffer.from('hi').toString('base64')}`,
      'runcmd:',
      '  - [sh, -c, "echo it\'s me"]',
      '  - [kubeadm, join, --config, /tmp/j.yaml, --control-plane]',
      '',
    ].join('\n');
    const parsed = parseBootstrapData(userData);
    expect(parsed.role).toBe('control-plane-join');
    expect(parsed.files['/tmp/b.txt']).toBe('hi');
    expect(parsed.commands).toEqual([`sh -c 'echo it'\\''s me'`, 'kubeadm join --config /tmp/j.yaml --control-plane']);
  });

  it('names the problem with bad user data', async () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['#!/bin/bash\nkubeadm init\n', /shell script/],
      ['Content-Type: multipart/mixed; boundary="x"\n', /multipart MIME/],
      [Buffer.from('#cloud-config\nruncmd: []\n').toString('base64'), /base64-encoded/],
      ['{"ignition": {}}', /not #cloud-config: first line is/],
      ['#cloud-config\nruncmd: [\n', /not valid YAML/],
      ['#cloud-config\n', /no mapping/],
      ['#cloud-config\nruncmd: echo\n', /runcmd is not a list/],
      ['#cloud-config\nwrite_files: {}\n', /write_files is not a list/],
      ['#cloud-config\nwrite_files:\n  - content: x\n', /write_files entry 1 has no path/],
      ['#cloud-config\nruncmd:\n  - echo hi\n', /no "kubeadm init" or "kubeadm join"/],
      ['#cloud-config\nruncmd:\n  - {a: 1}\n', /runcmd entry 1/],
      ['#cloud-config\nruncmd:\n  - kubeadm init --config /a\n  - kubeadm join --config /b\n', /2 kubeadm init\/join commands/],
      ['#cloud-config\nruncmd:\n  - kubeadm init\n', /no --config/],
      ['#cloud-config\nruncmd:\n  - kubeadm init --config /run/kubeadm/kubeadm.yaml\n', /\/run\/kubeadm\/kubeadm.yaml is not among write_files/],
      ['#cloud-config\nwrite_files:\n  - path: /k\n    encoding: zstd\n    content: x\n', /unsupported encoding/],
      [`#cloud-config\nwrite_files:\n  - path: /k\n    content: |\n${indent(joinYaml(false))}runcmd:\n  - kubeadm init --config /k\n`, /has no ClusterConfiguration/],
      ['#cloud-config\nwrite_files:\n  - path: /k\n    content: "kind: ClusterConfiguration\\napiVersion: kubeadm.k8s.io/v1beta4\\n"\nruncmd:\n  - kubeadm join --config /k\n', /has no JoinConfiguration/],
      ['#cloud-config\nwrite_files:\n  - path: /k\n    content: "kind: JoinConfiguration\\napiVersion: kubeadm.k8s.io/v1beta3\\n"\nruncmd:\n  - kubeadm join --config /k\n', /\/k: JoinConfiguration has apiVersion kubeadm.k8s.io\/v1beta3/],
    ];
    for (const [userData, message] of cases) {
      expect(() => parseBootstrapData(userData), JSON.stringify(userData)).toThrow(message);
      expect(() => parseBootstrapData(userData)).toThrow(/^bootstrap data: /);
    }
  });
});

function indent(text: string): string {
  return text.split('\n').filter(Boolean).map((line) => `      ${line}\n`).join('');
}
