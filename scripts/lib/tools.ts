// Where the servers installed by scripts/setup-tools.sh live.
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The binaries scripts/setup-tools.sh installs into `.tools/bin/`. */
export type ToolName =
  | 'temporal'
  | 'temporal-test-server'
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler';

/** Repository root: this file is `<root>/scripts/lib/tools.ts` (or its compiled twin). */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** `$CAPSTAN_TOOLS_DIR`, else `<root>/.tools` (the same rule as setup-tools.sh). */
export function toolsDir(): string {
  const fromEnv = process.env.CAPSTAN_TOOLS_DIR;
  return fromEnv ? path.resolve(fromEnv) : path.join(repoRoot(), '.tools');
}

/** Absolute path of `.tools/bin/<name>`; throws when it is missing or not executable. */
export function toolPath(name: ToolName | (string & {})): string {
  const file = path.join(toolsDir(), 'bin', name);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`${name} not installed (looked for ${file}): run \`bash scripts/setup-tools.sh\``);
  }
  return file;
}

/** The Kubernetes versions scripts/setup-tools.sh builds: `KUBERNETES_VERSION` and the minor before it. */
export function kubernetesVersions(): { current: string; previous: string } {
  const env = readFileSync(path.join(repoRoot(), 'scripts', 'versions.env'), 'utf8');
  const get = (key: string) => {
    const m = new RegExp(`^${key}=(\\S+)`, 'm').exec(env);
    if (!m) throw new Error(`scripts/versions.env has no ${key}`);
    return `v${m[1]!.replace(/^v/, '')}`;
  };
  return { current: get('KUBERNETES_VERSION'), previous: get('KUBERNETES_PREVIOUS_VERSION') };
}

const minorOf = (v: string) => /^v?(\d+)\.(\d+)/.exec(v)?.slice(1, 3).join('.');

/**
 * The control-plane binary (`kube-apiserver`, …) that runs Kubernetes `version`: the one built of
 * the same minor (a v1.36.1 machine runs the v1.36.3 build). Absent: the current version's.
 */
export function kubernetesToolPath(name: 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler', version?: string): string {
  if (!version) return toolPath(name);
  const { current, previous } = kubernetesVersions();
  if (minorOf(version) === minorOf(current)) return toolPath(name);
  if (minorOf(version) === minorOf(previous)) return toolPath(`${name}-${previous}`);
  throw new Error(`no ${name} for Kubernetes ${version}: scripts/setup-tools.sh builds ${current} and ${previous}`);
}
