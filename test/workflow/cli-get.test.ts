// `capstan get` and `describe` against real workflows on a real Temporal dev server: two demo
// clusters (namespaces default and other) on the simulated cloud's noop runtime, where VMs
// boot but run no Kubernetes, so each cluster stays Provisioning with its init machine
// Provisioned and its workers held at the gate: real search attributes, real list memos.
// Tables come from one visibility list; only -o json|yaml and describe query the workflows.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, Connection, makeGrpcRetryInterceptor, defaultGrpcRetryOptions } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { executePlan, loadPlan } from '../../client/apply.js';
import { getObjects } from '../../client/commands.js';
import { clusterWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { clusterListMemo, machineRow } from '../../workflows/list-memo.js';
import { clusterStatusQuery, machineStatusQuery } from '../../workflows/messages.js';
import { objectSearchAttributes } from '../../workflows/search-attributes.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
// The demo's control plane with two individual worker Machines (demo-worker-1 and -2).
const demo = DEMO_WITH_WORKER_MACHINES;
/** A table's rows as records by header, cut at the header's column starts (cells may be empty). */
function readTable(table: string): Record<string, string>[] {
  const [header, ...lines] = table.split('\n');
  const starts = [...header!.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index! }));
  return lines.map((l) => Object.fromEntries(starts.map((c, i) => [c.name, l.slice(c.at, starts[i + 1]?.at ?? l.length).trim()])));
}

const inNamespace = (ns: string) => demo.replace(/^metadata:\n {2}name: (.+)$/gm, `metadata:\n  name: $1\n  namespace: ${ns}`);
const inOther = inNamespace('other');

