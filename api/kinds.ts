// The kinds capstan serves, and one entry point to validate a document of any of them.
import type { z } from 'zod';
import { clusterSchema } from './cluster.js';
import { kubeadmConfigSchema, kubeadmConfigTemplateSchema } from './kubeadm-config.js';
import { kubeadmControlPlaneSchema } from './kubeadm-control-plane.js';
import { machineSchema } from './machine.js';
import { machineDeploymentSchema } from './machine-deployment.js';
import { machineHealthCheckSchema } from './machine-health-check.js';
import { machineSetSchema } from './machine-set.js';
import { GROUPS, VERSION } from './meta.js';
import { simClusterSchema, simMachineSchema, simMachineTemplateSchema } from './sim.js';

export const KINDS = {
  Cluster: { group: GROUPS.cluster, schema: clusterSchema },
  Machine: { group: GROUPS.cluster, schema: machineSchema },
  MachineSet: { group: GROUPS.cluster, schema: machineSetSchema },
  MachineDeployment: { group: GROUPS.cluster, schema: machineDeploymentSchema },
  MachineHealthCheck: { group: GROUPS.cluster, schema: machineHealthCheckSchema },
  KubeadmControlPlane: { group: GROUPS.controlPlane, schema: kubeadmControlPlaneSchema },
  KubeadmConfig: { group: GROUPS.bootstrap, schema: kubeadmConfigSchema },
  KubeadmConfigTemplate: { group: GROUPS.bootstrap, schema: kubeadmConfigTemplateSchema },
  SimCluster: { group: GROUPS.infrastructure, schema: simClusterSchema },
  SimMachine: { group: GROUPS.infrastructure, schema: simMachineSchema },
  SimMachineTemplate: { group: GROUPS.infrastructure, schema: simMachineTemplateSchema },
} as const;

export type KindName = keyof typeof KINDS;
export type KindObject<K extends KindName> = z.infer<ReturnType<(typeof KINDS)[K]['schema']>>;
export type AnyObject = { [K in KindName]: KindObject<K> }[KindName];

export function supportedKinds(): string[] {
  return Object.entries(KINDS).map(([kind, k]) => `${kind} (${k.group}/${VERSION})`);
}

export interface FieldError {
  /** Dotted field path, e.g. `spec.replicas` or `spec.kubeadmConfigSpec.files[0].path`. */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; object: AnyObject } | { ok: false; kind?: string; name?: string; errors: FieldError[] };

/**
 * `spec.kubeadmConfigSpec.files[0].path`; a key that is not a plain name (empty, or with `.`
 * or `/` as label keys have) is quoted in brackets, so that every path names one field:
 * `metadata.labels["cluster.capstan.dev/cluster-name"]`, `spec[""]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$-]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** The value at `path` in what was parsed, or undefined where the path leads nowhere. */
function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

// One wording for every kind: a wrong type names the JSON type wanted, whatever a schema's
// own message says, and a missing field is "is required" (told from the input, not from the
// wording of zod's message).
const TYPE_NAMES: Record<string, string> = { int: 'integer', record: 'object' };

function issueToErrors(issue: z.core.$ZodIssue, doc: unknown): FieldError[] {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: formatPath([...issue.path, k]), message: 'unknown field' }));
  }
  // Whatever check refused it (a type, an enum, a literal), a field that is not there is missing.
  if (valueAt(doc, issue.path) === undefined) return [{ path, message: 'is required' }];
  if (issue.code === 'invalid_type') {
    return [{ path, message: `must be ${article(TYPE_NAMES[issue.expected] ?? issue.expected)}` }];
  }
  return [{ path, message: issue.message }];
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** Validates one decoded document: known apiVersion/kind, then its schema (with defaults applied). */
export function validateDocument(doc: unknown): ValidationResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, errors: [{ path: '', message: 'must be a Kubernetes object with apiVersion, kind, metadata and spec' }] };
  }
  const d = doc as Record<string, unknown>;
  const kind = typeof d.kind === 'string' ? d.kind : undefined;
  const name = typeof (d.metadata as { name?: unknown } | undefined)?.name === 'string' ? ((d.metadata as { name: string }).name) : undefined;
  if (d.kind === undefined) return { ok: false, name, errors: [{ path: 'kind', message: 'is required' }] };
  if (kind === undefined) return { ok: false, name, errors: [{ path: 'kind', message: 'must be a string' }] };
  // An own property only: `toString` or `__proto__` is no kind, whatever Object.prototype says.
  const entry = Object.hasOwn(KINDS, kind) ? KINDS[kind as KindName] : undefined;
  if (!entry) {
    return {
      ok: false,
      kind,
      name,
      errors: [{ path: 'kind', message: `unknown kind "${kind}"; supported kinds: ${supportedKinds().join(', ')}` }],
    };
  }
  const expected = `${entry.group}/${VERSION}`;
  if (d.apiVersion !== expected) {
    const message = `${d.apiVersion === undefined ? 'is required: ' : ''}must be "${expected}" for kind ${kind}`;
    return { ok: false, kind, name, errors: [{ path: 'apiVersion', message }] };
  }
  const parsed = entry.schema().safeParse(doc);
  if (!parsed.success) return { ok: false, kind, name, errors: parsed.error.issues.flatMap((i) => issueToErrors(i, doc)) };
  return { ok: true, object: parsed.data as AnyObject };
}
