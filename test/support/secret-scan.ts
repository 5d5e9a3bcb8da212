// Finds secrets where they must never be: in workflow histories and in process logs.
//
// A history is scanned payload by payload, each decoded with the client's payload converter
// (a payload's bytes are what a secret would hide in; stringifying the protobuf History turns
// them into base64 first), and every other field as text. What counts as a secret is, first,
// anything that looks like one (a PEM private key, a kubeadm bootstrap token, a kubeconfig's
// client key) and, second, every piece of key material and every token the secret store holds
// (each line of each private key, each token's secret half), so a leak in any encoding that
// keeps a line intact is caught. A finding names where and what kind, never the secret.
import { readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type PayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { parse } from 'yaml';
import { FileSecretStore } from '../../providers/secrets/file-store.js';
import { secretsDir } from '../../workers/config.js';

export interface SecretFinding {
  /** `<workflowId> (run <runId>) event <id> <attribute path>`, or `<log file>:<line>`. */
  where: string;
  /** A pattern (`private-key-pem`, `bootstrap-token`, `kubeconfig-client-key`) or a needle's origin (`store:default/demo-ca tls.key line 3`). */
  kind: string;
}

/** A string that must appear nowhere, and where it comes from (printed instead of it). */
export interface Needle {
  text: string;
  origin: string;
}

const PATTERNS: { kind: string; re: RegExp }[] = [
  { kind: 'private-key-pem', re: /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/ },
  // kubeadm's token format, not inside a longer word (bootstrap-token-<id> names are public).
  { kind: 'bootstrap-token', re: /(?<![A-Za-z0-9])[a-z0-9]{6}\.[a-z0-9]{16}(?![A-Za-z0-9])/ },
  { kind: 'kubeconfig-client-key', re: /client-key-data["']?\s*[:=]\s*["']?[A-Za-z0-9+/]{16}/ },
];
const PEM_PRIVATE_KEY_BLOCK = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----([\s\S]*?)-----END \1PRIVATE KEY-----/g;
const TOKEN_GLOBAL = /(?<![A-Za-z0-9])([a-z0-9]{6})\.([a-z0-9]{16})(?![A-Za-z0-9])/g;
/** Long base64 runs are decoded once more: a key or token base64-encoded (a kubeconfig's client-key-data, a Secret's data) is still found. */
const BASE64_RUN = /[A-Za-z0-9+/]{40,}={0,2}/g;
/** Shorter lines (a PEM's last line can be a few characters) are not distinctive enough to be needles. */
const MIN_NEEDLE = 16;

/** The needles in one secret value: private-key lines, token secrets, kubeconfig client keys. */
function needlesIn(value: string, origin: string, add: (text: string, origin: string) => void): void {
  const texts = [value];
  // Parsed YAML (kubeconfig, cloud-init) yields its strings unescaped and unindented.
  try {
    const parsed: unknown = parse(value);
    if (parsed !== null && typeof parsed === 'object') collectStrings(parsed, texts);
  } catch {
    // not YAML: the raw text is all there is
  }
  for (const text of texts) {
    let line = 0;
    for (const m of text.matchAll(PEM_PRIVATE_KEY_BLOCK)) {
      for (const part of m[2]!.split(/\s+/)) {
        // Encrypted PEM headers (Proc-Type:, DEK-Info:) are not key material.
        if (part.length >= MIN_NEEDLE && /^[A-Za-z0-9+/=]+$/.test(part)) add(part, `${origin} line ${++line}`);
      }
    }
    for (const m of text.matchAll(TOKEN_GLOBAL)) add(m[2]!, origin.endsWith(' token') ? `${origin} secret` : `${origin} token secret`);
  }
  if (/client-key-data/.test(value)) {
    try {
      const kubeconfig = parse(value) as { users?: { name?: string; user?: Record<string, string> }[] };
      for (const u of kubeconfig.users ?? []) {
        const key = u.user?.['client-key-data'];
        if (!key) continue;
        add(key, `${origin} client-key-data of ${u.name ?? 'a user'}`);
        needlesIn(Buffer.from(key, 'base64').toString('utf8'), `${origin} client-key-data of ${u.name ?? 'a user'}`, add);
      }
    } catch {
      // not a kubeconfig
    }
  }
}

function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out);
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) (out.push(k), collectStrings(v, out));
}

/**
 * Every secret string the store under `dataDir` holds, read through the store's own API: each
 * line of every private key (CA, etcd, front-proxy and service-account keys; the same lines
 * embedded in bootstrap data), each bootstrap token's secret half, each kubeconfig's
 * client-key-data. A needle's origin prefers the secret that owns the key (`tls.key`) over
 * the bootstrap data that embeds it.
 */
