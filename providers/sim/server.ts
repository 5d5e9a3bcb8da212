// The simulated cloud's HTTP JSON API (node:http, no framework): routing, API latency, injected
// request faults, error rendering, one log line per request (never a body: user data holds keys).
//
//   GET    /healthz                                  200 { ok: true }
//   POST   /v1/clusters  { clientToken, name, region }   201 { cluster } | 200 same token | 409 IdempotentParameterMismatch
//   GET    /v1/clusters                              200 { clusters }
//   GET    /v1/clusters/:id                          200 { cluster } | 404 NotFound
//   DELETE /v1/clusters/:id                          202 { cluster } | 409 DependencyViolation (VMs not terminated)
//   POST   /v1/vms  { clientToken, clusterId, name, instanceType, userData(base64) }
//                                                    201 { vm } | 200 same token | 409 mismatch | 400 InvalidParameterValue
//                                                    (error.field names the field) | 400 InvalidClusterID.NotFound
//   GET    /v1/vms[?clusterId=]                      200 { vms }
//   GET    /v1/vms/:id[?waitForState=S&timeoutSeconds=N≤30]   200 { vm } (long poll)
//   DELETE /v1/vms/:id                               202 { vm } (shutting-down, then terminated)
//   POST   /v1/vms/:id/actions/{kill|node-not-ready|node-ready}   202 { vm }
//   GET    /v1/events?since=SEQ[&limit=N][&waitSeconds=N≤30]       200 { events }
//   GET    /v1/faults, PUT /v1/faults { throttleRate?, errorRate?, failAfterCommitRate?, neverBoot? }   200 { faults }
// Errors: { error: { code, message, field?, retryAfterMs? } }; 429 carries Retry-After (seconds).
// Cluster and VM endpoints get API latency and request faults; health, actions, events and
// faults get neither (they are how tests look and poke, so they must stay reliable).
import http from 'node:http';
import type { SimCloud } from './cloud.js';
import { ApiError, invalidParameter } from './errors.js';
import type { SimErrorBody } from './types.js';
import { parseSeq, parseTimeoutSeconds, parseVmState } from './validate.js';

const MAX_BODY_BYTES = 2 * 1024 * 1024;
const DEFAULT_LONG_POLL_SECONDS = 20;

interface RequestContext {
  url: URL;
  body: unknown;
  signal: AbortSignal;
}

interface Reply {
  status: number;
  body: unknown;
  /** A create that made something new (failAfterCommit applies only to those). */
  committedCreate?: boolean;
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  pattern: RegExp;
  /** Cloud API calls get latency and request faults; health, fault and event endpoints do not. */
  cloudApi: boolean;
  handler: (params: string[], ctx: RequestContext) => Promise<Reply> | Reply;
}

