// Raw JSON requests to the management cluster (the API server capstan's CRDs live in): for kinds
// capstan does not know in advance (an external remediation provider's; found through discovery,
// as kubectl finds them), and for what the typed client would drop (a CRD's x-kubernetes-* fields,
// which its serializer knows only by its own camelCase names).
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export class ManagementApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ManagementApiError';
  }
}

export class ManagementClient {
  private readonly resources = new Map<string, Promise<{ version: string; plural: string }>>();

  constructor(private readonly kc: KubeConfig) {}

  /** `contentType` for a PATCH (e.g. application/apply-patch+yaml), `accept` for another form (a Table). */
  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, o: { contentType?: string; accept?: string } = {}): Promise<T> {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error('the management kubeconfig names no cluster');
    const url = new URL(path, server);
    const opts: https.RequestOptions = { method, headers: { accept: o.accept ?? 'application/json', ...(body ? { 'content-type': o.contentType ?? 'application/json' } : {}) }, timeout: 15_000 };
    await this.kc.applyToHTTPSOptions(opts);
    return new Promise<T>((resolve, reject) => {
      const req = https.request(url, opts, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          if (status < 300) return resolve((text ? JSON.parse(text) : {}) as T);
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            // not JSON: the text is the message
          }
          reject(new ManagementApiError(status, `${method} ${path}: ${status} ${message}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 15 s`)));
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  }

  /** The served version and plural of `kind` in `group` (discovery; the group's preferred version). */
  resource(group: string, kind: string): Promise<{ version: string; plural: string }> {
    const key = `${group}/${kind}`;
    let r = this.resources.get(key);
    if (!r) {
      r = (async () => {
        const g = await this.request<{ preferredVersion?: { version: string } }>('GET', `/apis/${group}`).catch((err: unknown) => {
          if (err instanceof ManagementApiError && err.status === 404) throw new ManagementApiError(404, `the management cluster serves no API group ${group}`);
          throw err;
        });
        const version = g.preferredVersion?.version;
        if (!version) throw new ManagementApiError(404, `the management cluster serves no version of ${group}`);
        const list = await this.request<{ resources: { name: string; kind: string }[] }>('GET', `/apis/${group}/${version}`);
        const res = list.resources.find((x) => x.kind === kind && !x.name.includes('/'));
        if (!res) throw new ManagementApiError(404, `the management cluster serves no kind ${kind} in ${group}/${version}`);
        return { version, plural: res.name };
      })();
      r.catch(() => this.resources.delete(key));
      this.resources.set(key, r);
    }
    return r;
  }
}
