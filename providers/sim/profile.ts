// Latency profiles and the seedable PRNG behind every random choice of the simulated cloud
// (latency jitter, injected faults), so a test that fixes the seed gets the same draws.

/** Inclusive range in milliseconds; a fixed figure is [n, n]. */
export type Range = readonly [number, number];

export interface SimProfile {
  name: string;
  /** Added before each cloud API request is handled. */
  apiLatencyMs: Range;
  /** pending → running. */
  bootMs: Range;
  /** shutting-down → terminated, and deleting → deleted for a cluster. */
  deleteMs: Range;
  /** Handed to the runtime: how long a simulated node takes to become Ready. */
  nodeReadyMs: Range;
  /** Handed to the runtime: from a pod bound to a node until its kubelet reports it Running and Ready. */
  podStartMs: Range;
  /** What a 429 asks the caller to wait. */
  retryAfterMs: Range;
}

export type ProfileName = 'demo' | 'test';

const around = (ms: number, share: number): Range => [Math.round(ms * (1 - share)), Math.round(ms * (1 + share))];

export const PROFILES: Record<ProfileName, SimProfile> = {
  // Feels like a cloud to a person watching: VMs take seconds, API calls tens of milliseconds.
  demo: {
    name: 'demo',
    apiLatencyMs: [20, 80],
    bootMs: around(10_000, 0.2),
    deleteMs: around(2_000, 0.2),
    nodeReadyMs: around(2_000, 0.2),
    podStartMs: around(1_000, 0.2),
    retryAfterMs: [500, 1_500],
  },
  // Same shape, fast enough for tests: still asynchronous, so ordering bugs show.
  test: {
    name: 'test',
    apiLatencyMs: [0, 5],
    bootMs: [150, 300],
    deleteMs: [50, 100],
    nodeReadyMs: [100, 200],
    podStartMs: [50, 150],
    retryAfterMs: [20, 100],
  },
};

export function isProfileName(name: string): name is ProfileName {
  return name === 'demo' || name === 'test';
}

export type ProfileOverrides = Partial<Pick<SimProfile, 'apiLatencyMs' | 'bootMs' | 'deleteMs' | 'nodeReadyMs' | 'podStartMs' | 'retryAfterMs'>>;

export function resolveProfile(name: ProfileName, overrides: ProfileOverrides = {}): SimProfile {
  const base = PROFILES[name];
  const out: SimProfile = { ...base };
  for (const [k, v] of Object.entries(overrides) as [keyof ProfileOverrides, Range | undefined][]) {
    if (v !== undefined) out[k] = checkRange(v, k);
  }
  return out;
}

function checkRange(r: Range, what: string): Range {
  const [a, b] = r;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < a) {
    throw new Error(`${what}: invalid range ${JSON.stringify(r)} (want integers 0 <= min <= max)`);
  }
  return [a, b];
}

/** `"150"` → [150, 150]; `"100-200"` → [100, 200]. */
export function parseRange(text: string, what = 'range'): Range {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (!m) throw new Error(`${what}: expected "N" or "MIN-MAX" in milliseconds, got ${JSON.stringify(text)}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  return checkRange([a, b], what);
}

/**
 * sfc32 seeded through splitmix32: small, fast, good enough for jitter and fault dice, and
 * reproducible from one integer seed.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** Integer uniform in [min, max] of the range. */
  sample(range: Range): number {
    const [min, max] = range;
    return Math.floor(min + this.next() * (max - min + 1));
  }

  /** True with probability `p` (0 never, 1 always). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  /** An independent stream derived from this seed, so one kind of draw does not shift another's. */
  static derive(seed: number, stream: number): Prng {
    return new Prng((Math.imul(seed >>> 0, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1)) >>> 0);
  }
}
