// The Kubernetes runtime's pure pieces: durations, service IPs, the detached JWS of cluster-info,
// which processes count as ours, its options, and what a simulated kubelet reports for a pod.
import { describe, expect, it } from 'vitest';
import { computeDetachedJws, detachedJwsIsValid } from '../../providers/sim/host/discovery.js';
import { parseNodeLabels } from '../../providers/sim/host/node-objects.js';
import { parseRuntimeOptions } from '../../providers/sim/host/options.js';
import { isOurServer } from '../../providers/sim/host/pids.js';
import { isRunningAndReady, nodePodPrefix, runningStatus } from '../../providers/sim/host/pods.js';
import { firstServiceIp, microTime, parseGoDuration, splitHostPort } from '../../providers/sim/host/util.js';

describe('parseGoDuration', () => {
  it.each([
    ['15m0s', 900_000],
    ['24h0m0s', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['0s', 0],
    ['0', 0],
  ])('%s → %d ms', (text, ms) => expect(parseGoDuration(text)).toBe(ms));
  it.each(['', '15', '15 m', 'm', '1d'])('rejects %j', (text) => expect(() => parseGoDuration(text)).toThrow(/invalid duration/));
});

describe('firstServiceIp', () => {
  it.each([
    ['10.96.0.0/12', '10.96.0.1'],
    ['10.100.3.7/16', '10.100.0.1'],
    ['10.96.0.0/12,fd00::/108', '10.96.0.1'],
    ['fd00:10:96::/108', 'fd00:10:96::1'],
  ])('%s → %s', (cidr, ip) => expect(firstServiceIp(cidr)).toBe(ip));
  it('rejects a CIDR without room', () => expect(() => firstServiceIp('10.0.0.1/32')).toThrow());
});

describe('splitHostPort', () => {
  it('reads IPv4 and bracketed IPv6', () => {
    expect(splitHostPort('127.0.0.1:6443')).toEqual({ host: '127.0.0.1', port: 6443 });
    expect(splitHostPort('[::1]:443')).toEqual({ host: '::1', port: 443 });
    expect(() => splitHostPort('127.0.0.1')).toThrow();
  });
});

describe('cluster-info JWS', () => {
  const content = 'apiVersion: v1\nkind: Config\n';
  it('verifies what the bootstrap signer computes, for the right token only', () => {
    const jws = computeDetachedJws(content, 'abcdef', '0123456789abcdef');
    expect(jws).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(detachedJwsIsValid(jws, content, 'abcdef', '0123456789abcdef')).toBe(true);
    expect(detachedJwsIsValid(jws, content, 'abcdef', 'fedcba9876543210')).toBe(false);
    expect(detachedJwsIsValid(jws, content + ' ', 'abcdef', '0123456789abcdef')).toBe(false);
    expect(detachedJwsIsValid(jws, content, 'zzzzzz', '0123456789abcdef')).toBe(false);
    expect(detachedJwsIsValid('garbage', content, 'abcdef', '0123456789abcdef')).toBe(false);
  });
});

describe('isOurServer', () => {
  const dir = '/data/cloud/runtime';
  it.each([
    [['/repo/.tools/bin/etcd', '--data-dir=/data/cloud/runtime/etcd'], true],
    [['/repo/.tools/bin/kube-apiserver', '--cert-dir=/data/cloud/runtime/clusters/x/apiserver-certs'], true],
    [['/repo/.tools/bin/kube-controller-manager', '--kubeconfig', '/data/cloud/runtime/clusters/x/controller-manager.conf'], true],
    [['/repo/.tools/bin/kube-apiserver-v1.36.3', '--cert-dir=/data/cloud/runtime/clusters/x/apiserver-certs'], true],
    [['/repo/.tools/bin/kube-apiserver-next', '--cert-dir=/data/cloud/runtime/clusters/x/apiserver-certs'], false],
    [['/repo/.tools/bin/etcd', '--data-dir=/data/other/runtime/etcd'], false],
    [['/repo/.tools/bin/etcd', '--data-dir=/data/cloud/runtime-2/etcd'], false],
    [['/usr/bin/node', '--data-dir=/data/cloud/runtime/etcd'], false],
  ] as Array<[string[], boolean]>)('%j → %s', (argv, ours) => expect(isOurServer(argv, dir)).toBe(ours));
});

describe('parseRuntimeOptions', () => {
  it('uses kubeadm timeouts, shorter under the test profile', () => {
    expect(parseRuntimeOptions('demo', {}).discoveryTimeoutMs).toBe(300_000);
    expect(parseRuntimeOptions('test', {}).discoveryTimeoutMs).toBe(20_000);
  });
  it('takes known options and refuses unknown ones', () => {
    const o = parseRuntimeOptions('demo', { 'discovery-timeout-ms': '5000', controllers: 'csrapproving,csrsigning' });
    expect(o.discoveryTimeoutMs).toBe(5000);
    expect(o.controllers).toEqual(['csrapproving', 'csrsigning']);
    expect(() => parseRuntimeOptions('demo', { nope: '1' })).toThrow(/unknown --runtime-opt nope/);
    expect(() => parseRuntimeOptions('demo', { 'lease-renew-ms': '-1' })).toThrow(/positive integer/);
  });
});

describe('node objects', () => {
  it('reads node-labels from kubeletExtraArgs', () => {
    expect(parseNodeLabels([{ name: 'node-labels', value: 'a=b,tier=web' }, { name: 'v', value: '2' }])).toEqual({ a: 'b', tier: 'web' });
    expect(parseNodeLabels(undefined)).toEqual({});
  });
  it('writes MicroTime with six fractional digits', () => {
    expect(microTime(new Date('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02T03:04:05.678000Z');
  });
});

describe('simulated pods', () => {
  it('gives each node of a cluster its own pod /24', () => {
    const prefixes = ['10.1.0.2', '10.1.0.3', '10.1.1.2', '10.1.2.254'].map(nodePodPrefix);
    expect(prefixes).toEqual(['100.64.2', '100.64.3', '100.65.2', '100.66.254']);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('reports every container running and the pod Ready, keeping the scheduler\'s PodScheduled', () => {
    const scheduled = { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' as unknown as Date };
    const pod = {
      metadata: { name: 'p', namespace: 'default', uid: 'u1' },
      spec: {
        nodeName: 'n1',
        initContainers: [{ name: 'setup', image: 'sim/setup:1' }, { name: 'proxy', image: 'sim/proxy:1', restartPolicy: 'Always' }],
        containers: [{ name: 'app', image: 'sim/app:1' }, { name: 'log', image: 'sim/log:1' }],
      },
      status: { phase: 'Pending', conditions: [scheduled] },
    };
    const status = runningStatus(pod, '10.1.0.2', '100.64.2.7', new Date('2026-02-03T04:05:06.789Z'));
    expect(status).toMatchObject({ phase: 'Running', hostIP: '10.1.0.2', podIP: '100.64.2.7', podIPs: [{ ip: '100.64.2.7' }], startTime: '2026-02-03T04:05:06Z' });
    expect(status.conditions!.map((c) => c.type).sort()).toEqual(['ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'Ready']);
    expect(status.containerStatuses!.map((c) => [c.name, c.ready, !!c.state?.running])).toEqual([['app', true, true], ['log', true, true]]);
    expect(status.initContainerStatuses!.map((c) => [c.name, c.state?.terminated?.reason ?? 'running'])).toEqual([['setup', 'Completed'], ['proxy', 'running']]);
    expect(isRunningAndReady({ ...pod, status: { ...status, conditions: [...status.conditions!, scheduled] } })).toBe(true);
    expect(isRunningAndReady(pod)).toBe(false);
    // A pod created with spec.nodeName (no scheduler) gets PodScheduled from its kubelet.
    expect(runningStatus({ ...pod, status: {} }, '10.1.0.2', '100.64.2.8').conditions!.map((c) => c.type)).toContain('PodScheduled');
  });
});
