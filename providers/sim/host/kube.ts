// Kubernetes API clients for the runtime, from @kubernetes/client-node: one identity (client
// certificate, bearer token or anonymous) against one server, verifying the cluster CA always.
import {
  ApiException,
  CertificatesV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  Observable,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type ConfigurationOptions,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { shareConnections } from '../../kubernetes/shared-connections.js';

export type Credentials = { certPem: string; keyPem: string } | { token: string } | { anonymous: true };

export interface KubeClients {
  server: string;
  /** The same identity as a KubeConfig, for what takes one (client-node's Watch). */
  config: KubeConfig;
  core: CoreV1Api;
  certificates: CertificatesV1Api;
  coordination: CoordinationV1Api;
  rbac: RbacAuthorizationV1Api;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function kubeClients(server: string, caPem: string, credentials: Credentials): KubeClients {
  const kc = new KubeConfig();
  const user =
    'certPem' in credentials
      ? { name: 'user', certData: b64(credentials.certPem), keyData: b64(credentials.keyPem) }
      : 'token' in credentials
        ? { name: 'user', token: credentials.token }
        : { name: 'user' };
  kc.loadFromOptions({
    clusters: [{ name: 'cluster', server, caData: b64(caPem), skipTLSVerify: false }],
    users: [user],
    contexts: [{ name: 'ctx', cluster: 'cluster', user: 'user' }],
    currentContext: 'ctx',
  });
  // One connection per kubelet, as a real kubelet keeps (client-node would open one per request).
  shareConnections(kc);
  return {
    server,
    config: kc,
    core: kc.makeApiClient(CoreV1Api),
    certificates: kc.makeApiClient(CertificatesV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

/**
 * Per-call options: a deadline (client-node sets none, and a request through a load balancer whose
 * backend vanished must not hang a kubelet's loop) and, for patches, the patch content type.
 */
export function callOptions(timeoutMs = 10_000, patch?: 'merge' | 'strategic', signal?: AbortSignal): ConfigurationOptions {
  const contentType = patch === 'merge' ? PatchStrategy.MergePatch : patch === 'strategic' ? PatchStrategy.StrategicMergePatch : undefined;
  const middleware: ObservableMiddleware = {
    pre: (ctx) => {
      const deadline = AbortSignal.timeout(timeoutMs);
      ctx.setSignal(signal ? AbortSignal.any([deadline, signal]) : deadline);
      if (contentType) ctx.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** The HTTP status of an API error, or undefined for a transport error (refused, reset, timeout). */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;
export const isAlreadyExists = (err: unknown) => statusOf(err) === 409;

/** A short, secret-free description of an API error: `403 Forbidden: <the server's message>`. */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiException) {
    let message = '';
    const body = err.body as unknown;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        message = body;
      }
    } else if (body && typeof body === 'object' && 'message' in body) {
      message = String((body as { message: unknown }).message);
    }
    return `${err.code}${message ? `: ${message.slice(0, 300)}` : ''}`;
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message;
    return detail && !err.message.includes(detail) ? `${err.message} (${detail})` : err.message;
  }
  return String(err);
}
