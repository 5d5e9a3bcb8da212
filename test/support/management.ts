// A management cluster for tests: the real kube-apiserver + etcd of client/management-api.ts with
// capstan's generated CRDs installed (config/crd), and raw JSON requests to it.
import { readdirSync, readFileSync } from 'node:fs';
import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { installCapstan } from '../../client/management-install.js';
import { ManagementClient } from '../../providers/management/client.js';

const CRD_DIR = new URL('../../config/crd/', import.meta.url);

export const crdFiles = () => readdirSync(CRD_DIR);
export const crds = () => crdFiles().map((f) => parseAllDocuments(readFileSync(new URL(f, CRD_DIR), 'utf8'))[0]!.toJS() as V1CustomResourceDefinition);

/** A JSON request as the kubeconfig's user; `post` makes it a POST of that body. */
export function fetchJson(kc: KubeConfig, urlPath: string, accept = 'application/json', post?: unknown): Promise<Record<string, unknown>> {
  return new ManagementClient(kc).request(post ? 'POST' : 'GET', urlPath, post, { accept });
}

/** Installs every CRD (the product's installer: server-side apply, then Established). */
export async function installCrds(kc: KubeConfig): Promise<void> {
  await installCapstan(kc);
}
