// Rollout sequences as Cluster API's machinedeployment_rollout_sequence_test.go: planRollout
// plus simulated MachineSets run to convergence for named scenarios, in a fixed order (its log
// compared with a golden file) and in seeded-random orders, checking maxSurge and
// maxUnavailable at every tick. UPDATE_GOLDEN=1 rewrites the golden logs.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planRollout, type RolloutInput, type RolloutStep } from '../../workflows/planners/rollout.js';
import { runSequence, tickBound, type Scenario } from '../../workflows/planners/rollout-simulation.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/rollout/', import.meta.url));
const RANDOM_SEEDS = 30;

const rolling = (maxSurge: number | string, maxUnavailable: number | string): RolloutInput['strategy'] => ({
  type: 'RollingUpdate',
  rollingUpdate: { maxSurge, maxUnavailable },
});

const scenarios: Scenario[] = [
  { name: '3-1-0', title: 'rollout, 3 replicas, maxSurge 1, maxUnavailable 0', replicas: 3, strategy: rolling(1, 0), initialMachines: 3 },
  { name: '3-0-1', title: 'rollout, 3 replicas, maxSurge 0, maxUnavailable 1', replicas: 3, strategy: rolling(0, 1), initialMachines: 3 },
  { name: '6-3-1', title: 'rollout, 6 replicas, maxSurge 3, maxUnavailable 1', replicas: 6, strategy: rolling(3, 1), initialMachines: 6 },
  { name: '6-1-3', title: 'rollout, 6 replicas, maxSurge 1, maxUnavailable 3', replicas: 6, strategy: rolling(1, 3), initialMachines: 6 },
  { name: '10-0-10pct', title: 'rollout, 10 replicas, maxSurge 0, maxUnavailable 10%', replicas: 10, strategy: rolling(0, '10%'), initialMachines: 10 },
  {
    name: 'scale-up-mid-rollout',
    title: 'rollout, 6 replicas, maxSurge 3, maxUnavailable 1, scaled up to 12 at tick 3',
    replicas: 6,
    strategy: rolling(3, 1),
    initialMachines: 6,
    events: [{ tick: 3, replicas: 12 }],
  },
  {
    name: 'scale-down-mid-rollout',
    title: 'rollout, 12 replicas, maxSurge 3, maxUnavailable 1, scaled down to 6 at tick 3',
    replicas: 12,
    strategy: rolling(3, 1),
    initialMachines: 12,
    events: [{ tick: 3, replicas: 6 }],
  },
  {
    name: 'template-change-mid-rollout',
    title: 'rollout, 6 replicas, maxSurge 3, maxUnavailable 1, template changed again at tick 3',
    replicas: 6,
    strategy: rolling(3, 1),
    initialMachines: 6,
    events: [{ tick: 3, templateChange: true }],
  },
  { name: 'ondelete', title: 'OnDelete, 6 replicas, the user deletes old machines one by one', replicas: 6, strategy: { type: 'OnDelete' }, initialMachines: 6 },
];

function checkGolden(name: string, log: string[]): void {
  const file = `${GOLDEN_DIR}${name}.log`;
  const text = `${log.join('\n')}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden log ${name}.log is missing: run with UPDATE_GOLDEN=1 and review it`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('rollout sequences', () => {
  for (const s of scenarios) {
    it(`planRollout: ${s.title}, fixed order → converges within maxSurge/maxUnavailable, as in golden/rollout/${s.name}.log`, () => {
      const r = runSequence(s, planRollout, { kind: 'fixed' });
      expect(r.violations).toEqual([]);
      expect(r.converged).toBe(true);
      checkGolden(s.name, r.log);
    });

    it(`planRollout: ${s.title}, ${RANDOM_SEEDS} seeded-random orders → each converges within maxSurge/maxUnavailable`, () => {
      for (let seed = 1; seed <= RANDOM_SEEDS; seed++) {
        const r = runSequence(s, planRollout, { kind: 'random', seed });
        expect({ seed, violations: r.violations, converged: r.converged }).toEqual({ seed, violations: [], converged: true });
      }
    });
  }

  it('the same seed → the same random sequence', () => {
    const s = scenarios.find((x) => x.name === 'template-change-mid-rollout')!;
    expect(runSequence(s, planRollout, { kind: 'random', seed: 7 }).log).toEqual(runSequence(s, planRollout, { kind: 'random', seed: 7 }).log);
  });

  // The checker only proves something if it catches a planted violation.
  describe('the sequence checker catches a broken planner', () => {
    const s = scenarios.find((x) => x.name === '6-3-1')!;

    it('a planner that surges by 2 extra → a maxSurge violation', () => {
      const surging = (i: RolloutInput): RolloutStep => {
        const step = planRollout(i);
        return step.done ? step : { ...step, newSetReplicas: step.newSetReplicas + 2 };
      };
      const r = runSequence(s, surging);
      expect(r.violations.some((v) => /machines > replicas 6 \+ maxSurge 3/.test(v))).toBe(true);
    });

    it('a planner that empties the oldest set at once → a maxUnavailable violation', () => {
      const hasty = (i: RolloutInput): RolloutStep => {
        const step = planRollout(i);
        const first = i.oldSets[0];
        return first ? { ...step, oldSetReplicas: { ...step.oldSetReplicas, [first.name]: 0 } } : step;
      };
      const r = runSequence(s, hasty);
      expect(r.violations.some((v) => /available < min\(replicas 6 − maxUnavailable 1/.test(v))).toBe(true);
    });

    it('a planner that never scales old sets down → not converged within the bound', () => {
      const stuck = (i: RolloutInput): RolloutStep => {
        const step = planRollout(i);
        return { ...step, oldSetReplicas: Object.fromEntries(i.oldSets.map((o) => [o.name, o.replicas])) };
      };
      const r = runSequence(s, stuck);
      expect(r.converged).toBe(false);
      expect(r.ticks).toBe(tickBound(s));
    });

    it('a planner that says done too early → reported', () => {
      const eager = (i: RolloutInput): RolloutStep => ({ ...planRollout(i), done: i.newSet !== null });
      const r = runSequence(s, eager);
      expect(r.violations.some((v) => /planner says done but the sets are not converged/.test(v))).toBe(true);
    });
  });
});
