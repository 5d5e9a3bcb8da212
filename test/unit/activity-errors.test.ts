// Every activity failure is classified in one place (activities/errors.ts): a test per class,
// through the functions that meet each kind of trouble — the cloud's client, a workload API,
// the secret store — and the table's own consistency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapActivities } from '../../activities/bootstrap.js';
import { classifiedActivities, classifyError, ERROR_TYPES, failingSinceOf, failure, type ErrorType } from '../../activities/errors.js';
import { workloadActivities } from '../../activities/workload.js';
import { HEARTBEAT_AFTER_MS, pause } from '../../activities/heartbeat.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { SimNotFoundError, SimServerError, SimThrottledError, SimValidationError } from '../../providers/sim/client.js';
import { freePort } from '../../scripts/lib/ports.js';

const dirs: string[] = [];
const store = () => {
  const d = mkdtempSync(join(tmpdir(), 'capstan-errors-'));
  dirs.push(d);
  return new FileSecretStore(d);
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const econnrefused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('classifyError', () => {
  const cases: { name: string; err: () => unknown; type: ErrorType }[] = [
    { name: 'the cloud throttles', err: () => new SimThrottledError('RequestLimitExceeded: slow down', 1500, { code: 'RequestLimitExceeded', status: 429 }), type: 'ProviderThrottled' },
    { name: 'the cloud answers 503', err: () => new SimServerError('InternalError: boom', { code: 'InternalError', status: 503 }), type: 'ProviderUnavailable' },
    { name: 'the cloud cannot be reached', err: () => new SimServerError('cannot reach the cloud (ECONNREFUSED)', { code: 'ECONNREFUSED' }), type: 'ProviderUnavailable' },
    { name: 'the cloud refuses a request', err: () => new SimValidationError('InvalidParameterValue: region', { code: 'InvalidParameterValue', status: 400 }), type: 'ProviderValidationError' },
    { name: 'the cloud has no such object', err: () => new SimNotFoundError('NotFound: vm-1', { code: 'NotFound', status: 404 }), type: 'ProviderNotFound' },
    { name: 'a workload API answers 503', err: () => new ApiException(503, 'unavailable', '{"message":"etcdserver: leader changed"}', {}), type: 'WorkloadAPIUnavailable' },
    { name: 'a workload API answers 429', err: () => new ApiException(429, 'too many', '', {}), type: 'WorkloadAPIUnavailable' },
    { name: 'a workload API forbids us', err: () => new ApiException(403, 'forbidden', '{"message":"nodes is forbidden"}', {}), type: 'WorkloadAPIForbidden' },
    { name: 'a workload API rejects an object', err: () => new ApiException(422, 'invalid', '{"message":"Secret is invalid"}', {}), type: 'WorkloadAPIRejected' },
    { name: 'a workload API refuses the connection', err: econnrefused, type: 'WorkloadAPIUnavailable' },
    { name: 'a workload API times out (fetch wraps the cause)', err: () => new TypeError('fetch failed', { cause: Object.assign(new Error('timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }) }), type: 'WorkloadAPIUnavailable' },
    { name: 'a bug', err: () => new TypeError("Cannot read properties of undefined (reading 'x')"), type: 'Unexpected' },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.type} (${ERROR_TYPES[c.type].retryable ? 'retryable' : 'non-retryable'})`, () => {
      const f = classifyError(c.err()) as ApplicationFailure;
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect(f.type).toBe(c.type);
      expect(f.nonRetryable).toBe(!ERROR_TYPES[c.type].retryable);
      expect(f.message).not.toBe('');
    });
  }

  it('keeps the cloud’s Retry-After as the next retry delay', () => {
    const f = classifyError(new SimThrottledError('slow down', 1500, { code: 'RequestLimitExceeded', status: 429 })) as ApplicationFailure;
    expect(f.nextRetryDelay).toBe(1500);
  });

  it('passes an already classified failure through unchanged', () => {
    const f = failure('InstanceTerminated', 'instance vm-1 is terminated before it ran');
    expect(classifyError(f)).toBe(f);
  });

  it('failure(): every type in the table is retryable exactly as the table says', () => {
    for (const [type, row] of Object.entries(ERROR_TYPES)) {
      expect(failure(type as ErrorType, 'x').nonRetryable, type).toBe(!row.retryable);
    }
  });
});

describe('classifiedActivities', () => {
  it('turns whatever an activity throws into a classified failure', async () => {
    const acts = classifiedActivities({
      async boom() {
        throw econnrefused();
      },
    });
    await expect(acts.boom()).rejects.toMatchObject({ type: 'WorkloadAPIUnavailable', nonRetryable: false });
  });
});

const cluster = (name: string) => ({
  key: { namespace: 'default', name },
  uid: 'u',
  providerClusterId: 'c-1',
  endpoint: { host: '127.0.0.1', port: 6443 },
  clusterNetwork: { apiServerPort: 6443, services: { cidrBlocks: ['10.96.0.0/12'] }, pods: { cidrBlocks: ['192.168.0.0/16'] }, serviceDomain: 'cluster.local' },
});
const render = (secrets: FileSecretStore, name: string) =>
  bootstrapActivities({ secrets }).renderBootstrapData({
    cluster: cluster(name) as never,
    machineName: `${name}-cp-1`,
    configName: `${name}-cp-1`,
    role: 'init',
    version: 'v1.37.2',
    config: {} as never,
  });

describe('secrets the activities need', () => {
  it('a missing CA secret is retryable and names the secret', async () => {
    await expect(render(store(), 'demo')).rejects.toMatchObject({
      type: 'SecretNotFound',
      nonRetryable: false,
      message: expect.stringContaining('secret default/demo-ca not found'),
    });
  });

  it('a CA secret that is not PEM is non-retryable MalformedSecret and does not quote the content', async () => {
    const s = store();
    const junk = 'not-a-certificate-0123456789';
    for (const suffix of ['ca', 'etcd', 'proxy', 'sa']) await s.put('default', `broken-${suffix}`, { type: 't', data: { 'tls.crt': junk, 'tls.key': junk } });
    const err = (await render(s, 'broken').catch((e: unknown) => e)) as ApplicationFailure;
    expect(err).toMatchObject({ type: 'MalformedSecret', nonRetryable: true });
    expect(err.message).toContain('default/broken-ca');
    expect(err.message).not.toContain(junk);
  });

  it('a missing kubeconfig is retryable SecretNotFound; one that does not parse is MalformedSecret', async () => {
    const s = store();
    const acts = workloadActivities({ secrets: s });
    const env = new MockActivityEnvironment();
    await expect(env.run(acts.waitForWorkloadAPI, { cluster: { namespace: 'default', name: 'nokc' } })).rejects.toMatchObject({
      type: 'SecretNotFound',
      nonRetryable: false,
      message: expect.stringContaining('secret default/nokc-kubeconfig not found'),
    });
    await s.put('default', 'badkc-kubeconfig', { type: 't', data: { value: '{{{ not yaml' } });
    await expect(env.run(acts.waitForWorkloadAPI, { cluster: { namespace: 'default', name: 'badkc' } })).rejects.toMatchObject({
      type: 'MalformedSecret',
      nonRetryable: true,
    });
  });
});

describe('waits on a workload API that never answers', () => {
  it('wait, then fail retryably with how long it lasted, so the reason reaches the condition', async () => {
    const s = store();
    const port = await freePort();
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:' + port + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: not-a-secret}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n');
    await s.put('default', 'gone-kubeconfig', { type: 't', data: { value: kubeconfig } });
    const acts = workloadActivities({ secrets: s, pollMs: 20, unreachableGraceMs: 300 });
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const started = Date.now();
    for (const run of [
      () => env.run(acts.waitForWorkloadAPI, { cluster: { namespace: 'default', name: 'gone' } }),
      () => env.run(acts.waitForNode, { cluster: { namespace: 'default', name: 'gone' }, providerID: 'sim://x' }),
      () => env.run(acts.waitForNodeReady, { cluster: { namespace: 'default', name: 'gone' }, nodeName: 'n' }),
      () => env.run(acts.drainNode, { cluster: { namespace: 'default', name: 'gone' }, nodeName: 'n', timeoutSeconds: 0 }),
      () => env.run(acts.deleteNode, { cluster: { namespace: 'default', name: 'gone' }, nodeName: 'n', timeoutSeconds: 0 }),
    ]) {
      await expect(run()).rejects.toMatchObject({ type: 'WorkloadAPIUnavailable', nonRetryable: false, message: expect.stringMatching(/ECONNREFUSED \(for \d+ s\)/) });
      // …and since when, in its details (the Cluster's RemoteConnectionProbe says it).
      const failed = (await run().catch((err: ApplicationFailure) => err)) as ApplicationFailure;
      const since = failingSinceOf(failed.details);
      expect(since).toBeDefined();
      expect(Date.parse(since!)).toBeGreaterThanOrEqual(started);
      expect(Date.parse(since!)).toBeLessThan(Date.now() - 300);
    }
    // Within the grace it was a wait, with the reason in the heartbeat.
    expect(beats.some((b) => typeof b === 'string' && b.includes('ECONNREFUSED'))).toBe(true);
  });
});

describe('a user-supplied CA that cannot be used', () => {
  it('a CA whose key belongs to another certificate is MalformedSecret, named, not retried', async () => {
    const { generateCertificateAuthority } = await import('../../providers/kubeadm/pki/cluster-pki.js');
    const a = await generateCertificateAuthority('kubernetes', { now: new Date() });
    const b = await generateCertificateAuthority('kubernetes', { now: new Date() });
    const s = store();
    for (const suffix of ['ca', 'etcd', 'proxy', 'sa']) await s.put('default', `mixed-${suffix}`, { type: 't', data: { 'tls.crt': a.certPem, 'tls.key': b.keyPem } });
    await expect(render(s, 'mixed')).rejects.toMatchObject({
      type: 'MalformedSecret',
      nonRetryable: true,
      message: 'secret default/mixed-ca is malformed: tls.key does not belong to tls.crt',
    });
  });

  it('a CA without its key is MalformedSecret saying an external CA is not supported', async () => {
    const { generateCertificateAuthority } = await import('../../providers/kubeadm/pki/cluster-pki.js');
    const a = await generateCertificateAuthority('kubernetes', { now: new Date() });
    const s = store();
    await s.put('default', 'external-ca', { type: 't', data: { 'tls.crt': a.certPem } });
    await expect(render(s, 'external')).rejects.toMatchObject({ type: 'MalformedSecret', message: expect.stringContaining('external CA, is not supported') });
  });
});

describe('heartbeats of a wait', () => {
  const beatsOf = async (attemptAgeMs: number) => {
    const env = new MockActivityEnvironment({ currentAttemptScheduledTimestampMs: Date.now() - attemptAgeMs });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () => pause(1, 'waiting'));
    return beats;
  };
  it('a young wait sends none (each is a billed action); one past HEARTBEAT_AFTER_MS does', async () => {
    expect(await beatsOf(0)).toEqual([]);
    expect(await beatsOf(HEARTBEAT_AFTER_MS + 1000)).toEqual(['waiting']);
  });
});

describe('failingSinceOf (what the Node-conditions mirror reads of a failure\'s details)', () => {
  it.each([
    ['a wait\'s details', [{ failingSince: '2026-12-01T01:02:03.000Z' }], '2026-12-01T01:02:03.000Z'],
    ['no details', undefined, undefined],
    ['other details', [{ code: 'InvalidParameter' }], undefined],
    ['not a time', [{ failingSince: 'yesterday' }], undefined],
    ['not a string', [{ failingSince: 12 }], undefined],
  ])('%s', (_, details, want) => {
    expect(failingSinceOf(details)).toBe(want);
  });
});
