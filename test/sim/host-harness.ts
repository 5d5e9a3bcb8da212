// Test harness for the Kubernetes runtime: a real simulated cloud process, its event log, and
// clients for a workload cluster built from an admin kubeconfig signed by the cluster CA.
import { AppsV1Api, CertificatesV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, PolicyV1Api } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { adminKubeconfig } from '../../providers/kubeadm/kubeconfig.js';
import type { ClusterPki } from '../../providers/kubeadm/pki/cluster-pki.js';
import { SimCloudClient } from '../../providers/sim/client.js';
import { startSimCloud, type SimCloudProcess } from '../../providers/sim/launch.js';
import type { SimCluster, SimEvent } from '../../providers/sim/types.js';
import { httpGet, type GetResult } from '../../scripts/lib/probe.js';

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, pollMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The cloud process plus a copy of its event log, kept current by a long poll. */
export class CloudUnderTest {
  readonly events: SimEvent[] = [];
  private readonly abort = new AbortController();
  private poller: Promise<void> | undefined;

  private constructor(
    readonly proc: SimCloudProcess,
    readonly client: SimCloudClient,
  ) {}

  static async start(dataDir: string, extra: string[] = []): Promise<CloudUnderTest> {
    const proc = await startSimCloud({ dataDir, profile: 'test', runtime: 'kubernetes', extra, readyTimeoutMs: 120_000 });
    const cloud = new CloudUnderTest(proc, new SimCloudClient(proc.url, { timeoutMs: 30_000 }));
    cloud.poller = cloud.poll();
    return cloud;
  }

  private async poll(): Promise<void> {
    let since = 0;
    while (!this.abort.signal.aborted) {
      try {
        const batch = await this.client.events(since, { waitSeconds: 5, signal: this.abort.signal });
        for (const e of batch) {
          this.events.push(e);
          since = e.seq;
        }
      } catch {
        if (this.abort.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** The first event (after `afterSeq`) matching, waiting for it. */
  waitForEvent(what: string, match: (e: SimEvent) => boolean, timeoutMs: number, afterSeq = 0): Promise<SimEvent> {
    return until(what, () => this.events.find((e) => e.seq > afterSeq && match(e)), timeoutMs, 100);
  }

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  private async stopPolling(): Promise<void> {
    this.abort.abort();
    await this.poller;
  }

  async stop(): Promise<void> {
    await this.stopPolling();
    await this.proc.stop();
  }

  async kill9(): Promise<void> {
    await this.stopPolling();
    await this.proc.kill9();
  }
}

export interface WorkloadClients {
  server: string;
  core: CoreV1Api;
  certificates: CertificatesV1Api;
  coordination: CoordinationV1Api;
  apps: AppsV1Api;
  policy: PolicyV1Api;
  /** GET a path with the admin client certificate, verifying the cluster CA. */
  get(path: string): Promise<GetResult>;
}

/** Clients for the workload cluster through its load balancer, as `adminKubeconfig` (capstan's `<cluster>-kubeconfig`). */
export async function workloadClients(cluster: Pick<SimCluster, 'name' | 'endpoint'>, pki: ClusterPki): Promise<WorkloadClients> {
  const server = `https://${cluster.endpoint.host}:${cluster.endpoint.port}`;
  const text = await adminKubeconfig(pki.ca, { clusterName: cluster.name, server, now: new Date() });
  const kc = new KubeConfig();
  kc.loadFromString(text);
  const user = (parse(text) as { users: Array<{ user: Record<string, string> }> }).users[0]!.user;
  const tls = {
    ca: pki.ca.certPem,
    cert: Buffer.from(user['client-certificate-data']!, 'base64'),
    key: Buffer.from(user['client-key-data']!, 'base64'),
  };
  return {
    server,
    core: kc.makeApiClient(CoreV1Api),
    certificates: kc.makeApiClient(CertificatesV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    get: (path) => httpGet(server + path, { ...tls, timeoutMs: 5000 }),
  };
}

/** Reads VmRSS of a pid (Linux), in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
