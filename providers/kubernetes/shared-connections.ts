// One connection pool per KubeConfig, as client-go keeps one transport per rest.Config.
//
// @kubernetes/client-node 2.x builds a new undici Agent for every request it sends
// (KubeConfig.applySecurityAuthentication → createDispatcher, uncached), so every request opens
// its own TCP connection and does its own TLS handshake, and the connection then idles until the
// Agent's keep-alive timeout. A worker creating 1,000 machines opened 1,000 connections to one
// workload apiserver in a second; a simulated kubelet opened one per Lease renewal. This keeps the
// first dispatcher built for a (cluster, user) of a KubeConfig and hands it out again.
//
// That dispatcher is built here as client-go's transport would be, with two changes to what
// client-node builds:
// - an idle connection is kept for KEEP_ALIVE_MS (client-go: 90 s), not undici's default 4 s, so
//   a client that calls every 10 s (a kubelet's Lease) keeps its connection instead of doing a
//   TLS handshake per call; kube-apiserver closes idle HTTP/1.1 connections after 90 s;
// - its TLS material (CA, client certificate and key) is parsed once into one SecureContext,
//   where client-node's options make Node parse all three again for every new connection.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';

interface Dispatcher {
  close(): Promise<void>;
}

type DispatcherOptions = { type: 'agent'; connect: Record<string, unknown> & { ca?: unknown; cert?: unknown; key?: unknown; pfx?: unknown } } | { type: string };

interface DispatcherFactory {
  createDispatcher?: (this: KubeConfig, cluster: { name: string; server: string } | null, agentOptions: unknown) => Dispatcher | undefined;
  createDispatcherOptions?: (this: KubeConfig, cluster: { name: string; server: string } | null, agentOptions: unknown) => DispatcherOptions;
}

/** How long an idle connection is kept: below kube-apiserver's 90 s idle timeout. */
export const KEEP_ALIVE_MS = 60_000;

type AgentClass = new (options: { connect: Record<string, unknown>; keepAliveTimeout: number; keepAliveMaxTimeout: number }) => Dispatcher;

/**
 * The dispatcher client-node would build, with connections kept KEEP_ALIVE_MS and one SecureContext.
 * A proxy, a SOCKS proxy or a plain HTTP server get client-node's own, unchanged.
 */
function buildDispatcher(kc: KubeConfig, keepAliveMs: number, create: NonNullable<DispatcherFactory['createDispatcher']>, cluster: Parameters<NonNullable<DispatcherFactory['createDispatcher']>>[0], agentOptions: unknown): Dispatcher | undefined {
  const target = kc as unknown as DispatcherFactory;
  const made = create.call(kc, cluster, agentOptions);
  const opts = target.createDispatcherOptions?.call(kc, cluster, agentOptions);
  if (!made || opts?.type !== 'agent' || !('connect' in opts)) return made;
  // The undici Agent class client-node uses (its own copy of undici), from the one it just built.
  const Agent = (made as unknown as { constructor: AgentClass }).constructor;
  void made.close();
  const { ca, cert, key, pfx, passphrase, ...rest } = opts.connect as Record<string, unknown>;
  let secureContext: SecureContext | undefined;
  type Pem = string | Buffer | undefined;
  if (pfx === undefined) secureContext = createSecureContext({ ca: ca as Pem, cert: cert as Pem, key: key as Pem, passphrase: passphrase as string | undefined });
  const connect = secureContext ? { ...rest, secureContext } : opts.connect;
  return new Agent({ connect, keepAliveTimeout: keepAliveMs, keepAliveMaxTimeout: keepAliveMs });
}

const shared = new WeakMap<KubeConfig, Map<string, Dispatcher>>();

/**
 * Makes every API client `kc` makes (now or later) share one connection pool per cluster and user.
 * Returns `kc`. Idempotent. Throws if client-node no longer builds its dispatchers where this
 * expects: the test of this module fails first on an upgrade that moves it.
 */
export function shareConnections(kc: KubeConfig, { keepAliveMs = KEEP_ALIVE_MS }: { keepAliveMs?: number } = {}): KubeConfig {
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
      d = buildDispatcher(this, keepAliveMs, create, cluster, agentOptions);
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
