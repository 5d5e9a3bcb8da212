// What flows into and out of capstan's workflows. Plain JSON only (it crosses
// continueAsNew and is stored in history): no Map, Set, Date or class instances, and never a
// secret — certificates, keys, tokens and kubeconfigs travel as secret names.
import type { PauseState } from './pause.js';
import type { APIEndpoint, Cluster, ClusterNetwork, ClusterStatus } from '../api/cluster.js';
import type { KubeadmConfig, KubeadmConfigSpec, KubeadmConfigTemplate } from '../api/kubeadm-config.js';
import type { KubeadmControlPlane, KubeadmControlPlaneStatus } from '../api/kubeadm-control-plane.js';
import type { Machine, MachinePhase, MachineSpec, MachineStatus } from '../api/machine.js';
import type { MachineDeployment, MachineDeploymentStatus } from '../api/machine-deployment.js';
import type { MachineHealthCheck, MachineHealthCheckStatus } from '../api/machine-health-check.js';
import type { MachineSet } from '../api/machine-set.js';
import type { SimCluster, SimMachine, SimMachineSpec, SimMachineTemplate } from '../api/sim.js';
import type { ObjectKey } from './ids.js';
import type { DeletionOrder } from './planners/deletion-order.js';
import type { QuietState } from './quiet.js';
import type { HealthTarget, UnhealthyReason } from './planners/health.js';
import type { RemediationRecord } from './planners/remediation-backoff.js';
import type { LastRemediation } from './planners/control-plane-remediation.js';
import type { MachineSetStatus } from './planners/machine-set.status.js';

/** A Cluster with every object it references, resolved by the client before anything starts. */
export interface ClusterApply {
  cluster: Cluster;
  infrastructure: SimCluster;
  controlPlane: KubeadmControlPlane;
  controlPlaneMachineTemplate: SimMachineTemplate;
}

/** A Machine with the bootstrap config and infrastructure machine it references. */
export interface MachineApply {
  machine: Machine;
  bootstrapConfig?: KubeadmConfig;
  infrastructure: SimMachine;
}

export type ApplyResult = {
  result: 'created' | 'unchanged' | 'configured';
  workflowId: string;
  /**
   * Of a Cluster's apply that paused or resumed it: which of its documents changed (the Cluster;
   * the control plane too when its spec changed). Absent: a `configured` is the control plane's.
   */
  changed?: ('Cluster' | 'KubeadmControlPlane')[];
};

/** kubeadm roles: the first control-plane machine inits, the others join. */
export type BootstrapRole = 'init' | 'control-plane-join' | 'worker-join';

/** What a machine needs to know about its cluster to bootstrap and provision. */
export interface ClusterContext {
  key: ObjectKey;
  uid: string;
  providerClusterId: string;
  endpoint: APIEndpoint;
  clusterNetwork: ClusterNetwork;
  /** The infrastructure's failure domains (zones); the control plane spreads its machines across them. */
  failureDomains?: string[];
}

export interface MachineWorkflowInput {
  machine: { name: string; namespace: string; uid: string; labels: Record<string, string>; annotations?: Record<string, string>; spec: MachineSpec };
  role: BootstrapRole;
  bootstrapConfig: KubeadmConfigSpec;
  /** The KubeadmConfig's name, or the Machine's for machines a control plane creates. */
  bootstrapConfigName: string;
  infrastructure: SimMachineSpec;
  cluster: ClusterContext;
  /** Workflow to notify of phase changes (the Cluster for workers, the control plane for its machines). */
  ownerWorkflowId: string;
  /** False while the control plane is not initialized: the machine waits at the gate. */
  gateOpen: boolean;
  /** Set when continuing as new. */
  state?: MachineState;
}

export interface DeleteRequest {
  clusterDeleting?: boolean;
  /** Sent by the machine's owner, which knows it is deleting: no Deleting report back (a billed signal). */
  fromOwner?: boolean;
  /** The owner is the machine's parent in its current run and learns of the end from the child's completion: no Deleted report (revision 2). */
  ownerAwaitsCompletion?: boolean;
  /** Sent by a MachineHealthCheck that remediates the machine: why, for its HealthCheckSucceeded and OwnerRemediated conditions. */
  remediation?: RemediationReason;
}

