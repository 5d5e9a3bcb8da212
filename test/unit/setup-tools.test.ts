// The first run's setup output: a Go build's chatter (hundreds of `go: downloading` lines) goes
// to a log under .tools/logs; the terminal gets one line per tool with its elapsed time, and on
// a failure the log's tail and its path. Runs scripts/setup-tools.sh for real against a stand-in
// `go` on PATH, in a copy of the scripts, so nothing is built.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const scripts = new URL('../../scripts/', import.meta.url).pathname;
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A root with the real setup script, a helper module, and a fake `go` that fails when told to. */
function fakeRoot(goFails: boolean) {
  const root = mkdtempSync(join(tmpdir(), 'capstan-setup-'));
  roots.push(root);
  mkdirSync(join(root, 'scripts/go/etcd'), { recursive: true });
  copyFileSync(join(scripts, 'setup-tools.sh'), join(root, 'scripts/setup-tools.sh'));
  copyFileSync(join(scripts, 'versions.env'), join(root, 'scripts/versions.env'));
  writeFileSync(join(root, 'scripts/go/etcd/go.mod'), 'module example.com/etcd\n');
  writeFileSync(join(root, 'scripts/go/etcd/go.sum'), '');
  mkdirSync(join(root, 'fakebin'));
  const go = [
    '#!/usr/bin/env bash',
    'if [[ "$1" == env ]]; then echo go1.99.0; exit 0; fi',
    'for i in $(seq 1 200); do echo "go: downloading example.com/m$i v1.0.0" >&2; done',
    goFails ? 'echo "compile: undefined: somethingMissing" >&2; exit 1' : 'out=""; while [[ $# -gt 0 ]]; do [[ "$1" == -o ]] && out=$2; shift; done; printf "#!/bin/sh\\n" >"$out"; chmod +x "$out"',
  ].join('\n');
  writeFileSync(join(root, 'fakebin/go'), go);
  chmodSync(join(root, 'fakebin/go'), 0o755);
  return root;
}

const run = (root: string) =>
  spawnSync('bash', [join(root, 'scripts/setup-tools.sh'), 'etcd'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(root, 'fakebin')}:${process.env.PATH}`, CAPSTAN_TOOLS_DIR: join(root, '.tools') },
  });

describe('setup-tools.sh', () => {
  it('prints one line per tool with its time and keeps the build output in a log', () => {
    const root = fakeRoot(false);
    const r = run(root);
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\[capstan setup\] building etcd: done in \d+s$/);
    expect(r.stderr).not.toContain('go: downloading');
    expect(readFileSync(join(root, '.tools/logs/build-etcd.log'), 'utf8').match(/go: downloading/g)).toHaveLength(200);
    expect(existsSync(join(root, '.tools/bin/etcd'))).toBe(true);
    // Warm: nothing to say at all.
    expect(run(root).stderr).toBe('');
  });

  it('on a failed build prints the log’s tail and its path, and exits non-zero', () => {
    const root = fakeRoot(true);
    const r = run(root);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('building etcd failed after');
    expect(r.stderr).toContain('compile: undefined: somethingMissing');
    expect(r.stderr).toContain(`full output: ${join(root, '.tools/logs/build-etcd.log')}`);
    expect(r.stderr.match(/go: downloading/g)!.length).toBeLessThan(30);
    expect(existsSync(join(root, '.tools/bin/etcd'))).toBe(false);
  });
});
