// MachineHealthCheck (cluster.capstan.dev/v1alpha1): Cluster API v1beta2's MachineHealthCheck.
// It selects the Machines of one cluster by label, checks their Nodes against conditions with
// timeouts, and remediates an unhealthy Machine by deleting it so that its owner (a MachineSet
// or a control plane) replaces it; too many unhealthy at once, and it remediates nothing.
import { z } from 'zod';
import { intOrPercentSchema } from './machine-deployment.js';
import { labelSelectorSchema } from './machine-set.js';
import { type Condition, GROUPS, objectMetaSchema, objectName, objectRefSchema, seconds, VERSION } from './meta.js';

export const NODE_CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export function machineHealthCheckSpecSchema() {
  return z
    .strictObject({
      clusterName: objectName(63).describe('clusterName is the name of the Cluster whose Machines are checked.'),
      selector: labelSelectorSchema().describe('selector picks the Machines to check by label; it must not be empty.'),
      checks: z
        .strictObject({
          /** No Node this long after the machine was created (or its infrastructure became ready): unhealthy. 0 disables. */
          nodeStartupTimeoutSeconds: seconds().default(600).describe('nodeStartupTimeoutSeconds is how long a Machine may go without a Node after it was created before it counts as unhealthy. Default 600; 0 disables.'),
          unhealthyNodeConditions: z
            .array(
              z.strictObject({
                type: z.string().min(1, { error: 'is required' }),
                status: z.enum(NODE_CONDITION_STATUSES, { error: `must be one of ${NODE_CONDITION_STATUSES.join(', ')}` }),
                timeoutSeconds: seconds(),
              }),
            )
            .default([])
            .describe('unhealthyNodeConditions are the Node conditions (type, status) that make a Machine unhealthy once they have held for timeoutSeconds.'),
        })
        .default({ nodeStartupTimeoutSeconds: 600, unhealthyNodeConditions: [] })
        .describe('checks are what makes a Machine unhealthy: no Node in time, or a Node condition held too long.'),
      remediation: z
        .strictObject({
          triggerIf: z
            .strictObject({
              unhealthyLessThanOrEqualTo: intOrPercentSchema().optional().describe('unhealthyLessThanOrEqualTo remediates only while at most this many (or this percentage) of the selected Machines are unhealthy.'),
              unhealthyInRange: z
                .string()
                .regex(/^\[(\d+)-(\d+)\]$/, { error: 'must be a range such as "[1-3]"' })
                .refine((r) => {
                  const [, a, b] = /^\[(\d+)-(\d+)\]$/.exec(r)!;
                  return Number(a) <= Number(b);
                }, { error: 'its minimum must not exceed its maximum' })
                .optional()
                .describe('unhealthyInRange remediates only while the number of unhealthy Machines is within this range, e.g. "[1-3]".'),
            })
            .default({})
            .describe('triggerIf holds remediation back when too many Machines are unhealthy at once (Cluster API\'s maxUnhealthy).'),
          /**
           * External remediation: instead of a deletion, a remediation request made from this
           * template (kind `<Kind>Template` → request kind `<Kind>`) in the management cluster, for
           * an external controller; deleted once the machine is healthy again.
           */
          templateRef: objectRefSchema().optional().describe('templateRef makes a remediation request from this template (kind ending in Template) instead of deleting the Machine, for an external remediation controller.'),
        })
        .default({ triggerIf: {} })
        .describe('remediation is when and how an unhealthy Machine is remediated: by default, deleted so that its MachineSet or control plane replaces it.'),
    })
    .superRefine((spec, ctx) => {
      if (Object.keys(spec.selector.matchLabels).length === 0 && spec.selector.matchExpressions.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['selector'], message: 'must not be empty (it would select every Machine of the cluster)' });
      }
      if (spec.remediation.templateRef && !spec.remediation.templateRef.kind.endsWith('Template')) {
        ctx.addIssue({ code: 'custom', path: ['remediation', 'templateRef', 'kind'], message: `must be a remediation template kind (ending in "Template"), got "${spec.remediation.templateRef.kind}"` });
      }
    });
}
export type MachineHealthCheckSpec = z.infer<ReturnType<typeof machineHealthCheckSpecSchema>>;

export function machineHealthCheckSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.cluster}/${VERSION}`),
    kind: z.literal('MachineHealthCheck'),
    metadata: objectMetaSchema(),
    spec: machineHealthCheckSpecSchema(),
  });
}
export type MachineHealthCheck = z.infer<ReturnType<typeof machineHealthCheckSchema>>;

export interface MachineHealthCheckStatus {
  expectedMachines: number;
  currentHealthy: number;
  remediationsAllowed: number;
  targets: string[];
  conditions: Condition[];
  observedGeneration: number;
}
