// KubeadmConfig and KubeadmConfigTemplate (bootstrap.capstan.dev/v1alpha1): what the kubeadm
// bootstrap provider turns into a machine's cloud-init bootstrap data. Field names follow
// Cluster API's KubeadmConfigSpec (v1beta2) and kubeadm's v1beta4 API.
import { z } from 'zod';
import { argListSchema, GROUPS, objectMetaSchema, VERSION } from './meta.js';

function taintSchema() {
  return z.strictObject({
    key: z.string().min(1, { error: 'is required' }),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], {
      error: 'must be one of NoSchedule, PreferNoSchedule, NoExecute',
    }),
  });
}

function nodeRegistrationSchema() {
  return z
    .strictObject({
      name: z.string().optional(),
      kubeletExtraArgs: argListSchema(),
      taints: z.array(taintSchema()).optional(),
      ignorePreflightErrors: z.array(z.string()).default([]),
    })
    .default({ kubeletExtraArgs: [], ignorePreflightErrors: [] });
}

function componentSchema() {
  return z.strictObject({ extraArgs: argListSchema() }).default({ extraArgs: [] });
}

export function clusterConfigurationSchema() {
  return z
    .strictObject({
      apiServer: z
        .strictObject({ extraArgs: argListSchema(), certSANs: z.array(z.string()).default([]) })
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
  return z.strictObject({
    path: z.string().startsWith('/', { error: 'must be an absolute path' }),
    content: z.string(),
    owner: z.string().default('root:root'),
    permissions: z.string().regex(/^0?[0-7]{3,4}$/, { error: 'must be an octal mode such as 0644' }).default('0644'),
  });
}

export function kubeadmConfigSpecSchema() {
  return z
    .strictObject({
      clusterConfiguration: clusterConfigurationSchema(),
      initConfiguration: z.strictObject({ nodeRegistration: nodeRegistrationSchema() }).default({
        nodeRegistration: { kubeletExtraArgs: [], ignorePreflightErrors: [] },
      }),
      joinConfiguration: z.strictObject({ nodeRegistration: nodeRegistrationSchema() }).default({
        nodeRegistration: { kubeletExtraArgs: [], ignorePreflightErrors: [] },
      }),
      files: z.array(fileSchema()).default([]),
      preKubeadmCommands: z.array(z.string()).default([]),
      postKubeadmCommands: z.array(z.string()).default([]),
      format: z.literal('cloud-config', { error: "must be 'cloud-config'" }).default('cloud-config'),
    });
}
export type KubeadmConfigSpec = z.infer<ReturnType<typeof kubeadmConfigSpecSchema>>;

export function kubeadmConfigSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.bootstrap}/${VERSION}`),
    kind: z.literal('KubeadmConfig'),
    metadata: objectMetaSchema(),
    spec: kubeadmConfigSpecSchema().default(kubeadmConfigSpecSchema().parse({})),
  });
}
export type KubeadmConfig = z.infer<ReturnType<typeof kubeadmConfigSchema>>;

export function kubeadmConfigTemplateSchema() {
  return z.strictObject({
    apiVersion: z.literal(`${GROUPS.bootstrap}/${VERSION}`),
    kind: z.literal('KubeadmConfigTemplate'),
    metadata: objectMetaSchema(),
    spec: z.strictObject({
      template: z.strictObject({ spec: kubeadmConfigSpecSchema().default(kubeadmConfigSpecSchema().parse({})) }),
    }),
  });
}
export type KubeadmConfigTemplate = z.infer<ReturnType<typeof kubeadmConfigTemplateSchema>>;
