// Machine (cluster.capstan.dev/v1alpha1): Cluster API v1beta2's Machine. Its spec is
// immutable: a change means a new Machine, never an update in place.
import { z } from 'zod';
import { type Condition, GROUPS, kubernetesVersion, objectMetaSchema, objectName, objectRefSchema, seconds, VERSION } from './meta.js';

export function machineDeletionSchema() {
  return z
    .strictObject({
      nodeDrainTimeoutSeconds: seconds().optional(),
      nodeVolumeDetachTimeoutSeconds: seconds().optional(),
      // Cluster API's default: give up deleting the Node after 10 s (0 = retry forever).
      nodeDeletionTimeoutSeconds: seconds().default(10),
    })
    .default({ nodeDeletionTimeoutSeconds: 10 });
}

export function machineSpecSchema() {
  return z
    .strictObject({
      clusterName: objectName(63).describe('clusterName is the name of the Cluster this Machine belongs to.'),
      bootstrap: z
        .strictObject({
          configRef: objectRefSchema().optional(),
          dataSecretName: z.string().optional(),
        })
        .refine((b) => b.configRef !== undefined || b.dataSecretName !== undefined, {
          error: 'one of configRef or dataSecretName is required',
        })
        .describe('bootstrap is how the Machine gets its cloud-init data: a KubeadmConfig (template) reference, or a Secret that holds it.'),
      infrastructureRef: objectRefSchema().describe('infrastructureRef is the infrastructure machine (template) the instance is made from, e.g. a SimMachineTemplate.'),
      version: kubernetesVersion().optional().describe('version is the Kubernetes version of the Machine\'s kubelet (e.g. v1.37.2); it picks the instance\'s image.'),
      providerID: z.string().optional().describe('providerID is the instance\'s ID at the provider, set once the instance exists; it matches the Node\'s spec.providerID.'),
      failureDomain: z.string().optional().describe('failureDomain is the zone the instance is placed in.'),
      minReadySeconds: seconds().default(0).describe('minReadySeconds is how long the Node must be Ready before the Machine counts as available.'),
      deletion: machineDeletionSchema().describe('deletion holds the timeouts of draining, volume detach and Node deletion when the Machine goes.'),
    });
}
export type MachineSpec = z.infer<ReturnType<typeof machineSpecSchema>>;

export function machineSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.cluster}/${VERSION}`),
    kind: z.literal('Machine'),
    metadata: objectMetaSchema(),
    spec: machineSpecSchema(),
  });
}
export type Machine = z.infer<ReturnType<typeof machineSchema>>;

/** Cluster API's Machine phases. */
export const MACHINE_PHASES = ['Pending', 'Provisioning', 'Provisioned', 'Running', 'Deleting', 'Deleted', 'Failed'] as const;
export type MachinePhase = (typeof MACHINE_PHASES)[number];

export interface MachineAddress {
  type: 'Hostname' | 'ExternalIP' | 'InternalIP' | 'ExternalDNS' | 'InternalDNS';
  address: string;
}

export interface MachineStatus {
  phase: MachinePhase;
  initialization: { bootstrapDataSecretCreated: boolean; infrastructureProvisioned: boolean };
  bootstrap: { dataSecretName?: string };
  providerID?: string;
  nodeRef?: { name: string };
  addresses: MachineAddress[];
  failureReason?: string;
  failureMessage?: string;
  conditions: Condition[];
  observedGeneration: number;
}
