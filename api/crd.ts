// CustomResourceDefinitions generated from the zod schemas: the one source of each kind's fields,
// defaults and validation. zod's JSON Schema output is turned into a structural OpenAPI v3 schema
// as the API server wants it (no `const`, `propertyNames`, `$schema`, numeric exclusive bounds or
// type unions; int-or-string marked as such; `metadata` left to the server), with Cluster API's
// printer columns, short names, the `capstan` category, the status and scale subresources, and CEL
// rules for what crosses fields (and what a single object cannot say: immutability).
// `npm run generate` writes them to config/crd/; a unit test fails when they are stale.
import { z } from 'zod';
import { KINDS, type KindName } from './kinds.js';
import { VERSION } from './meta.js';
import { statusSchema } from './status.js';

type Json = Record<string, unknown>;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface KindInfo {
  plural: string;
  shortNames: string[];
  /** The scale subresource (kubectl scale): spec.replicas, status.replicas, status.selector. */
  scale?: boolean;
  columns: PrinterColumn[];
  /** CEL rules on the whole object (x-kubernetes-validations at the root). */
  rules?: { rule: string; message: string; fieldPath?: string; reason?: string }[];
  /**
   * CEL rules on one field (`self` is the field), by its path under the root, e.g. `spec.paused`.
   * Unlike a root rule, an object stored before the rule, whose field is unchanged, still takes
   * status writes and finalizer removals (the API server ratchets a rule whose value did not change).
   */
  fieldRules?: Record<string, { rule: string; message: string }[]>;
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const CLUSTER: PrinterColumn = { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName', description: 'Cluster' };
/** For kinds without spec.clusterName (a machine's KubeadmConfig and SimMachine): capstan's cluster-name label. */
const CLUSTER_LABEL: PrinterColumn = { name: 'Cluster', type: 'string', jsonPath: ".metadata.labels['cluster\\.capstan\\.dev/cluster-name']", description: 'Cluster' };

/** A label selector that selects something (an empty one selects every Machine). */
const selectorNotEmpty =
  '(has(self.spec.selector.matchLabels) && size(self.spec.selector.matchLabels) > 0) || (has(self.spec.selector.matchExpressions) && size(self.spec.selector.matchExpressions) > 0)';

// Printer columns as Cluster API's v1beta2 kinds print them.
const INFO: Record<KindName, KindInfo> = {
  Cluster: {
    plural: 'clusters',
    shortNames: ['cl'],
    columns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Cluster pass-through phase' },
      { name: 'Available', type: 'string', jsonPath: ".status.conditions[?(@.type==\"Available\")].status", description: 'Cluster is available' },
      { name: 'CP Ready', type: 'integer', jsonPath: '.status.controlPlane.readyReplicas', description: 'Ready control plane machines' },
      { name: 'Workers Ready', type: 'integer', jsonPath: '.status.workers.readyReplicas', description: 'Ready worker machines' },
      AGE,
      // Cluster API prints .spec.topology.version; a capstan Cluster has no topology, and its
      // status carries the control plane's version instead.
      { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Kubernetes version of the control plane' },
    ],
  },
  Machine: {
    plural: 'machines',
    shortNames: ['ma'],
    columns: [
      CLUSTER,
      { name: 'Node Name', type: 'string', jsonPath: '.status.nodeRef.name', description: 'Node name associated with this machine' },
      { name: 'Provider ID', type: 'string', jsonPath: '.spec.providerID', description: 'Provider ID' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Machine status such as Terminating/Pending/Running/Failed etc' },
      AGE,
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'Kubernetes version associated with this Machine' },
      // Cluster API v1beta2's condition columns, in `-o wide` (the default columns stay v1beta1's).
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Machine pass all readiness checks', priority: 1 },
      { name: 'Available', type: 'string', jsonPath: '.status.conditions[?(@.type=="Available")].status', description: 'Machine is Ready for at least MinReadySeconds', priority: 1 },
      { name: 'Up-to-date', type: 'string', jsonPath: '.status.conditions[?(@.type=="UpToDate")].status', description: "Machine spec matches the spec of the Machine's owner resource, e.g. MachineDeployment", priority: 1 },
    ],
    // Machines are replaced, never updated: what a machine is made of is immutable once created.
    // providerID is set once, when the infrastructure has it (as Cluster API's Machine controller
    // does); the timeouts of minReadySeconds and deletion may change in place, as in Cluster API.
    rules: [
      {
        rule: [
          'self.spec.clusterName == oldSelf.spec.clusterName',
          'self.spec.bootstrap == oldSelf.spec.bootstrap',
          'self.spec.infrastructureRef == oldSelf.spec.infrastructureRef',
          ...['version', 'failureDomain'].map((f) => `has(self.spec.${f}) == has(oldSelf.spec.${f}) && (!has(self.spec.${f}) || self.spec.${f} == oldSelf.spec.${f})`),
          '(!has(oldSelf.spec.providerID) || (has(self.spec.providerID) && self.spec.providerID == oldSelf.spec.providerID))',
        ].join(' && '),
        message: 'Machine spec is immutable: Machines are replaced, not updated',
        fieldPath: '.spec',
      },
      { rule: 'has(self.spec.bootstrap.configRef) || has(self.spec.bootstrap.dataSecretName)', message: 'one of configRef or dataSecretName is required', fieldPath: '.spec.bootstrap' },
    ],
  },
  MachineSet: {
    plural: 'machinesets',
    shortNames: ['ms'],
    scale: true,
    columns: [
      CLUSTER,
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas', description: 'Total number of machines desired by this MachineSet' },
      { name: 'Current', type: 'integer', jsonPath: '.status.replicas', description: 'Total number of machines currently in the MachineSet' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Total number of ready machines targeted by this MachineSet' },
      { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas', description: 'Total number of available machines' },
      { name: 'Up-to-date', type: 'integer', jsonPath: '.status.upToDateReplicas', description: 'Total number of up-to-date machines' },
      AGE,
      { name: 'Version', type: 'string', jsonPath: '.spec.template.spec.version', description: 'Kubernetes version associated with this MachineSet' },
    ],
    rules: [clusterNameImmutable(), ...setLikeRules(), labelIs('cluster.capstan.dev/set-name', 'self.metadata.name', "must be the set's name (its machines carry it)")],
  },
  MachineDeployment: {
    plural: 'machinedeployments',
    shortNames: ['md'],
    scale: true,
    columns: [
      CLUSTER,
      { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Total number of machines targeted by this MachineDeployment' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Total number of ready machines targeted by this MachineDeployment' },
      { name: 'Updated', type: 'integer', jsonPath: '.status.upToDateReplicas', description: 'Total number of up-to-date machines' },
      { name: 'Unavailable', type: 'integer', jsonPath: '.status.unavailableReplicas', description: 'Total number of unavailable machines' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'MachineDeployment status such as ScalingUp/ScalingDown/Running/Failed/Unknown' },
      AGE,
      { name: 'Version', type: 'string', jsonPath: '.spec.template.spec.version', description: 'Kubernetes version associated with this MachineDeployment' },
    ],
    rules: [
      clusterNameImmutable(),
      ...setLikeRules(),
      labelIs('cluster.capstan.dev/deployment-name', 'self.metadata.name', "must be the deployment's name (its machines carry it)"),
      {
        // Cluster API's webhook: a rollout that may neither add nor remove a machine never
        // progresses. (Zero however written: 0, "0%", "00%".)
        rule:
          "!has(self.spec.rollout) || !has(self.spec.rollout.strategy) || !has(self.spec.rollout.strategy.rollingUpdate) || !(has(self.spec.rollout.strategy.rollingUpdate.maxSurge) && has(self.spec.rollout.strategy.rollingUpdate.maxUnavailable) && string(self.spec.rollout.strategy.rollingUpdate.maxSurge).matches('^0+%?$') && string(self.spec.rollout.strategy.rollingUpdate.maxUnavailable).matches('^0+%?$'))",
        message: 'maxSurge and maxUnavailable cannot both be 0',
        fieldPath: '.spec.rollout.strategy.rollingUpdate',
      },
      {
        rule: "!has(self.spec.rollout) || !has(self.spec.rollout.strategy) || self.spec.rollout.strategy.type != 'OnDelete' || !has(self.spec.rollout.strategy.rollingUpdate)",
        message: 'must not be set when type is OnDelete',
        fieldPath: '.spec.rollout.strategy.rollingUpdate',
      },
    ],
  },
  MachineHealthCheck: {
    plural: 'machinehealthchecks',
    shortNames: ['mhc'],
    columns: [
      CLUSTER,
      { name: 'Replicas', type: 'integer', jsonPath: '.status.expectedMachines', description: 'Number of machines currently monitored' },
      { name: 'Healthy', type: 'integer', jsonPath: '.status.currentHealthy', description: 'Current observed healthy machines' },
      AGE,
    ],
    rules: [
      clusterNameImmutable(),
      { rule: selectorNotEmpty, message: 'must not be empty (it would select every Machine of the cluster)', fieldPath: '.spec.selector' },
      {
        rule: "!has(self.spec.remediation) || !has(self.spec.remediation.templateRef) || self.spec.remediation.templateRef.kind.endsWith('Template')",
        message: 'must be a remediation template kind (ending in "Template")',
        fieldPath: '.spec.remediation.templateRef.kind',
      },
    ],
  },
  KubeadmControlPlane: {
    plural: 'kubeadmcontrolplanes',
    shortNames: ['kcp'],
    scale: true,
    columns: [
      { name: 'Cluster', type: 'string', jsonPath: ".metadata.labels['cluster\\.capstan\\.dev/cluster-name']", description: 'Cluster' },
      { name: 'Initialized', type: 'boolean', jsonPath: '.status.initialization.controlPlaneInitialized', description: 'This denotes whether or not the control plane has the uploaded kubeadm-config configmap' },
      { name: 'Available', type: 'string', jsonPath: ".status.conditions[?(@.type==\"Available\")].status", description: 'KubeadmControlPlane API Server is ready to receive requests' },
      { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Total number of machines targeted by this control plane' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Total number of fully running and ready control plane machines' },
      { name: 'Updated', type: 'integer', jsonPath: '.status.upToDateReplicas', description: 'Total number of up-to-date machines' },
      { name: 'Unavailable', type: 'integer', jsonPath: '.status.unavailableReplicas', description: 'Total number of unavailable machines' },
      AGE,
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'Kubernetes Version' },
    ],
    rules: [
      // Stacked etcd needs a majority: an even count adds a member without adding fault tolerance.
      { rule: 'self.spec.replicas % 2 == 1', message: 'cannot be an even number when etcd is stacked', fieldPath: '.spec.replicas' },
      {
        rule: "!has(self.spec.rollout) || !has(self.spec.rollout.strategy) || !has(self.spec.rollout.strategy.rollingUpdate) || !has(self.spec.rollout.strategy.rollingUpdate.maxSurge) || self.spec.rollout.strategy.rollingUpdate.maxSurge == 1 || self.spec.replicas >= 3",
        message: 'when KubeadmControlPlane is configured to scale-in, replica count needs to be at least 3',
        fieldPath: '.spec.rollout.strategy.rollingUpdate.maxSurge',
      },
    ],
  },
  KubeadmConfig: {
    plural: 'kubeadmconfigs',
    shortNames: ['kc'],
    columns: [CLUSTER_LABEL, { name: 'Data Secret Created', type: 'boolean', jsonPath: '.status.initialization.dataSecretCreated', description: 'Boolean flag to indicate if bootstrap data has been created' }, AGE],
  },
  KubeadmConfigTemplate: { plural: 'kubeadmconfigtemplates', shortNames: ['kct'], columns: [AGE] },
  SimCluster: {
    plural: 'simclusters',
    shortNames: ['simc'],
    columns: [
      CLUSTER_LABEL,
      { name: 'Provisioned', type: 'boolean', jsonPath: '.status.initialization.provisioned', description: 'The network and the load balancer exist' },
      // Written to status: the object's spec is the user's (capstan drives it), and a provider-set
      // spec field would read to the watcher as a change of intent.
      { name: 'Endpoint', type: 'string', jsonPath: '.status.controlPlaneEndpoint.host', description: 'The control plane\'s load-balanced endpoint' },
      AGE,
    ],
  },
  SimMachine: {
    plural: 'simmachines',
    shortNames: ['simm'],
    columns: [
      CLUSTER_LABEL,
      { name: 'Machine', type: 'string', jsonPath: '.metadata.ownerReferences[?(@.kind=="Machine")].name', description: 'Machine object which owns with this SimMachine' },
      { name: 'Provider ID', type: 'string', jsonPath: '.spec.providerID', description: 'Provider ID' },
      { name: 'Provisioned', type: 'boolean', jsonPath: '.status.initialization.provisioned', description: 'SimMachine is provisioned' },
      { name: 'Instance Type', type: 'string', jsonPath: '.spec.instanceType' },
      AGE,
    ],
  },
  SimMachineTemplate: { plural: 'simmachinetemplates', shortNames: ['simmt'], columns: [AGE] },
};

/** What `kubectl explain <kind>` says of each kind. */
const KIND_DOCS: Record<KindName, string> = {
  Cluster: 'Cluster is a Kubernetes cluster: its infrastructure (infrastructureRef) and its control plane (controlPlaneRef). capstan runs one workflow per Cluster; deleting it deletes the workers, then the control plane, then the infrastructure.',
  Machine: 'Machine is one node of a cluster: an instance at the provider, bootstrapped to join. Its spec is immutable: a change means a new Machine.',
  MachineSet: 'MachineSet keeps replicas Machines made from its template, replacing any that go.',
  MachineDeployment: 'MachineDeployment rolls its template out through MachineSets: a change makes a new set that replaces the old one within maxSurge and maxUnavailable.',
  MachineHealthCheck: 'MachineHealthCheck watches the Nodes of the Machines it selects and remediates the unhealthy ones (deletes them, so their owner replaces them, or asks an external remediation provider).',
  KubeadmControlPlane: 'KubeadmControlPlane is a control plane of machines bootstrapped by kubeadm: the first initializes the cluster, the others join once it has; it scales, upgrades and remediates one machine at a time, keeping etcd quorum.',
  KubeadmConfig: 'KubeadmConfig is the kubeadm configuration one Machine is bootstrapped with.',
  KubeadmConfigTemplate: 'KubeadmConfigTemplate is the kubeadm configuration the Machines of a MachineSet or MachineDeployment are bootstrapped with.',
  SimCluster: 'SimCluster is a cluster\'s infrastructure in the simulated cloud: its network and the control plane\'s load balancer.',
  SimMachine: 'SimMachine is one instance in the simulated cloud.',
  SimMachineTemplate: 'SimMachineTemplate is what the instances of a MachineSet, MachineDeployment or control plane are made from in the simulated cloud.',
};

/** Each kind's plural, as its CRD serves it (`/apis/<group>/<version>/<plural>`). */
export const PLURAL = Object.fromEntries(Object.entries(INFO).map(([kind, i]) => [kind, i.plural])) as Record<KindName, string>;

/** Where an object of a kind is served: the coordinates the CustomObjectsApi takes. */
export const customObjectAt = (kind: KindName, namespace: string, name: string) => ({ group: KINDS[kind].group, version: VERSION, plural: PLURAL[kind], namespace, name });

/**
 * A MachineSet's or MachineDeployment's cross-field rules, as its zod schema has them
 * (api/machine-set.ts setLikeProblems): a selector that selects, and selects the machines the
 * template makes; a template for this cluster.
 */
function setLikeRules() {
  const labels = 'self.spec.template.metadata.labels';
  const has = `(has(${labels}) ? ${labels} : {})`;
  return [
    { rule: selectorNotEmpty, message: 'must not be empty (it would select every Machine of the namespace)', fieldPath: '.spec.selector' },
    {
      rule: [
        `(!has(self.spec.selector.matchLabels) || self.spec.selector.matchLabels.all(k, k in ${has} && ${has}[k] == self.spec.selector.matchLabels[k]))`,
        `(!has(self.spec.selector.matchExpressions) || self.spec.selector.matchExpressions.all(e, e.operator == 'In' ? (e.key in ${has} && ${has}[e.key] in e.values) : e.operator == 'NotIn' ? !(e.key in ${has} && ${has}[e.key] in e.values) : e.operator == 'Exists' ? e.key in ${has} : !(e.key in ${has})))`,
      ].join(' && '),
      message: 'does not match spec.template.metadata.labels',
      fieldPath: '.spec.selector',
    },
    { rule: 'self.spec.template.spec.clusterName == self.spec.clusterName', message: "must be the set's spec.clusterName (a template for another cluster)", fieldPath: '.spec.template.spec.clusterName' },
    labelIs('cluster.capstan.dev/cluster-name', 'self.spec.clusterName', "must be spec.clusterName (the machines carry their cluster's name)"),
  ];
}

/** A template label that, when set, must be `value` (the label capstan puts on the machines). */
function labelIs(label: string, value: string, message: string) {
  const labels = 'self.spec.template.metadata.labels';
  return { rule: `!has(${labels}) || !('${label}' in ${labels}) || ${labels}['${label}'] == ${value}`, message, fieldPath: `.spec.template.metadata.labels['${label}']` };
}

function clusterNameImmutable() {
  return { rule: 'self.spec.clusterName == oldSelf.spec.clusterName', message: 'spec.clusterName is immutable', fieldPath: '.spec.clusterName' };
}

/** The CRD of one kind, as the API server takes it. */
export function customResourceDefinition(kind: KindName): Json {
  const { group } = KINDS[kind];
  const info = INFO[kind];
  const json = z.toJSONSchema(KINDS[kind].schema(), { io: 'input', unrepresentable: 'any' }) as Json;
  const schema = structural(json) as Json & { properties: Json };
  schema.properties.metadata = { type: 'object' };
  schema.description = KIND_DOCS[kind];
  const spec = schema.properties.spec as Json | undefined;
  if (spec && !spec.description) spec.description = `spec is the desired state of the ${kind}.`;
  // The status as the watcher writes it (api/status.ts): documented, and pruned to those fields.
  schema.properties.status = { ...(structural(z.toJSONSchema(statusSchema(kind), { io: 'output' }) as Json) as Json), description: `status is the observed state of the ${kind}, written by capstan.` };
  delete schema.additionalProperties;
  // Transition rules (oldSelf) run on updates only, so they sit at the root, beside the creation rules.
  if (info.rules?.length) schema['x-kubernetes-validations'] = info.rules;
  for (const [path, rules] of Object.entries(info.fieldRules ?? {})) {
    const field = path.split('.').reduce<Json | undefined>((at, key) => (at?.properties as Record<string, Json> | undefined)?.[key], schema);
    if (!field) throw new Error(`${kind}: fieldRules: ${path} is not a field of the schema`);
    field['x-kubernetes-validations'] = rules;
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${group}` },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural: info.plural, singular: kind.toLowerCase(), shortNames: info.shortNames, categories: ['capstan'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: schema },
          subresources: {
            status: {},
            ...(info.scale ? { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } } : {}),
          },
          additionalPrinterColumns: info.columns,
        },
      ],
    },
  };
}

/** Every kind's CRD, by file name (`<group>_<plural>.yaml`, as kubebuilder names them). */
export function customResourceDefinitions(): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const kind of Object.keys(KINDS) as KindName[]) out[`${KINDS[kind].group}_${INFO[kind].plural}.yaml`] = customResourceDefinition(kind);
  return out;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MIN_SAFE = Number.MIN_SAFE_INTEGER;
/** Formats the API server validates; others (zod's own) are dropped. */
const KNOWN_FORMATS = new Set(['date-time', 'date', 'byte', 'int32', 'int64', 'uri', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']);

/** JSON Schema (zod's, draft 2020-12) → a structural OpenAPI v3 schema. */
export function structural(s: Json): Json {
  // int-or-string (maxSurge: 1 or "20%"): the API server's own marker, the string's pattern as CEL.
  const anyOf = s.anyOf as Json[] | undefined;
  if (anyOf) {
    const types = anyOf.map((x) => x.type);
    if (types.length === 2 && types.includes('integer') && types.includes('string')) {
      const int = anyOf.find((x) => x.type === 'integer')!;
      const str = anyOf.find((x) => x.type === 'string')!;
      const checks = [
        typeof int.minimum === 'number' && int.minimum > MIN_SAFE ? `(type(self) != int || self >= ${int.minimum})` : '',
        typeof str.pattern === 'string' ? `(type(self) != string || self.matches(${celString(str.pattern)}))` : '',
      ].filter(Boolean);
      return {
        'x-kubernetes-int-or-string': true,
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        ...(s.description ? { description: s.description } : {}),
        ...(s.default !== undefined ? { default: s.default } : {}),
        ...(checks.length ? { 'x-kubernetes-validations': [{ rule: checks.join(' && '), message: `must be a non-negative integer or a percentage${typeof str.pattern === 'string' ? ` (${str.pattern})` : ''}` }] } : {}),
      };
    }
    // A union of constants (KCP maxSurge: 0 | 1) is an enum of one type.
    if (anyOf.every((x) => 'const' in x) && new Set(anyOf.map((x) => typeof x.const)).size === 1) {
      const values = anyOf.map((x) => x.const);
      const t = typeof values[0] === 'number' ? (values.every((v) => Number.isInteger(v)) ? 'integer' : 'number') : typeof values[0];
      return { type: t, enum: values, ...(s.description ? { description: s.description } : {}), ...(s.default !== undefined ? { default: s.default } : {}) };
    }
    throw new Error(`a union the API server cannot describe structurally: ${JSON.stringify(anyOf).slice(0, 200)}`);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    switch (k) {
      case '$schema':
      case 'propertyNames': // record keys: checked by capstan's own validation
        break;
      case 'const':
        out.enum = [v];
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Json).map(([name, p]) => [name, structural(p as Json)]));
        break;
      case 'items':
        out.items = structural(v as Json);
        break;
      case 'additionalProperties':
        // `false` (a strict object) is what pruning does anyway, and cannot stand next to properties.
        if (typeof v === 'object' && v !== null) out.additionalProperties = structural(v as Json);
        break;
      case 'maximum':
        if (v !== MAX_SAFE) out.maximum = v;
        break;
      case 'minimum':
        if (v !== MIN_SAFE) out.minimum = v;
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        out[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = v;
        out[k] = true;
        break;
      case 'format':
        if (KNOWN_FORMATS.has(String(v))) out.format = v;
        break;
      case 'pattern':
        // zod's own pattern for a format (a date-time's) is the format's job.
        if (!(typeof s.format === 'string' && KNOWN_FORMATS.has(s.format))) out.pattern = v;
        break;
      default:
        out[k] = v;
    }
  }
  if (out.type === 'object' && !out.properties && !out.additionalProperties) out['x-kubernetes-preserve-unknown-fields'] = true;
  return out;
}

/** A CEL string literal. */
function celString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
