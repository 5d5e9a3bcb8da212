// One-shot HTTP(S) GETs used as readiness probes.
import http from 'node:http';
import https from 'node:https';

export interface GetOptions {
  /** PEM text (not paths) for HTTPS: the CA that must have signed the server cert, and a client cert. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Only for a self-signed serving cert of our own child on loopback; see kube-controller-manager.ts. */
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface GetResult {
  status: number;
  body: string;
}

/** GET `url`; resolves with status and body, rejects on connection errors and timeouts. */
export function httpGet(url: string, options: GetOptions = {}): Promise<GetResult> {
  const u = new URL(url);
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req =
      u.protocol === 'https:'
        ? https.get(
            u,
            {
              ca: options.ca,
              cert: options.cert,
              key: options.key,
              rejectUnauthorized: options.rejectUnauthorized ?? true,
              headers: options.headers,
              agent: false,
            },
            onResponse,
          )
        : http.get(u, { headers: options.headers, agent: false }, onResponse);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
