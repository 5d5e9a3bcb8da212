// kubeadm join's bootstrap-token discovery (k8s.io/kubernetes cmd/kubeadm/app/discovery/token):
// fetch kube-public/cluster-info anonymously WITHOUT trusting the server yet, check the detached
// JWS the bootstrap signer added for our token ID (HS256 keyed by the token secret: proof that
// the server knows our token), pin the CA in it against caCertHashes (sha256 of its SPKI), then
// fetch cluster-info again trusting only that CA and check it is the same. Retried while the API
// is unreachable or not yet signed, up to the discovery timeout.
import { createHmac, timingSafeEqual, X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { httpGet } from '../../../scripts/lib/probe.js';
import { caCertHash } from '../../kubeadm/pki/cluster-pki.js';
import { KubeadmPhaseError } from './certs.js';
import { errorMessage, seconds, sleep, throwIfAborted } from './util.js';

export interface DiscoveryInput {
  /** `host:port` from discovery.bootstrapToken.apiServerEndpoint. */
  apiServerEndpoint: string;
  tokenId: string;
  tokenSecret: string;
  caCertHashes: string[];
  unsafeSkipCAVerification?: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called on each failed attempt that will be retried (for logs; never carries the token). */
  onRetry?(reason: string): void;
}

export interface DiscoveryResult {
  /** The API server URL in cluster-info (kubeadm's controlPlaneEndpoint): what the node talks to from now on. */
  server: string;
  caPem: string;
}

class Permanent extends Error {}

const CLUSTER_INFO_PATH = '/api/v1/namespaces/kube-public/configmaps/cluster-info';

function base64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url');
}

/** Verifies a detached compact JWS (`header..signature`) over `content`, HS256 keyed by the token secret. */
export function detachedJwsIsValid(jws: string, content: string, tokenId: string, tokenSecret: string): boolean {
  const parts = jws.split('.');
  if (parts.length !== 3 || parts[1] !== '') return false;
  const [headerB64, , signatureB64] = parts as [string, string, string];
  let header: { alg?: string; kid?: string };
  try {
    header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  } catch {
    return false;
  }
  if (header.alg !== 'HS256' || header.kid !== tokenId) return false;
  const expected = createHmac('sha256', tokenSecret).update(`${headerB64}.${base64url(content)}`).digest();
  const given = Buffer.from(signatureB64, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What the bootstrap signer computes (for tests): `base64url({"alg":"HS256","kid":id})..sig`. */
export function computeDetachedJws(content: string, tokenId: string, tokenSecret: string): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const sig = createHmac('sha256', tokenSecret).update(`${header}.${base64url(content)}`).digest();
  return `${header}..${base64url(sig)}`;
}

interface ClusterInfo {
  kubeconfig: string;
  jws?: string;
}

async function fetchClusterInfo(endpoint: string, tokenId: string, ca?: string): Promise<ClusterInfo> {
  const url = `https://${endpoint}${CLUSTER_INFO_PATH}`;
  // The first fetch cannot verify the server (we do not know the CA yet): that is what the JWS
  // and the CA pin are for. The second one trusts exactly the pinned CA.
  const res = await httpGet(url, ca ? { ca, timeoutMs: 10_000 } : { rejectUnauthorized: false, timeoutMs: 10_000 });
  if (res.status !== 200) {
    let message = '';
    try {
      message = (JSON.parse(res.body) as { message?: string }).message ?? '';
    } catch {
      // not JSON
    }
    throw new Error(`failed to request the cluster-info ConfigMap: ${res.status}${message ? ` ${message}` : ''}`);
  }
  const cm = JSON.parse(res.body) as { data?: Record<string, string> };
  const kubeconfig = cm.data?.kubeconfig;
  if (!kubeconfig) throw new Error('there is no kubeconfig key in the cluster-info ConfigMap');
  return { kubeconfig, jws: cm.data?.[`jws-kubeconfig-${tokenId}`] };
}

function clusterFromKubeconfig(text: string): { server: string; caPem: string } {
  const config = parse(text) as { clusters?: Array<{ cluster?: { server?: string; 'certificate-authority-data'?: string } }> } | null;
  const cluster = config?.clusters?.[0]?.cluster;
  if (!cluster?.server || !cluster['certificate-authority-data']) throw new Permanent('the cluster-info kubeconfig has no server or certificate-authority-data');
  return { server: cluster.server, caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') };
}

function checkPins(caPem: string, pins: string[]): void {
  const certs = caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) throw new Permanent('cluster CA found in cluster-info ConfigMap is invalid: no certificate');
  const hashes = certs.map((pem) => {
    new X509Certificate(pem); // throws on garbage
    return caCertHash(pem);
  });
  const wanted = new Set(pins.map((p) => p.toLowerCase()));
  if (!hashes.some((h) => wanted.has(h))) {
    throw new Permanent(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${hashes.join(', ')}" are pinned`);
  }
}

/** Runs discovery; throws a KubeadmPhaseError("preflight") with kubeadm's wording when it gives up. */
export async function discoverCluster(input: DiscoveryInput): Promise<DiscoveryResult> {
  const { apiServerEndpoint: endpoint, tokenId, tokenSecret } = input;
  if (input.caCertHashes.length === 0 && !input.unsafeSkipCAVerification) {
    throw new KubeadmPhaseError(
      'preflight',
      'discovery.bootstrapToken: Invalid value: "": using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue',
    );
  }
  const deadline = Date.now() + input.timeoutMs;
  let lastError = 'no attempt made';
  let delay = 500;
  for (;;) {
    throwIfAborted(input.signal);
    try {
      const insecure = await fetchClusterInfo(endpoint, tokenId);
      if (!insecure.jws) throw new Error(`there is no JWS signed token in the cluster-info ConfigMap. This token id "${tokenId}" is invalid for this cluster, or the bootstrap signer has not signed it yet`);
      if (!detachedJwsIsValid(insecure.jws, insecure.kubeconfig, tokenId, tokenSecret)) {
        throw new Error(`failed to verify JWS signature of received cluster info object, can't trust this API Server`);
      }
      const { server, caPem } = clusterFromKubeconfig(insecure.kubeconfig);
      if (!input.unsafeSkipCAVerification || input.caCertHashes.length > 0) checkPins(caPem, input.caCertHashes);
      const secure = await fetchClusterInfo(endpoint, tokenId, caPem);
      if (secure.kubeconfig !== insecure.kubeconfig) throw new Permanent('the second cluster-info fetch (trusting the pinned CA) returned different contents');
      return { server, caPem };
    } catch (err) {
      if (err instanceof Permanent) throw new KubeadmPhaseError('preflight', `couldn't validate the identity of the API Server: ${err.message}`);
      const message = errorMessage(err);
      lastError = /cluster-info|JWS/.test(message) ? message : `failed to request the cluster-info ConfigMap from https://${endpoint}: ${message}`;
    }
    if (Date.now() >= deadline) {
      throw new KubeadmPhaseError(
        'preflight',
        `couldn't validate the identity of the API Server: ${lastError} (gave up after the discovery timeout of ${seconds(input.timeoutMs)})`,
      );
    }
    input.onRetry?.(lastError);
    await sleep(Math.min(delay, deadline - Date.now()), input.signal);
    delay = Math.min(delay * 2, 5000);
  }
}