/** Why a MachineHealthCheck remediates a machine (its HealthCheckSucceeded condition). */
export interface RemediationReason {
  healthCheck: string;
  reason: string;
  message: string;
}

export interface MachineState {
  phase: MachinePhase;
  status: MachineStatus;
  instanceId?: string;
  tokenId?: string;
  deleteRequested: boolean;
  /** The Cluster is being deleted: no drain, no Node deletion (Cluster API's isDeleteNodeAllowed). */
  clusterDeleting: boolean;
  /** Its deletion was a health check's remediation (asked before anything else asked it): its reports say so. */
  remediationDelete?: boolean;
  gateOpen: boolean;
  /** Annotations change (labels, annotations and status are a Machine's mutable parts); absent: the input's. */
  annotations?: Record<string, string>;
  /** Its labels as its owner changed them in place (absent: the input's). */
  labels?: Record<string, string>;
  /** The deletion timeouts as its owner changed them in place (absent: the spec's). */
  deletion?: MachineSpec['deletion'];
  /** When the drain began (workflow time, RFC 3339): nodeDrainTimeout counts from it across slices. */
  drainStartedAt?: string;
  /** The owner learns of the deletion's end from this workflow's completion (DeleteRequest.ownerAwaitsCompletion). */
  ownerAwaitsCompletion?: boolean;
}

/** Sent by a Machine to its owner whenever its summary changes. */
export interface MachineReport {
  name: string;
  phase: MachinePhase;
  /** Infrastructure is up (VM running). */
  provisioned: boolean;
  nodeRef?: string;
  nodeReady: boolean;
  failureMessage?: string;
  /** Marked for deletion first when its set scales down (the delete-machine annotation). */
  deleteMachine?: boolean;
  /** Being deleted as a health check's remediation (its OwnerRemediated is False): its set shows it Remediating. */
  remediated?: boolean;
}

export interface MachineView {
  name: string;
  namespace: string;
  clusterName: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  role: BootstrapRole;
  version?: string;
  spec: MachineSpec;
  status: MachineStatus;
}

export interface ControlPlaneWorkflowInput {
  controlPlane: KubeadmControlPlane;
  machineTemplate: SimMachineTemplate;
  cluster: ClusterContext;
  clusterWorkflowId: string;
  state?: ControlPlaneState;
}

/** A control-plane machine as its KubeadmControlPlane keeps it. */
export interface ControlPlaneMachineRecord {
  uid: string;
  role: BootstrapRole;
  report?: MachineReport;
  deleted: boolean;
  /** Told to delete (a remediation, a scale-down, a rollout). */
  remediating?: boolean;
  /** When it was created (absent before creation times were kept). */
  created?: string;
  failureDomain?: string;
  /** What it was made from, to tell whether it is up to date (absent: the spec the control plane was created with). */
  made?: ControlPlaneMachineSpec;
}

/** What makes a control-plane machine up to date (Cluster API's UpToDate: version and infrastructure template). */
export interface ControlPlaneMachineSpec {
  version: string;
  /** Canonical JSON of the machine template's infrastructure spec. */
  infrastructure: string;
}

