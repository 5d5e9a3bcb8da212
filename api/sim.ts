// The simulated cloud's infrastructure kinds (infrastructure.capstan.dev/v1alpha1):
// SimCluster (network + load-balanced API endpoint), SimMachine (a VM) and SimMachineTemplate.
import { z } from 'zod';
import { GROUPS, objectMetaSchema, VERSION } from './meta.js';

export const SIM_INSTANCE_TYPES = ['sim.small', 'sim.medium', 'sim.large'] as const;

export function simClusterSpecSchema() {
  return z
    .strictObject({
      region: z.string().min(1).default('sim-local-1'),
      // Set by the provider once the load balancer exists; a user may not choose it.
      controlPlaneEndpoint: z.strictObject({ host: z.string(), port: z.number().int() }).optional(),
    });
}
export type SimClusterSpec = z.infer<ReturnType<typeof simClusterSpecSchema>>;

export function simMachineSpecSchema() {
  return z
    .strictObject({
      instanceType: z
        .enum(SIM_INSTANCE_TYPES, { error: `must be one of ${SIM_INSTANCE_TYPES.join(', ')}` })
        .default('sim.medium'),
      providerID: z.string().optional(),
      failureDomain: z.string().optional(),
    });
}
export type SimMachineSpec = z.infer<ReturnType<typeof simMachineSpecSchema>>;

export function simClusterSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.infrastructure}/${VERSION}`),
    kind: z.literal('SimCluster'),
    metadata: objectMetaSchema(),
    spec: simClusterSpecSchema().default({ region: 'sim-local-1' }),
  });
}
export type SimCluster = z.infer<ReturnType<typeof simClusterSchema>>;

export function simMachineSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.infrastructure}/${VERSION}`),
    kind: z.literal('SimMachine'),
    metadata: objectMetaSchema(),
    spec: simMachineSpecSchema().default({ instanceType: 'sim.medium' }),
  });
}
export type SimMachine = z.infer<ReturnType<typeof simMachineSchema>>;

export function simMachineTemplateSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.infrastructure}/${VERSION}`),
    kind: z.literal('SimMachineTemplate'),
    metadata: objectMetaSchema(),
    spec: z.strictObject({
      template: z.strictObject({ spec: simMachineSpecSchema().default({ instanceType: 'sim.medium' }) }),
    }),
  });
}
export type SimMachineTemplate = z.infer<ReturnType<typeof simMachineTemplateSchema>>;
