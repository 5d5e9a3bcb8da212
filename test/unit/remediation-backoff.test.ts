// The remediation backoff of a MachineHealthCheck (workflows/planners/remediation-backoff.ts):
// table tests, and a property over a slot whose every machine fails at once — remediation does
// not recreate it faster than the backoff — with a planted planner without backoff caught by it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffSeconds, pruneRemediations, REMEDIATION_BACKOFF, remediationHold, remediationRecord, type RemediationHold, type RemediationRecord } from '../../workflows/planners/remediation-backoff.js';

const t = (s: number) => new Date(Date.UTC(2026, 10, 29, 12, 0, 0) + s * 1000).toISOString();

describe('remediationHold', () => {
  it('a machine created before any remediation of its owner is remediated at once', () => {
    expect(remediationHold({ owner: 'MachineDeployment/md', createdAt: t(0) }, [], t(5))).toEqual({ generation: 1 });
    // Another owner's remediations do not count.
    expect(remediationHold({ owner: 'MachineDeployment/md', createdAt: t(10) }, [{ owner: 'MachineSet/other', at: t(5), generation: 3 }], t(12))).toEqual({ generation: 1 });
  });
  it('fifty machines failing together are all remediated at once (none replaced another)', () => {
    const log: RemediationRecord[] = [];
    for (let i = 0; i < 50; i++) {
      const h = remediationHold({ owner: 'MachineDeployment/md', createdAt: t(-600 + i) }, log, t(0));
      expect(h.notBefore).toBeUndefined();
      log.push({ owner: 'MachineDeployment/md', at: t(0), generation: h.generation });
    }
  });
  it('a replacement waits 20 s of life, its replacement 40 s, ..., at most 5 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map(backoffSeconds)).toEqual([0, 20, 40, 80, 160, 300, 300, 300]);
    const log: RemediationRecord[] = [{ owner: 'o', at: t(0), generation: 1 }];
    expect(remediationHold({ owner: 'o', createdAt: t(2) }, log, t(5))).toEqual({ generation: 2, notBefore: t(22) });
    expect(remediationHold({ owner: 'o', createdAt: t(2) }, log, t(22))).toEqual({ generation: 2 });
    log.push({ owner: 'o', at: t(22), generation: 2 });
    expect(remediationHold({ owner: 'o', createdAt: t(24) }, log, t(30))).toEqual({ generation: 3, notBefore: t(64) });
  });
  it('a machine that lived 10 minutes before it failed starts a new chain', () => {
    const target = { owner: 'o', createdAt: t(0) };
    expect(remediationRecord(target, { generation: 4 }, t(599))).toEqual({ owner: 'o', at: t(599), generation: 4 });
    expect(remediationRecord(target, { generation: 4 }, t(600))).toEqual({ owner: 'o', at: t(600), generation: 1 });
  });
  it('a slot healthy for the whole window starts over', () => {
    const log: RemediationRecord[] = [{ owner: 'o', at: t(0), generation: 5 }];
    const later = REMEDIATION_BACKOFF.windowSeconds + 10;
    expect(remediationHold({ owner: 'o', createdAt: t(5) }, log, t(later))).toEqual({ generation: 1 });
    expect(pruneRemediations(log, t(later))).toEqual([]);
    expect(pruneRemediations(log, t(10))).toEqual(log);
  });
  it('is deterministic and does not change its input', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ owner: fc.constantFrom('a', 'b'), at: fc.integer({ min: 0, max: 4000 }).map(t), generation: fc.integer({ min: 1, max: 9 }) })), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 600 }), (log, created, age) => {
        const copy = structuredClone(log);
        const a = remediationHold({ owner: 'a', createdAt: t(created) }, log, t(created + age));
        expect(log).toEqual(copy);
        expect(remediationHold({ owner: 'a', createdAt: t(created) }, log, t(created + age))).toEqual(a);
        if (a.notBefore) expect(Date.parse(a.notBefore) - Date.parse(t(created))).toBeLessThanOrEqual(REMEDIATION_BACKOFF.maxSeconds * 1000);
      }),
    );
  });
});

/**
 * One slot whose every machine is unhealthy the moment it exists, run for an hour of simulated
 * time: the health check looks every second and remediates when the planner allows; the owner
 * creates the replacement `recreateAfter` seconds later. Returns the remediation times.
 */
function failingSlot(hold: typeof remediationHold, recreateAfter: number): number[] {
  const log: RemediationRecord[] = [];
  const at: number[] = [];
  let created = 0;
  for (let now = 0; now <= 3600; now++) {
    if (now < created) continue;
    const h: RemediationHold = hold({ owner: 'o', createdAt: t(created) }, pruneRemediations(log, t(now)), t(now));
    if (h.notBefore) continue;
    log.push(remediationRecord({ owner: 'o', createdAt: t(created) }, h, t(now)));
    at.push(now);
    created = now + recreateAfter;
  }
  return at;
}

/** The property: after the first, no remediation of the slot comes sooner than 20 s after the last, nor more than ~1 per 5 min at length. */
function backedOff(at: number[]): boolean {
  for (let i = 1; i < at.length; i++) if (at[i]! - at[i - 1]! < REMEDIATION_BACKOFF.initialSeconds) return false;
  return at.length <= 5 + Math.ceil(3600 / REMEDIATION_BACKOFF.maxSeconds);
}

describe('a slot that keeps failing', () => {
  it('is not recreated faster than the backoff', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), (recreateAfter) => {
        const at = failingSlot(remediationHold, recreateAfter);
        expect(backedOff(at)).toBe(true);
        expect(at.length).toBeGreaterThan(1); // it is still remediated, just not in a loop
      }),
    );
  });
  it('catches a planted planner without backoff', () => {
    const noBackoff: typeof remediationHold = (target, log, now) => ({ generation: remediationHold(target, log, now).generation });
    expect(backedOff(failingSlot(noBackoff, 1))).toBe(false);
  });
});