export interface ControlPlaneState extends PauseState {
  status: KubeadmControlPlaneStatus;
  /** Machines; `remediating`: told to delete (a remediation or a scale-down); `created`: when (absent before they were kept). */
  machines: Record<string, ControlPlaneMachineRecord>;
  /** spec.replicas as changed since creation (a scale through the Cluster's apply). */
  replicas?: number;
  /** The spec and machine template as last changed through the Cluster's apply (absent: as created). */
  spec?: { controlPlane: KubeadmControlPlane; machineTemplate: SimMachineTemplate };
  /** The Kubernetes version last written to the workload cluster's kubeadm-config (absent: the created one). */
  kubeadmConfigVersion?: string;
  /** The last remediation (or init retry), for spec.remediation's retry limits. */
  lastRemediation?: LastRemediation;
  /** Machines a MachineHealthCheck asked the control plane to remediate, not yet done. */
  remediationRequests?: Record<string, RemediationReason>;
  certificatesReady: boolean;
  deleteRequested: boolean;
  clusterDeleting: boolean;
  reportedAvailable: boolean;
  /** Why the control plane is stuck: a step retrying for a while, or failed for good. */
  problem?: StepProblem;
  /** What its machines are still to be told in place (the machine template's deletion timeouts, labels and annotations); absent: nothing. */
  toMachines?: PendingInPlace;
}

/** A step that keeps failing (retrying) or failed for good (terminal), as the owner shows it. */
export interface StepProblem {
  reason: string;
  message: string;
  terminal: boolean;
}

/** Sent by the control plane to its Cluster. */
export interface ControlPlaneReport {
  initialized: boolean;
  available: boolean;
  desiredReplicas: number;
  replicas: number;
  readyReplicas: number;
  deleted: boolean;
  problem?: StepProblem;
  /** The oldest version its machines run (Cluster API's KCP status.version). */
  version?: string;
  /** Some machines are not up to date: the control plane is rolling out (upgrading). */
  rollingOut?: boolean;
}

export interface ClusterWorkflowInput {
  apply: ClusterApply;
  state?: ClusterState;
}

export interface WorkerMachineRecord {
  apply: MachineApply;
  specHash: string;
  uid: string;
  started: boolean;
  gateOpened: boolean;
  report?: MachineReport;
  deleted: boolean;
}

export interface ClusterState extends QuietState, PauseState {
  /** What its control plane, deployments, sets and health checks were last told of the pause (absent: never told). */
  pausedTold?: boolean;
  /** Its KubeadmControlPlane's manifest has the paused annotation (pause.ts; absent: never had it). */
  controlPlaneAnnotated?: boolean;
  /** What its control plane was last told of that (or started with; absent: never had it). */
  controlPlaneAnnotatedTold?: boolean;
  uid: string;
  specHash: string;
  status: ClusterStatus;
  providerClusterId?: string;
  controlPlaneStarted: boolean;
  controlPlane?: ControlPlaneReport;
  machines: Record<string, WorkerMachineRecord>;
  /** Worker MachineDeployments (optional: a state from before they existed has none). */
  deployments?: Record<string, DeploymentRecord>;
  /** MachineSets no MachineDeployment owns (optional: a state from before them has none). */
  machineSets?: Record<string, MachineSetRecord>;
  /** MachineHealthChecks of the cluster's machines (optional, as above). */
  healthChecks?: Record<string, HealthCheckRecord>;
  /** The control plane's spec.replicas as changed by a later apply, and whether the control plane was told. */
  controlPlaneReplicas?: number;
  controlPlaneScaleSent?: boolean;
  /** The control plane and its machine template as changed by a later apply (an upgrade), and whether it was told. */
  controlPlaneSpec?: { controlPlane: KubeadmControlPlane; machineTemplate: SimMachineTemplate };
  controlPlaneSpecSent?: boolean;
  /** Revision 3: the machines last told a Node condition other than healthy, and what (activities/node-conditions.ts). */
  nodeConditionsTold?: Record<string, string>;
  /**
   * Revision 6: since when the workload API has not answered the Node-conditions mirror, as its
   * failure said (activities/errors.ts FailingSinceDetails); cleared by the mirror's next result.
   * The Cluster's RemoteConnectionProbe is False while it is set.
   */
  probeFailedSince?: string;
  deleteRequested: boolean;
}

/**
 * What a MachineSet's preflight checks need of the control plane (Cluster API's ControlPlaneIsStable
 * and KubernetesVersionSkew): the oldest version it runs, and whether it is rolling out.
 */
export interface ControlPlaneFacts {
  version?: string;
  upgrading: boolean;
}

