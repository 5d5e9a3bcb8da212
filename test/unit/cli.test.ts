// The CLI as a user runs it: a separate process, exit codes, messages. No server is needed:
// validation happens before anything connects, so a bad manifest never starts anything.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));
const demoPath = fileURLToPath(new URL('../../config/samples/demo-cluster.yaml', import.meta.url));
const demo = readFileSync(demoPath, 'utf8');

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
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
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
});