export async function storeNeedles(dataDir: string): Promise<Needle[]> {
  const store = new FileSecretStore(secretsDir(dataDir));
  const secrets: { ref: string; data: Record<string, string> }[] = [];
  for (const ns of await readdir(secretsDir(dataDir)).catch(() => [] as string[])) {
    for (const { name, secret } of await store.list(ns, {})) secrets.push({ ref: `${ns}/${name}`, data: secret.data });
  }
  const needles = new Map<string, string>();
  const add = (text: string, origin: string) => {
    if (text.length >= MIN_NEEDLE && !needles.has(text)) needles.set(text, origin);
  };
  // Owners first (tls.key, token), then values that embed them (kubeconfig, bootstrap data).
  for (const pass of [(k: string) => k !== 'value', (k: string) => k === 'value']) {
    for (const { ref, data } of secrets) {
      for (const [k, v] of Object.entries(data)) if (pass(k)) needlesIn(v, `store:${ref} ${k}`, add);
    }
  }
  return [...needles].map(([text, origin]) => ({ text, origin }));
}

/** The kinds of secret in one piece of text (patterns, then needle origins). */
export function secretKinds(text: string, needles: readonly Needle[]): string[] {
  const kinds = new Set<string>();
  if (text.length < MIN_NEEDLE) return []; // shorter than any needle or pattern
  const look = (t: string) => {
    for (const p of PATTERNS) if (p.re.test(t)) kinds.add(p.kind);
    for (const n of needles) if (t.includes(n.text)) kinds.add(n.origin);
  };
  look(text);
  for (const m of text.matchAll(BASE64_RUN)) look(Buffer.from(m[0], 'base64').toString('utf8'));
  return [...kinds];
}

type Payload = temporal.api.common.v1.IPayload;

function isPayload(v: object): v is Payload {
  const metadata = (v as Payload).metadata;
  return metadata !== null && typeof metadata === 'object' && 'encoding' in metadata && ((v as Payload).data === undefined || (v as Payload).data instanceof Uint8Array);
}

const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

/** A payload as text: decoded with the converter (as the workflow would see it), and its raw bytes. */
function payloadTexts(p: Payload, converter: PayloadConverter): string[] {
  const raw = p.data ? utf8(p.data) : '';
  try {
    const value: unknown = converter.fromPayload(p as never);
    const decoded = value instanceof Uint8Array ? utf8(value) : (JSON.stringify(value) ?? '');
    return decoded === raw ? [raw] : [decoded, raw];
  } catch {
    return [raw];
  }
}

/**
 * Walks a history generically: every payload-shaped object (`{metadata: {encoding}, data}`)
 * wherever it sits (inputs, results, signals, updates, memo, search attributes, headers,
 * failure details and causes, heartbeat details, markers…) is decoded and scanned; every other
 * string and byte field is scanned as text, map keys included.
 */
export function scanHistory(
  history: temporal.api.history.v1.IHistory,
  execution: { workflowId: string; runId?: string },
  needles: readonly Needle[],
  converter: PayloadConverter = defaultPayloadConverter,
): SecretFinding[] {
  const found = new Map<string, SecretFinding>();
  const report = (where: string, texts: string[]) => {
    for (const t of texts) for (const kind of secretKinds(t, needles)) found.set(`${where}\0${kind}`, { where, kind });
  };
  const walk = (v: unknown, where: string, path: string): void => {
    if (typeof v === 'string') report(`${where} ${path}`, [v]);
    else if (v instanceof Uint8Array) report(`${where} ${path}`, [utf8(v)]);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, where, `${path}[${i}]`));
    else if (v !== null && typeof v === 'object') {
      if (isPayload(v)) {
        report(`${where} ${path}`, payloadTexts(v, converter));
        walk(v.metadata, where, `${path}.metadata`);
        return;
      }
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        report(`${where} ${p}`, [k]);
        walk(x, where, p);
      }
    }
  };
  const run = execution.runId ? ` (run ${execution.runId})` : '';
  (history.events ?? []).forEach((e, i) => walk(e, `${execution.workflowId}${run} event ${String(e.eventId ?? i + 1)}`, ''));
  return [...found.values()];
}

/** Scans the history of every workflow execution in the client's namespace. */
export async function scanHistories(client: Client, needles: readonly Needle[]): Promise<SecretFinding[]> {
  const converter = client.options.loadedDataConverter.payloadConverter;
  const found: SecretFinding[] = [];
  for await (const wf of client.workflow.list()) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    found.push(...scanHistory(history, { workflowId: wf.workflowId, runId: wf.runId }, needles, converter));
  }
  return found;
}

/** Scans a log file line by line; `name` (default: the file's base name) is what findings print. */
export function scanLog(path: string, needles: readonly Needle[], name = basename(path)): SecretFinding[] {
  const found: SecretFinding[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      for (const kind of secretKinds(line, needles)) found.push({ where: `${name}:${i + 1}`, kind });
    });
  return found;
}

/** Every `*.log` file under `dir` (the worker's, the cloud's, Temporal's, and the cloud's per-cluster components'). */
export function logFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.log'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Scans every log under `dir`; findings name each file by its path relative to `dir`. */
export function scanLogsUnder(dir: string, needles: readonly Needle[]): SecretFinding[] {
  return logFilesUnder(dir).flatMap((f) => scanLog(f, needles, relative(dir, f)));
}
