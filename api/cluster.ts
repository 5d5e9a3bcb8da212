// Cluster (cluster.capstan.dev/v1alpha1): Cluster API v1beta2's Cluster, field for field
// where capstan implements the field.
import { z } from 'zod';
import { type Condition, GROUPS, objectMetaSchema, objectRefSchema, VERSION } from './meta.js';

function cidrBlocks(defaults: string[]) {
  return z
    .strictObject({
      cidrBlocks: z
        .array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, { error: 'must be a CIDR such as 10.96.0.0/12' }))
        .min(1, { error: 'must list at least one CIDR' }),
    })
    .default({ cidrBlocks: defaults });
}

export function clusterNetworkSchema() {
  return z
    .strictObject({
      apiServerPort: z
        .number()
        .int()
        .min(1, { error: 'must be between 1 and 65535' })
        .max(65535, { error: 'must be between 1 and 65535' })
        .default(6443),
      services: cidrBlocks(['10.96.0.0/12']),
      pods: cidrBlocks(['192.168.0.0/16']),
      serviceDomain: z.string().default('cluster.local'),
    })
    .default({
      apiServerPort: 6443,
      services: { cidrBlocks: ['10.96.0.0/12'] },
      pods: { cidrBlocks: ['192.168.0.0/16'] },
      serviceDomain: 'cluster.local',
    });
}
export type ClusterNetwork = z.infer<ReturnType<typeof clusterNetworkSchema>>;

export function apiEndpointSchema() {
  return z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });
}
export type APIEndpoint = z.infer<ReturnType<typeof apiEndpointSchema>>;

export function clusterSpecSchema() {
  return z
    .strictObject({
      paused: z
        .boolean()
        .default(false)
        .describe(
          "Cluster API's pause: while true, capstan acts on nothing of this cluster (no machine created, replaced or deleted, no rollout step, no remediation, not its deletion) and keeps every change for when it is false again. Machines already being provisioned or deleted finish.",
        ),
      clusterNetwork: clusterNetworkSchema(),
      controlPlaneEndpoint: apiEndpointSchema().optional(),
      controlPlaneRef: objectRefSchema(),
      infrastructureRef: objectRefSchema(),
    });
}
export type ClusterSpec = z.infer<ReturnType<typeof clusterSpecSchema>>;

export function clusterSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.cluster}/${VERSION}`),
    kind: z.literal('Cluster'),
    // Cluster names prefix generated names (machines, secrets): a DNS label, as Cluster API.
    metadata: objectMetaSchema(63),
    spec: clusterSpecSchema(),
  });
}
export type Cluster = z.infer<ReturnType<typeof clusterSchema>>;

/** Cluster API v1beta2 Cluster phases. */
export type ClusterPhase = 'Pending' | 'Provisioning' | 'Provisioned' | 'Deleting' | 'Deleted' | 'Failed';

export interface ClusterStatus {
  phase: ClusterPhase;
  initialization: { infrastructureProvisioned: boolean; controlPlaneInitialized: boolean };
  controlPlaneEndpoint?: APIEndpoint;
  /** The infrastructure's failure domains (Cluster API's status.failureDomains); control-plane machines spread across them. */
  failureDomains?: { name: string; controlPlane: boolean }[];
  controlPlane: { desiredReplicas: number; replicas: number; readyReplicas: number };
  workers: { desiredReplicas: number; replicas: number; readyReplicas: number };
  conditions: Condition[];
  observedGeneration: number;
}
