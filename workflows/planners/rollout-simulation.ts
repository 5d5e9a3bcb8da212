// A small simulator of a MachineDeployment's MachineSets that drives a rollout planner to
// convergence, as Cluster API's machinedeployment_rollout_sequence_test.go does. The sequence
// tests run it over named scenarios; `capstan rollout plan` runs it (fixed order) to show a
// rollout's steps before anything is applied. Deterministic, no I/O: a seed names a random
// order for good. Each tick:
//   1. scheduled events (replicas changed, template changed: the new set becomes the newest old one);
//   2. machines created in an earlier tick become available (fixed order: all of them;
//      random order: each with probability 1/2, at least one);
//   3. OnDelete only: once every machine is available, the user deletes one old machine, and
//      the owner lowers that set's replicas (Cluster API's OnDelete) so it is not replaced;
//   4. the planner sees every set (replicas, available machines) and decides;
//   5. each MachineSet reconciles at once: creates machines (not yet available) or deletes
//      machines, unavailable first (Cluster API's deletion priority), then the oldest (fixed)
//      or a random one; an empty old set is deleted;
//   6. checks: machines ≤ replicas + maxSurge; available machines never below
//      min(replicas − maxUnavailable, available when the planner looked) — so never below the
//      floor, and never lower at all while a scale-up has put the floor out of reach.
import { planRollout, resolveFenceposts, type RolloutInput, type RolloutStep, type SetState } from './rollout.js';

export type Planner = (input: RolloutInput) => RolloutStep;

export interface Scenario {
  name: string; // golden log file name
  title: string;
  replicas: number;
  strategy: RolloutInput['strategy'];
  initialMachines: number; // in ms1, all available, whose template is no longer the desired one
  events?: { tick: number; replicas?: number; templateChange?: true }[];
}

export type Order = { kind: 'fixed' } | { kind: 'random'; seed: number };

/** A set as the planner saw it at one tick: spec.replicas, machines that exist, available ones. */
export interface SimulatedSet {
  name: string;
  spec: number;
  machines: number;
  available: number;
}

/** One tick, as data: what happened before the planner looked, what it saw and what it decided. */
export interface SimulationTick {
  tick: number;
  /** Scenario events and user deletions of this tick, in words. */
  events: string[];
  oldSets: SimulatedSet[];
  newSet: SimulatedSet | null;
  input: RolloutInput;
  step: RolloutStep;
  /** The name a new set created by this step gets. */
  nextSetName: string;
}

export interface SequenceResult {
  log: string[];
  /** The same run as data, one entry per tick. */
  trace: SimulationTick[];
  violations: string[];
  converged: boolean;
  ticks: number;
}

interface Machine {
  name: string;
  available: boolean;
  bornTick: number;
}
interface SimSet {
  name: string;
  spec: number;
  machines: Machine[];
}

