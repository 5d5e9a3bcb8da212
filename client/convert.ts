// `capstan convert` (and `capstan apply` of such a manifest): Cluster API manifests
// (`cluster.x-k8s.io` v1beta1 and v1beta2, with their control-plane, bootstrap and infrastructure
// groups) as capstan's kinds. capstan's schemas are Cluster API v1beta2's, so a v1beta2 document
// mostly changes group; a v1beta1 one is moved field by field as Cluster API's own conversion
// does (strategy → rollout.strategy, durations → …Seconds, maps of extra args → lists, refs'
// apiVersion → apiGroup). Labels and annotations move from cluster.x-k8s.io to capstan's. An
// infrastructure provider's cluster and machine (template) become the simulated cloud's. Whatever
// has no place in capstan is reported — never dropped silently.
import { stringify } from 'yaml';
import { GROUPS, VERSION } from '../api/meta.js';
import { formatPath, KINDS, type KindName } from '../api/kinds.js';
import type { SourceDocument } from './manifests.js';
import { parseDuration } from './machine-deployments.js';

type Json = Record<string, any>;

/** Cluster API's groups → capstan's. */
const GROUP_MAP: Record<string, string> = {
  'cluster.x-k8s.io': GROUPS.cluster,
  'controlplane.cluster.x-k8s.io': GROUPS.controlPlane,
  'bootstrap.cluster.x-k8s.io': GROUPS.bootstrap,
  'infrastructure.cluster.x-k8s.io': GROUPS.infrastructure,
};
const CAPI_VERSIONS = new Set(['v1beta1', 'v1beta2']);
const CONVERTED_KINDS = new Set(['Cluster', 'Machine', 'MachineSet', 'MachineDeployment', 'MachineHealthCheck', 'KubeadmControlPlane', 'KubeadmConfig', 'KubeadmConfigTemplate']);

export interface Conversion {
  /** The documents as capstan's kinds (capstan's own pass through unchanged). */
  documents: Json[];
  /** What could not be carried over, one line each: `file: document N (Kind "name"): path: why`. */
  notes: string[];
}

const isCapi = (apiVersion: unknown) => {
  if (typeof apiVersion !== 'string') return false;
  const [group, version] = apiVersion.split('/');
  return !!group && !!version && group in GROUP_MAP && CAPI_VERSIONS.has(version);
};

/** Whether any document is a Cluster API one (so `capstan apply` converts first). */
export const hasCapiDocuments = (docs: SourceDocument[]) => docs.some((d) => isCapi((d.content as Json | null)?.apiVersion));

