// The CLI as a user runs it: a separate process, exit codes, messages. No server is needed:
// validation happens before anything connects, so a bad manifest never starts anything.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseAnnotationArgs } from '../../client/annotate.js';
import { parseCommand } from '../../client/args.js';
import { main } from '../../client/cli.js';
import { describeMachineDeployment, machineDeploymentPhase, machineDeploymentRow, machineSetRow, parseDuration, progressLine, rolloutProgress, rolloutStatus } from '../../client/machine-deployments.js';
import { COMMANDS } from '../../client/usage.js';
import type { MachineDeploymentView, MachineSetView } from '../../workflows/types.js';
import { DEMO_CONTROL_PLANE } from '../support/demo-manifests.js';

const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
const demoPath = fileURLToPath(new URL('../../config/samples/demo-cluster.yaml', import.meta.url));
const demo = readFileSync(demoPath, 'utf8');
const mdPath = fileURLToPath(new URL('../../config/samples/machinedeployment.yaml', import.meta.url));
const md = readFileSync(mdPath, 'utf8');

// The sample MachineDeployment (3 replicas, maxSurge 1, maxUnavailable 0) from 3 old machines.
const PLAN_3_1_0 = [
  'STEP   OLD SET   NEW SET   DECISION',
  '1      3/3       -         create the new set with 1 machine',
  '2      3/3       1/1       scale the old set down to 2',
  '3      2/2       1/1       scale the new set up to 2',
  '4      2/2       2/2       scale the old set down to 1',
  '5      1/1       2/2       scale the new set up to 3',
  '6      1/1       3/3       scale the old set down to 0',
  '7      -         3/3       done',
];

