// Typed client of the simulated cloud's HTTP API, for activities. It does not retry (Temporal's
// activity retry policy does, by the error's class); it only bounds each request in time.
import { SimNotFoundError, SimServerError, SimThrottledError, SimValidationError } from './errors.js';
import type {
  CreateClusterInput,
  CreateVmInput,
  SimCluster,
  SimErrorBody,
  SimEvent,
  SimFaults,
  SimVm,
  SimVmAction,
  SimVmState,
  SimEtcdEndpoint,
} from './types.js';

export { SimCloudError, SimNotFoundError, SimServerError, SimThrottledError, SimValidationError } from './errors.js';
export type {
  CreateClusterInput,
  CreateVmInput,
  SimAddress,
  SimBootstrapStatus,
  SimCluster,
  SimClusterState,
  SimEndpoint,
  SimEvent,
  SimFaults,
  SimInstanceType,
  SimVm,
  SimVmAction,
  SimVmState,
  SimEtcdEndpoint,
} from './types.js';
export { SIM_INSTANCE_TYPES } from './types.js';

export interface SimCloudClientOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Bound on one request, default 15 s; a long poll gets its own wait on top. */
  timeoutMs?: number;
}

export interface WaitOptions {
  /** How long the cloud holds the request, at most 30 (default 20). */
  timeoutSeconds?: number;
  /** Cancels the call (e.g. the activity's cancellationSignal); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Base64 of cloud-init text, as `createVm`'s `userData` wants it. */
export function encodeUserData(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export class SimCloudClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, options: SimCloudClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async healthz(): Promise<boolean> {
    const r = await this.request<{ ok: boolean }>('GET', '/healthz');
    return r.ok === true;
  }

  /** 201 for a new cluster, 200 with the existing one for a repeated clientToken (either way: the cluster). */
  async createCluster(input: CreateClusterInput): Promise<SimCluster> {
    return (await this.request<{ cluster: SimCluster }>('POST', '/v1/clusters', { body: input })).cluster;
  }

  async listClusters(): Promise<SimCluster[]> {
    return (await this.request<{ clusters: SimCluster[] }>('GET', '/v1/clusters')).clusters;
  }

  async getCluster(id: string): Promise<SimCluster> {
    return (await this.request<{ cluster: SimCluster }>('GET', `/v1/clusters/${enc(id)}`)).cluster;
  }

  /** Where the cluster's etcd members are reached (404 EtcdNotAvailable: none yet). */
  async getEtcdEndpoint(id: string): Promise<SimEtcdEndpoint> {
    return (await this.request<{ etcd: SimEtcdEndpoint }>('GET', `/v1/clusters/${enc(id)}/etcd`)).etcd;
  }

  /** Starts deletion (or returns the cluster already deleting/deleted). 409 DependencyViolation while VMs live. */
  async deleteCluster(id: string): Promise<SimCluster> {
    return (await this.request<{ cluster: SimCluster }>('DELETE', `/v1/clusters/${enc(id)}`)).cluster;
  }

  /** `input.userData` is base64 (see `encodeUserData`). Same clientToken → the same VM. */
  async createVm(input: CreateVmInput): Promise<SimVm> {
    return (await this.request<{ vm: SimVm }>('POST', '/v1/vms', { body: input })).vm;
  }

  async getVm(id: string): Promise<SimVm> {
    return (await this.request<{ vm: SimVm }>('GET', `/v1/vms/${enc(id)}`)).vm;
  }

  /**
   * One long-poll call: resolves with the VM once it is in `state`, or can no longer get there
   * (terminated; shutting-down while waiting for running), or when the wait times out — so check
   * `vm.state` and call again.
   */
  async waitForVmState(id: string, state: SimVmState, options: WaitOptions = {}): Promise<SimVm> {
    const seconds = Math.min(30, Math.max(0, options.timeoutSeconds ?? 20));
    const q = `waitForState=${enc(state)}&timeoutSeconds=${seconds}`;
    return (await this.request<{ vm: SimVm }>('GET', `/v1/vms/${enc(id)}?${q}`, { signal: options.signal, extraTimeoutMs: seconds * 1000 })).vm;
  }

  /** Starts termination (or returns the VM already shutting down/terminated). */
  async deleteVm(id: string): Promise<SimVm> {
    return (await this.request<{ vm: SimVm }>('DELETE', `/v1/vms/${enc(id)}`)).vm;
  }

  async listVms(filter: { clusterId?: string } = {}): Promise<SimVm[]> {
    const q = filter.clusterId !== undefined ? `?clusterId=${enc(filter.clusterId)}` : '';
    return (await this.request<{ vms: SimVm[] }>('GET', `/v1/vms${q}`)).vms;
  }

  /** Events with `seq > since`, oldest first. `waitSeconds` (≤ 30) holds the call until there is one. */
  async events(since = 0, options: { waitSeconds?: number; limit?: number; signal?: AbortSignal } = {}): Promise<SimEvent[]> {
    const params = new URLSearchParams({ since: String(since) });
    const wait = Math.min(30, Math.max(0, options.waitSeconds ?? 0));
    if (wait > 0) params.set('waitSeconds', String(wait));
    if (options.limit !== undefined) params.set('limit', String(options.limit));
    return (await this.request<{ events: SimEvent[] }>('GET', `/v1/events?${params}`, { signal: options.signal, extraTimeoutMs: wait * 1000 })).events;
  }

  async getFaults(): Promise<SimFaults> {
    return (await this.request<{ faults: SimFaults }>('GET', '/v1/faults')).faults;
  }

  /** Changes the given fault settings, keeps the others; returns all of them. */
  async setFaults(patch: Partial<SimFaults>): Promise<SimFaults> {
    return (await this.request<{ faults: SimFaults }>('PUT', '/v1/faults', { body: patch })).faults;
  }

  /** `kill`: the VM dies at once (terminated, stateReason killed); `node-not-ready` / `node-ready`: runtime fault. */
  async vmAction(id: string, action: SimVmAction): Promise<SimVm> {
    return (await this.request<{ vm: SimVm }>('POST', `/v1/vms/${enc(id)}/actions/${enc(action)}`)).vm;
  }

  private async request<T>(method: string, path: string, opts: { body?: unknown; signal?: AbortSignal; extraTimeoutMs?: number } = {}): Promise<T> {
    const what = `${method} ${path.split('?')[0]}`;
    const limitMs = this.timeoutMs + (opts.extraTimeoutMs ?? 0);
    const timeout = AbortSignal.timeout(limitMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    let status: number;
    let headers: Headers;
    let text: string;
    try {
      const res = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers: opts.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal,
      });
      status = res.status;
      headers = res.headers;
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      if (timeout.aborted) {
        throw new SimServerError(`${what}: no answer from the cloud within ${limitMs} ms`, { code: 'RequestTimeout', cause: err });
      }
      const code = transportCode(err);
      throw new SimServerError(`${what}: cannot reach the cloud at ${this.baseUrl} (${code})`, { code, cause: err });
    }

    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) {
      if (parsed === undefined || typeof parsed !== 'object' || parsed === null) {
        throw new SimServerError(`${what}: answer ${status} is not a JSON object`, { code: 'BadResponse', status });
      }
      return parsed as T;
    }

    const error = (parsed as Partial<SimErrorBody> | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `HTTP${status}`;
    const message = `${code}: ${typeof error?.message === 'string' ? error.message : `${what} answered ${status}`}`;
    if (status === 429) {
      const header = Number(headers.get('retry-after'));
      const retryAfterMs =
        typeof error?.retryAfterMs === 'number' ? error.retryAfterMs : Number.isFinite(header) && header > 0 ? header * 1000 : 1000;
      throw new SimThrottledError(message, retryAfterMs, { code, status });
    }
    if (status === 404) throw new SimNotFoundError(message, { code, status });
    if (status >= 400 && status < 500) throw new SimValidationError(message, { code, status, field: error?.field });
    throw new SimServerError(message, { code, status });
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** ECONNREFUSED, ECONNRESET, … from fetch's `cause` chain, or a generic name. */
function transportCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return 'ConnectionError';
}