/** The facts as a key, to tell a set or deployment only when they changed. */
export const controlPlaneFactsKey = (f: ControlPlaneFacts) => `${f.version ?? ''}|${f.upgrading}`;

export interface MachineSetRecord {
  apply: MachineSetApply;
  started: boolean;
  gateOpened: boolean;
  /** controlPlaneFactsKey of what it was last told (or started with). */
  controlPlaneTold?: string;
  report?: MachineSetReport;
  deleted: boolean;
}

export interface DeploymentRecord {
  apply: MachineDeploymentApply;
  started: boolean;
  gateOpened: boolean;
  /** controlPlaneFactsKey of what it was last told (or started with). */
  controlPlaneTold?: string;
  report?: MachineDeploymentReport;
  deleted: boolean;
}

export interface ClusterView {
  name: string;
  namespace: string;
  uid: string;
  controlPlane: { kind: string; name: string; version: string };
  status: ClusterStatus;
  controlPlaneStatus?: ControlPlaneReport;
  machines: { name: string; phase: MachinePhase; nodeRef?: string; nodeReady: boolean }[];
  deployments?: { name: string; desiredReplicas: number; replicas: number; readyReplicas: number; availableReplicas: number; rollingOut: boolean }[];
}

export interface ControlPlaneView {
  name: string;
  namespace: string;
  clusterName: string;
  /** Its Cluster is paused (spec.paused): it acts on nothing until resumed (absent: not paused). */
  clusterPaused?: true;
  /** Its object has Cluster API's paused annotation (cluster.x-k8s.io/paused): it acts on nothing until that is removed. */
  annotationPaused?: true;
  /** spec.replicas as last applied (a scale through the Cluster's manifest). */
  spec: KubeadmControlPlane['spec'];
  status: KubeadmControlPlaneStatus;
  machines: {
    name: string;
    role: BootstrapRole;
    phase: MachinePhase | 'Pending';
    nodeRef?: string;
    nodeReady: boolean;
    version?: string;
    upToDate?: boolean;
    /** Made from the machine template the control plane has now (absent from workers of older releases: unknown). */
    infrastructureUpToDate?: boolean;
    /** Being deleted as a health check's remediation (its OwnerRemediated is False), for the Cluster's Remediating. */
    remediating?: boolean;
  }[];
}

/**
 * A MachineSet as its workflow needs it: the spec (Cluster API's field names) with its
 * templates resolved (bootstrap config and infrastructure specs embedded, as apply resolves
 * references until the management cluster exists).
 */
/** A set's fields its owner changes in place (revision 8): see updateMachineSetInPlaceSignal. */
export interface SetInPlace {
  minReadySeconds: number;
  deletion: MachineSpec['deletion'];
  order?: DeletionOrder;
  /**
   * The template's labels and annotations (spec.template.metadata, with the deployment's name
   * label), when they changed since the set was made or last told them (behind the patch
   * `template-metadata-in-place`); absent: as before. The set carries them, and the deletion
   * timeouts, to its machines.
   */
  metadata?: { labels: Record<string, string>; annotations: Record<string, string> };
}

