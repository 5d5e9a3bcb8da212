// The secret scanner must be able to fail: a store written by the real bootstrap activities
// gives the needles; a History built in memory (and sent through protobuf, as fetchHistory
// returns it) and a log file are scanned clean, then with one planted secret each.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterNetworkSchema } from '../../api/cluster.js';
import { kubeadmConfigSpecSchema } from '../../api/kubeadm-config.js';
import { bootstrapActivities } from '../../activities/bootstrap.js';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { secretsDir } from '../../workers/config.js';
import { logFilesUnder, scanHistory, scanLog, scanLogsUnder, secretKinds, storeNeedles, type Needle } from './secret-scan.js';

const History = temporal.api.history.v1.History;
const toPayload = (v: unknown) => defaultPayloadConverter.toPayload(v);
const payloads = (...vs: unknown[]) => ({ payloads: vs.map(toPayload) });

/** A History as fetchHistory returns it: protobuf-decoded, payload data as bytes. */
function history(events: Record<string, unknown>[]) {
  const h = History.fromObject({ events: events.map((e, i) => ({ eventId: i + 1, ...e })) });
  return History.decode(History.encode(h).finish());
}

/** A few events of a typical capstan history: names and public facts only. */
function cleanEvents(): Record<string, unknown>[] {
  return [
    {
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: 'MachineWorkflow' },
        input: payloads({ machine: { name: 'demo-worker-1', namespace: 'default' }, dataSecretName: 'demo-worker-1-abcde' }),
        header: { fields: { traceparent: toPayload('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') } },
        memo: { fields: { cluster: toPayload('demo') } },
        searchAttributes: { indexedFields: { CapstanKind: toPayload('Machine') } },
      },
    },
    { activityTaskCompletedEventAttributes: { result: payloads({ dataSecretName: 'demo-worker-1-abcde', tokenId: 'abc123' }) } },
    { workflowExecutionSignaledEventAttributes: { signalName: 'machineReport', input: payloads({ phase: 'Running' }) } },
  ];
}