/** `cluster.x-k8s.io/…` label and annotation keys as capstan's (`cluster.capstan.dev/…`). */
export function capstanKey(key: string): string {
  return key
    .replace(/^cluster\.x-k8s\.io\//, 'cluster.capstan.dev/')
    .replace(/^machinedeployment\.clusters\.x-k8s\.io\//, 'machinedeployment.cluster.capstan.dev/')
    .replace(/^(pre-drain|pre-terminate)\.delete\.hook\.machine\.cluster\.x-k8s\.io\//, '$1.delete.hook.machine.cluster.capstan.dev/');
}
const renameKeys = (m: Json | undefined) => (m ? Object.fromEntries(Object.entries(m).map(([k, v]) => [capstanKey(k), v])) : m);

/** The simulated cloud's kind for an infrastructure provider's (DockerMachineTemplate → SimMachineTemplate). */
function simKind(kind: string): string | undefined {
  if (kind.endsWith('MachineTemplate')) return 'SimMachineTemplate';
  if (kind.endsWith('ClusterTemplate')) return undefined;
  if (kind.endsWith('Cluster')) return 'SimCluster';
  if (kind.endsWith('Machine')) return 'SimMachine';
  return undefined;
}

export function convertDocuments(docs: SourceDocument[]): Conversion {
  const documents: Json[] = [];
  const notes: string[] = [];
  // The provider documents converted with these (a reference to one of them needs no note of its own).
  const inFile = new Set(docs.map((d) => d.content as Json).filter((o) => isCapi(o?.apiVersion)).map((o) => `${o.kind}/${o.metadata?.name}`));
  for (const d of docs) {
    const o = d.content as Json;
    if (!isCapi(o?.apiVersion)) {
      documents.push(o);
      continue;
    }
    const where = `${d.file}: document ${d.index} (${o.kind} "${o.metadata?.name ?? ''}")`;
    const note = (path: string, why: string) => notes.push(`${where}: ${path ? `${path}: ` : ''}${why}`);
    const [group, version] = (o.apiVersion as string).split('/') as [string, string];
    if (group === 'infrastructure.cluster.x-k8s.io') {
      const kind = simKind(o.kind);
      if (!kind) {
        note('', `an infrastructure provider's ${o.kind} has no counterpart in capstan's simulated cloud: not converted`);
        continue;
      }
      // Another provider's fields mean nothing to the simulated cloud: its defaults instead.
      if (hasFields(o.spec)) note('spec', `${o.kind}'s fields are the ${o.apiVersion} provider's: the ${kind} takes the simulated cloud's defaults`);
      documents.push({ apiVersion: `${GROUPS.infrastructure}/${VERSION}`, kind, metadata: metadata(o.metadata), spec: kind === 'SimMachineTemplate' ? { template: { spec: {} } } : {} });
      continue;
    }
    if (!CONVERTED_KINDS.has(o.kind)) {
      note('', `kind ${o.kind} (${group}) has no counterpart in capstan: not converted`);
      continue;
    }
    const spec = structuredClone(o.spec ?? {}) as Json;
    const out: Json = { apiVersion: `${GROUP_MAP[group]}/${VERSION}`, kind: o.kind, metadata: metadata(o.metadata), spec };
    if (version === 'v1beta1') fromV1beta1(o.kind, spec, note);
    renameLabelKeys(o.kind, spec);
    refs(spec, note, 'spec', o.metadata?.namespace, inFile);
    // What the controllers wrote is theirs: capstan's workflows write their own.
    if (hasFields(o.status)) note('status', 'written by the controllers, not carried over (capstan writes its own)');
    dropUnknown(out, note);
    documents.push(out);
  }
  return { documents, notes };
}

/** Whether a value holds anything but empty objects. */
function hasFields(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v as Json).some(hasFields);
  return true;
}

/** As YAML documents, for `capstan convert`. */
export const conversionYaml = (c: Conversion) => c.documents.map((doc) => stringify(doc)).join('---\n');

/** What the API server (and kubectl) set on an object it holds: not part of a manifest, dropped without a note. */
const SERVER_SET_METADATA = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'ownerReferences', 'finalizers'];

function metadata(m: Json | undefined): Json {
  const out: Json = { ...(m ?? {}) };
  for (const k of SERVER_SET_METADATA) delete out[k];
  if (out.annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _applied, ...rest } = out.annotations as Json;
    out.annotations = rest;
    if (!Object.keys(rest).length) delete out.annotations;
  }
  if (out.labels) out.labels = renameKeys(out.labels);
  if (out.annotations) out.annotations = renameKeys(out.annotations);
  return out;
}

/** A Kubernetes duration ("10s", "5m") as whole seconds. */
function seconds(text: unknown): number | undefined {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string') return undefined;
  const ms = parseDuration(text);
  return ms === undefined ? undefined : Math.round(ms / 1000);
}

/** Moves `from[key]` (a duration) to `to[as]` in seconds. */
function moveDuration(from: Json, key: string, to: Json, as: string, note: (path: string, why: string) => void, path: string): void {
  if (from[key] === undefined) return;
  const s = seconds(from[key]);
  if (s === undefined) note(`${path}${key}`, `"${from[key]}" is not a duration: not converted`);
  else to[as] = s;
  delete from[key];
}

