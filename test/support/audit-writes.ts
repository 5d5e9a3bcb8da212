// Who wrote to a workload cluster's API: its kube-apiserver's audit log, kept for write verbs only.
// A request counter says what was written; only the log says by whom — so a quiet-window check can
// hold capstan to "no write" without also holding the cluster's own controllers (the node
// lifecycle controller untainting a Node that just became Ready, for one) to it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/** The identity capstan's worker uses against a workload cluster (its admin kubeconfig). */
export const CAPSTAN_WORKLOAD_USER = 'kubernetes-admin';

/**
 * Writes the audit policy into `dir` and returns the kube-apiserver `extraArgs` (v1beta4 list
 * entries, YAML, indented for a KubeadmControlPlane's `clusterConfiguration.apiServer.extraArgs`)
 * that log every write at Metadata level, and nothing else, to `<dir>/audit.log`.
 */
export function auditExtraArgs(dir: string, indent: string): { yaml: string; logFile: string } {
  const policy = path.join(dir, 'audit-policy.yaml');
  writeFileSync(
    policy,
    `apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n  - level: Metadata\n    verbs: [${WRITE_VERBS.join(', ')}]\n  - level: None\n`,
  );
  const logFile = path.join(dir, 'audit.log');
  const arg = (name: string, value: string) => `${indent}- name: ${name}\n${indent}  value: "${value}"\n`;
  return { yaml: arg('audit-policy-file', policy) + arg('audit-log-path', logFile) + arg('audit-log-format', 'json'), logFile };
}

export interface AuditWrite {
  /** Where in the log (lines), so a window is "after this many lines". */
  line: number;
  user: string;
  /** e.g. `patch nodes demo-md-0-abcde`, `create leases` */
  what: string;
}

/** Every logged write, in order; the log may not exist yet (no write so far). */
export function auditWrites(logFile: string): AuditWrite[] {
  if (!existsSync(logFile)) return [];
  const out: AuditWrite[] = [];
  readFileSync(logFile, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      if (!text) return;
      const e = JSON.parse(text) as {
        verb: string;
        user?: { username?: string };
        objectRef?: { resource?: string; subresource?: string; name?: string; apiGroup?: string };
      };
      if (!WRITE_VERBS.includes(e.verb)) return;
      const r = e.objectRef ?? {};
      const resource = `${r.apiGroup ? `${r.apiGroup}/` : ''}${r.resource ?? '?'}${r.subresource ? `/${r.subresource}` : ''}`;
      out.push({ line, user: e.user?.username ?? '?', what: `${e.verb} ${resource}${r.name ? ` ${r.name}` : ''}` });
    });
  return out;
}
