// The CLI as a user runs it: a separate process, exit codes, messages. No server is needed:
// validation happens before anything connects, so a bad manifest never starts anything.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../client/cli.js';
import { COMMANDS } from '../../client/usage.js';
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
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', CAPSTAN_DATA_DIR: '/nonexistent-capstan' }, timeout: 60_000 });
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

  it('apply of a MachineSet on its own refuses with one message, exit 1, before connecting; --dry-run validates a MachineDeployment', () => {
    const ms = md
      .split('\n---\n')[0]!
      .replace('kind: MachineDeployment', 'kind: MachineSet')
      .replace(/\n {2}rollout:\n(?: {4,}.*\n)+/, '\n');
    const r = capstan(['apply', '-f', '-'], `${DEMO_CONTROL_PLANE}\n---\n${ms}\n---\n${md.split('\n---\n').slice(1).join('\n---\n')}`);
    expect(r.stderr.trim()).toBe('error: MachineSet "demo-md-0": a MachineSet on its own is not supported by apply yet (use a MachineDeployment); nothing was applied');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
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

// The command line, in process: every command declares its flags, refuses others with exit 2
// and its own usage, and answers --help with exit 0. No server is reached by any of these.
describe('capstan command line', () => {
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

  it.each(commands)('%s with one argument too many exits 2 naming it', async (command) => {
    const names = COMMANDS[command]!.positionals.names;
    const r = await run([...command.split(' '), ...names.map(() => 'x'), 'surplus']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: ${command}: unexpected argument "surplus"`);
  });

  it.each(['get nodes', 'get kubeconfig', 'describe cluster', 'describe machine', 'delete cluster'])('%s without its name exits 2 naming what is missing', async (command) => {
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
    { name: 'an unknown resource', args: ['get', 'pods'], message: 'get: unknown resource "pods" (clusters, cluster, machines, machine, nodes, node, kubeconfig)' },
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
    { name: 'a negative --from-replicas', args: ['--from-replicas', '-1'], message: 'rollout plan: flag --from-replicas needs a value' },
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
    expect(r.stderr.split('\n')[0]).toBe('error: rollout: unknown subcommand "undo" (plan)');
  });
});