/** Cluster API's v1beta1 → v1beta2 moves, as its conversion webhooks make them. */
function fromV1beta1(kind: string, spec: Json, note: (path: string, why: string) => void): void {
  const machineTimeouts = (m: Json, path: string) => {
    const deletion: Json = m.deletion ?? {};
    moveDuration(m, 'nodeDrainTimeout', deletion, 'nodeDrainTimeoutSeconds', note, path);
    moveDuration(m, 'nodeVolumeDetachTimeout', deletion, 'nodeVolumeDetachTimeoutSeconds', note, path);
    moveDuration(m, 'nodeDeletionTimeout', deletion, 'nodeDeletionTimeoutSeconds', note, path);
    if (Object.keys(deletion).length) m.deletion = deletion;
  };
  switch (kind) {
    case 'Machine':
      machineTimeouts(spec, 'spec.');
      break;
    case 'MachineSet':
    case 'MachineDeployment': {
      if (spec.template?.spec) machineTimeouts(spec.template.spec, 'spec.template.spec.');
      if (spec.deletePolicy !== undefined) {
        spec.deletion = { order: spec.deletePolicy };
        delete spec.deletePolicy;
      }
      if (kind === 'MachineSet' && spec.minReadySeconds !== undefined && spec.template?.spec) {
        spec.template.spec.minReadySeconds = spec.minReadySeconds;
        delete spec.minReadySeconds;
      }
      if (kind === 'MachineDeployment') {
        const rollout: Json = {};
        if (spec.strategy) {
          const { type, rollingUpdate } = spec.strategy as Json;
          rollout.strategy = { ...(type ? { type } : {}) };
          if (rollingUpdate) {
            const { deletePolicy, ...rest } = rollingUpdate as Json;
            rollout.strategy.rollingUpdate = rest;
            if (deletePolicy !== undefined) spec.deletion = { order: deletePolicy };
          }
          const remediation = (spec.strategy as Json).remediation as Json | undefined;
          if (remediation) {
            // v1beta1's spec.strategy.remediation is v1beta2's (and capstan's) spec.remediation.
            const { maxInFlight, ...other } = remediation;
            if (maxInFlight !== undefined) spec.remediation = { maxInFlight };
            for (const k of Object.keys(other)) note(`spec.strategy.remediation.${k}`, 'capstan has no such field: not converted');
          }
          delete spec.strategy;
        }
        if (spec.rolloutAfter !== undefined) {
          rollout.after = spec.rolloutAfter;
          delete spec.rolloutAfter;
        }
        if (Object.keys(rollout).length) spec.rollout = rollout;
      }
      break;
    }
    case 'MachineHealthCheck': {
      const checks: Json = {};
      moveDuration(spec, 'nodeStartupTimeout', checks, 'nodeStartupTimeoutSeconds', note, 'spec.');
      if (Array.isArray(spec.unhealthyConditions)) {
        checks.unhealthyNodeConditions = (spec.unhealthyConditions as Json[]).map((c) => ({ type: c.type, status: c.status, timeoutSeconds: seconds(c.timeout) ?? c.timeout }));
        delete spec.unhealthyConditions;
      }
      if (Object.keys(checks).length) spec.checks = checks;
      const remediation: Json = {};
      const triggerIf: Json = {};
      if (spec.maxUnhealthy !== undefined) triggerIf.unhealthyLessThanOrEqualTo = spec.maxUnhealthy;
      if (spec.unhealthyRange !== undefined) triggerIf.unhealthyInRange = spec.unhealthyRange;
      if (Object.keys(triggerIf).length) remediation.triggerIf = triggerIf;
      if (spec.remediationTemplate) remediation.templateRef = spec.remediationTemplate;
      delete spec.maxUnhealthy;
      delete spec.unhealthyRange;
      delete spec.remediationTemplate;
      if (Object.keys(remediation).length) spec.remediation = remediation;
      break;
    }
    case 'KubeadmControlPlane': {
      const mt = spec.machineTemplate as Json | undefined;
      if (mt) {
        const mspec: Json = mt.spec ?? {};
        if (mt.infrastructureRef) mspec.infrastructureRef = mt.infrastructureRef;
        delete mt.infrastructureRef;
        machineTimeouts(mt, 'spec.machineTemplate.');
        if (mt.deletion) mspec.deletion = mt.deletion;
        delete mt.deletion;
        mt.spec = mspec;
      }
      if (spec.rolloutStrategy) {
        spec.rollout = { strategy: spec.rolloutStrategy };
        delete spec.rolloutStrategy;
      }
      if (spec.rolloutAfter !== undefined) {
        spec.rollout = { ...(spec.rollout ?? {}), after: spec.rolloutAfter };
        delete spec.rolloutAfter;
      }
      if (spec.remediationStrategy) {
        const r = spec.remediationStrategy as Json;
        const remediation: Json = {};
        if (r.maxRetry !== undefined) remediation.maxRetry = r.maxRetry;
        moveDuration(r, 'retryPeriod', remediation, 'retryPeriodSeconds', note, 'spec.remediationStrategy.');
        moveDuration(r, 'minHealthyPeriod', remediation, 'minHealthyPeriodSeconds', note, 'spec.remediationStrategy.');
        spec.remediation = remediation;
        delete spec.remediationStrategy;
      }
      if (spec.kubeadmConfigSpec) kubeadmArgLists(spec.kubeadmConfigSpec);
      break;
    }
    case 'KubeadmConfig':
      kubeadmArgLists(spec);
      break;
    case 'KubeadmConfigTemplate':
      if (spec.template?.spec) kubeadmArgLists(spec.template.spec);
      break;
  }
}

