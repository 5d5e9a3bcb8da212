// The cloud's one etcd, shared by every workload cluster's kube-apiserver (each under its own
// --etcd-prefix=/clusters/<clusterId>/registry), as Kubernetes' own integration tests share one.
// Started on first need, with fsync on so a kill -9 of the cloud loses nothing it acknowledged, on
// ports chosen once and kept in runtime/state.json so a restart finds the same member again.
import { existsSync } from 'node:fs';
import { freePort } from '../../../scripts/lib/ports.js';
import { startEtcd, type EtcdServer } from '../../../scripts/lib/etcd.js';
import type { RuntimePaths, RuntimeStateStore } from './state.js';
import { errorMessage, sleep } from './util.js';

export function clusterEtcdPrefix(clusterId: string): string {
  return `/clusters/${clusterId}/registry`;
}

export interface SharedEtcdOptions {
  paths: RuntimePaths;
  store: RuntimeStateStore;
  log(message: string): void;
  /** Told once each time etcd (re)starts. */
  onStarted?(server: EtcdServer): void;
}

export class SharedEtcd {
  private server: EtcdServer | undefined;
  private starting: Promise<EtcdServer> | undefined;
  private closed = false;

  constructor(private readonly opts: SharedEtcdOptions) {}

  /** True when a previous run left an etcd data dir (so there may be keys to delete). */
  get hasData(): boolean {
    return existsSync(this.opts.paths.etcdDataDir);
  }

  get endpoint(): string | undefined {
    return this.server?.process.running ? this.server.endpoint : undefined;
  }

  /** The running etcd, starting it if needed. */
  async ensure(): Promise<EtcdServer> {
    if (this.closed) throw new Error('runtime is closing');
    if (this.server?.process.running) return this.server;
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<EtcdServer> {
    const { paths, store, log } = this.opts;
    let ports = store.etcdPorts;
    if (!ports) {
      ports = { clientPort: await freePort(), peerPort: await freePort() };
      store.setEtcdPorts(ports);
    }
    let server: EtcdServer;
    try {
      server = await startEtcd({ dataDir: paths.etcdDataDir, logFile: paths.etcdLog, durable: true, ...ports, name: 'sim-cloud' });
    } catch (err) {
      // The saved ports may have been taken by something else while the cloud was down. A
      // one-member etcd keeps its data when its URLs change, so move to fresh ports.
      log(`etcd did not start on its saved ports ${ports.clientPort}/${ports.peerPort} (${errorMessage(err).split('\n')[0]}); trying fresh ports`);
      ports = { clientPort: await freePort(), peerPort: await freePort() };
      server = await startEtcd({ dataDir: paths.etcdDataDir, logFile: paths.etcdLog, durable: true, ...ports, name: 'sim-cloud' });
      store.setEtcdPorts(ports);
    }
    store.recordProcess('etcd', server.process.pid, 'etcd');
    this.server = server;
    log(`etcd ready at ${server.endpoint} in ${server.process.readyAfterMs} ms (pid ${server.process.pid})`);
    this.opts.onStarted?.(server);
    void server.process.exited.then((info) => {
      if (this.server !== server) return;
      store.forgetProcess('etcd', server.process.pid);
      if (!this.closed) log(`etcd exited unexpectedly (code ${info.code}, signal ${info.signal}); it restarts on next use`);
    });
    return server;
  }

  /** Deletes every key under `prefix` through etcd's v3 JSON gateway. */
  async deletePrefix(prefix: string): Promise<number> {
    const server = await this.ensure();
    const key = Buffer.from(prefix, 'utf8');
    const rangeEnd = Buffer.from(key);
    rangeEnd[rangeEnd.length - 1] += 1; // prefix + 1 in the last byte: the end of the range
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await fetch(`${server.endpoint}/v3/kv/deleterange`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: key.toString('base64'), range_end: rangeEnd.toString('base64') }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { deleted?: string; error?: string; message?: string };
        if (!res.ok) throw new Error(`etcd deleterange answered ${res.status}: ${body.message ?? body.error ?? ''}`);
        return Number(body.deleted ?? 0);
      } catch (err) {
        lastError = err;
        await sleep(200 * (attempt + 1));
      }
    }
    throw new Error(`could not delete etcd keys under ${prefix}: ${errorMessage(lastError)}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => undefined);
    const server = this.server;
    this.server = undefined;
    if (server) {
      await server.stop({ timeoutMs: 10_000 });
      this.opts.store.forgetProcess('etcd', server.process.pid);
    }
  }
}
