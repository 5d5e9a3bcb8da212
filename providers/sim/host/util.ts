// Small helpers of the Kubernetes runtime: Go durations, service CIDRs, host:port, abortable waits.
import { isIP } from 'node:net';

/** Go's time.ParseDuration for the units kubeadm writes ("15m0s", "24h0m0s", "1.5h", "0s"); milliseconds. */
export function parseGoDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unitMs[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return Math.round(total);
}

/** The first address of a CIDR plus one (the `kubernetes` Service's ClusterIP): 10.96.0.0/12 → 10.96.0.1. */
export function firstServiceIp(cidrList: string): string {
  const cidr = cidrList.split(',')[0]!.trim();
  const [addr, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const version = isIP(addr ?? '');
  if (!addr || !version || !Number.isInteger(bits)) throw new Error(`invalid service CIDR ${JSON.stringify(cidr)}`);
  const width = version === 4 ? 32 : 128;
  if (bits < 0 || bits > width - 1) throw new Error(`service CIDR ${cidr} leaves no room for addresses`);
  const value = ipToBigInt(addr, version);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  return bigIntToIp((value & mask) + 1n, version);
}

function ipToBigInt(ip: string, version: number): bigint {
  if (version === 4) return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const [head = '', tail] = ip.split('::');
  const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.reduce((acc: bigint, g: number) => (acc << 16n) | BigInt(g), 0n);
}

function bigIntToIp(value: bigint, version: number): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** `host:port` or `[v6]:port`. */
export function splitHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new Error(`expected host:port, got ${JSON.stringify(text)}`);
  return { host: m[1]!, port };
}

export function hostPortUrl(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export class AbortedError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortedError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}

/** Resolves after `ms`, rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    // fetch failures hide the useful part (ECONNREFUSED, certificate errors) in `cause`.
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message && !err.message.includes(cause.message)) return `${err.message}: ${cause.message}`;
    return err.message;
  }
  return String(err);
}

/** Go-like `1.5s` for messages. */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits (the API server rejects three). */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Kubernetes Time: RFC 3339, whole seconds. */
export function kubeTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Waits for `p` (its rejection ignored) but no longer than `ms`. */
export async function waitAtMost(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** `v1.36.3` → [1, 36, 3] (a leading v optional); undefined when it is not a version. */
export function versionParts(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Orders Kubernetes versions (unparseable ones last). */
export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  if (!x || !y) return x ? -1 : y ? 1 : a.localeCompare(b);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}