/** What of an owner's machine template (a set's, a control plane's) its machines take in place (in-place.ts). */
export interface TemplateInPlace {
  deletion: MachineSpec['deletion'];
  /** A machine's labels: the template's with the owner's own (cluster, set or control-plane name). */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** What its machines are still to be told; `removed`: template annotations they are to lose. */
export interface PendingInPlace extends TemplateInPlace {
  removed: string[];
}

/**
 * What a set changes in place on its machines, as Cluster API's MachineSet propagates its
 * template: the deletion timeouts (to every machine, a deleting one included: a shorter
 * nodeDrainTimeout frees a stuck drain) and the template's annotations (not to a deleting one).
 * `remove`: template annotations the template no longer has.
 */
export interface MachineInPlace {
  deletion?: MachineSpec['deletion'];
  /** All its labels (the template's, its cluster's and its set's name). */
  labels?: Record<string, string>;
  annotations?: { set: Record<string, string>; remove: string[] };
}

export interface MachineSetWorkflowInput {
  machineSet: {
    name: string;
    namespace: string;
    spec: {
      clusterName: string;
      replicas: number;
      deletion?: { order?: DeletionOrder };
      /** annotations: each machine's, as Cluster API propagates a template's (when it is made; absent: none). */
      template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: MachineSpec };
    };
  };
  /** The KubeadmConfigTemplate's spec, and the SimMachineTemplate's. */
  bootstrapConfig: KubeadmConfigSpec;
  infrastructure: SimMachineSpec;
  cluster: ClusterContext;
  /** The MachineDeployment (or Cluster) that owns the set: it gets the set's reports. */
  ownerWorkflowId: string;
  /** False until ControlPlaneInitialized: the set creates no machine before it. */
  gateOpen: boolean;
  /** The control plane's version, for Cluster API's version-skew preflight checks. */
  controlPlaneVersion?: string;
  /**
   * A MachineSet applied on its own (its owner is its Cluster): what it was applied with, so a
   * later apply can be compared (only replicas change), and it reports every count change.
   */
  standalone?: MachineSetApply;
  state?: MachineSetState;
}

export interface MachineSetMachine {
  uid: string;
  /** Workflow time of creation, RFC 3339 (the deletion order's age). */
  created: string;
  /** When its Node first became Ready, RFC 3339 (for minReadySeconds). */
  readySince?: string;
  deleting: boolean;
  report?: MachineReport;
  /** The set's run that started it as a child (revision 2): that run sees its completion. */
  parentRun?: string;
  /** Told to delete and to let its completion say it is gone: the set must not continue-as-new before then. */
  awaited?: boolean;
  /** The revision it was started with (revision 7): only a machine of revision 7 or later is deleted by a cancellation. */
  flow?: number;
}

export interface MachineSetState extends PauseState {
  uid: string;
  generation: number;
  replicas: number;
  gateOpen: boolean;
  /** The control plane as its owner last told (absent: input.controlPlaneVersion, not upgrading). */
  controlPlane?: ControlPlaneFacts;
  deleteRequested: boolean;
  clusterDeleting: boolean;
  /** Live machines only: a machine is dropped once it reports Deleted. */
  machines: Record<string, MachineSetMachine>;
  status?: MachineSetStatus;
  /** The counts last reported to the owner (revision 2: reports only what the owner cannot predict). */
  reported?: { replicas: number; readyReplicas: number; availableReplicas: number };
  /** Revision 8: the owner said not to replace lost machines (an old set of an OnDelete rollout). */
  createDisabled?: boolean;
  /** Revision 8: what its owner changed in place since the set started. */
  inPlace?: SetInPlace;
  /** Revision 9: why a scale up is blocked, as last reported to the owner. */
  blocked?: { reason: string; message: string };
  /** The machines a health check's remediation is deleting, as last reported to the owner (sorted; absent: none). */
  remediating?: string[];
  /** What its machines are still to be told in place (the template's deletion timeouts and annotations); absent: nothing. */
  toMachines?: PendingInPlace;
}

/**
 * Sent by a MachineSet to its owner when a count its owner plans with changes (deduplicated):
 * not its generation, so the owner's own scale signals are not echoed back.
 */
export interface MachineSetReport {
  name: string;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  upToDateReplicas: number;
  deleted: boolean;
  /** The set's spec.replicas: told to an owner that does not set it (its Cluster). */
  desiredReplicas?: number;
  /** Revision 9: why the set creates no machine it lacks (a preflight check), for its owner's ScalingUp. */
  scaleUpBlocked?: { reason: string; message: string };
  /** Its machines a health check's remediation is deleting (sorted; absent: none), for its owner's Remediating. */
  remediating?: string[];
}

