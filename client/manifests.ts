// Reading manifests and resolving them into what the workflows take: every document is
// validated and every reference resolved before anything starts, and each error names the
// file, the document, the object and the field.
import { parseAllDocuments } from 'yaml';
import type { Cluster } from '../api/cluster.js';
import { type AnyObject, validateDocument } from '../api/kinds.js';
import type { KubeadmConfig, KubeadmConfigTemplate } from '../api/kubeadm-config.js';
import type { KubeadmControlPlane } from '../api/kubeadm-control-plane.js';
import type { Machine } from '../api/machine.js';
import type { MachineDeployment } from '../api/machine-deployment.js';
import type { MachineSet } from '../api/machine-set.js';
import { GROUPS, type ObjectRef } from '../api/meta.js';
import type { SimCluster, SimMachine, SimMachineTemplate } from '../api/sim.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import type { ClusterApply, MachineApply, MachineDeploymentApply, MachineSetApply } from '../workflows/types.js';

export type { MachineDeploymentApply, MachineSetApply };

export interface SourceDocument {
  file: string;
  /** 1-based position in its file, as people count documents. */
  index: number;
  content: unknown;
}

export interface ValidatedDocument {
  file: string;
  index: number;
  object: AnyObject;
}

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ManifestError';
  }
}

const where = (d: { file: string; index: number }, kind?: string, name?: string) =>
  `${d.file}: document ${d.index}${kind ? ` (${kind}${name ? ` "${name}"` : ''})` : ''}`;

/**
 * Splits multi-document YAML; a syntax error names the file and document. A manifest is JSON
 * written as YAML, as Kubernetes reads it: YAML 1.1's typed values (`!!set`, `!!omap`,
 * `!!binary`, `!!timestamp`) and local tags (`!foo`) are refused rather than turned into a Set,
 * a Map or a Buffer that a schema would see as an object without fields.
 */
export function readDocuments(file: string, text: string): SourceDocument[] {
  const docs = parseAllDocuments(text, { schema: 'core', resolveKnownTags: false, merge: false, uniqueKeys: true });
  const out: SourceDocument[] = [];
  const problems: string[] = [];
  const invalid = (index: number, message: string) => problems.push(`${file}: document ${index + 1}: invalid YAML: ${message.split('\n')[0]}`);
  docs.forEach((doc, index) => {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) return invalid(index, problem.message);
    let content: unknown;
    try {
      // toJS throws on an alias without its anchor and on an alias bomb (too many aliases).
      content = doc.toJS();
    } catch (err) {
      return invalid(index, (err as Error).message);
    }
    if (content === null || content === undefined) return; // an empty document (`---` at the end)
    out.push({ file, index: index + 1, content });
  });
  if (problems.length) throw new ManifestError(problems);
  return out;
}

