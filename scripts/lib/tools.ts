// Where the servers installed by scripts/setup-tools.sh live.
import { accessSync, constants } from 'node:fs';
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