/** v1beta1's `extraArgs: {k: v}` maps as v1beta2's `[{name, value}]` lists. */
function kubeadmArgLists(k: Json): void {
  const list = (m: unknown) => (m && !Array.isArray(m) && typeof m === 'object' ? Object.entries(m as Json).map(([name, value]) => ({ name, value: String(value) })) : m);
  const cc = k.clusterConfiguration as Json | undefined;
  for (const c of ['apiServer', 'controllerManager', 'scheduler', 'etcd']) if (cc?.[c]?.extraArgs) cc[c].extraArgs = list(cc[c].extraArgs);
  for (const c of ['initConfiguration', 'joinConfiguration']) {
    const nr = k[c]?.nodeRegistration as Json | undefined;
    if (nr?.kubeletExtraArgs) nr.kubeletExtraArgs = list(nr.kubeletExtraArgs);
  }
}

/** Label keys in selectors and templates, as capstan's. */
function renameLabelKeys(kind: string, spec: Json): void {
  const selector = spec.selector as Json | undefined;
  if (selector?.matchLabels) selector.matchLabels = renameKeys(selector.matchLabels);
  if (Array.isArray(selector?.matchExpressions)) for (const e of selector.matchExpressions as Json[]) e.key = capstanKey(String(e.key));
  const tm = (kind === 'KubeadmControlPlane' ? spec.machineTemplate?.metadata : spec.template?.metadata) as Json | undefined;
  if (tm?.labels) tm.labels = renameKeys(tm.labels);
  if (tm?.annotations) tm.annotations = renameKeys(tm.annotations);
}

/** Every object reference (`apiVersion` → `apiGroup`, Cluster API's groups → capstan's, a provider's kinds → the simulated cloud's). */
function refs(node: unknown, note: (path: string, why: string) => void, path: string, namespace: unknown, inFile: Set<string>): void {
  if (Array.isArray(node)) return node.forEach((v, i) => refs(v, note, `${path}[${i}]`, namespace, inFile));
  if (!node || typeof node !== 'object') return;
  const o = node as Json;
  for (const [k, v] of Object.entries(o)) {
    const at = `${path}.${k}`;
    if (/Ref$|^templateRef$|^configRef$/.test(k) && v && typeof v === 'object' && !Array.isArray(v) && 'kind' in v) {
      const r = v as Json;
      const group = typeof r.apiGroup === 'string' ? r.apiGroup : typeof r.apiVersion === 'string' ? r.apiVersion.split('/')[0] : undefined;
      const apiGroup = group && GROUP_MAP[group] ? GROUP_MAP[group] : group;
      const kind = group === 'infrastructure.cluster.x-k8s.io' ? (simKind(r.kind) ?? r.kind) : r.kind;
      // A provider's kind becomes the simulated cloud's (the document it names, when in the file,
      // is converted the same way and noted there).
      if (kind !== r.kind && !inFile.has(`${r.kind}/${r.name}`)) note(at, `${r.kind} is the ${group} provider's: it references the simulated cloud's ${kind} "${r.name}" instead, which must exist`);
      // capstan resolves a reference in the object's own namespace (as Cluster API's v1beta2 does).
      if (typeof r.namespace === 'string' && r.namespace !== (namespace ?? 'default')) note(`${at}.namespace`, `"${r.namespace}": a reference is resolved in the object's own namespace: not carried over`);
      o[k] = { apiGroup, kind, name: r.name };
    } else refs(v, note, at, namespace, inFile);
  }
}

/** Fields capstan's schema does not know: taken out, each reported. */
function dropUnknown(doc: Json, note: (path: string, why: string) => void): void {
  if (!Object.hasOwn(KINDS, doc.kind)) return;
  for (let round = 0; round < 20; round++) {
    const r = KINDS[doc.kind as KindName].schema().safeParse(doc);
    if (r.success) return;
    const unknown = r.error.issues.filter((i) => i.code === 'unrecognized_keys');
    // What remains wrong is the manifest's own, and `capstan apply` names it.
    if (!unknown.length) return;
    for (const issue of unknown) {
      let at: unknown = doc;
      for (const p of issue.path) at = (at as Json | undefined)?.[p as string];
      for (const k of issue.keys) {
        if (at && typeof at === 'object') delete (at as Json)[k];
        note(formatPath([...issue.path, k]), 'no counterpart in capstan: not carried over');
      }
    }
  }
}

/** A manifest's documents as capstan's kinds, for `capstan apply`: the files to read, and the notes. */
export function convertFiles(files: { file: string; docs: SourceDocument[] }[]): { files: { file: string; text: string }[]; notes: string[] } {
  const notes: string[] = [];
  const out = files.map((f) => {
    const c = convertDocuments(f.docs);
    notes.push(...c.notes);
    return { file: f.file, text: conversionYaml(c) };
  });
  return { files: out, notes };
}