export interface MachineSetView {
  name: string;
  namespace: string;
  clusterName: string;
  /** Its Cluster is paused (spec.paused): it acts on nothing until resumed (absent: not paused). */
  clusterPaused?: true;
  /** Its object has Cluster API's paused annotation (cluster.x-k8s.io/paused): it acts on nothing until that is removed. */
  annotationPaused?: true;
  generation: number;
  replicas: number;
  /** The machines' Kubernetes version (spec.template.spec.version): `get machinesets`' VERSION. */
  version?: string;
  /** The set's spec (replicas as last set), for its object in a management cluster. */
  spec: MachineSetWorkflowInput['machineSet']['spec'];
  status?: MachineSetStatus;
  /** `remediating`: being deleted as a health check's remediation (its OwnerRemediated is False). */
  machines: { name: string; phase: MachinePhase | 'Pending'; nodeRef?: string; nodeReady: boolean; deleting: boolean; remediating?: true }[];
}

/** A MachineDeployment with the templates its machines are made from, resolved. */
export interface MachineDeploymentApply {
  machineDeployment: MachineDeployment;
  bootstrapTemplate: KubeadmConfigTemplate;
  infrastructureTemplate: SimMachineTemplate;
  /**
   * Fields the manifest does not set, which an apply to a running deployment keeps as they are, as
   * kubectl's apply leaves alone a field it does not own (`capstan rollout pause` and `restart`
   * set these). Absent: the manifest is the whole spec.
   */
  omitted?: ('paused' | 'rollout.after')[];
}

/** A MachineSet with the templates its machines are made from, resolved. */
export interface MachineSetApply {
  machineSet: MachineSet;
  bootstrapTemplate: KubeadmConfigTemplate;
  infrastructureTemplate: SimMachineTemplate;
}

export interface MachineDeploymentWorkflowInput {
  apply: MachineDeploymentApply;
  cluster: ClusterContext;
  /** The Cluster: it gets the deployment's reports. */
  ownerWorkflowId: string;
  /** False until ControlPlaneInitialized: no set creates a machine before it. */
  gateOpen: boolean;
  controlPlaneVersion?: string;
  state?: MachineDeploymentState;
}

/** One MachineSet of a deployment, as the deployment knows it. */
export interface DeploymentSet {
  /** The template's fingerprint: the set whose hash is the desired template's is the new set. */
  templateHash: string;
  /** Its creation order, and its revision until a rollback gives it a new one: 1, 2, … */
  revision: number;
  /**
   * The revision it shows once a rollback made it the new set again (Cluster API's
   * machinedeployment.clusters.x-k8s.io/revision, raised to the newest + 1), and those it had before
   * (revision-history). Old sets are still ordered by `revision`, their creation order.
   */
  shownRevision?: number;
  revisionHistory?: number[];
  /** spec.replicas as the deployment last set it. */
  replicas: number;
  /** Workflow time of creation, RFC 3339: a set created before rollout.after is rolled out. */
  created?: string;
  report?: MachineSetReport;
  deleting: boolean;
  /** Whether the set knows the control plane is initialized (it creates no machine before). */
  gateOpen: boolean;
  /** controlPlaneFactsKey of what it was last told (or started with). */
  controlPlaneTold?: string;
  /** Revision 8: whether the set was told not to replace lost machines (an old set of an OnDelete rollout). */
  createDisabled?: boolean;
  /** Revision 8: canonical JSON of the in-place fields the set was last told (or started with). */
  inPlaceTold?: string;
  /** Canonical JSON of the template metadata (labels, annotations) the set was last told or started with (absent: a set made before it was tracked, until its first pass). */
  metadataTold?: string;
}

export interface MachineDeploymentState extends PauseState {
  /** What its sets were last told of the pause (absent: never told). */
  pausedTold?: boolean;
  uid: string;
  generation: number;
  apply: MachineDeploymentApply;
  gateOpen: boolean;
  /** The control plane as its Cluster last told (absent: input.controlPlaneVersion, not upgrading). */
  controlPlane?: ControlPlaneFacts;
  deleteRequested: boolean;
  clusterDeleting: boolean;
  /** Live sets by name; a set is dropped once it reports deleted. */
  sets: Record<string, DeploymentSet>;
  lastRevision: number;
  status?: MachineDeploymentStatus;
  /** spec.replicas the sets were last sized for (revision 2): a paused deployment scales its sets proportionally when it changes. */
  sizedFor?: number;
}