export function createSimServer(cloud: SimCloud, log: (message: string) => void): http.Server {
  const routes: Route[] = [
    { method: 'GET', pattern: /^\/healthz$/, cloudApi: false, handler: () => ({ status: 200, body: { ok: true } }) },

    { method: 'GET', pattern: /^\/v1\/clusters$/, cloudApi: true, handler: () => ({ status: 200, body: { clusters: cloud.listClusters() } }) },
    {
      method: 'POST',
      pattern: /^\/v1\/clusters$/,
      cloudApi: true,
      handler: async (_p, { body }) => {
        const { cluster, created } = await cloud.createCluster(body);
        return { status: created ? 201 : 200, body: { cluster }, committedCreate: created };
      },
    },
    { method: 'GET', pattern: /^\/v1\/clusters\/([^/]+)$/, cloudApi: true, handler: ([id]) => ({ status: 200, body: { cluster: cloud.getCluster(id!) } }) },
    { method: 'GET', pattern: /^\/v1\/clusters\/([^/]+)\/etcd$/, cloudApi: true, handler: async ([id]) => ({ status: 200, body: { etcd: await cloud.etcdEndpoint(id!) } }) },
    {
      method: 'DELETE',
      pattern: /^\/v1\/clusters\/([^/]+)$/,
      cloudApi: true,
      handler: async ([id]) => ({ status: 202, body: { cluster: await cloud.deleteCluster(id!) } }),
    },

    {
      method: 'GET',
      pattern: /^\/v1\/vms$/,
      cloudApi: true,
      handler: (_p, { url }) => ({ status: 200, body: { vms: cloud.listVms(url.searchParams.get('clusterId') ?? undefined) } }),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/vms$/,
      cloudApi: true,
      handler: (_p, { body }) => {
        const { vm, created } = cloud.createVm(body);
        return { status: created ? 201 : 200, body: { vm }, committedCreate: created };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/vms\/([^/]+)$/,
      cloudApi: true,
      handler: async ([id], { url, signal }) => {
        const wait = url.searchParams.get('waitForState');
        if (wait === null) return { status: 200, body: { vm: cloud.getVm(id!) } };
        const target = parseVmState(wait, 'waitForState');
        const seconds = parseTimeoutSeconds(url.searchParams.get('timeoutSeconds'), 'timeoutSeconds', DEFAULT_LONG_POLL_SECONDS);
        return { status: 200, body: { vm: await cloud.waitForVm(id!, target, seconds * 1000, signal) } };
      },
    },
    { method: 'DELETE', pattern: /^\/v1\/vms\/([^/]+)$/, cloudApi: true, handler: ([id]) => ({ status: 202, body: { vm: cloud.deleteVm(id!) } }) },

    // Fault injection and observation: never throttled, never delayed.
    {
      method: 'POST',
      pattern: /^\/v1\/vms\/([^/]+)\/actions\/([^/]+)$/,
      cloudApi: false,
      handler: async ([id, action]) => ({ status: 202, body: { vm: await cloud.vmAction(id!, action!) } }),
    },
    { method: 'GET', pattern: /^\/v1\/faults$/, cloudApi: false, handler: () => ({ status: 200, body: { faults: cloud.getFaults() } }) },
    { method: 'PUT', pattern: /^\/v1\/faults$/, cloudApi: false, handler: (_p, { body }) => ({ status: 200, body: { faults: cloud.setFaults(body) } }) },
    {
      method: 'GET',
      pattern: /^\/v1\/events$/,
      cloudApi: false,
      handler: async (_p, { url, signal }) => {
        const since = parseSeq(url.searchParams.get('since'), 'since');
        const limitText = url.searchParams.get('limit');
        const limit = limitText === null ? undefined : parseSeq(limitText, 'limit') || undefined;
        const waitSeconds = parseTimeoutSeconds(url.searchParams.get('waitSeconds'), 'waitSeconds', 0);
        if (waitSeconds > 0) await cloud.waitForEvents(since, waitSeconds * 1000, signal);
        return { status: 200, body: { events: cloud.eventsSince(since, limit) } };
      },
    },
  ];

  const server = http.createServer((req, res) => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    handle(method, url, req, res, abort.signal)
      .catch((err: unknown) => {
        if (err instanceof ApiError) return sendError(res, err.status, err.code, err.message, err.field);
        log(`internal error on ${method} ${url.pathname}: ${(err as Error).stack ?? String(err)}`);
        return sendError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      })
      .finally(() => log(`${method} ${url.pathname}${url.search} -> ${res.statusCode} ${Date.now() - started}ms`));
  });

  async function handle(method: string, url: URL, req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<void> {
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) {
      req.resume();
      throw new ApiError(404, 'NotFound', `no endpoint ${url.pathname}`);
    }
    const route = matching.find((r) => r.method === method);
    if (!route) {
      req.resume();
      res.setHeader('allow', matching.map((r) => r.method).join(', '));
      throw new ApiError(405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
    }
    const params = route.pattern.exec(url.pathname)!.slice(1).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        throw invalidParameter('path', 'is not valid percent-encoding');
      }
    });
    const body = method === 'POST' || method === 'PUT' ? await readJson(req) : (req.resume(), undefined);

    if (route.cloudApi) {
      const latency = cloud.apiLatencyMs();
      if (latency > 0) await new Promise((r) => setTimeout(r, latency));
      const fault = cloud.faultInjector.beforeRequest();
      if (fault === 'throttle') {
        const retryAfterMs = cloud.retryAfterMs();
        res.setHeader('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
        return sendError(res, 429, 'RequestLimitExceeded', 'Request limit exceeded.', undefined, retryAfterMs);
      }
      if (fault === 'error') {
        return sendError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
    }

    const reply = await route.handler(params, { url, body, signal });
    if (reply.committedCreate && cloud.faultInjector.failAfterCommit()) {
      log(`injected fault: ${method} ${url.pathname} committed, answering 500`);
      return sendError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    send(res, reply.status, reply.body);
  }

  return server;
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (tooLarge) return reject(new ApiError(413, 'RequestEntityTooLarge', `request body over ${MAX_BODY_BYTES} bytes`));
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        // Not the parser's message: it may quote the body.
        reject(invalidParameter('body', 'is not valid JSON'));
      }
    });
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string, field?: string, retryAfterMs?: number): void {
  const error: SimErrorBody['error'] = { code, message };
  if (field !== undefined) error.field = field;
  if (retryAfterMs !== undefined) error.retryAfterMs = retryAfterMs;
  send(res, status, { error });
}