describe('capstan get and describe on real workflows', { timeout: 60_000 }, () => {
  let env: CapstanEnv;
  /** gRPC methods the counting client called, e.g. ListWorkflowExecutions, QueryWorkflow. */
  const calls: string[] = [];
  let counted: Client;
  let countedConnection: Connection;
  // Asynchronous on purpose: the worker runs in this process, and a spawnSync would stop it
  // from answering the CLI's queries and updates.
  const capstan = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env.env }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const methods = () => calls.splice(0).map((p) => p.split('/').at(-1));

  beforeAll(async () => {
    env = await startCapstanEnv({ simRuntime: 'noop' });
    countedConnection = await Connection.connect({
      address: env.temporal.address,
      interceptors: [
        makeGrpcRetryInterceptor(defaultGrpcRetryOptions()),
        (options: { method_definition: { path: string } }, next: (o: unknown) => unknown) => {
          calls.push(options.method_definition.path);
          return next(options);
        },
      ] as never,
    });
    counted = new Client({ connection: countedConnection, namespace: env.temporal.namespace });
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'demo.yaml', text: demo }]));
    await executePlan(env.client, env.taskQueue, loadPlan([{ file: 'other.yaml', text: inOther }]));
    // A Cluster as capstan started them before the list memo: no memo at start.
    const legacy = loadPlan([{ file: 'legacy.yaml', text: inNamespace('legacy') }]).clusters[0]!;
    await env.client.workflow.start('ClusterWorkflow', {
      workflowId: clusterWorkflowId({ namespace: 'legacy', name: 'demo' }),
      taskQueue: env.taskQueue,
      args: [{ apply: legacy }],
      typedSearchAttributes: objectSearchAttributes('Cluster', 'legacy', 'demo', 'Pending'),
    });
    // Settled: in both namespaces the init machine is Provisioned, the workers wait at the gate.
    for (const namespace of ['default', 'other']) {
      await eventually(`machines in ${namespace} listed, one Provisioned`, async () => {
        const table = await getObjects(env.client, 'Machine', { namespace }, 'table');
        return table.split('\n').length === 4 && /\bProvisioned\b/.test(table) && table;
      });
    }
  }, 240_000);
  afterAll(async () => {
    await countedConnection?.close();
    await env?.stop();
  });

  it('get clusters prints the table from one visibility list, with no query, matching what the workflow reports', async () => {
    methods();
    const table = await getObjects(counted, 'Cluster', { namespace: 'default' }, 'table');
    expect(methods()).toEqual(['ListWorkflowExecutions']);
    const view = await env.client.workflow.getHandle(clusterWorkflowId({ namespace: 'default', name: 'demo' })).query(clusterStatusQuery);
    const m = clusterListMemo(view.status, view.controlPlane.version);
    const rows = readTable(table);
    expect(rows).toEqual([
      { NAME: 'demo', PHASE: view.status.phase, AVAILABLE: m.available, 'CP READY': m.controlPlane, 'WORKERS READY': m.workers, ENDPOINT: m.endpoint, AGE: expect.stringMatching(/^\d+[smhd]$/), VERSION: m.version },
    ]);
    expect(m).toMatchObject({ controlPlane: '0/3', workers: '0/2', version: 'v1.37.2' });
    expect(m.endpoint).not.toBe('');
  });

  it('get clusters queries only a workflow started without the list memo, which never writes one', async () => {
    const id = clusterWorkflowId({ namespace: 'legacy', name: 'demo' });
    const view = await eventually('the legacy cluster provisioning', async () => {
      const v = await env.client.workflow.getHandle(id).query(clusterStatusQuery);
      return v.status.controlPlaneEndpoint && v;
    });
    methods();
    const rows = readTable(await getObjects(counted, 'Cluster', { namespace: 'legacy' }, 'table'));
    expect(methods()).toEqual(['ListWorkflowExecutions', 'QueryWorkflow']);
    const m = clusterListMemo(view.status, view.controlPlane.version);
    expect(rows).toEqual([{ NAME: 'demo', PHASE: 'Provisioning', AVAILABLE: m.available, 'CP READY': '0/3', 'WORKERS READY': '0/0', ENDPOINT: m.endpoint, AGE: expect.any(String), VERSION: 'v1.37.2' }]);
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    expect((history.events ?? []).filter((e) => e.workflowPropertiesModifiedEventAttributes)).toEqual([]);
  });

  it('get machines prints the table from one visibility list, with no query per machine', async () => {
    methods();
    const table = await getObjects(counted, 'Machine', { namespace: 'default', cluster: 'demo' }, 'table');
    expect(methods()).toEqual(['ListWorkflowExecutions']);
    const rows = readTable(table);
    expect(rows.map((r) => r.NAME).filter((n) => n!.startsWith('demo-worker'))).toEqual(['demo-worker-1', 'demo-worker-2']);
    expect(rows.map((r) => r.PHASE).sort()).toEqual(['Pending', 'Pending', 'Provisioned']);
    for (const r of rows) {
      const v = await env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: r.NAME! })).query(machineStatusQuery);
      const m = machineRow(v.role, v.version, v.status);
      expect(r).toEqual({ NAME: v.name, CLUSTER: 'demo', ROLE: m.role, NODENAME: m.nodeName, PROVIDERID: m.providerID, PHASE: v.status.phase, AGE: expect.any(String), VERSION: m.version });
    }
    expect(rows.find((r) => r.PHASE === 'Provisioned')).toMatchObject({ ROLE: 'control-plane', PROVIDERID: expect.stringMatching(/.+/) });
  });

  it('-o json queries each listed object once and prints a kubectl List of the full views', async () => {
    methods();
    const out = JSON.parse(await getObjects(counted, 'Machine', { namespace: 'default' }, 'json'));
    expect(methods().sort()).toEqual(['ListWorkflowExecutions', 'QueryWorkflow', 'QueryWorkflow', 'QueryWorkflow']);
    expect(out).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    expect(out.items).toHaveLength(3);
    for (const item of out.items) expect(item).toMatchObject({ apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'Machine', namespace: 'default', clusterName: 'demo', status: { phase: expect.any(String) } });
  });

  it('get clusters -A lists every namespace with a NAMESPACE column; -n lists one without it', async () => {
    const all = await capstan(['get', 'clusters', '-A']);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+PHASE\s+AVAILABLE/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['default', 'demo'],
      ['legacy', 'demo'],
      ['other', 'demo'],
    ]);
    const one = await capstan(['get', 'clusters', '-n', 'other']);
    expect(one.stdout).toMatch(/^NAME\s+PHASE/);
    expect(one.stdout.trim().split('\n')).toHaveLength(2);
    expect((await capstan(['get', 'clusters', '-n', 'nowhere'])).stdout.trim()).toBe('No clusters found in nowhere namespace.');
  });

  it('get NAME -o yaml and describe -o json print the single object; a missing name exits 1', async () => {
    const got = await capstan(['get', 'cluster', 'demo', '-n', 'other', '-o', 'yaml']);
    expect({ code: got.code, stderr: got.stderr }).toEqual({ code: 0, stderr: '' });
    expect(parse(got.stdout)).toMatchObject({ kind: 'Cluster', name: 'demo', namespace: 'other', controlPlane: { name: 'demo-control-plane' } });
    const described = await capstan(['describe', 'machine', 'demo-worker-1', '-o', 'json']);
    expect(JSON.parse(described.stdout)).toMatchObject({ kind: 'Machine', name: 'demo-worker-1', role: 'worker-join', status: { phase: 'Pending' } });
    const list = await capstan(['get', 'machines', '-n', 'other', '-o', 'yaml']);
    expect(parse(list.stdout)).toMatchObject({ kind: 'List' });
    expect(parse(list.stdout).items).toHaveLength(3);
    expect(parse(list.stdout).items.every((m: { namespace: string }) => m.namespace === 'other')).toBe(true);
    const missing = await capstan(['get', 'cluster', 'absent']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('error: clusters "absent" not found in namespace "default"');
    expect((await capstan(['describe', 'cluster', 'absent'])).stderr.trim()).toBe('error: clusters "absent" not found in namespace "default"');
    expect(await capstan(['delete', 'cluster', 'absent', '-n', 'other'])).toMatchObject({ code: 1, stderr: 'error: clusters "absent" not found in namespace "other"\n' });
  });

  it('describe prints a summary with conditions by default', async () => {
    const r = await capstan(['describe', 'cluster', 'demo']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Name:\s+demo$/m);
    expect(r.stdout).toMatch(/^Control Plane:\s+KubeadmControlPlane\/demo-control-plane v1\.37\.2: 0\/3 ready$/m);
    expect(r.stdout).toMatch(/^ {2}InfrastructureReady\s+True/m);
    expect(r.stdout).toMatch(/^ {2}demo-worker-1\s+Pending/m);
  });

  it('writes the list memo only when a shown value changes: a few times while provisioning, never while idle', async () => {
    const modified = async (workflowId: string) => {
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      return (history.events ?? []).filter((e) => e.workflowPropertiesModifiedEventAttributes).length;
    };
    const cluster = clusterWorkflowId({ namespace: 'default', name: 'demo' });
    const worker = machineWorkflowId({ namespace: 'default', name: 'demo-worker-1' });
    const before = { cluster: await modified(cluster), worker: await modified(worker) };
    // The cluster's first status pass (endpoint, workers 0/2); the held worker nothing yet.
    expect(before.cluster).toBeGreaterThanOrEqual(1);
    expect(before.cluster).toBeLessThanOrEqual(2);
    expect(before.worker).toBe(0);
    await new Promise((r) => setTimeout(r, 3000));
    expect({ cluster: await modified(cluster), worker: await modified(worker) }).toEqual(before);
    // A Machine never writes a memo: its provider ID rides on the phase's search-attribute upsert.
    const workflows: string[] = [];
    for await (const wf of env.client.workflow.list({ query: 'CapstanKind = "Machine" AND CapstanPhase = "Provisioned"' })) workflows.push(wf.workflowId);
    expect(workflows.length).toBeGreaterThan(0);
    for (const id of workflows) expect(await modified(id)).toBe(0);
  });

  it('get -w prints the list, then only the rows that change, and exits 0 on Ctrl-C', async () => {
    const child: ChildProcess = spawn(process.execPath, [cli, 'get', 'clusters', '-A', '--watch'], { env: { ...process.env, ...env.env, CAPSTAN_WATCH_INTERVAL_MS: '300' } });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually('the first listing', async () => out.split('\n').length >= 5, 60_000);
      expect(out.trim().split('\n')).toHaveLength(4);
      await new Promise((r) => setTimeout(r, 1500));
      expect(out.trim().split('\n')).toHaveLength(4); // nothing changed, nothing printed (AGE alone is no change)
      const del = await capstan(['delete', 'cluster', 'demo', '-n', 'other', '--wait=false']);
      expect(del.stderr).toBe('');
      expect(del.stdout.trim()).toBe('cluster.cluster.capstan.dev "demo" deletion started');
      await eventually('the deletion rows', async () => /^other\s+demo\s+Deleted\b/m.test(out), 120_000);
      const rows = out.trim().split('\n').slice(4);
      expect(rows.every((r) => r.startsWith('other '))).toBe(true);
      expect(rows.some((r) => /^other\s+demo\s+Deleting\b/.test(r))).toBe(true);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 180_000);
});