function capstan(args: string[], input?: string) {
  // An address nothing listens on: any attempt to reach Temporal would fail loudly.
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', CAPSTAN_DATA_DIR: '/nonexistent-capstan', KUBECONFIG: '', CAPSTAN_MANAGEMENT_KUBECONFIG: '' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('capstan CLI', () => {
  it('validates and resolves a manifest with --dry-run, from a file', () => {
    const r = capstan(['apply', '--dry-run', '-f', demoPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cluster.cluster.capstan.dev/demo validated (dry run)');
    expect(r.stdout).toContain('machinedeployment.cluster.capstan.dev/demo-md-0 validated (dry run)');
    expect(r.stdout.trim().split('\n')).toHaveLength(7);
  });

  it('reads stdin with -f - and refuses bad input naming file, document, object and field, exit 1', () => {
    const r = capstan(['apply', '-f', '-'], demo.replace('replicas: 3', 'replicas: 4'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing was applied');
    expect(r.stderr).toContain('<stdin>: document 3 (KubeadmControlPlane "demo-control-plane"): spec.replicas: cannot be an even number when etcd is stacked');
  });

  it('lists the supported kinds for an unknown kind', () => {
    const r = capstan(['apply', '--dry-run', '-f', '-'], 'apiVersion: cluster.capstan.dev/v1alpha1\nkind: MachinePool\nmetadata:\n  name: p\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown kind "MachinePool"; supported kinds: Cluster .*SimMachineTemplate/);
  });

  it('exits 2 with usage for a wrong command line', () => {
    expect(capstan(['frobnicate']).code).toBe(2);
    expect(capstan(['apply']).stderr).toContain('apply needs -f FILE');
    expect(capstan(['--help']).code).toBe(0);
  });

  it('annotate machine: KEY=VALUE sets, KEY- removes; anything else, or no change at all, exits 2 with its usage', () => {
    const bad = capstan(['annotate', 'machine', 'demo-worker-1', 'justakey']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: annotate machine: "justakey" is neither KEY=VALUE nor KEY-\n\nUsage: capstan annotate machine NAME/);
    const none = capstan(['annotate', 'machine', 'demo-worker-1']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing KEY=VALUE|KEY-');
    expect(parseAnnotationArgs(['a/b=1', 'c=', 'd-'])).toEqual({ set: { 'a/b': '1', c: '' }, remove: ['d'] });
  });

  it('exits 2 with the command\'s usage on stderr for an unknown flag, before connecting to anything', () => {
    const r = capstan(['get', 'clusters', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: get clusters: unknown flag --bogus\n\nUsage: capstan get clusters /);
    expect(r.stdout).toBe('');
  });

  it('rollout plan prints the steps of the sample MachineDeployment\'s 3/1/0 rollout as a table, connecting to nothing', () => {
    const r = capstan(['rollout', 'plan', '-f', mdPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('MachineDeployment "demo-md-0" (namespace "default"): 3 machines on the previous template → 3 machines on the manifest\'s; RollingUpdate, maxSurge 1, maxUnavailable 0');
    expect(lines.slice(-PLAN_3_1_0.length)).toEqual(PLAN_3_1_0);
  });

  it('apply --dry-run validates a MachineHealthCheck, connecting to nothing', () => {
    const mhc = readFileSync(new URL('../../config/samples/machinehealthcheck.yaml', import.meta.url), 'utf8');
    const dry = capstan(['apply', '--dry-run', '-f', '-'], mhc);
    expect(dry.stderr).toBe('');
    expect(dry.stdout.trim()).toBe('machinehealthcheck.cluster.capstan.dev/demo-md-0-unhealthy validated (dry run)');
  });

  it('apply --dry-run validates a MachineSet on its own and a MachineDeployment, connecting to nothing', () => {
    const ms = md
      .split('\n---\n')[0]!
      .replace('kind: MachineDeployment', 'kind: MachineSet')
      .replace(/\n {2}rollout:\n(?: {4,}.*\n)+/, '\n');
    const r = capstan(['apply', '--dry-run', '-f', '-'], `${ms}\n---\n${md.split('\n---\n').slice(1).join('\n---\n')}`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')[0]).toBe('machineset.cluster.capstan.dev/demo-md-0 validated (dry run)');
    const dry = capstan(['apply', '--dry-run', '-f', mdPath]);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual([
      'machinedeployment.cluster.capstan.dev/demo-md-0 validated (dry run)',
      'kubeadmconfigtemplate.bootstrap.capstan.dev/demo-md-0 validated (dry run)',
      'simmachinetemplate.infrastructure.capstan.dev/demo-md-0 validated (dry run)',
    ]);
  });

  it('exits 0 with the command\'s usage on stdout for --help', () => {
    const r = capstan(['describe', 'cluster', '-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: capstan describe cluster NAME/);
  });
});

/** The CLI's main() in this process: its exit code and what it printed. */
async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

// The command line, in process: every command declares its flags, refuses others with exit 2
// and its own usage, and answers --help with exit 0. No server is reached by any of these.
describe('capstan command line', () => {
  const commands = Object.keys(COMMANDS);

  it.each(commands)('%s --help prints its usage and exits 0', async (command) => {
    const r = await run([...command.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: capstan ${command}`);
    expect(r.stderr).toBe('');
  });

  it.each(commands)('%s with an unknown flag exits 2 naming it, with its usage on stderr', async (command) => {
    const r = await run([...command.split(' '), ...COMMANDS[command]!.positionals.names.slice(0, COMMANDS[command]!.positionals.required).map(() => 'x'), '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${command}: unknown flag --frobnicate`);
    expect(r.stderr).toContain(`Usage: capstan ${command}`);
    expect(r.stdout).toBe('');
  });

  it.each(commands.filter((c) => !COMMANDS[c]!.positionals.variadic))('%s with one argument too many exits 2 naming it', async (command) => {
    const names = COMMANDS[command]!.positionals.names;
    const r = await run([...command.split(' '), ...names.map(() => 'x'), 'surplus']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${command}: unexpected argument "surplus"`);
  });

  it.each(['get nodes', 'get kubeconfig', 'describe cluster', 'describe machine', 'describe machinedeployment', 'scale machinedeployment', 'delete cluster'])('%s without its name exits 2 naming what is missing', async (command) => {
    const r = await run(command.split(' '));
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${command}: missing ${COMMANDS[command]!.positionals.names[0]}`);
  });

  it.each([
    { name: 'get -o xml', args: ['get', 'clusters', '-o', 'xml'], message: 'get clusters: -o/--output: "xml" is not one of table, json, yaml' },
    { name: 'describe --output=wide', args: ['describe', 'machine', 'm', '--output=wide'], message: 'describe machine: -o/--output: "wide" is not one of table, json, yaml' },
    { name: '--wait=maybe', args: ['delete', 'cluster', 'c', '--wait=maybe'], message: 'delete cluster: --wait: expected true or false, got "maybe"' },
    { name: '-n without a value', args: ['get', 'machines', '-n'], message: 'get machines: flag -n/--namespace needs a value' },
    { name: 'a boolean given a value', args: ['get', 'clusters', '--all-namespaces=yes'], message: 'get clusters: flag -A/--all-namespaces takes no value' },
    { name: '--no- of a flag that has no negation', args: ['get', 'clusters', '--no-watch'], message: 'get clusters: unknown flag --no-watch' },
    { name: 'a namespace that is no Kubernetes name', args: ['get', 'clusters', '-n', 'a"b'], message: 'get clusters: -n/--namespace: "a"b" is not a valid Kubernetes name' },
    { name: 'a name with -A', args: ['get', 'clusters', 'demo', '-A'], message: 'get clusters: a name cannot be looked up across all namespaces (-A); use -n NS' },
    { name: 'sim --profile fast', args: ['sim', '--profile', 'fast'], message: 'sim: --profile: "fast" is not one of demo, test' },
    { name: 'sim with an unknown action', args: ['sim', 'reboot', 'm'], message: 'sim: ACTION: "reboot" is not one of kill, node-not-ready, node-ready' },
    { name: 'sim kill without a machine', args: ['sim', 'kill'], message: 'sim kill: MACHINE is required' },
    { name: 'an unknown resource', args: ['get', 'pods'], message: 'get: unknown resource "pods" (clusters, cluster, machines, machine, machinedeployments, machinedeployment, md, machinesets, machineset, ms, machinehealthchecks, machinehealthcheck, mhc, kubeadmcontrolplanes, kubeadmcontrolplane, kcp, nodes, node, kubeconfig)' },
    { name: 'delete of a kind it cannot delete', args: ['delete', 'machine', 'm'], message: 'delete: unknown resource "machine" (cluster, clusters)' },
  ])('refuses $name with exit 2 and a one-line error', async ({ args, message }) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${message}`);
  });

  it('finds the resource after flags, as kubectl does (get -n NS -o json clusters)', async () => {
    const r = await run(['get', '-n', 'x', '-o', 'json', 'clusters', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: capstan get clusters');
  });

  it('prints the overview for --help and help, and on stderr with exit 2 for no command', async () => {
    expect((await run(['--help'])).stdout).toContain('capstan COMMAND --help');
    expect((await run(['help'])).code).toBe(0);
    expect((await run(['help', 'apply'])).stdout).toContain('Usage: capstan apply');
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('capstan COMMAND --help');
  });

  it('lists in every usage only flags its command declares', () => {
    for (const [name, spec] of Object.entries(COMMANDS)) {
      const listed = [...spec.usage.matchAll(/(?<![\w-])--([a-z][\w-]*)/g)].map((m) => m[1]!).filter((f) => f !== 'help');
      const declared = new Set([...Object.keys(spec.options), ...(spec.negatable ?? []).map((n) => `no-${n}`)]);
      for (const f of listed) expect(declared.has(f), `${name} lists --${f}`).toBe(true);
    }
  });
});

// `capstan rollout plan`, in process: the planner's steps before anything is applied.
describe('capstan rollout plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'capstan-rollout-plan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const manifest = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('a 3/1/0 plan prints the expected steps', async () => {
    const r = await run(['rollout', 'plan', '-f', mdPath]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(-PLAN_3_1_0.length)).toEqual(PLAN_3_1_0);
  });

  it('--from-replicas 1 to 3 replicas: the new set surges to 3 at once, within replicas + maxSurge', async () => {
    const r = await run(['rollout', 'plan', '-f', mdPath, '--from-replicas', '1', '-o', 'json']);
    expect(r.code).toBe(0);
    const [plan] = JSON.parse(r.stdout) as { steps: { oldSet: unknown; newSet: unknown; decision: string }[]; maxSurge: number }[];
    expect(plan!.maxSurge).toBe(1);
    expect(plan!.steps.map((s) => s.decision)).toEqual(['create the new set with 3 machines', 'scale the old set down to 0', 'done']);
    expect(plan!.steps[1]).toMatchObject({ oldSet: { replicas: 1, availableReplicas: 1 }, newSet: { replicas: 3, availableReplicas: 3 } });
  });

  it('OnDelete: the new set grows as the user deletes old machines', async () => {
    const onDelete = manifest('ondelete.yaml', md.replace('type: RollingUpdate', 'type: OnDelete').replace(/      rollingUpdate:\n(        .*\n){2}/, ''));
    const r = await run(['rollout', 'plan', '-f', onDelete, '--from-replicas', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OnDelete (old machines are replaced as the user deletes them)');
    expect(r.stdout.split('\n').at(-1)).toBe('3      -         3/3       done');
  });

  it('maxSurge and maxUnavailable both 0 → refused with the field path, exit 1', async () => {
    const r = await run(['rollout', 'plan', '-f', manifest('both-0.yaml', md.replace('maxSurge: 1', 'maxSurge: 0'))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'both-0.yaml: document 1 (MachineDeployment "demo-md-0"): spec.rollout.strategy.rollingUpdate: maxSurge and maxUnavailable must not both be 0 (the rollout could never progress)',
    );
  });

  it('a manifest without a MachineDeployment → exit 1 saying so', async () => {
    const r = await run(['rollout', 'plan', '-f', manifest('control-plane.yaml', DEMO_CONTROL_PLANE)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: rollout plan: no MachineDeployment in .*control-plane.yaml$/);
  });

  it.each([
    { name: 'an unknown flag', args: ['--replicas', '3'], message: 'rollout plan: unknown flag --replicas' },
    { name: 'a negative --from-replicas', args: ['--from-replicas', '-1'], message: 'rollout plan: --from-replicas: "-1" is not an integer between 0 and 10000' },
    { name: 'a --from-replicas that is no integer', args: ['--from-replicas', 'three'], message: 'rollout plan: --from-replicas: "three" is not an integer between 0 and 10000' },
    { name: '-o yaml', args: ['-o', 'yaml'], message: 'rollout plan: -o/--output: "yaml" is not one of table, json' },
  ])('$name → exit 2 with a one-line error and the usage', async ({ args, message }) => {
    const r = await run(['rollout', 'plan', '-f', mdPath, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${message}`);
    expect(r.stderr).toContain('Usage: capstan rollout plan');
  });

  it('without -f → exit 2; an unknown subcommand → exit 2 naming it', async () => {
    expect((await run(['rollout', 'plan'])).stderr.split('\n')[0]).toBe('error: rollout plan needs -f FILE (or -f - for stdin)');
    const r = await run(['rollout', 'undo']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: rollout: unknown subcommand "undo" (plan, status, pause, resume, restart)');
  });
});

// The MachineDeployment commands' command lines, in process: each bad one exits 2 with a
// one-line error and its usage, before anything connects.
describe('capstan MachineDeployment commands: command lines', () => {

  it.each([
    { name: 'scale without --replicas', args: ['scale', 'machinedeployment', 'md'], message: 'scale machinedeployment: --replicas N is required' },
    { name: 'scale --replicas that is no integer', args: ['scale', 'md', 'md', '--replicas', 'three'], message: 'scale machinedeployment: --replicas: "three" is not an integer' },
    { name: 'scale --replicas=2.5', args: ['scale', 'machinedeployment', 'md', '--replicas=2.5'], message: 'scale machinedeployment: --replicas: "2.5" is not an integer' },
    { name: 'scale --replicas without a value', args: ['scale', 'machinedeployment', 'md', '--replicas'], message: 'scale machinedeployment: flag --replicas needs a value' },
    { name: 'scale of a kind it cannot scale', args: ['scale', 'machineset', 'ms', '--replicas', '1'], message: 'scale: unknown resource "machineset" (machinedeployment, machinedeployments, md)' },
    { name: 'scale without a resource', args: ['scale', '--replicas', '1'], message: 'scale: missing RESOURCE' },
    { name: 'rollout status without a name', args: ['rollout', 'status', 'machinedeployment'], message: 'rollout status: missing NAME' },
    { name: 'rollout status of another kind', args: ['rollout', 'status', 'deployment', 'web'], message: 'rollout status: unknown resource "deployment" (machinedeployment, machinedeployments, md)' },
    { name: 'rollout status KIND/NAME plus a name', args: ['rollout', 'status', 'md/a', 'b'], message: 'rollout status: unexpected argument "b"' },
    { name: 'rollout status --timeout soon', args: ['rollout', 'status', 'md', 'a', '--timeout', 'soon'], message: 'rollout status: --timeout: "soon" is not a duration (e.g. 90s, 5m, 1h30m)' },
    { name: 'rollout status --watch=maybe', args: ['rollout', 'status', 'md', 'a', '--watch=maybe'], message: 'rollout status: --watch: expected true or false, got "maybe"' },
    { name: 'rollout pause of a name that is no Kubernetes name', args: ['rollout', 'pause', 'machinedeployment', 'A_B'], message: 'rollout pause: NAME: "A_B" is not a valid Kubernetes name' },
    { name: 'rollout resume --no-wait', args: ['rollout', 'resume', 'md', 'a', '--no-wait'], message: 'rollout resume: unknown flag --no-wait' },
    { name: 'rollout restart with two names', args: ['rollout', 'restart', 'md', 'a', 'b'], message: 'rollout restart: unexpected argument "b"' },
    { name: 'get machinedeployments -o wide', args: ['get', 'md', '-o', 'wide'], message: 'get machinedeployments: -o/--output: "wide" is not one of table, json, yaml' },
    { name: 'get machinesets NAME -A', args: ['get', 'machinesets', 'ms', '-A'], message: 'get machinesets: a name cannot be looked up across all namespaces (-A); use -n NS' },
    { name: 'get machinesets --cluster without a value', args: ['get', 'ms', '--cluster'], message: 'get machinesets: flag --cluster needs a value' },
    { name: 'describe machinedeployment --output=wide', args: ['describe', 'md', 'a', '--output=wide'], message: 'describe machinedeployment: -o/--output: "wide" is not one of table, json, yaml' },
  ])('$name → exit 2 with a one-line error and the usage', async ({ args, message }) => {
    const r = await run(args);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${message}`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/\nUsage: capstan (scale|rollout|get|describe) /);
  });

  it('the overview and the groups list the new commands', async () => {
    const overview = (await run(['--help'])).stdout;
    for (const c of ['get machinedeployments|machinesets', 'describe machinedeployment NAME', 'scale machinedeployment NAME --replicas N', 'rollout status machinedeployment NAME', 'rollout pause|resume|restart machinedeployment NAME']) {
      expect(overview).toContain(`capstan ${c}`);
    }
    const rollout = await run(['rollout', '--help']);
    expect(rollout.code).toBe(0);
    expect(rollout.stdout).toContain('capstan rollout status machinedeployment NAME [-n NS] [--watch=false] [--timeout DURATION]');
    const scale = await run(['scale']);
    expect(scale.code).toBe(2);
    expect(scale.stderr.split('\n')[0]).toBe('error: scale: missing RESOURCE');
  });
});

// What the MachineDeployment commands print, from views as the workflows' queries return them.
describe('capstan MachineDeployment commands: output', () => {
  const condition = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: '', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 });
  const view = (o: { replicas?: number; generation?: number; observed?: number; status?: Partial<NonNullable<MachineDeploymentView['status']>>; sets?: MachineDeploymentView['sets']; paused?: boolean } = {}): MachineDeploymentView => ({
    name: 'demo-md-0',
    namespace: 'default',
    clusterName: 'demo',
    generation: o.generation ?? 2,
    spec: {
      clusterName: 'demo',
      replicas: o.replicas ?? 3,
      paused: o.paused ?? false,
      minReadySeconds: 0,
      rollout: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
      template: { spec: { clusterName: 'demo', version: 'v1.37.2' } },
    } as unknown as MachineDeploymentView['spec'],
    status: { replicas: 3, readyReplicas: 3, availableReplicas: 3, upToDateReplicas: 3, observedGeneration: o.observed ?? 2, conditions: [condition('Available', 'True', 'Available')], ...o.status },
    sets: o.sets ?? [{ name: 'demo-md-0-abcde', revision: 2, new: true, replicas: 3, readyReplicas: 3, availableReplicas: 3, deleting: false }],
  });
  const oldSet = (replicas: number) => ({ name: 'demo-md-0-old00', revision: 1, new: false, replicas, readyReplicas: replicas, availableReplicas: replicas, deleting: false });
  const newSet = (replicas: number, available: number) => ({ name: 'demo-md-0-new00', revision: 2, new: true, replicas, readyReplicas: available, availableReplicas: available, deleting: false });

  it.each([
    { name: 'as many machines as desired → Running', replicas: 3, current: 3, phase: 'Running' },
    { name: 'fewer machines than desired → ScalingUp', replicas: 5, current: 3, phase: 'ScalingUp' },
    { name: 'more machines than desired (a surge machine) → ScalingDown', replicas: 3, current: 4, phase: 'ScalingDown' },
  ])('machineDeploymentPhase: $name', ({ replicas, current, phase }) => {
    expect(machineDeploymentPhase(view({ replicas, status: { replicas: current } }))).toBe(phase);
  });

  it('machineDeploymentPhase: no status yet → Unknown', () => {
    expect(machineDeploymentPhase({ ...view(), status: undefined })).toBe('Unknown');
  });

  it('a deployment row has Cluster API\'s columns, UNAVAILABLE = replicas − available', () => {
    const started = new Date('2026-01-01T00:00:00Z');
    const row = machineDeploymentRow(view({ replicas: 3, status: { replicas: 4, readyReplicas: 3, availableReplicas: 3, upToDateReplicas: 1 } }), started, new Date('2026-01-01T00:05:00Z'));
    expect(row).toEqual(['demo-md-0', 'demo', '4', '3', '1', '1', 'ScalingDown', '5m', 'v1.37.2']);
    const set: MachineSetView = { name: 'demo-md-0-abcde', namespace: 'default', clusterName: 'demo', generation: 1, replicas: 3, version: 'v1.37.2', spec: { clusterName: 'demo', replicas: 3, template: { metadata: { labels: {} }, spec: { clusterName: 'demo', bootstrap: { dataSecretName: 'x' }, infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachineTemplate', name: 'x' }, minReadySeconds: 0, deletion: { nodeDeletionTimeoutSeconds: 10 } } } }, machines: [], status: { replicas: 3, readyReplicas: 2, availableReplicas: 1, upToDateReplicas: 3, observedGeneration: 1, conditions: [] } };
    expect(machineSetRow(set, started, new Date('2026-01-01T00:00:30Z'))).toEqual(['demo-md-0-abcde', 'demo', '3', '3', '2', '1', '3', '30s', 'v1.37.2']);
  });

  it.each([
    { name: 'a spec not yet observed', v: view({ generation: 3, observed: 2 }), message: 'Waiting for deployment spec update to be observed...' },
    {
      name: 'new replicas still to create',
      v: view({ status: { replicas: 4, upToDateReplicas: 1 }, sets: [oldSet(3), newSet(1, 0)] }),
      message: 'Waiting for deployment "demo-md-0" rollout to finish: 1 out of 3 new replicas have been updated...',
    },
    {
      name: 'old replicas still to delete',
      v: view({ status: { replicas: 4, upToDateReplicas: 3 }, sets: [oldSet(1), newSet(3, 3)] }),
      message: 'Waiting for deployment "demo-md-0" rollout to finish: 1 old replicas are pending termination...',
    },
    {
      name: 'updated replicas not yet available',
      v: view({ status: { replicas: 3, upToDateReplicas: 3 }, sets: [newSet(3, 2)] }),
      message: 'Waiting for deployment "demo-md-0" rollout to finish: 2 of 3 updated replicas are available...',
    },
    {
      name: 'an emptied old set not yet deleted',
      v: view({ sets: [oldSet(0), newSet(3, 3)] }),
      message: 'Waiting for deployment "demo-md-0" rollout to finish: 1 old MachineSet pending deletion...',
    },
    {
      name: 'paused mid-rollout (says how to resume)',
      v: view({ paused: true, status: { replicas: 3, upToDateReplicas: 0 }, sets: [oldSet(3)] }),
      message: 'Waiting for deployment "demo-md-0" rollout to finish: 0 out of 3 new replicas have been updated... (paused: capstan rollout resume machinedeployment demo-md-0)',
    },
  ])('rolloutProgress: $name → waiting, in kubectl\'s words', ({ v, message }) => {
    const p = rolloutProgress(v);
    expect(p.done).toBe(false);
    expect(p.message).toBe(message);
  });

  it('rolloutProgress: one set, all up to date and available, the latest generation observed → done', () => {
    expect(rolloutProgress(view())).toEqual({ done: true, message: 'deployment "demo-md-0" successfully rolled out', replicas: 3, upToDate: 3, available: 3 });
  });

  it('progressLine: one line of available, up-to-date and missing machines, cut to the terminal width', () => {
    const line = progressLine({ done: false, message: 'Waiting', replicas: 4, upToDate: 3, available: 1 }, 200, 8);
    expect(line).toBe('[██▒▒▒▒░░] 3/4 up-to-date, 1/4 available  Waiting');
    expect(progressLine({ done: false, message: 'x'.repeat(300), replicas: 4, upToDate: 0, available: 0 }, 80)).toHaveLength(79);
  });

  it.each([
    ['0', 0],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['5', undefined],
    ['soon', undefined],
    ['-1s', undefined],
  ])('parseDuration(%s) → %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('describe: spec, status counts, conditions and sets with their revisions', () => {
    const text = describeMachineDeployment(view({ status: { replicas: 4, upToDateReplicas: 1, availableReplicas: 3 }, sets: [oldSet(3), newSet(1, 0)] }));
    expect(text).toMatch(/^Name:\s+demo-md-0$/m);
    expect(text).toMatch(/^Replicas:\s+3 desired \| 4 total \| 1 up-to-date \| 3 ready \| 3 available$/m);
    expect(text).toMatch(/^Strategy:\s+RollingUpdate \(maxSurge 1, maxUnavailable 0\)$/m);
    expect(text).toMatch(/^Paused:\s+false$/m);
    expect(text).not.toMatch(/^Reconcile Paused:/m);
    expect(describeMachineDeployment({ ...view(), annotationPaused: true })).toMatch(/^Reconcile Paused:\s+by its cluster\.capstan\.dev\/paused annotation$/m);
    expect(describeMachineDeployment({ ...view(), clusterPaused: true, annotationPaused: true })).toMatch(/^Reconcile Paused:\s+by its Cluster \(spec\.paused\) and its cluster\.capstan\.dev\/paused annotation$/m);
    expect(text).toMatch(/^ {2}Available\s+True\s+Available/m);
    expect(text).toMatch(/^ {2}NAME\s+REVISION\s+NEW\s+REPLICAS/m);
    expect(text).toMatch(/^ {2}demo-md-0-old00\s+1\s+false\s+3/m);
    expect(text).toMatch(/^ {2}demo-md-0-new00\s+2\s+true\s+1/m);
  });

  it('rollout status polls until done: plain lines off a terminal, one redrawn line on one; --watch=false prints once', async () => {
    const views = [view({ status: { replicas: 4, upToDateReplicas: 1 }, sets: [oldSet(3), newSet(1, 0)] }), view({ status: { replicas: 4, upToDateReplicas: 1 }, sets: [oldSet(3), newSet(1, 0)] }), view()];
    const client = (seq: MachineDeploymentView[]) => {
      let i = 0;
      return { workflow: { getHandle: () => ({ query: async () => seq[Math.min(i++, seq.length - 1)] }) } } as never;
    };
    let plain = '';
    expect(await rolloutStatus(client(views), 'default', 'demo-md-0', { watch: true, timeoutMs: 0, intervalMs: 1, tty: false, write: (t) => void (plain += t) })).toBe(true);
    expect(plain).toBe('Waiting for deployment "demo-md-0" rollout to finish: 1 out of 3 new replicas have been updated...\ndeployment "demo-md-0" successfully rolled out\n');
    let tty = '';
    expect(await rolloutStatus(client(views), 'default', 'demo-md-0', { watch: true, timeoutMs: 0, intervalMs: 1, tty: true, columns: 200, write: (t) => void (tty += t) })).toBe(true);
    expect(tty.split('\r\x1b[K')).toEqual(['', expect.stringMatching(/^\[█*▒+░+\] 1\/3 up-to-date, 0\/3 available {2}Waiting/), 'deployment "demo-md-0" successfully rolled out\n']);
    let once = '';
    expect(await rolloutStatus(client(views), 'default', 'demo-md-0', { watch: false, timeoutMs: 0, tty: false, write: (t) => void (once += t) })).toBe(true);
    expect(once).toBe('Waiting for deployment "demo-md-0" rollout to finish: 1 out of 3 new replicas have been updated...\n');
    let timedOut = '';
    expect(await rolloutStatus(client([views[0]!]), 'default', 'demo-md-0', { watch: true, timeoutMs: 30, intervalMs: 5, tty: false, write: (t) => void (timedOut += t) })).toBe(false);
    expect(timedOut.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

// A flag's value may be a negative number, as kubectl's flags take it: `--replicas -1` is the
// value -1 (refused later naming spec.replicas), not an unknown flag `-1`.
describe('capstan command lines: a negative number after a flag', () => {
  const scale = COMMANDS['scale machinedeployment']!;
  it.each([
    { args: ['a', '--replicas', '-1'], replicas: '-1' },
    { args: ['a', '--replicas=-2'], replicas: '-2' },
    { args: ['a', '--replicas', '3'], replicas: '3' },
  ])('$args → --replicas $replicas', ({ args, replicas }) => {
    expect(parseCommand(scale, args).values.replicas).toBe(replicas);
  });
  it('a -1 after a flag\'s value is no value: refused', () => {
    expect(() => parseCommand(scale, ['a', '-n', 'x', '--kubeconfig', 'f', '-1'])).toThrow(/unknown flag -1|unexpected argument/);
  });
});
