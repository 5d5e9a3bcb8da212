// KubeadmConfig and KubeadmConfigTemplate (bootstrap.capstan.dev/v1alpha1): what the kubeadm
// bootstrap provider turns into a machine's cloud-init bootstrap data. Field names follow
// Cluster API's KubeadmConfigSpec (v1beta2) and kubeadm's v1beta4 API.
import { z } from 'zod';
import { argListSchema, GROUPS, objectMetaSchema, VERSION } from './meta.js';

function taintSchema() {
  return z.object({
    key: z.string().min(1, { error: 'is required' }),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], {
      error: 'must be one of NoSchedule, PreferNoSchedule, NoExecute',
    }),
  });
}

function nodeRegistrationSchema() {
  return z
    .object({
      name: z.string().optional(),
      kubeletExtraArgs: argListSchema(),
      taints: z.array(taintSchema()).optional(),
      ignorePreflightErrors: z.array(z.string()).default([]),
    })
    .default({ kubeletExtraArgs: [], ignorePreflightErrors: [] });
}

function componentSchema() {
  return z.object({ extraArgs: argListSchema() }).default({ extraArgs: [] });
}

export function clusterConfigurationSchema() {
  return z
    .object({
      apiServer: z
        .object({ extraArgs: argListSchema(), certSANs: z.array(z.string()).default([]) })
        .default({ extraArgs: [], certSANs: [] }),
      controllerManager: componentSchema(),
      scheduler: componentSchema(),
      featureGates: z.record(z.string(), z.boolean()).default({}),
    })
    .default({
      apiServer: { extraArgs: [], certSANs: [] },
      controllerManager: { extraArgs: [] },
      scheduler: { extraArgs: [] },
      featureGates: {},
    });
}

function fileSchema() {
  return z.object({
    path: z.string().startsWith('/', { error: 'must be an absolute path' }),
    content: z.string(),
    owner: z.string().default('root:root'),
    permissions: z.string().regex(/^0?[0-7]{3,4}$/, { error: 'must be an octal mode such as 0644' }).default('0644'),
  });
}

export function kubeadmConfigSpecSchema() {
  return z
    .object({
      clusterConfiguration: clusterConfigurationSchema(),
      initConfiguration: z.object({ nodeRegistration: nodeRegistrationSchema() }).default({
        nodeRegistration: { kubeletExtraArgs: [], ignorePreflightErrors: [] },
      }),
      joinConfiguration: z.object({ nodeRegistration: nodeRegistrationSchema() }).default({
        nodeRegistration: { kubeletExtraArgs: [], ignorePreflightErrors: [] },
      }),
      files: z.array(fileSchema()).default([]),
      preKubeadmCommands: z.array(z.string()).default([]),
      postKubeadmCommands: z.array(z.string()).default([]),
      format: z.literal('cloud-config', { error: "must be 'cloud-config'" }).default('cloud-config'),
    })
    .strict();
}
export type KubeadmConfigSpec = z.infer<ReturnType<typeof kubeadmConfigSpecSchema>>;

export function kubeadmConfigSchema() {
  return z.object({
    apiVersion: z.literal(`${GROUPS.bootstrap}/${VERSION}`),
    kind: z.literal('KubeadmConfig'),
    metadata: objectMetaSchema(),
    spec: kubeadmConfigSpecSchema().default(kubeadmConfigSpecSchema().parse({})),
  });
}
export type KubeadmConfig = z.infer<ReturnType<typeof kubeadmConfigSchema>>;

export function kubeadmConfigTemplateSchema() {
  return z.object({
    apiVersion: z.literal(`${GROUPS.bootstrap}/${VERSION}`),
    kind: z.literal('KubeadmConfigTemplate'),
    metadata: objectMetaSchema(),
    spec: z.object({
      template: z.object({ spec: kubeadmConfigSpecSchema().default(kubeadmConfigSpecSchema().parse({})) }),
    }),
  });
}
export type KubeadmConfigTemplate = z.infer<ReturnType<typeof kubeadmConfigTemplateSchema>>;
