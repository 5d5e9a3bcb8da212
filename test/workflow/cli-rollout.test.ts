// The MachineDeployment commands as a user runs them: `capstan` as its own process against real
// servers (Temporal dev server, the simulated cloud with real kube-apiservers, a worker in this
// process). One cluster with one control-plane machine and the sample MachineDeployment (3
// workers, maxSurge 1, maxUnavailable 0) are set up once; the tests run in order on it: get,
// describe, scale, pause, resume, restart and rollout status, blocking until the restart's
// rollout is done, and with --watch=false.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { executePlan, loadPlan } from '../../client/apply.js';
import { PRE_DRAIN_HOOK } from '../../workflows/machine.js';
import { machineDeploymentWorkflowId, machineWorkflowId } from '../../workflows/ids.js';
import { annotateMachineUpdate, machineDeploymentStatusQuery } from '../../workflows/messages.js';
import type { MachineDeploymentView } from '../../workflows/types.js';
import { eventually, startCapstanEnv, type CapstanEnv } from '../support/capstan-env.js';
import { liveVms } from '../support/cluster-checks.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';

const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
const sample = readFileSync(new URL('../../config/samples/machinedeployment.yaml', import.meta.url), 'utf8');

/** A table's rows as records by header, cut at the header's column starts. */
function readTable(table: string): Record<string, string>[] {
  const [header, ...lines] = table.trimEnd().split('\n');
  const starts = [...header!.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index! }));
  return lines.map((l) => Object.fromEntries(starts.map((c, i) => [c.name, l.slice(c.at, starts[i + 1]?.at ?? l.length).trim()])));
}

