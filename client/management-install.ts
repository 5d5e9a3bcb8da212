// Installs capstan into a management cluster: its CRDs (api/crd.ts, the same as config/crd) and
// optionally config/rbac, by server-side apply (field manager capstan), so installing again
// changes only what changed. Raw JSON (providers/management/client.ts): the typed client would
// drop the CRDs' x-kubernetes-* fields (int-or-string, CEL rules, preserve-unknown-fields).
import { readdirSync, readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { customResourceDefinitions } from '../api/crd.js';
import { ManagementClient } from '../providers/management/client.js';
import { FIELD_MANAGER } from './object-mirror.js';

const RBAC_DIR = new URL('../config/rbac/', import.meta.url);

const apply = (api: ManagementClient, urlPath: string, body: unknown) =>
  api.request('PATCH', `${urlPath}?fieldManager=${FIELD_MANAGER}&force=true`, body, { contentType: 'application/apply-patch+yaml' });

/** Where each kind of config/rbac lives. */
function rbacPath(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  const { name, namespace } = o.metadata;
  switch (o.kind) {
    case 'Namespace':
      return `/api/v1/namespaces/${name}`;
    case 'ServiceAccount':
      return `/api/v1/namespaces/${namespace}/serviceaccounts/${name}`;
    case 'ClusterRole':
      return `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`;
    case 'ClusterRoleBinding':
      return `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`;
    default:
      throw new Error(`config/rbac: no place for a ${o.kind}`);
  }
}

/** Applies every CRD (and config/rbac when asked) and waits until each CRD is Established. */
export async function installCapstan(kc: KubeConfig, o: { rbac?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const api = new ManagementClient(kc);
  const crds = Object.values(customResourceDefinitions()) as { metadata: { name: string } }[];
  for (const crd of crds) await apply(api, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd);
  if (o.rbac) {
    for (const f of readdirSync(RBAC_DIR).sort()) {
      // The namespace first: a ServiceAccount's file may come before it.
      const docs = parseAllDocuments(readFileSync(new URL(f, RBAC_DIR), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
      for (const doc of docs.sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'))) await apply(api, rbacPath(doc), doc);
    }
  }
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (const crd of crds) {
    for (;;) {
      const c = await api.request<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after ${o.timeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
