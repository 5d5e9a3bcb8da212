// A management cluster for tests: the real kube-apiserver + etcd of client/management-api.ts with
// capstan's generated CRDs installed (config/crd), raw JSON requests to it, and the whole setup of
// a watcher test (capstan, the management cluster, a watcher on it).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { startManagementApi, type ManagementApi } from '../../client/management-api.js';
import { installCapstan } from '../../client/management-install.js';
import { Watcher, type WatcherOptions } from '../../client/watcher.js';
import type { Client } from '@temporalio/client';
import { ManagementClient } from '../../providers/management/client.js';
import { startCapstanEnv, type CapstanEnv, type CapstanEnvOptions } from './capstan-env.js';

const CRD_DIR = new URL('../../config/crd/', import.meta.url);

export const crdFiles = () => readdirSync(CRD_DIR);
export const crds = () => crdFiles().map((f) => parseAllDocuments(readFileSync(new URL(f, CRD_DIR), 'utf8'))[0]!.toJS() as V1CustomResourceDefinition);

/** Each kind's group and plural, as its CRD serves it (the CustomObjectsApi's coordinates). */
export const crdResources = (): Record<string, { group: string; plural: string }> => Object.fromEntries(crds().map((c) => [c.spec.names.kind, { group: c.spec.group, plural: c.spec.names.plural }]));

/** A JSON request as the kubeconfig's user; `post` makes it a POST of that body. */
export function fetchJson(kc: KubeConfig, urlPath: string, accept = 'application/json', post?: unknown): Promise<Record<string, unknown>> {
  return new ManagementClient(kc).request(post ? 'POST' : 'GET', urlPath, post, { accept });
}

/** Installs every CRD (the product's installer: server-side apply, then Established). */
export async function installCrds(kc: KubeConfig): Promise<void> {
  await installCapstan(kc);
}

export interface Management {
  env: CapstanEnv;
  api: ManagementApi;
  kc: KubeConfig;
  objects: CustomObjectsApi;
  /** A directory of the test's own (removed by stop). */
  work: string;
  stop(): Promise<void>;
}

/** capstan (Temporal, the simulated cloud, a worker) and a management cluster with the CRDs installed. */
export async function startManagement(prefix: string, envOptions: CapstanEnvOptions = {}): Promise<Management> {
  const env = await startCapstanEnv(envOptions);
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const api = await startManagementApi(work);
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig);
  await installCrds(kc);
  return {
    env,
    api,
    kc,
    objects: kc.makeApiClient(CustomObjectsApi),
    work,
    async stop() {
      await api.stop();
      await env.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export interface WatchedManagement extends Management {
  watcher: Watcher;
  /** The watcher's log lines. */
  log: string[];
}

/** startManagement, and a watcher (500 ms passes) on it. */
export async function startWatchedManagement(prefix: string, o: Partial<WatcherOptions> = {}, envOptions: CapstanEnvOptions = {}): Promise<WatchedManagement> {
  const m = await startManagement(prefix, envOptions);
  const log: string[] = [];
  const watcher = new Watcher({ kubeconfig: m.kc, temporal: m.env.client, taskQueue: m.env.taskQueue, log: (l) => log.push(l), statusIntervalMs: 500, ...o });
  await watcher.start();
  return {
    ...m,
    watcher,
    log,
    async stop() {
      await watcher.stop();
      await m.stop();
    },
  };
}

/** How many runs the workflow has had (a second start of an object would be a second run). */
export async function workflowRuns(client: Client, workflowId: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) n++;
  return n;
}

/** Whether no object of these kinds is left in the namespace (`list` lists one kind's objects). */
export async function noneLeft(list: (kind: string) => Promise<unknown[]>, kinds: string[]): Promise<boolean> {
  for (const kind of kinds) if ((await list(kind)).length) return false;
  return true;
}