/** mulberry32: a tiny deterministic PRNG, so a seed names one random order for good. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function tickBound(s: Scenario): number {
  const maxReplicas = Math.max(s.replicas, ...(s.events ?? []).map((e) => e.replicas ?? 0));
  return 3 * (maxReplicas + s.initialMachines) + 10;
}

export function runSequence(scenario: Scenario, planner: Planner = planRollout, order: Order = { kind: 'fixed' }): SequenceResult {
  const random = order.kind === 'random' ? prng(order.seed) : null;
  const pick = <T>(xs: T[]): T => xs[random ? Math.floor(random() * xs.length) : 0]!;
  const log: string[] = [];
  const trace: SimulationTick[] = [];
  const violations: string[] = [];
  let replicas = scenario.replicas;
  let machineCount = 0;
  let setCount = 1;
  const newMachine = (set: string, tick: number, available: boolean): Machine => ({ name: `${set}-m${++machineCount}`, available, bornTick: tick });
  const oldSets: SimSet[] = [{ name: 'ms1', spec: scenario.initialMachines, machines: [] }];
  for (let i = 0; i < scenario.initialMachines; i++) oldSets[0]!.machines.push(newMachine('ms1', 0, true));
  let newSet: SimSet | null = null;

  const { maxSurge, maxUnavailable } = limits(scenario.strategy, replicas);
  log.push(`# ${scenario.title}`);
  log.push(`# ${scenario.strategy.type === 'OnDelete' ? 'OnDelete' : `maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable}`}, ${order.kind === 'fixed' ? 'fixed order' : `random order, seed ${order.seed}`}`);
  log.push('# each set: spec/machines/available as the planner sees it; → what it decides');

  const bound = tickBound(scenario);
  for (let tick = 1; tick <= bound; tick++) {
    const events: string[] = [];
    const event = (what: string) => {
      events.push(what);
      log.push(`tick ${pad(tick)}  ${what}`);
    };
    for (const e of (scenario.events ?? []).filter((e) => e.tick === tick)) {
      if (e.replicas !== undefined) {
        event(`event: replicas ${replicas} → ${e.replicas}`);
        replicas = e.replicas;
      }
      if (e.templateChange && newSet) {
        event(`event: template changed, ${newSet.name} becomes an old set`);
        oldSets.push(newSet);
        newSet = null;
      }
    }
    const all = () => [...oldSets, ...(newSet ? [newSet] : [])];

    // Machines become available one tick after creation (random: some of them).
    const pending = all().flatMap((s) => s.machines.filter((m) => !m.available && m.bornTick < tick));
    if (random) {
      const ready = pending.filter(() => random() < 0.5);
      if (ready.length === 0 && pending.length > 0) ready.push(pick(pending));
      for (const m of ready) m.available = true;
    } else {
      for (const m of pending) m.available = true;
    }

    // OnDelete: the user deletes one old machine once everything is available.
    if (scenario.strategy.type === 'OnDelete') {
      const machines = all().flatMap((s) => s.machines);
      const withMachines = oldSets.filter((s) => s.machines.length > 0);
      if (withMachines.length > 0 && machines.every((m) => m.available)) {
        const set = pick(withMachines);
        const victim = pick(set.machines);
        set.machines.splice(set.machines.indexOf(victim), 1);
        set.spec -= 1;
        event(`user deletes ${victim.name}`);
      }
    }

    const { maxSurge, maxUnavailable } = limits(scenario.strategy, replicas);
    const observe = (s: SimSet): SetState => ({ name: s.name, replicas: s.spec, availableReplicas: s.machines.filter((m) => m.available).length });
    const input: RolloutInput = { replicas, strategy: scenario.strategy, newSet: newSet ? observe(newSet) : null, oldSets: oldSets.map(observe) };
    const availableSeen = available(all());
    const step = planner(input);
    const seen = (s: SimSet): SimulatedSet => ({ name: s.name, spec: s.spec, machines: s.machines.length, available: s.machines.filter((m) => m.available).length });
    trace.push({ tick, events, oldSets: oldSets.map(seen), newSet: newSet ? seen(newSet) : null, input, step, nextSetName: `ms${setCount + 1}` });
    log.push(`tick ${pad(tick)}  ${describeState(oldSets, newSet)}  → ${describeStep(step, input, `ms${setCount + 1}`)}`);
    if (step.done) {
      const finalOk = newSet !== null || replicas === 0;
      // (An old set already at 0 with no machine is one the owner deletes: replicas 0 from the start.)
      if (!finalOk || oldSets.some((s) => s.spec > 0 || s.machines.length > 0) || available(all()) !== replicas || all().some((s) => s.machines.length !== s.spec)) {
        violations.push(`tick ${tick}: planner says done but the sets are not converged`);
      }
      return { log, trace, violations, converged: true, ticks: tick };
    }

    // Apply the step, then every MachineSet reconciles.
    if (!newSet && step.newSetReplicas > 0) {
      setCount += 1;
      newSet = { name: `ms${setCount}`, spec: 0, machines: [] };
    }
    if (newSet) newSet.spec = step.newSetReplicas;
    for (const s of oldSets) s.spec = step.oldSetReplicas[s.name] ?? s.spec;
    const reconcileOrder = all();
    if (random) reconcileOrder.sort(() => random() - 0.5);
    for (const s of reconcileOrder) {
      while (s.machines.length > s.spec) {
        const unavailable = s.machines.filter((m) => !m.available);
        const victim = unavailable.length > 0 ? pick(unavailable) : pick(s.machines);
        s.machines.splice(s.machines.indexOf(victim), 1);
      }
      while (s.machines.length < s.spec) s.machines.push(newMachine(s.name, tick, false));
    }
    for (let i = oldSets.length - 1; i >= 0; i--) if (oldSets[i]!.spec === 0 && oldSets[i]!.machines.length === 0) oldSets.splice(i, 1);

    // The guarantees, checked on the machines themselves.
    const machines = all().reduce((a, s) => a + s.machines.length, 0);
    if (machines > replicas + maxSurge) violations.push(`tick ${tick}: ${machines} machines > replicas ${replicas} + maxSurge ${maxSurge}`);
    const availableNow = available(all());
    const floor = Math.min(replicas - maxUnavailable, availableSeen);
    if (availableNow < floor) {
      violations.push(`tick ${tick}: ${availableNow} available < min(replicas ${replicas} − maxUnavailable ${maxUnavailable}, ${availableSeen} available before)`);
    }
  }
  log.push(`not converged after ${bound} ticks`);
  return { log, trace, violations, converged: false, ticks: bound };
}

/** OnDelete promises no surge, and the simulated user makes at most one machine unavailable. */
function limits(strategy: RolloutInput['strategy'], replicas: number): { maxSurge: number; maxUnavailable: number } {
  return strategy.type === 'RollingUpdate' ? resolveFenceposts(replicas, strategy.rollingUpdate) : { maxSurge: 0, maxUnavailable: 1 };
}

function available(sets: SimSet[]): number {
  return sets.reduce((a, s) => a + s.machines.filter((m) => m.available).length, 0);
}

function pad(n: number): string {
  return String(n).padStart(2, ' ');
}

function describeState(oldSets: SimSet[], newSet: SimSet | null): string {
  const one = (s: SimSet) => `${s.name} ${s.spec}/${s.machines.length}/${s.machines.filter((m) => m.available).length}`;
  return [...oldSets.map(one), newSet ? `${one(newSet)} (new)` : '(no new set)'].join('  ');
}

function describeStep(step: RolloutStep, input: RolloutInput, nextName: string): string {
  if (step.done) return 'done';
  const changes: string[] = [];
  const before = input.newSet?.replicas ?? 0;
  if (!input.newSet && step.newSetReplicas > 0) changes.push(`create ${nextName} with ${step.newSetReplicas}`);
  else if (input.newSet && step.newSetReplicas !== before) changes.push(`${input.newSet.name} ${before}→${step.newSetReplicas}`);
  for (const s of input.oldSets) {
    const to = step.oldSetReplicas[s.name]!;
    if (to !== s.replicas) changes.push(`${s.name} ${s.replicas}→${to}`);
  }
  return changes.length > 0 ? changes.join(', ') : 'wait';
}
