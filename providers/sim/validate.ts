// Request validation for the cloud's API: each error names the field it is about and is a
// 400 InvalidParameterValue, as a cloud's would be.
import { invalidParameter } from './errors.js';
import { SIM_INSTANCE_TYPES, type SimInstanceType, type SimVmState } from './types.js';

export interface ClusterRequest {
  clientToken: string;
  name: string;
  region: string;
}

export interface VmRequest {
  clientToken: string;
  clusterId: string;
  name: string;
  instanceType: SimInstanceType;
  image?: string;
  failureDomain?: string;
  /** Decoded user data. */
  userData: string;
}

/** Decoded user data larger than this is refused (a cloud's limit; EC2's is 16 KiB, ours is roomier for certificates). */
export const MAX_USER_DATA_BYTES = 512 * 1024;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const REGION = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const IMAGE = /^kubernetes-v\d+\.\d+\.\d+$/;
/** The Kubernetes version a VM image runs (`kubernetes-v1.37.2` → `v1.37.2`). */
export function imageVersion(image: string | undefined): string | undefined {
  return image && IMAGE.test(image) ? image.slice('kubernetes-'.length) : undefined;
}
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidParameter('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

function string(o: Record<string, unknown>, field: string, min: number, max: number): string {
  const v = o[field];
  if (v === undefined || v === null || v === '') throw invalidParameter(field, 'is required');
  if (typeof v !== 'string') throw invalidParameter(field, 'must be a string');
  if (v.length < min || v.length > max) throw invalidParameter(field, `must be ${min}..${max} characters long`);
  return v;
}

function clientToken(o: Record<string, unknown>): string {
  const v = string(o, 'clientToken', 1, 128);
  if (!PRINTABLE_ASCII.test(v)) throw invalidParameter('clientToken', 'must be printable ASCII without spaces');
  return v;
}

function onlyKnown(o: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw invalidParameter(k, `unknown field (known: ${known.join(', ')})`);
  }
}

export function parseClusterRequest(body: unknown): ClusterRequest {
  const o = object(body);
  onlyKnown(o, ['clientToken', 'name', 'region']);
  const token = clientToken(o);
  const name = string(o, 'name', 1, 253);
  if (/[\x00-\x1f\x7f]/.test(name)) throw invalidParameter('name', 'must not contain control characters');
  const region = string(o, 'region', 1, 63);
  if (!REGION.test(region)) throw invalidParameter('region', 'must be lowercase letters, digits and dashes');
  return { clientToken: token, name, region };
}

export function parseVmRequest(body: unknown): VmRequest {
  const o = object(body);
  onlyKnown(o, ['clientToken', 'clusterId', 'name', 'instanceType', 'image', 'failureDomain', 'userData']);
  const token = clientToken(o);
  const clusterId = string(o, 'clusterId', 1, 64);
  const name = string(o, 'name', 1, 253);
  if (!DNS_SUBDOMAIN.test(name)) {
    throw invalidParameter('name', 'must be a DNS subdomain (lowercase letters, digits, "-" and "."), it becomes the hostname');
  }
  const instanceType = string(o, 'instanceType', 1, 64);
  if (!(SIM_INSTANCE_TYPES as readonly string[]).includes(instanceType)) {
    throw invalidParameter('instanceType', `${JSON.stringify(instanceType)} is not offered (offered: ${SIM_INSTANCE_TYPES.join(', ')})`);
  }
  let image: string | undefined;
  if (o.image !== undefined) {
    image = string(o, 'image', 1, 128);
    if (!IMAGE.test(image)) throw invalidParameter('image', `${JSON.stringify(image)} is not offered (images are named kubernetes-v<major>.<minor>.<patch>, e.g. kubernetes-v1.37.2)`);
  }
  const failureDomain = o.failureDomain === undefined ? undefined : string(o, 'failureDomain', 1, 63);
  const encoded = string(o, 'userData', 1, Math.ceil((MAX_USER_DATA_BYTES * 4) / 3) + 4);
  // Never echo the value: it holds private keys and tokens.
  if (!BASE64.test(encoded)) throw invalidParameter('userData', 'must be base64 (standard alphabet, padded)');
  const decoded = Buffer.from(encoded, 'base64');
  if (decoded.length > MAX_USER_DATA_BYTES) throw invalidParameter('userData', `must decode to at most ${MAX_USER_DATA_BYTES} bytes`);
  return { clientToken: token, clusterId, name, instanceType: instanceType as SimInstanceType, ...(image ? { image } : {}), ...(failureDomain ? { failureDomain } : {}), userData: decoded.toString('utf8') };
}

const VM_STATES: readonly SimVmState[] = ['pending', 'running', 'shutting-down', 'terminated'];

export function parseVmState(value: string, field: string): SimVmState {
  if (!(VM_STATES as readonly string[]).includes(value)) throw invalidParameter(field, `must be one of ${VM_STATES.join(', ')}`);
  return value as SimVmState;
}

/** Long-poll timeouts are capped at 30 s (the client loops). */
export function parseTimeoutSeconds(value: string | null, field: string, dflt: number): number {
  if (value === null || value === '') return dflt;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 30) throw invalidParameter(field, 'must be a number of seconds in [0, 30]');
  return n;
}

export function parseSeq(value: string | null, field: string): number {
  if (value === null || value === '') return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw invalidParameter(field, 'must be an integer >= 0');
  return n;
}
