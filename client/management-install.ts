// Installs capstan into a management cluster: its CRDs (api/crd.ts, the same as config/crd) and
// optionally config/rbac, by server-side apply (field manager capstan), so installing again
// changes only what changed. Raw JSON: the typed client's serializer knows x-kubernetes-* only by
// its own camelCase names and would drop them (int-or-string, CEL rules, preserve-unknown-fields).
import https from 'node:https';
import { readdirSync, readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { customResourceDefinitions } from '../api/crd.js';
import { FIELD_MANAGER } from './object-mirror.js';

const RBAC_DIR = new URL('../config/rbac/', import.meta.url);

/** One request to the API server as the kubeconfig's user; the parsed JSON answer. */
export async function requestJson(kc: KubeConfig, method: string, urlPath: string, body?: unknown, contentType = 'application/json'): Promise<Record<string, unknown>> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig names no cluster');
  const opts: https.RequestOptions = { method, headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}) } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = https.request(`${server}${urlPath}`, opts, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        if ((res.statusCode ?? 500) < 300) return resolve(text ? JSON.parse(text) : {});
        let message = text;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          // not JSON: the text as it is
        }
        reject(Object.assign(new Error(`${method} ${urlPath}: ${res.statusCode} ${message}`), { code: res.statusCode }));
      });
    });
    req.on('error', reject);
    req.end(body !== undefined ? JSON.stringify(body) : undefined);
  });
}

const apply = (kc: KubeConfig, urlPath: string, body: unknown) =>
  requestJson(kc, 'PATCH', `${urlPath}?fieldManager=${FIELD_MANAGER}&force=true`, body, 'application/apply-patch+yaml');

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
  const crds = Object.values(customResourceDefinitions()) as { metadata: { name: string } }[];
  for (const crd of crds) await apply(kc, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`, crd);
  if (o.rbac) {
    for (const f of readdirSync(RBAC_DIR).sort()) {
      // The namespace first: a ServiceAccount's file may come before it.
      const docs = parseAllDocuments(readFileSync(new URL(f, RBAC_DIR), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
      for (const doc of docs.sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'))) await apply(kc, rbacPath(doc), doc);
    }
  }
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  for (const crd of crds) {
    for (;;) {
      const c = (await requestJson(kc, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`)) as { status?: { conditions?: { type: string; status: string }[] } };
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after ${o.timeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
