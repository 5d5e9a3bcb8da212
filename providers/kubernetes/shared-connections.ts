// One connection pool per KubeConfig, as client-go keeps one transport per rest.Config.
//
// @kubernetes/client-node 2.x builds a new undici Agent for every request it sends
// (KubeConfig.applySecurityAuthentication → createDispatcher, uncached), so every request opens
// its own TCP connection and does its own TLS handshake, and the connection then idles until the
// Agent's keep-alive timeout. A worker creating 1,000 machines opened 1,000 connections to one
// workload apiserver in a second; a simulated kubelet opened one per Lease renewal. This keeps the
// first dispatcher built for a (cluster, user) of a KubeConfig and hands it out again.
import type { KubeConfig } from '@kubernetes/client-node';

interface Dispatcher {
  close(): Promise<void>;
}

interface DispatcherFactory {
  createDispatcher?: (this: KubeConfig, cluster: { name: string; server: string } | null, agentOptions: unknown) => Dispatcher | undefined;
}

const shared = new WeakMap<KubeConfig, Map<string, Dispatcher>>();

/**
 * Makes every API client `kc` makes (now or later) share one connection pool per cluster and user.
 * Returns `kc`. Idempotent. Throws if client-node no longer builds its dispatchers where this
 * expects: the test of this module fails first on an upgrade that moves it.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  if (shared.has(kc)) return kc;
  const target = kc as unknown as DispatcherFactory;
  const create = target.createDispatcher;
  if (typeof create !== 'function') throw new Error('@kubernetes/client-node: KubeConfig.createDispatcher is gone; providers/kubernetes/shared-connections.ts must follow it');
  const pools = new Map<string, Dispatcher>();
  shared.set(kc, pools);
  target.createDispatcher = function (this: KubeConfig, cluster, agentOptions) {
    // The TLS material comes from the cluster (CA) and the user (client certificate); a token is a header.
    const key = JSON.stringify([cluster?.name, cluster?.server, this.getCurrentUser()?.name]);
    let d = pools.get(key);
    if (!d) {
      d = create.call(this, cluster, agentOptions);
      if (!d) return undefined;
      pools.set(key, d);
    }
    return d;
  };
  return kc;
}

/** Closes the pools `kc` shares (in-flight requests finish first); its clients open new ones if used again. */
export async function closeConnections(kc: KubeConfig): Promise<void> {
  const pools = shared.get(kc);
  if (!pools) return;
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((d) => d.close().catch(() => undefined)));
}
