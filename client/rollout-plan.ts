// `capstan rollout plan`: the steps planRollout would take for a MachineDeployment, before
// anything is applied. It runs the same simulation as the planner's sequence tests
// (workflows/planners/rollout-simulation.ts, fixed order: every machine becomes available one
// step after it is created), from an old set of --from-replicas machines on a previous template
// to the manifest's template.
import type { MachineDeployment } from '../api/machine-deployment.js';
import { resolveFenceposts } from '../workflows/planners/rollout.js';
import { runSequence, type SimulatedSet, type SimulationTick } from '../workflows/planners/rollout-simulation.js';
import { loadPlan } from './apply.js';
import { ApplyError } from './apply.js';
import { renderTable } from './table.js';

/** The simulation keeps every machine in memory and runs O(replicas) steps: bounded for a CLI. */
export const MAX_PLANNED_MACHINES = 10_000;

export interface PlannedSet {
  replicas: number;
  availableReplicas: number;
}

export interface PlannedStep {
  step: number;
  /** What happened before the planner looked (OnDelete: the user deleting an old machine). */
  events: string[];
  /** The previous template's set, as the planner sees it; null once it is gone. */
  oldSet: PlannedSet | null;
  /** The manifest's template's set; null until the planner creates it. */
  newSet: PlannedSet | null;
  decision: string;
  done: boolean;
}

export interface RolloutPlan {
  machineDeployment: string;
  namespace: string;
  replicas: number;
  fromReplicas: number;
  strategy: MachineDeployment['spec']['rollout']['strategy'];
  /** RollingUpdate: maxSurge and maxUnavailable as machine counts for `replicas`. */
  maxSurge?: number;
  maxUnavailable?: number;
  paused: boolean;
  steps: PlannedStep[];
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** One step in words: what the owner would ask of each set. */
function decision(t: SimulationTick): string {
  if (t.step.done) return 'done';
  const out: string[] = [];
  const before = t.input.newSet?.replicas ?? 0;
  if (!t.input.newSet && t.step.newSetReplicas > 0) out.push(`create the new set with ${plural(t.step.newSetReplicas, 'machine')}`);
  else if (t.input.newSet && t.step.newSetReplicas !== before) out.push(`scale the new set ${t.step.newSetReplicas > before ? 'up' : 'down'} to ${t.step.newSetReplicas}`);
  for (const s of t.input.oldSets) {
    const to = t.step.oldSetReplicas[s.name]!;
    if (to !== s.replicas) out.push(`scale the old set ${to > s.replicas ? 'up' : 'down'} to ${to}`);
  }
  if (out.length) return out.join(', ');
  const pending = [...t.oldSets, ...(t.newSet ? [t.newSet] : [])].reduce((a, s) => a + s.machines - s.available, 0);
  return pending > 0 ? `wait for ${plural(pending, 'machine')} to become available` : 'wait';
}

const planned = (s: SimulatedSet | undefined | null): PlannedSet | null => (s ? { replicas: s.spec, availableReplicas: s.available } : null);

/** The steps of one MachineDeployment's rollout from `fromReplicas` machines on a previous template. */
export function planMachineDeploymentRollout(md: MachineDeployment, fromReplicas = md.spec.replicas): RolloutPlan {
  const { replicas, rollout, paused } = md.spec;
  for (const [what, n] of [['spec.replicas', replicas], ['--from-replicas', fromReplicas]] as const) {
    if (n > MAX_PLANNED_MACHINES) throw new ApplyError(`rollout plan: ${what}: ${n} machines is more than the ${MAX_PLANNED_MACHINES} a plan simulates`);
  }
  const strategy = rollout.strategy;
  const input = strategy.type === 'RollingUpdate' ? { type: 'RollingUpdate' as const, rollingUpdate: strategy.rollingUpdate } : { type: 'OnDelete' as const };
  const result = runSequence({ name: md.metadata.name, title: md.metadata.name, replicas, strategy: input, initialMachines: fromReplicas });
  // The simulation checks maxSurge/maxUnavailable at every step: a violation is a planner bug.
  if (!result.converged || result.violations.length) {
    throw new Error(`rollout plan: MachineDeployment "${md.metadata.name}": the simulated rollout ${result.converged ? `broke its limits: ${result.violations.join('; ')}` : `did not converge in ${result.ticks} steps`}`);
  }
  const fp = strategy.type === 'RollingUpdate' ? resolveFenceposts(replicas, strategy.rollingUpdate) : undefined;
  return {
    machineDeployment: md.metadata.name,
    namespace: md.metadata.namespace,
    replicas,
    fromReplicas,
    strategy,
    ...(fp ?? {}),
    paused,
    steps: result.trace.map((t) => ({
      step: t.tick,
      events: t.events.map((e) => e.replace(/^user deletes .*/, 'the user deletes a machine of the old set')),
      oldSet: planned(t.oldSets[0]),
      newSet: planned(t.newSet),
      decision: decision(t),
      done: t.step.done,
    })),
  };
}

function describeStrategy(p: RolloutPlan): string {
  return p.strategy.type === 'RollingUpdate' ? `RollingUpdate, maxSurge ${p.maxSurge}, maxUnavailable ${p.maxUnavailable}` : 'OnDelete (old machines are replaced as the user deletes them)';
}

export function renderRolloutPlan(plan: RolloutPlan): string {
  const cell = (s: PlannedSet | null) => (s ? `${s.replicas}/${s.availableReplicas}` : '-');
  const lines = [
    `MachineDeployment "${plan.machineDeployment}" (namespace "${plan.namespace}"): ${plural(plan.fromReplicas, 'machine')} on the previous template → ${plural(plan.replicas, 'machine')} on the manifest's; ${describeStrategy(plan)}`,
    'Sets are spec.replicas/available machines as the planner sees them; each machine becomes available one step after it is created.',
  ];
  if (plan.paused) lines.push('spec.paused is true: the rollout would not start until the MachineDeployment is resumed.');
  const rows = plan.steps.map((s) => [String(s.step), cell(s.oldSet), cell(s.newSet), [...s.events, s.decision].join('; ')]);
  return [...lines, '', renderTable(['STEP', 'OLD SET', 'NEW SET', 'DECISION'], rows)].join('\n');
}

/** Every MachineDeployment of the manifests, planned; the manifests are validated and resolved first. */
export function rolloutPlanCommand(opts: { files: { file: string; text: string }[]; fromReplicas?: number; output: 'table' | 'json' }): string {
  const plan = loadPlan(opts.files);
  if (!plan.machineDeployments.length) throw new ApplyError(`rollout plan: no MachineDeployment in ${opts.files.map((f) => f.file).join(', ')}`);
  const plans = plan.machineDeployments.map((d) => planMachineDeploymentRollout(d.machineDeployment, opts.fromReplicas));
  if (opts.output === 'json') return JSON.stringify(plans, null, 2);
  return plans.map(renderRolloutPlan).join('\n\n');
}
