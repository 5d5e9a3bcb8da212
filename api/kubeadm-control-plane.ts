// KubeadmControlPlane (controlplane.capstan.dev/v1alpha1): Cluster API's self-provisioned
// control plane: `replicas` machines from a machine template, bootstrapped by kubeadm.
import { z } from 'zod';
import { kubeadmConfigSpecSchema } from './kubeadm-config.js';
import { type Condition, GROUPS, kubernetesVersion, objectMetaSchema, objectRefSchema, seconds, VERSION } from './meta.js';
import { machineDeletionSchema } from './machine.js';

export function kubeadmControlPlaneSpecSchema() {
  return z
    .strictObject({
      replicas: z
        .number()
        // Type, then range, then parity, each check aborting the ones after it: -3 is out of
        // range (it is not "even"), and 1.5 is not an integer before it is anything else.
        .int({ error: 'must be an integer', abort: true })
        .min(1, { error: 'must be >= 1', abort: true })
        // Stacked etcd needs a majority of members: an even count adds a member without
        // adding fault tolerance, so Cluster API's webhook refuses it, and so do we.
        .refine((n) => n % 2 === 1, { error: 'cannot be an even number when etcd is stacked' })
        .default(1)
        .describe('replicas is how many control-plane machines to keep: odd, as stacked etcd needs a majority. Default 1.'),
      version: kubernetesVersion().describe('version is the Kubernetes version of the control plane (e.g. v1.37.2); changing it rolls every control-plane machine, one at a time.'),
      machineTemplate: z.strictObject({
        metadata: z
          .strictObject({
            labels: z.record(z.string(), z.string()).default({}),
            annotations: z.record(z.string(), z.string()).default({}),
          })
          .default({ labels: {}, annotations: {} }),
        spec: z.strictObject({
          infrastructureRef: objectRefSchema().describe('infrastructureRef is the infrastructure machine template (e.g. a SimMachineTemplate) every control-plane machine is made from.'),
          deletion: machineDeletionSchema(),
        }),
      }).describe('machineTemplate is what each control-plane Machine is made of: its labels and annotations, infrastructure template and deletion timeouts.'),
      kubeadmConfigSpec: kubeadmConfigSpecSchema().default(kubeadmConfigSpecSchema().parse({})).describe('kubeadmConfigSpec is the kubeadm configuration of every control-plane machine (init for the first, join for the others).'),
      // Cluster API's KCP remediation settings (no defaults written here, so a manifest from
      // before the field existed applies unchanged; the defaults live in the control plane).
      // Cluster API's KCP rollout: how a version or template change replaces the machines.
      rollout: z
        .strictObject({
          strategy: z
            .strictObject({
              type: z.literal('RollingUpdate', { error: 'must be RollingUpdate' }).default('RollingUpdate'),
              rollingUpdate: z
                .strictObject({
                  /** 1 (default): a new machine joins before an old one goes; 0: an old one goes first (3 or more replicas). */
                  maxSurge: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' }).optional().describe('maxSurge is 1 (default: a new machine joins before an old one goes) or 0 (an old one goes first; 3 or more replicas).'),
                })
                .optional(),
            })
            .optional(),
        })
        .optional()
        .describe('rollout is how a version or machine template change replaces the control-plane machines.'),
      remediation: z
        .strictObject({
          /** How often a machine's replacements may be remediated in turn (absent: no limit). */
          maxRetry: z.number().int({ error: 'must be an integer' }).min(0, { error: 'must be >= 0' }).optional().describe('maxRetry is how often the replacements of one machine may be remediated in turn; absent, no limit.'),
          /** How long after a remediation its replacement may be remediated (default 0). */
          retryPeriodSeconds: seconds().optional().describe('retryPeriodSeconds is how long after a remediation its replacement may be remediated. Default 0.'),
          /** A replacement healthy this long after its remediation starts the count over (default 3600). */
          minHealthyPeriodSeconds: seconds().optional().describe('minHealthyPeriodSeconds is how long a replacement must stay healthy for its remediations to count from zero again. Default 3600.'),
        })
        .optional()
        .describe('remediation is how the control plane remediates an unhealthy machine a MachineHealthCheck reports, never losing etcd quorum.'),
    })
    .superRefine((spec, ctx) => {
      // Cluster API's webhook: deleting first needs spare members to keep etcd quorum.
      if (spec.rollout?.strategy?.rollingUpdate?.maxSurge === 0 && spec.replicas < 3) {
        ctx.addIssue({
          code: 'custom',
          path: ['rollout', 'strategy', 'rollingUpdate', 'maxSurge'],
          message: 'when KubeadmControlPlane is configured to scale-in, replica count needs to be at least 3',
        });
      }
    });
}
export type KubeadmControlPlaneSpec = z.infer<ReturnType<typeof kubeadmControlPlaneSpecSchema>>;

export function kubeadmControlPlaneSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.controlPlane}/${VERSION}`),
    kind: z.literal('KubeadmControlPlane'),
    metadata: objectMetaSchema(),
    spec: kubeadmControlPlaneSpecSchema(),
  });
}
export type KubeadmControlPlane = z.infer<ReturnType<typeof kubeadmControlPlaneSchema>>;

export interface KubeadmControlPlaneStatus {
  initialization: { controlPlaneInitialized: boolean };
  replicas: number;
  readyReplicas: number;
  upToDateReplicas: number;
  version?: string;
  conditions: Condition[];
  observedGeneration: number;
}