export function validateDocuments(docs: SourceDocument[]): ValidatedDocument[] {
  const problems: string[] = [];
  const out: ValidatedDocument[] = [];
  const seen = new Map<string, SourceDocument>();
  for (const d of docs) {
    const r = validateDocument(d.content);
    if (!r.ok) {
      for (const e of r.errors) problems.push(`${where(d, r.kind, r.name)}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
      continue;
    }
    const key = `${r.object.kind}/${r.object.metadata.namespace}/${r.object.metadata.name}`;
    const dup = seen.get(key);
    if (dup) {
      problems.push(`${where(d, r.object.kind, r.object.metadata.name)}: metadata.name: duplicates ${where(dup)}`);
      continue;
    }
    seen.set(key, d);
    out.push({ file: d.file, index: d.index, object: r.object });
  }
  if (problems.length) throw new ManifestError(problems);
  return out;
}

/** Kinds that validate and resolve, but that nothing runs yet: apply refuses them (--dry-run only). */
export const NOT_YET_APPLIED = ['MachineSet'] as const;

export interface ApplyPlan {
  clusters: ClusterApply[];
  machines: MachineApply[];
  machineDeployments: MachineDeploymentApply[];
  machineSets: MachineSetApply[];
  /** MachineHealthChecks (added to their Cluster, which starts them once the control plane is initialized). */
  machineHealthChecks: MachineHealthCheck[];
  /** Objects used only through a reference, for the report. */
  resolved: ValidatedDocument[];
}

/** Resolves references within the applied documents into cluster and machine applies. */
export function planApply(docs: ValidatedDocument[]): ApplyPlan {
  const problems: string[] = [];
  const index = new Map<string, ValidatedDocument>();
  for (const d of docs) index.set(`${d.object.kind}/${d.object.metadata.namespace}/${d.object.metadata.name}`, d);

  function resolve<T extends AnyObject>(from: ValidatedDocument, field: string, ref: ObjectRef, kind: T['kind'], group: string): T | undefined {
    const o = from.object;
    if (ref.kind !== kind || ref.apiGroup !== group) {
      problems.push(`${where(from, o.kind, o.metadata.name)}: ${field}: must reference a ${kind} (apiGroup ${group}), got ${ref.kind} (apiGroup ${ref.apiGroup})`);
      return undefined;
    }
    const target = index.get(`${kind}/${o.metadata.namespace}/${ref.name}`);
    if (!target) {
      problems.push(`${where(from, o.kind, o.metadata.name)}: ${field}: ${kind} "${ref.name}" not found in namespace "${o.metadata.namespace}" of the applied documents`);
      return undefined;
    }
    return target.object as T;
  }

  /** A set's or deployment's machine template: its bootstrap config and infrastructure templates. */
  function resolveTemplates(d: ValidatedDocument, spec: MachineSet['spec'] | MachineDeployment['spec']) {
    const t = spec.template.spec;
    let bootstrapTemplate: KubeadmConfigTemplate | undefined;
    if (t.bootstrap.configRef) {
      bootstrapTemplate = resolve<KubeadmConfigTemplate>(d, 'spec.template.spec.bootstrap.configRef', t.bootstrap.configRef, 'KubeadmConfigTemplate', GROUPS.bootstrap);
    } else {
      problems.push(`${where(d, d.object.kind, d.object.metadata.name)}: spec.template.spec.bootstrap.dataSecretName: user-provided bootstrap data is not supported yet; use spec.template.spec.bootstrap.configRef to a KubeadmConfigTemplate`);
    }
    const infrastructureTemplate = resolve<SimMachineTemplate>(d, 'spec.template.spec.infrastructureRef', t.infrastructureRef, 'SimMachineTemplate', GROUPS.infrastructure);
    return bootstrapTemplate && infrastructureTemplate ? { bootstrapTemplate, infrastructureTemplate } : undefined;
  }

  const clusters: ClusterApply[] = [];
  const machines: MachineApply[] = [];
  const machineDeployments: MachineDeploymentApply[] = [];
  const machineSets: MachineSetApply[] = [];
  const machineHealthChecks: MachineHealthCheck[] = [];
  for (const d of docs) {
    const o = d.object;
    if (o.kind === 'Cluster') {
      const c = o as Cluster;
      const infrastructure = resolve<SimCluster>(d, 'spec.infrastructureRef', c.spec.infrastructureRef, 'SimCluster', GROUPS.infrastructure);
      const controlPlane = resolve<KubeadmControlPlane>(d, 'spec.controlPlaneRef', c.spec.controlPlaneRef, 'KubeadmControlPlane', GROUPS.controlPlane);
      let template: SimMachineTemplate | undefined;
      if (controlPlane) {
        const kcpDoc = index.get(`KubeadmControlPlane/${controlPlane.metadata.namespace}/${controlPlane.metadata.name}`)!;
        template = resolve<SimMachineTemplate>(
          kcpDoc,
          'spec.machineTemplate.spec.infrastructureRef',
          controlPlane.spec.machineTemplate.spec.infrastructureRef,
          'SimMachineTemplate',
          GROUPS.infrastructure,
        );
      }
      if (infrastructure && controlPlane && template) {
        clusters.push({ cluster: c, infrastructure, controlPlane, controlPlaneMachineTemplate: template });
      }
    } else if (o.kind === 'Machine') {
      const m = o as Machine;
      const infrastructure = resolve<SimMachine>(d, 'spec.infrastructureRef', m.spec.infrastructureRef, 'SimMachine', GROUPS.infrastructure);
      let bootstrapConfig: KubeadmConfig | undefined;
      if (m.spec.bootstrap.configRef) {
        bootstrapConfig = resolve<KubeadmConfig>(d, 'spec.bootstrap.configRef', m.spec.bootstrap.configRef, 'KubeadmConfig', GROUPS.bootstrap);
      } else {
        problems.push(`${where(d, o.kind, o.metadata.name)}: spec.bootstrap.dataSecretName: user-provided bootstrap data is not supported yet; use spec.bootstrap.configRef to a KubeadmConfig`);
      }
      if (infrastructure && bootstrapConfig) machines.push({ machine: m, bootstrapConfig, infrastructure });
    } else if (o.kind === 'MachineDeployment') {
      const templates = resolveTemplates(d, o.spec);
      if (templates) machineDeployments.push({ machineDeployment: o, ...templates });
    } else if (o.kind === 'MachineSet') {
      const templates = resolveTemplates(d, o.spec);
      if (templates) machineSets.push({ machineSet: o, ...templates });
    } else if (o.kind === 'MachineHealthCheck') {
      machineHealthChecks.push(o);
    }
  }
  if (problems.length) throw new ManifestError(problems);
  const owners = new Set<string>(['Cluster', 'Machine', 'MachineDeployment', 'MachineSet', 'MachineHealthCheck']);
  const resolved = docs.filter((d) => !owners.has(d.object.kind));
  return { clusters, machines, machineDeployments, machineSets, machineHealthChecks, resolved };
}
