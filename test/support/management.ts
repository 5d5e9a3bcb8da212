// A management cluster for tests: the real kube-apiserver + etcd of client/management-api.ts with
// capstan's generated CRDs installed (config/crd), and raw JSON requests to it.
import https from 'node:https';
import { readdirSync, readFileSync } from 'node:fs';
import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { installCapstan } from '../../client/management-install.js';

const CRD_DIR = new URL('../../config/crd/', import.meta.url);

export const crdFiles = () => readdirSync(CRD_DIR);
export const crds = () => crdFiles().map((f) => parseAllDocuments(readFileSync(new URL(f, CRD_DIR), 'utf8'))[0]!.toJS() as V1CustomResourceDefinition);

/** A JSON request as the kubeconfig's user; `post` makes it a POST of that body. */
export async function fetchJson(kc: KubeConfig, urlPath: string, accept = 'application/json', post?: unknown): Promise<Record<string, unknown>> {
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const b64 = (s?: string) => Buffer.from(s ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const headers = { accept, ...(post ? { 'content-type': 'application/json' } : {}) };
    const req = https.request(`${cluster.server}${urlPath}`, { method: post ? 'POST' : 'GET', ca: b64(cluster.caData), cert: b64(user.certData), key: b64(user.keyData), headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${urlPath}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(post ? JSON.stringify(post) : undefined);
  });
}

/** Installs every CRD (the product's installer: server-side apply, then Established). */
export async function installCrds(kc: KubeConfig): Promise<void> {
  await installCapstan(kc);
}
