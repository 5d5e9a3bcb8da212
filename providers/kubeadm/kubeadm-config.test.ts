import { describe, expect, it } from 'vitest';
import {
  argsFromRecord,
  buildClusterConfiguration,
  buildInitConfiguration,
  buildJoinConfiguration,
  CONTAINERD_CRI_SOCKET,
  CONTROL_PLANE_TAINT,
  goDuration,
  joinHostPort,
  parseKubeadmYaml,
  renderKubeadmYaml,
} from './kubeadm-config.js';

const hash = 'sha256:' + 'ab'.repeat(32);
const nodeRegistration = { name: 'demo-cp-0', criSocket: CONTAINERD_CRI_SOCKET, kubeletExtraArgs: { 'node-labels': 'role=cp', 'cloud-provider': 'external' }, taints: [CONTROL_PLANE_TAINT] };

describe('kubeadm v1beta4 configuration', () => {
  it('builds ClusterConfiguration with v1beta4 extraArgs lists', () => {
    const config = buildClusterConfiguration({
      clusterName: 'demo',
      kubernetesVersion: 'v1.31.2',
      controlPlaneEndpoint: { host: 'demo.example', port: 6443 },
      networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '192.168.0.0/16', dnsDomain: 'cluster.local' },
      apiServerExtraArgs: { 'audit-log-maxage': '7', 'anonymous-auth': 'false' },
      apiServerCertSANs: ['demo.example'],
      controllerManagerExtraArgs: [{ name: 'v', value: '2' }],
      encryptionAlgorithm: 'ECDSA-P256',
    });
    expect(config).toEqual({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      clusterName: 'demo',
      kubernetesVersion: 'v1.31.2',
      controlPlaneEndpoint: 'demo.example:6443',
      networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '192.168.0.0/16', dnsDomain: 'cluster.local' },
      certificatesDir: '/etc/kubernetes/pki',
      apiServer: { extraArgs: [{ name: 'anonymous-auth', value: 'false' }, { name: 'audit-log-maxage', value: '7' }], certSANs: ['demo.example'] },
      controllerManager: { extraArgs: [{ name: 'v', value: '2' }] },
      encryptionAlgorithm: 'ECDSA-P256',
    });
    expect(() => buildClusterConfiguration({ ...baseCluster(), kubernetesVersion: '1.31' })).toThrow(/kubernetesVersion/);
  });

  it('builds InitConfiguration with the bootstrap token and node registration', () => {
    const init = buildInitConfiguration({
      bootstrapToken: { token: 'abcdef.0123456789abcdef', ttlSeconds: 900, groups: ['system:bootstrappers:kubeadm:default-node-token'] },
      nodeRegistration,
      localAPIEndpoint: { advertiseAddress: '10.0.0.10', bindPort: 6443 },
    });
    expect(init.bootstrapTokens).toEqual([{ token: 'abcdef.0123456789abcdef', ttl: '15m0s', usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'] }]);
    expect(init.nodeRegistration).toEqual({
      name: 'demo-cp-0',
      criSocket: 'unix:///var/run/containerd/containerd.sock',
      kubeletExtraArgs: [{ name: 'cloud-provider', value: 'external' }, { name: 'node-labels', value: 'role=cp' }],
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
    });
    expect(init.localAPIEndpoint).toEqual({ advertiseAddress: '10.0.0.10', bindPort: 6443 });
    expect(() => buildInitConfiguration({ bootstrapToken: { token: 'x', ttlSeconds: 1, groups: [] }, nodeRegistration, localAPIEndpoint: { advertiseAddress: '10.0.0.10', bindPort: 6443 } })).toThrow(/bootstrap token/);
    expect(() => buildInitConfiguration({ bootstrapToken: { token: 'abcdef.0123456789abcdef', ttlSeconds: 1, groups: [] }, nodeRegistration: { ...nodeRegistration, name: 'Bad_Name' }, localAPIEndpoint: { advertiseAddress: '10.0.0.10', bindPort: 6443 } })).toThrow(/DNS subdomain/);
  });

  it('builds JoinConfiguration, with controlPlane only for control-plane joins', () => {
    const worker = buildJoinConfiguration({ apiServerEndpoint: { host: 'fd00::10', port: 6443 }, token: 'abcdef.0123456789abcdef', caCertHashes: [hash], nodeRegistration: { ...nodeRegistration, name: 'w-0', taints: [] } });
    expect(worker.discovery.bootstrapToken).toEqual({ apiServerEndpoint: '[fd00::10]:6443', token: 'abcdef.0123456789abcdef', caCertHashes: [hash] });
    expect('controlPlane' in worker).toBe(false);
    expect(worker.nodeRegistration.taints).toEqual([]);
    const member = buildJoinConfiguration({ apiServerEndpoint: { host: '10.0.0.10', port: 6443 }, token: 'abcdef.0123456789abcdef', caCertHashes: [hash], nodeRegistration, controlPlane: { localAPIEndpoint: { advertiseAddress: '10.0.0.11', bindPort: 6443 } } });
    expect(member.controlPlane).toEqual({ localAPIEndpoint: { advertiseAddress: '10.0.0.11', bindPort: 6443 } });
    expect(() => buildJoinConfiguration({ apiServerEndpoint: { host: 'h', port: 6443 }, token: 'abcdef.0123456789abcdef', caCertHashes: [], nodeRegistration })).toThrow(/caCertHash/);
    expect(() => buildJoinConfiguration({ apiServerEndpoint: { host: 'h', port: 6443 }, token: 'abcdef.0123456789abcdef', caCertHashes: ['sha256:xyz'], nodeRegistration })).toThrow(/sha256/);
  });

  it('formats durations and endpoints as Go does', () => {
    expect(goDuration(900)).toBe('15m0s');
    expect(goDuration(86400)).toBe('24h0m0s');
    expect(goDuration(5430)).toBe('1h30m30s');
    expect(goDuration(45)).toBe('45s');
    expect(goDuration(0)).toBe('0s');
    expect(joinHostPort('10.0.0.1', 6443)).toBe('10.0.0.1:6443');
    expect(joinHostPort('::1', 443)).toBe('[::1]:443');
    expect(() => joinHostPort('h', 0)).toThrow(/port/);
    expect(argsFromRecord({ b: '2', a: '1' })).toEqual([{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
  });

  it('round-trips multi-document YAML and skips non-kubeadm documents', () => {
    const cluster = buildClusterConfiguration(baseCluster());
    const init = buildInitConfiguration({ bootstrapToken: { token: 'abcdef.0123456789abcdef', ttlSeconds: 900, groups: [] }, nodeRegistration, localAPIEndpoint: { advertiseAddress: '10.0.0.10', bindPort: 6443 } });
    const yaml = renderKubeadmYaml([cluster, init]);
    expect(yaml.match(/^---$/gm)).toHaveLength(2);
    expect(parseKubeadmYaml(yaml)).toEqual({ clusterConfiguration: cluster, initConfiguration: init });
    const withKubelet = yaml + '---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n';
    expect(parseKubeadmYaml(withKubelet)).toEqual({ clusterConfiguration: cluster, initConfiguration: init });
  });

  it('quotes strings that YAML 1.1 readers (go-yaml, PyYAML) would take for booleans or numbers', () => {
    const join = buildJoinConfiguration({
      apiServerEndpoint: { host: '10.0.0.10', port: 6443 }, token: 'abcdef.0123456789abcdef', caCertHashes: [hash],
      nodeRegistration: { ...nodeRegistration, kubeletExtraArgs: { 'feature-x': 'on', 'feature-y': 'yes', 'sexagesimal': '1:30', 'octal': '0640' } },
    });
    const yaml = renderKubeadmYaml([join]);
    for (const value of ['"on"', '"yes"', '"1:30"', '"0640"']) expect(yaml).toContain(`value: ${value}`);
    expect(parseKubeadmYaml(yaml).joinConfiguration).toEqual(join);
    // Read as those readers would: an unquoted `on` is a boolean.
    const bare = parseKubeadmYaml('apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    - name: a\n      value: on\n');
    expect(bare.joinConfiguration!.nodeRegistration.kubeletExtraArgs[0]!.value).toBe(true);
  });

  it('rejects kubeadm documents it cannot read, naming the problem', () => {
    expect(() => parseKubeadmYaml('apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n', 'f.yaml')).toThrow(/f.yaml: InitConfiguration has apiVersion kubeadm.k8s.io\/v1beta3/);
    expect(() => parseKubeadmYaml('apiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\n')).toThrow(/unknown kubeadm kind ResetConfiguration/);
    expect(() => parseKubeadmYaml('kind: InitConfiguration\n')).toThrow(/no apiVersion\/kind/);
    expect(() => parseKubeadmYaml('- a\n')).toThrow(/not a mapping/);
    expect(() => parseKubeadmYaml('a: [\n')).toThrow(/not valid YAML/);
    const one = 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n';
    expect(() => parseKubeadmYaml(`${one}---\n${one}`)).toThrow(/more than one JoinConfiguration/);
  });
});

function baseCluster() {
  return {
    clusterName: 'demo',
    kubernetesVersion: 'v1.31.0',
    controlPlaneEndpoint: { host: '10.0.0.10', port: 6443 },
    networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '192.168.0.0/16', dnsDomain: 'cluster.local' },
    apiServerExtraArgs: {},
    controllerManagerExtraArgs: {},
  };
}
