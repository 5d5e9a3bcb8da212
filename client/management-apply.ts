// The CLI with a management cluster: `capstan apply -f` writes the objects there (server-side
// apply, field manager capstan) and the watcher acts on them, so both paths meet in one place;
// `delete cluster`, `scale` and `rollout pause|resume|restart` change the objects as kubectl
// would. The objects stay the truth: a change sent to a workflow behind the watcher's back would
// be undone by its next pass.
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { customObjectAt } from '../api/crd.js';
import { KINDS, type KindName } from '../api/kinds.js';
import { loadManagementConfig } from '../workers/config.js';
import { ApplyError, loadPlan } from './apply.js';
import type { SpecChange } from './machine-deployments.js';
import { readDocuments } from './manifests.js';
import { asManifest, type CapstanObject, madeByOwner } from './object-manifest.js';
import { FIELD_MANAGER } from './object-mirror.js';

/**
 * The management cluster the CLI writes to: --kubeconfig, else CAPSTAN_MANAGEMENT_KUBECONFIG (the
 * worker's setting; `capstan dev` sets it for its own), else KUBECONFIG. None: undefined, and the
 * CLI talks to Temporal directly.
 */
export function managementKubeconfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig | undefined {
  const setting = flag ?? env.CAPSTAN_MANAGEMENT_KUBECONFIG ?? env.KUBECONFIG;
  if (!setting) return undefined;
  const kc = new KubeConfig();
  loadManagementConfig(kc, setting);
  return kc;
}

const api = (kc: KubeConfig) => kc.makeApiClient(CustomObjectsApi);

/** What the API server said, as one line naming the object (a refusal by the schema or a CEL rule names the field). */
function refusal(err: unknown, what: string): Error {
  const body = (err as { body?: unknown }).body;
  const message = typeof body === 'string' ? ((): string => {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  })() : (body as { message?: string } | undefined)?.message;
  return new ApplyError(`${what}: ${message ?? (err as Error).message}`);
}

/**
 * Validates every document as `capstan apply` does (nothing is written when one is wrong), then
 * server-side applies each, in the manifest's order. Lines as kubectl's `serverside-applied`.
 * References resolve against the documents and what the management cluster already holds (a
 * MachineDeployment applied alone uses the templates already there), as the watcher resolves them.
 */
export async function applyToManagement(kc: KubeConfig, files: { file: string; text: string }[]): Promise<string[]> {
  const docs = files.flatMap((f) => readDocuments(f.file, f.text));
  const applied = new Set(docs.map((d) => objectId(d.content as CapstanObject)));
  const namespaces = [...new Set(docs.map((d) => (d.content as CapstanObject).metadata?.namespace ?? 'default'))];
  const held = (await Promise.all(namespaces.map((ns) => heldObjects(kc, ns)))).flat().filter((o) => !applied.has(objectId(o)));
  loadPlan([...files, ...(held.length ? [{ file: '(the management cluster)', text: held.map((o) => stringify(asManifest(o))).join('---\n') }] : [])]);
  const lines: string[] = [];
  for (const doc of docs) {
    const o = doc.content as { apiVersion: string; kind: KindName; metadata: { name: string; namespace?: string } };
    const namespace = o.metadata.namespace ?? 'default';
    const what = `${o.kind.toLowerCase()}.${KINDS[o.kind].group}/${o.metadata.name}`;
    try {
      await api(kc).patchNamespacedCustomObject(
        { ...customObjectAt(o.kind, namespace, o.metadata.name), body: { ...o, metadata: { ...o.metadata, namespace } }, fieldManager: FIELD_MANAGER, force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    } catch (err) {
      throw refusal(err, what);
    }
    lines.push(`${what} serverside-applied`);
  }
  return lines;
}

const objectId = (o: CapstanObject) => `${o.kind}/${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;

/** The kinds a document references (a Cluster its control plane and infrastructure; a deployment its templates…). */
const REFERENCED: KindName[] = ['KubeadmControlPlane', 'SimCluster', 'SimMachineTemplate', 'KubeadmConfigTemplate', 'KubeadmConfig', 'SimMachine'];

/**
 * A namespace's objects of the kinds documents reference, of the user's own (not those the
 * workflows made) and live. (Only those: a broken deployment already there does not stop the
 * apply of another; the watcher tells its refusal on it.)
 */
async function heldObjects(kc: KubeConfig, namespace: string): Promise<CapstanObject[]> {
  const lists = await Promise.all(
    REFERENCED.map(async (kind) => {
      const { group, version, plural } = customObjectAt(kind, namespace, '');
      try {
        return ((await api(kc).listNamespacedCustomObject({ group, version, plural, namespace })) as { items: CapstanObject[] }).items;
      } catch (err) {
        throw refusal(err, `listing ${plural} in namespace "${namespace}"`);
      }
    }),
  );
  return lists.flat().filter((o) => !madeByOwner(o) && !o.metadata?.deletionTimestamp);
}

/** Deletes the Cluster object; the watcher deletes the cluster and then lets the object go. */
export async function deleteClusterObject(kc: KubeConfig, namespace: string, name: string, wait: boolean, progress: (line: string) => void, pollMs = 1000): Promise<string> {
  const what = `cluster.cluster.capstan.dev "${name}"`;
  const objects = api(kc);
  try {
    await objects.deleteNamespacedCustomObject(customObjectAt('Cluster', namespace, name));
  } catch (err) {
    if ((err as { code?: number }).code === 404) throw new ApplyError(`clusters.cluster.capstan.dev "${name}" not found in namespace "${namespace}"`);
    throw refusal(err, what);
  }
  if (!wait) return `${what} deletion started`;
  progress(`${what} deleting (workers, then control plane, then infrastructure)...`);
  for (;;) {
    const gone = await objects
      .getNamespacedCustomObject(customObjectAt('Cluster', namespace, name))
      .then(() => false, (err: { code?: number }) => (err.code === 404 ? true : Promise.reject(err)));
    if (gone) return `${what} deleted`;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** kubectl's `scale` (the scale subresource) and `rollout pause|resume|restart` on a MachineDeployment object. */
export async function changeDeploymentObject(kc: KubeConfig, namespace: string, name: string, change: SpecChange): Promise<string> {
  const what = `machinedeployment.cluster.capstan.dev/${name}`;
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  try {
    if (change.verb === 'scale') {
      await api(kc).patchNamespacedCustomObjectScale({ ...customObjectAt('MachineDeployment', namespace, name), body: { spec: { replicas: change.replicas } } }, merge);
      return `${what} scaled`;
    }
    const spec = change.verb === 'restart' ? { rollout: { after: change.now.toISOString() } } : { paused: change.verb === 'pause' };
    await api(kc).patchNamespacedCustomObject({ ...customObjectAt('MachineDeployment', namespace, name), body: { spec } }, merge);
    return `${what} ${change.verb === 'restart' ? 'restarted' : change.verb === 'pause' ? 'paused' : 'resumed'}`;
  } catch (err) {
    if ((err as { code?: number }).code === 404) throw new ApplyError(`machinedeployments.cluster.capstan.dev "${name}" not found in namespace "${namespace}"`);
    throw refusal(err, what);
  }
}
