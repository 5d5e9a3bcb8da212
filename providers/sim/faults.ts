// Injected faults: the dice for throttling, server errors before and after commit, and the
// never-boot counter. Settings are validated here; the cloud persists them with its state.
import { invalidParameter } from './errors.js';
import { Prng } from './profile.js';
import { NO_FAULTS, type SimFaults } from './types.js';

export type RequestFault = 'throttle' | 'error' | null;

export class FaultInjector {
  private settings: SimFaults;
  // One stream per kind of decision: changing the throttle rate does not change which creates
  // fail after commit.
  private readonly requestDice: Prng;
  private readonly commitDice: Prng;

  constructor(seed: number, initial: SimFaults = NO_FAULTS) {
    this.settings = { ...initial };
    this.requestDice = Prng.derive(seed, 10);
    this.commitDice = Prng.derive(seed, 11);
  }

  get current(): SimFaults {
    return { ...this.settings };
  }

  set(next: SimFaults): void {
    this.settings = { ...next };
  }

  /** Decided before a request does anything: throttled, failed, or let through. */
  beforeRequest(): RequestFault {
    const { throttleRate, errorRate } = this.settings;
    if (throttleRate <= 0 && errorRate <= 0) return null;
    // One draw per request, split into bands, so the two rates add up as the caller expects.
    const r = this.requestDice.next();
    if (throttleRate > 0 && r < throttleRate) return 'throttle';
    if (errorRate > 0 && r < Math.min(1, throttleRate + errorRate)) return 'error';
    return null;
  }

  /** For a create that has just committed something new: answer 500 anyway? */
  failAfterCommit(): boolean {
    return this.commitDice.chance(this.settings.failAfterCommitRate);
  }

  /** Takes one from the never-boot counter; true when this VM must never boot. */
  takeNeverBoot(): boolean {
    if (this.settings.neverBoot <= 0) return false;
    this.settings = { ...this.settings, neverBoot: this.settings.neverBoot - 1 };
    return true;
  }
}

/** Validates a PUT /v1/faults body (any subset of the fields) and merges it over `current`. */
export function mergeFaults(current: SimFaults, body: unknown): SimFaults {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidParameter('body', 'must be a JSON object');
  }
  const out: SimFaults = { ...current };
  const allowed = new Set(['throttleRate', 'errorRate', 'failAfterCommitRate', 'neverBoot']);
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (!allowed.has(k)) throw invalidParameter(k, `unknown field (known: ${[...allowed].join(', ')})`);
    if (k === 'neverBoot') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalidParameter(k, 'must be an integer >= 0');
      out.neverBoot = v;
    } else {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw invalidParameter(k, 'must be a number in [0, 1]');
      out[k as 'throttleRate' | 'errorRate' | 'failAfterCommitRate'] = v;
    }
  }
  return out;
}
