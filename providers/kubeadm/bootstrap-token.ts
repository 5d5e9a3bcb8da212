// Kubernetes bootstrap tokens (the `id.secret` a joining kubelet authenticates with) and the
// kube-system Secret that makes the API server accept one.
import { randomInt } from 'node:crypto';

export interface BootstrapToken {
  id: string;
  secret: string;
  /** `id.secret`, what kubeadm's JoinConfiguration and the bootstrap kubeconfig carry. */
  token: string;
  /** RFC 3339 UTC, whole seconds (the Secret's `expiration`). */
  expiresAt: string;
}

// kubeadm's alphabet and lengths (k8s.io/cluster-bootstrap/token/api).
const TOKEN_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const DEFAULT_BOOTSTRAP_TOKEN_TTL_SECONDS = 900; // Cluster API's 15 minutes
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

function randomTokenString(length: number): string {
  // randomInt rejection-samples, so every character is equally likely (no `byte % 36` bias).
  let out = '';
  for (let i = 0; i < length; i++) out += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return out;
}

/** RFC 3339 in UTC without fractional seconds (e.g. 2030-01-01T00:15:00Z). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function generateBootstrapToken(opts: { now: Date; ttlSeconds?: number }): BootstrapToken {
  const ttlSeconds = opts.ttlSeconds ?? DEFAULT_BOOTSTRAP_TOKEN_TTL_SECONDS;
  if (!(ttlSeconds > 0)) throw new Error(`bootstrap token TTL must be positive, got ${ttlSeconds}`);
  const id = randomTokenString(6);
  const secret = randomTokenString(16);
  return { id, secret, token: `${id}.${secret}`, expiresAt: rfc3339(new Date(opts.now.getTime() + ttlSeconds * 1000)) };
}

export function isBootstrapTokenFormat(value: string): boolean {
  return BOOTSTRAP_TOKEN_PATTERN.test(value);
}

/** Splits `id.secret`; throws on anything not in kubeadm's format. */
export function parseBootstrapToken(value: string): { id: string; secret: string } {
  const match = BOOTSTRAP_TOKEN_PATTERN.exec(value);
  if (!match) throw new Error('bootstrap token is not in the form [a-z0-9]{6}.[a-z0-9]{16}');
  return { id: match[1]!, secret: match[2]! };
}

export type BootstrapTokenUsage = 'signing' | 'authentication';

export interface BootstrapTokenSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: 'kube-system' };
  type: 'bootstrap.kubernetes.io/token';
  stringData: Record<string, string>;
}

/**
 * The Secret the API server's bootstrap authenticator and the bootstrap signer read:
 * `kube-system/bootstrap-token-<id>`. The token must live in the workload cluster.
 */
export function bootstrapTokenSecretManifest(
  token: Pick<BootstrapToken, 'id' | 'secret' | 'expiresAt'>,
  opts: { description?: string; usages?: BootstrapTokenUsage[]; extraGroups?: string[] } = {},
): BootstrapTokenSecret {
  parseBootstrapToken(`${token.id}.${token.secret}`);
  const usages = opts.usages ?? ['signing', 'authentication'];
  const extraGroups = opts.extraGroups ?? [DEFAULT_NODE_TOKEN_GROUP];
  for (const group of extraGroups) {
    // The authenticator rejects tokens with other groups (bootstrap token API validation).
    if (!/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(group)) {
      throw new Error(`bootstrap token group ${JSON.stringify(group)} must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]`);
    }
  }
  const stringData: Record<string, string> = {
    ...(opts.description ? { description: opts.description } : {}),
    'token-id': token.id,
    'token-secret': token.secret,
    expiration: token.expiresAt,
  };
  for (const usage of usages) stringData[`usage-bootstrap-${usage}`] = 'true';
  if (extraGroups.length) stringData['auth-extra-groups'] = extraGroups.join(',');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${token.id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    stringData,
  };
}

/**
 * Whether a token should get a new expiration: less than a third of its TTL remains.
 * (Current Cluster API refreshes earlier, when under 5/6 of the TTL remains, checking
 * every TTL/3; a third keeps refreshes rare while a booting node still has minutes.)
 */
export function tokenNeedsRefresh(expiresAt: string, now: Date, ttlSeconds: number = DEFAULT_BOOTSTRAP_TOKEN_TTL_SECONDS): boolean {
  const expiry = Date.parse(expiresAt);
  if (Number.isNaN(expiry)) throw new Error(`bootstrap token expiration ${JSON.stringify(expiresAt)} is not a timestamp`);
  return expiry - now.getTime() < (ttlSeconds * 1000) / 3;
}