describe('secret scan', () => {
  let dataDir: string;
  let needles: Needle[];
  let keyLine: string; // line 3 of the cluster CA's private key
  let tokenSecret: string; // the init machine's bootstrap token, secret half
  let token: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'capstan-scan-'));
    const secrets = new FileSecretStore(secretsDir(dataDir));
    const acts = bootstrapActivities({ secrets });
    const key = { namespace: 'default', name: 'demo' };
    const cluster = { key, uid: 'u1', providerClusterId: 'c1', endpoint: { host: '127.0.0.1', port: 6443 }, clusterNetwork: clusterNetworkSchema().parse({}) };
    await acts.ensureClusterCertificates({ cluster });
    await acts.renderBootstrapData({ cluster, machineName: 'demo-cp-1', configName: 'demo-cp-1', role: 'init', version: 'v1.37.2', config: kubeadmConfigSpecSchema().parse({}) });
    needles = await storeNeedles(dataDir);
    keyLine = (await secrets.get('default', 'demo-ca'))!.data['tls.key']!.split('\n')[3]!;
    token = (await secrets.get('default', 'demo-cp-1'))!.data.token!;
    tokenSecret = token.split('.')[1]!;
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('storeNeedles: every line of every stored private key, the token secret and the admin client key, named by the secret that owns them', async () => {
    const secrets = new FileSecretStore(secretsDir(dataDir));
    const origin = (text: string) => needles.find((n) => n.text === text)?.origin;
    for (const name of ['demo-ca', 'demo-etcd', 'demo-proxy', 'demo-sa']) {
      const lines = (await secrets.get('default', name))!.data['tls.key']!.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
      expect(lines.length).toBeGreaterThanOrEqual(2);
      lines.forEach((l, i) => expect(origin(l)).toBe(`store:default/${name} tls.key line ${i + 1}`));
    }
    expect(origin(tokenSecret)).toBe('store:default/demo-cp-1 token secret');
    // The admin kubeconfig's client key: the base64 string as stored, and each line of the key in it.
    const kubeconfig = parse((await secrets.get('default', 'demo-kubeconfig'))!.data.value!) as { users: { user: Record<string, string> }[] };
    const clientKey = kubeconfig.users[0]!.user['client-key-data']!;
    const clientKeyLines = Buffer.from(clientKey, 'base64').toString('utf8').split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
    expect(origin(clientKey)).toBe('store:default/demo-kubeconfig value client-key-data of kubernetes-admin');
    clientKeyLines.forEach((l, i) => expect(origin(l)).toBe(`store:default/demo-kubeconfig value client-key-data of kubernetes-admin line ${i + 1}`));
    // Certificates are public: no needle comes from one.
    const certs = await Promise.all(['demo-ca', 'demo-etcd', 'demo-proxy'].map(async (n) => (await secrets.get('default', n))!.data['tls.crt']!));
    expect(needles.filter((n) => certs.some((c) => c.includes(n.text)))).toEqual([]);
    // The bootstrap data embeds keys that are needles already; it adds none of its own.
    expect(needles.filter((n) => n.origin.startsWith('store:default/demo-cp-1 value'))).toEqual([]);
  });

  it('scanHistory: a history with names and public facts only has no finding', () => {
    expect(scanHistory(history(cleanEvents()), { workflowId: 'machine/default/demo-worker-1', runId: 'r1' }, needles)).toEqual([]);
  });

  it('JSON.stringify of a History never shows a payload’s text (why the scan decodes payloads)', () => {
    const h = history([{ workflowExecutionStartedEventAttributes: { input: payloads(keyLine) } }]);
    expect(JSON.stringify(h)).not.toContain(keyLine);
    expect(JSON.stringify(h, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v))).not.toContain(keyLine);
  });

  const planted: { name: string; event: (s: string) => Record<string, unknown>; path: string }[] = [
    { name: 'workflow input', event: (s) => ({ workflowExecutionStartedEventAttributes: { input: payloads('x', { key: s }) } }), path: 'workflowExecutionStartedEventAttributes.input.payloads[1]' },
    { name: 'signal input', event: (s) => ({ workflowExecutionSignaledEventAttributes: { signalName: 'x', input: payloads(s) } }), path: 'workflowExecutionSignaledEventAttributes.input.payloads[0]' },
    { name: 'activity result', event: (s) => ({ activityTaskCompletedEventAttributes: { result: payloads({ data: s }) } }), path: 'activityTaskCompletedEventAttributes.result.payloads[0]' },
    {
      name: 'update accepted input',
      event: (s) => ({ workflowExecutionUpdateAcceptedEventAttributes: { acceptedRequest: { input: { name: 'u', args: payloads(s) } } } }),
      path: 'workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads[0]',
    },
    {
      name: 'update result',
      event: (s) => ({ workflowExecutionUpdateCompletedEventAttributes: { outcome: { success: payloads({ view: s }) } } }),
      path: 'workflowExecutionUpdateCompletedEventAttributes.outcome.success.payloads[0]',
    },
    { name: 'memo', event: (s) => ({ workflowExecutionStartedEventAttributes: { memo: { fields: { note: toPayload(s) } } } }), path: 'workflowExecutionStartedEventAttributes.memo.fields.note' },
    {
      name: 'search attribute',
      event: (s) => ({ upsertWorkflowSearchAttributesEventAttributes: { searchAttributes: { indexedFields: { CapstanPhase: toPayload(s) } } } }),
      path: 'upsertWorkflowSearchAttributesEventAttributes.searchAttributes.indexedFields.CapstanPhase',
    },
    { name: 'header', event: (s) => ({ workflowExecutionStartedEventAttributes: { header: { fields: { auth: toPayload(s) } } } }), path: 'workflowExecutionStartedEventAttributes.header.fields.auth' },
    {
      name: 'details of a failure’s nested cause',
      event: (s) => ({
        activityTaskFailedEventAttributes: {
          failure: { message: 'outer', cause: { message: 'inner', applicationFailureInfo: { type: 'X', details: payloads({ d: s }) } } },
        },
      }),
      path: 'activityTaskFailedEventAttributes.failure.cause.applicationFailureInfo.details.payloads[0]',
    },
    { name: 'failure message', event: (s) => ({ workflowExecutionFailedEventAttributes: { failure: { message: `could not read ${s}` } } }), path: 'workflowExecutionFailedEventAttributes.failure.message' },
    {
      name: 'encoded failure attributes',
      event: (s) => ({ activityTaskFailedEventAttributes: { failure: { message: 'Encoded failure', encodedAttributes: toPayload({ message: s }) } } }),
      path: 'activityTaskFailedEventAttributes.failure.encodedAttributes',
    },
    {
      name: 'last heartbeat details of a timed-out activity',
      event: (s) => ({ activityTaskTimedOutEventAttributes: { failure: { message: 't', timeoutFailureInfo: { lastHeartbeatDetails: payloads(s) } } } }),
      path: 'activityTaskTimedOutEventAttributes.failure.timeoutFailureInfo.lastHeartbeatDetails.payloads[0]',
    },
    { name: 'marker details', event: (s) => ({ markerRecordedEventAttributes: { markerName: 'm', details: { data: payloads(s) } } }), path: 'markerRecordedEventAttributes.details.data.payloads[0]' },
    {
      name: 'continue-as-new input',
      event: (s) => ({ workflowExecutionContinuedAsNewEventAttributes: { input: payloads({ state: [s] }) } }),
      path: 'workflowExecutionContinuedAsNewEventAttributes.input.payloads[0]',
    },
    { name: 'child workflow input', event: (s) => ({ startChildWorkflowExecutionInitiatedEventAttributes: { input: payloads(s) } }), path: 'startChildWorkflowExecutionInitiatedEventAttributes.input.payloads[0]' },
    { name: 'child workflow result', event: (s) => ({ childWorkflowExecutionCompletedEventAttributes: { result: payloads(s) } }), path: 'childWorkflowExecutionCompletedEventAttributes.result.payloads[0]' },
    { name: 'binary payload', event: (s) => ({ activityTaskCompletedEventAttributes: { result: payloads(Buffer.from(`x ${s} y`)) } }), path: 'activityTaskCompletedEventAttributes.result.payloads[0]' },
  ];

  for (const c of planted) {
    it(`scanHistory: a stored key line planted in the ${c.name} → exactly that finding`, () => {
      const events = [...cleanEvents(), c.event(keyLine)];
      const found = scanHistory(history(events), { workflowId: 'wf', runId: 'r1' }, needles);
      expect(found).toEqual([{ where: `wf (run r1) event ${events.length} ${c.path}`, kind: 'store:default/demo-ca tls.key line 3' }]);
    });
  }

  it('scanHistory: a whole token in a signal is both a bootstrap token and the stored token’s secret', () => {
    const found = scanHistory(history([{ workflowExecutionSignaledEventAttributes: { input: payloads({ join: { token } }) } }]), { workflowId: 'wf' }, needles);
    expect(found.map((f) => f.kind).sort()).toEqual(['bootstrap-token', 'store:default/demo-cp-1 token secret']);
    expect(found.every((f) => f.where === 'wf event 1 workflowExecutionSignaledEventAttributes.input.payloads[0]')).toBe(true);
  });

  it('secretKinds: patterns find secrets the store never held; base64 hides nothing', () => {
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIO\n-----END EC PRIVATE KEY-----\n';
    expect(secretKinds(pem, [])).toEqual(['private-key-pem']);
    expect(secretKinds(`{"data":"${Buffer.from(pem).toString('base64')}"}`, [])).toEqual(['private-key-pem']);
    expect(secretKinds('token: 0123ab.0123456789abcdef', [])).toEqual(['bootstrap-token']);
    expect(secretKinds('secret bootstrap-token-0123ab has id 0123ab', [])).toEqual([]);
    expect(secretKinds('    client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t', [])).toContain('kubeconfig-client-key');
  });

  it('scanLog: a clean log has no finding; a copy with a planted token secret has exactly that one', () => {
    const log = join(dataDir, 'worker.log');
    const lines = ['[capstan worker] polling task queue capstan', '{"level":"INFO","message":"bootstrap token not deleted","tokenId":"abc123"}', 'done'];
    writeFileSync(log, `${lines.join('\n')}\n`);
    expect(scanLog(log, needles)).toEqual([]);
    const copy = join(dataDir, 'worker.planted.log');
    lines.splice(2, 0, `{"level":"INFO","message":"joined with ${tokenSecret}"}`);
    writeFileSync(copy, `${lines.join('\n')}\n`);
    const found = scanLog(copy, needles, 'worker.log (planted copy)');
    expect(found).toEqual([{ where: 'worker.log (planted copy):3', kind: 'store:default/demo-cp-1 token secret' }]);
    // A finding never carries the secret itself.
    expect(JSON.stringify(found)).not.toContain(tokenSecret);
    expect(readFileSync(copy, 'utf8')).toContain(tokenSecret);
  });

  it('scanLogsUnder: finds a planted line in a nested component log and names it by its relative path', () => {
    const root = join(dataDir, 'logs-root');
    mkdirSync(join(root, 'sim', 'clusters', 'c1', 'logs'), { recursive: true });
    writeFileSync(join(root, 'sim.log'), 'listening\n');
    writeFileSync(join(root, 'sim', 'clusters', 'c1', 'logs', 'kube-apiserver.log'), `I0101 started\nI0101 ${keyLine}\n`);
    writeFileSync(join(root, 'sim', 'state.json'), keyLine); // not a log
    expect(logFilesUnder(root)).toEqual([join(root, 'sim.log'), join(root, 'sim', 'clusters', 'c1', 'logs', 'kube-apiserver.log')].sort());
    expect(scanLogsUnder(root, needles)).toEqual([{ where: 'sim/clusters/c1/logs/kube-apiserver.log:2', kind: 'store:default/demo-ca tls.key line 3' }]);
  });
});
