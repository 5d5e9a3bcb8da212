// MachineDeployment (cluster.capstan.dev/v1alpha1): Cluster API v1beta2's MachineDeployment,
// which rolls a template change through an old and a new MachineSet within maxSurge and
// maxUnavailable (RollingUpdate), or leaves replacing machines to the user (OnDelete).
import { z } from 'zod';
import { machineSetLikeFields, ownerLabelProblem, setLikeProblems } from './machine-set.js';
import { type Condition, GROUPS, LABELS, objectMetaSchema, seconds, VERSION } from './meta.js';
import { resolveFenceposts } from './rollout-fenceposts.js';

const ROLLING_UPDATE_PATH = ['rollout', 'strategy', 'rollingUpdate'];
const PERCENT = /^[0-9]+%$/;

/** intstr.IntOrString as maxSurge/maxUnavailable take it: an integer ≥ 0 or a percentage. */
export function intOrPercentSchema() {
  return z.union(
    [
      z.number().int({ error: 'must be an integer', abort: true }).min(0, { error: 'must be >= 0' }),
      z.string().regex(PERCENT, { error: 'must be a percentage such as "25%" (or an integer)' }),
    ],
    { error: 'must be an integer or a percentage such as "25%"' },
  );
}

export const ROLLOUT_STRATEGY_TYPES = ['RollingUpdate', 'OnDelete'] as const;

export function rolloutSchema() {
  return z
    .strictObject({
      // Cluster API's rollout.after: machines created before this time are rolled out once it passes.
      after: z.iso
        .datetime({ offset: true, error: 'must be an RFC 3339 time such as 2026-01-02T15:04:05Z' })
        .optional()
        .describe('after is a time (RFC 3339) after which every machine created before it is rolled out: `capstan rollout restart` sets it to now.'),
      strategy: z
        .strictObject({
          type: z
            .enum(ROLLOUT_STRATEGY_TYPES, { error: `must be one of ${ROLLOUT_STRATEGY_TYPES.join(', ')}` })
            .default('RollingUpdate')
            .describe('type is RollingUpdate (replace machines through a new MachineSet within maxSurge and maxUnavailable) or OnDelete (a new machine only where the user deleted an old one). Default RollingUpdate.'),
          rollingUpdate: z
            .strictObject({
              maxSurge: intOrPercentSchema()
                .default(1)
                .describe('maxSurge is how many machines (or what percentage of replicas, rounded up) may exist above replicas during a rollout. Default 1; not 0 when maxUnavailable is 0.'),
              maxUnavailable: intOrPercentSchema()
                .default(0)
                .describe('maxUnavailable is how many machines (or what percentage of replicas, rounded down) may be unavailable during a rollout. Default 0; not 0 when maxSurge is 0.'),
            })
            .optional()
            .describe('rollingUpdate holds maxSurge and maxUnavailable, when type is RollingUpdate.'),
        })
        .default({ type: 'RollingUpdate' })
        .describe('strategy is how machines are replaced when the template changes.'),
    })
    .default({ strategy: { type: 'RollingUpdate' } })
    .describe('rollout says how and when a MachineDeployment replaces its machines: the strategy, and a time after which every older machine is replaced.');
}
export type Rollout = z.infer<ReturnType<typeof rolloutSchema>>;

export function machineDeploymentSpecSchema() {
  return z
    .strictObject({
      ...machineSetLikeFields(),
      rollout: rolloutSchema(),
      paused: z.boolean().default(false).describe('paused stops the rollout (no machine is replaced); replicas are still followed, scaling the sets proportionally.'),
      minReadySeconds: seconds().default(0).describe('minReadySeconds is how long a machine\'s Node must be Ready before the machine counts as available. Default 0.'),
      remediation: z
        .strictObject({
          maxInFlight: intOrPercentSchema()
            .optional()
            .describe('maxInFlight is how many of the deployment\'s machines (or what percentage of replicas, rounded up) a MachineHealthCheck may be remediating at once; the newest unhealthy ones go first, the others wait. Unset: all at once.'),
        })
        .optional()
        .describe('remediation limits how a MachineHealthCheck remediates the deployment\'s machines (Cluster API\'s spec.remediation).'),
    })
    .superRefine((spec, ctx) => {
      for (const p of setLikeProblems(spec)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
      const { type, rollingUpdate } = spec.rollout.strategy;
      if (type === 'OnDelete' && rollingUpdate !== undefined) {
        ctx.addIssue({ code: 'custom', path: ROLLING_UPDATE_PATH, message: 'must not be set when type is OnDelete' });
      }
      const wellFormed = (v: number | string) => (typeof v === 'number' ? Number.isSafeInteger(v) && v >= 0 : PERCENT.test(v));
      // A malformed maxSurge/maxUnavailable is refused by its own schema, once.
      if (type === 'RollingUpdate' && (!rollingUpdate || (wellFormed(rollingUpdate.maxSurge) && wellFormed(rollingUpdate.maxUnavailable)))) {
        // Both 0 (the rollout could never progress): the planner's messages name the field as
        // `rollout.strategy.rollingUpdate[.maxSurge]: …`; here the path goes before the colon.
        try {
          resolveFenceposts(spec.replicas, rollingUpdate);
        } catch (err) {
          const m = /^rollout\.strategy\.rollingUpdate((?:\.\w+)?): (.*)$/s.exec((err as Error).message);
          const path = m?.[1] ? [...ROLLING_UPDATE_PATH, m[1].slice(1)] : ROLLING_UPDATE_PATH;
          ctx.addIssue({ code: 'custom', path, message: m?.[2] ?? (err as Error).message });
        }
      }
    })
    .transform((spec) => {
      // Cluster API's defaulting webhook: a RollingUpdate strategy always carries its fenceposts.
      const s = spec.rollout.strategy;
      if (s.type !== 'RollingUpdate' || s.rollingUpdate) return spec;
      return { ...spec, rollout: { ...spec.rollout, strategy: { ...s, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } };
    });
}
export type MachineDeploymentSpec = z.infer<ReturnType<typeof machineDeploymentSpecSchema>>;

export function machineDeploymentSchema() {
  return z
    .strictObject({
      apiVersion: z.literal(`${GROUPS.cluster}/${VERSION}`),
      kind: z.literal('MachineDeployment'),
      metadata: objectMetaSchema(),
      spec: machineDeploymentSpecSchema(),
    })
    .superRefine((o, ctx) => {
      const p = ownerLabelProblem(o.spec, LABELS.deploymentName, o.metadata.name);
      if (p) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    });
}
export type MachineDeployment = z.infer<ReturnType<typeof machineDeploymentSchema>>;

/** The condition types a MachineDeployment reports (Cluster API v1beta2's). */
export const MACHINE_DEPLOYMENT_CONDITIONS = ['Available', 'RollingOut', 'ScalingUp', 'ScalingDown', 'MachinesReady', 'MachinesUpToDate', 'Deleting', 'Paused'] as const;
export type MachineDeploymentConditionType = (typeof MACHINE_DEPLOYMENT_CONDITIONS)[number];

export interface MachineDeploymentStatus {
  selector?: string;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  upToDateReplicas: number;
  conditions: Condition[];
  observedGeneration: number;
}