describe('capstan MachineDeployment commands on real workflows', { timeout: 120_000 }, () => {
  let env: CapstanEnv;
  const id = machineDeploymentWorkflowId({ namespace: 'default', name: 'demo-md-0' });
  const view = () => env.client.workflow.getHandle(id).query(machineDeploymentStatusQuery);
  const until = (what: string, ok: (v: MachineDeploymentView) => boolean) =>
    eventually(what, async () => {
      const v = await view();
      return ok(v) ? v : undefined;
    }, 240_000, 300);
  const mdVms = async () => (await liveVms(env.simClient)).filter((v) => v.name.startsWith('demo-md-0-'));
  // Asynchronous on purpose: the worker runs in this process, and a spawnSync would stop it
  // from answering the CLI's queries and updates.
  const capstan = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env.env }, timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    env = await startCapstanEnv();
    const plan = loadPlan([{ file: 'demo.yaml', text: DEMO_CONTROL_PLANE.replace('replicas: 3', 'replicas: 1') }, { file: 'md.yaml', text: sample }]);
    plan.machines = [];
    await executePlan(env.client, env.taskQueue, plan);
    await until('3 workers available', (v) => v.status?.availableReplicas === 3 && v.sets.length === 1);
  }, 360_000);
  afterAll(async () => {
    await env?.stop();
  });

  it('get machinedeployments prints Cluster API\'s columns, matching the workflow\'s status', async () => {
    const r = await capstan(['get', 'machinedeployments']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+CLUSTER\s+REPLICAS\s+READY\s+UPDATED\s+UNAVAILABLE\s+PHASE\s+AGE\s+VERSION$/);
    expect(readTable(r.stdout)).toEqual([
      { NAME: 'demo-md-0', CLUSTER: 'demo', REPLICAS: '3', READY: '3', UPDATED: '3', UNAVAILABLE: '0', PHASE: 'Running', AGE: expect.stringMatching(/^\d+[smhd]$/), VERSION: 'v1.37.2' },
    ]);
    const all = await capstan(['get', 'md', '-A', '--cluster', 'demo']);
    expect(all.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+CLUSTER/);
    expect(readTable(all.stdout).map((x) => [x.NAMESPACE, x.NAME])).toEqual([['default', 'demo-md-0']]);
    expect((await capstan(['get', 'md', '--cluster', 'other'])).stdout.trim()).toBe('No machinedeployments found in default namespace.');
    const missing = await capstan(['get', 'md', 'absent']);
    expect(missing).toMatchObject({ code: 1, stderr: 'error: machinedeployments "absent" not found in namespace "default"\n' });
  });

  it('get machinesets lists the deployment\'s one set with its version; -o json|yaml print the full views', async () => {
    const v = await view();
    const r = await capstan(['get', 'machinesets', '--cluster', 'demo']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readTable(r.stdout)).toEqual([{ NAME: v.sets[0]!.name, CLUSTER: 'demo', DESIRED: '3', CURRENT: '3', READY: '3', AVAILABLE: '3', 'UP-TO-DATE': '3', AGE: expect.any(String), VERSION: 'v1.37.2' }]);
    const json = JSON.parse((await capstan(['get', 'machinesets', '-o', 'json'])).stdout);
    expect(json).toMatchObject({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'cluster.capstan.dev/v1alpha1', kind: 'MachineSet', name: v.sets[0]!.name, version: 'v1.37.2' }] });
    expect(json.items[0].machines).toHaveLength(3);
    const yaml = parse((await capstan(['get', 'machinedeployment', 'demo-md-0', '-o', 'yaml'])).stdout);
    expect(yaml).toMatchObject({ kind: 'MachineDeployment', name: 'demo-md-0', spec: { replicas: 3, paused: false }, status: { availableReplicas: 3 }, sets: [{ revision: 1, new: true }] });
  });

  it('describe machinedeployment summarizes spec, status, conditions and sets with revisions', async () => {
    const r = await capstan(['describe', 'machinedeployment', 'demo-md-0']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Replicas:\s+3 desired \| 3 total \| 3 up-to-date \| 3 ready \| 3 available$/m);
    expect(r.stdout).toMatch(/^Strategy:\s+RollingUpdate \(maxSurge 1, maxUnavailable 0\)$/m);
    expect(r.stdout).toMatch(/^Paused:\s+false$/m);
    expect(r.stdout).toMatch(/^ {2}Available\s+True\b/m);
    expect(r.stdout).toMatch(/^ {2}RollingOut\s+False\b/m);
    expect(r.stdout).toMatch(/^ {2}demo-md-0-\S+\s+1\s+true\s+3\s+3\s+3\s+false$/m);
    expect((await capstan(['describe', 'md', 'absent'])).stderr).toBe('error: machinedeployments "absent" not found in namespace "default"\n');
  });

  it('rollout status of a finished rollout says so at once, watching or not', async () => {
    expect(await capstan(['rollout', 'status', 'machinedeployment', 'demo-md-0'])).toEqual({ code: 0, stdout: 'deployment "demo-md-0" successfully rolled out\n', stderr: '' });
    expect(await capstan(['rollout', 'status', 'machinedeployment/demo-md-0', '--watch=false'])).toEqual({ code: 0, stdout: 'deployment "demo-md-0" successfully rolled out\n', stderr: '' });
  });

  it('scale refuses a negative count with the workflow\'s message naming the field (exit 1), then scales, as get -w shows', async () => {
    const g = (await view()).generation;
    const bad = await capstan(['scale', 'machinedeployment', 'demo-md-0', '--replicas=-1']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error: MachineDeployment "demo-md-0": spec\.replicas: .+\n$/);
    expect((await view()).generation).toBe(g);
    expect(await capstan(['scale', 'md', 'absent', '--replicas', '1'])).toMatchObject({ code: 1, stderr: 'error: machinedeployments "absent" not found in namespace "default"\n' });
    // get -w, watching while it scales: the list, then each changed row.
    const watch = spawn(process.execPath, [cli, 'get', 'md', '-w'], { env: { ...process.env, ...env.env, CAPSTAN_WATCH_INTERVAL_MS: '300' } });
    let watched = '';
    watch.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    const watchExited = new Promise<number | null>((resolve) => watch.on('exit', (code) => resolve(code)));
    try {
      await eventually('the first listing', async () => watched.split('\n').length >= 3, 60_000);
      expect(await capstan(['scale', 'machinedeployment', 'demo-md-0', '--replicas', '2'])).toEqual({ code: 0, stdout: 'machinedeployment.cluster.capstan.dev/demo-md-0 scaled\n', stderr: '' });
      await until('2 machines', (v) => v.status?.replicas === 2 && v.status.availableReplicas === 2);
      await eventually('the watch to show 2 replicas', async () => /^demo-md-0\s+demo\s+2\s+2\s+2\s+0\s+Running\b/m.test(watched), 30_000);
    } finally {
      watch.kill('SIGINT');
    }
    expect(await watchExited).toBe(0);
    const rows = watched.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+CLUSTER\s+REPLICAS/);
    expect(rows[1]).toMatch(/^demo-md-0\s+demo\s+3\s+3\s+3\s+0\s+Running\b/);
    // Between them, only this deployment's rows as the scale down went (ScalingDown, then Running).
    expect(rows.slice(2).every((r) => r.startsWith('demo-md-0 '))).toBe(true);
    expect(await mdVms()).toHaveLength(2);
    expect(readTable((await capstan(['get', 'md'])).stdout)[0]).toMatchObject({ REPLICAS: '2', READY: '2', UPDATED: '2', UNAVAILABLE: '0', PHASE: 'Running' });
  }, 300_000);

  it('pause and resume set spec.paused; a restart of a paused deployment is refused, as kubectl refuses it', async () => {
    expect(await capstan(['rollout', 'pause', 'machinedeployment', 'demo-md-0'])).toEqual({ code: 0, stdout: 'machinedeployment.cluster.capstan.dev/demo-md-0 paused\n', stderr: '' });
    expect((await view()).spec.paused).toBe(true);
    expect((await capstan(['describe', 'md', 'demo-md-0'])).stdout).toMatch(/^Paused:\s+true$/m);
    const refused = await capstan(['rollout', 'restart', 'machinedeployment', 'demo-md-0']);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'error: machinedeployments "demo-md-0" can\'t restart paused deployment (run rollout resume first)\n' });
    expect((await view()).spec.rollout.after).toBeUndefined();
    expect(await capstan(['rollout', 'resume', 'machinedeployment', 'demo-md-0'])).toEqual({ code: 0, stdout: 'machinedeployment.cluster.capstan.dev/demo-md-0 resumed\n', stderr: '' });
    expect((await view()).spec.paused).toBe(false);
  });

  const HOLD = `${PRE_DRAIN_HOOK}test-hold`;
  it('restart replaces every machine; rollout status waits for it (--watch=false prints once, --timeout gives up) and ends as kubectl does', async () => {
    const oldVms = await mdVms();
    const before = new Set(oldVms.map((v) => v.id));
    const revision = (await view()).sets[0]!.revision;
    // Held mid-rollout: a pre-drain hook keeps the old machines (on the test profile a rollout of
    // two ends in about 2 s, sooner than the next CLI command), and a pause, so the next answers
    // cannot race the rollout's end.
    const hold = (change: { set?: Record<string, string>; remove?: string[] }) =>
      Promise.all(oldVms.map((v) => env.client.workflow.getHandle(machineWorkflowId({ namespace: 'default', name: v.name })).executeUpdate(annotateMachineUpdate, { args: [change] })));
    await hold({ set: { [HOLD]: '' } });
    const restarted = await capstan(['rollout', 'restart', 'machinedeployment', 'demo-md-0']);
    expect(restarted).toEqual({ code: 0, stdout: 'machinedeployment.cluster.capstan.dev/demo-md-0 restarted\n', stderr: '' });
    expect((await capstan(['rollout', 'pause', 'md', 'demo-md-0'])).code).toBe(0);
    expect((await view()).spec.rollout.after).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const once = await capstan(['rollout', 'status', 'machinedeployment', 'demo-md-0', '--watch=false']);
    expect({ code: once.code, stderr: once.stderr }).toEqual({ code: 0, stderr: '' });
    expect(once.stdout).toMatch(/^Waiting for deployment .*\n$/);
    const timedOut = await capstan(['rollout', 'status', 'machinedeployment', 'demo-md-0', '--timeout', '2s']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toBe('error: timed out waiting for the condition\n');
    expect(timedOut.stdout).toMatch(/^Waiting for deployment .*\(paused: capstan rollout resume machinedeployment demo-md-0\)\n/);

    // Blocking: started before the resume, it returns only once the rollout is done.
    const child = spawn(process.execPath, [cli, 'rollout', 'status', 'machinedeployment', 'demo-md-0'], { env: { ...process.env, ...env.env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await eventually('the first status line', async () => out.includes('\n'), 60_000);
      expect(await capstan(['rollout', 'resume', 'machinedeployment', 'demo-md-0'])).toMatchObject({ code: 0 });
      await hold({ remove: [HOLD] });
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGINT');
    }
    expect(err).toBe('');
    const lines = out.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('deployment "demo-md-0" successfully rolled out');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^Waiting for deployment /);
    // What it said matches the deployment: one new set, every machine replaced.
    const v = await view();
    expect(v.sets).toHaveLength(1);
    expect(v.sets[0]).toMatchObject({ new: true, replicas: 2, availableReplicas: 2 });
    expect(v.sets[0]!.revision).toBeGreaterThan(revision);
    expect(v.status).toMatchObject({ replicas: 2, upToDateReplicas: 2, availableReplicas: 2, observedGeneration: v.generation });
    const after = await eventually('the old VMs gone', async () => {
      const vms = await mdVms();
      return vms.length === 2 && vms;
    });
    expect(after.some((x) => before.has(x.id))).toBe(false);
  }, 300_000);
});
