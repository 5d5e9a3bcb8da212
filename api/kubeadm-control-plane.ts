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
        .default(1),
      version: kubernetesVersion(),
      machineTemplate: z.strictObject({
        metadata: z
          .strictObject({
            labels: z.record(z.string(), z.string()).default({}),
            annotations: z.record(z.string(), z.string()).default({}),
          })
          .default({ labels: {}, annotations: {} }),
        spec: z.strictObject({
          infrastructureRef: objectRefSchema(),
          deletion: machineDeletionSchema(),
        }),
      }),
      kubeadmConfigSpec: kubeadmConfigSpecSchema().default(kubeadmConfigSpecSchema().parse({})),
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
                  maxSurge: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' }).optional(),
                })
                .optional(),
            })
            .optional(),
        })
        .optional(),
      remediation: z
        .strictObject({
          /** How often a machine's replacements may be remediated in turn (absent: no limit). */
          maxRetry: z.number().int({ error: 'must be an integer' }).min(0, { error: 'must be >= 0' }).optional(),
          /** How long after a remediation its replacement may be remediated (default 0). */
          retryPeriodSeconds: seconds().optional(),
          /** A replacement healthy this long after its remediation starts the count over (default 3600). */
          minHealthyPeriodSeconds: seconds().optional(),
        })
        .optional(),
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