/**
 * Sent by a MachineDeployment to its Cluster, deduplicated: what the Cluster shows (desired,
 * and counts clipped to desired so a surge does not flap them) and whether it is rolling out,
 * so a rollout's every step costs the Cluster no signal.
 */
export interface MachineDeploymentReport {
  name: string;
  desiredReplicas: number;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  rollingOut: boolean;
  observedGeneration: number;
  deleted: boolean;
}

export interface MachineDeploymentView {
  name: string;
  namespace: string;
  clusterName: string;
  /** Its Cluster is paused (spec.paused): it acts on nothing until resumed (absent: not paused). */
  clusterPaused?: true;
  /** Its object has Cluster API's paused annotation (cluster.x-k8s.io/paused): it acts on nothing until that is removed. */
  annotationPaused?: true;
  generation: number;
  spec: MachineDeployment['spec'];
  status?: MachineDeploymentStatus;
  /** `remediating`: its machines a health check's remediation is deleting, as the set last reported them. */
  sets: { name: string; revision: number; revisionHistory?: number[]; new: boolean; replicas: number; readyReplicas: number; availableReplicas: number; deleting: boolean; remediating?: string[] }[];
}

export interface MachineHealthCheckWorkflowInput {
  machineHealthCheck: MachineHealthCheck;
  cluster: ObjectKey;
  ownerWorkflowId: string;
  state?: MachineHealthCheckState;
}

export interface MachineHealthCheckState extends QuietState, PauseState {
  generation: number;
  spec: MachineHealthCheck['spec'];
  /** What the last observation saw (activities/health.ts) and its digest. */
  targets: OwnedHealthTarget[];
  digest?: string;
  /** Machines told to delete, until they are no longer targets: each is told once. */
  remediated: string[];
  /** Recent remediations per owner, for the backoff of replacements that fail again. */
  remediationLog?: RemediationRecord[];
  /** External remediation: the machines with a remediation request, and the template it came from. */
  remediationRequests?: Record<string, { apiGroup: string; kind: string; name: string }>;
  status?: MachineHealthCheckStatus;
  deleteRequested: boolean;
}

export interface MachineHealthCheckView {
  name: string;
  namespace: string;
  clusterName: string;
  /** Its Cluster is paused (spec.paused): it acts on nothing until resumed (absent: not paused). */
  clusterPaused?: true;
  /** Its object has Cluster API's paused annotation (cluster.x-k8s.io/paused): it acts on nothing until that is removed. */
  annotationPaused?: true;
  generation: number;
  spec: MachineHealthCheck['spec'];
  status?: MachineHealthCheckStatus;
  /** The targets the check found unhealthy at its last evaluation, and those it remediated. */
  unhealthy: string[];
  remediated: string[];
  /** Unhealthy replacements whose remediation waits out its backoff, and until when. */
  heldBack?: { machine: string; until: string }[];
  /** Revision 10: unhealthy machines left to the rollout, as Cluster API's "pending removal due to rollout". */
  pendingRollout?: string[];
  /** Why each unhealthy machine is (Cluster API's HealthCheckSucceeded reason and message), as of the query. */
  unhealthyReasons?: Record<string, UnhealthyReason>;
  /** Unhealthy machines waiting for their deployment's spec.remediation.maxInFlight, and Cluster API's message (absent: none). */
  deferred?: { machine: string; message: string }[];
  /** Targets not unhealthy whose timeout is running, as of the query (their HealthCheckSucceeded stays as it was). */
  pendingTimeouts?: string[];
}

/** A health target and the owner whose slot it fills (for the remediation backoff). */
export type OwnedHealthTarget = HealthTarget & { owner?: string; maxInFlight?: number; maxInFlightSpec?: string };

export interface HealthCheckRecord {
  object: MachineHealthCheck;
  started: boolean;
  deleted: boolean;
}
