// Signals, queries and updates, defined once and imported by the workflows and the client.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { KubeadmControlPlane } from '../api/kubeadm-control-plane.js';
import type { MachineHealthCheck } from '../api/machine-health-check.js';
import type { SimMachineTemplate } from '../api/sim.js';
import type { NodeConditions } from './planners/node-conditions.js';
import type {
  ControlPlaneFacts,
  ApplyResult,
  DeleteRequest,
  ClusterApply,
  ClusterView,
  ControlPlaneReport,
  ControlPlaneView,
  MachineApply,
  MachineDeploymentApply,
  MachineDeploymentReport,
  MachineDeploymentView,
  MachineHealthCheckView,
  MachineReport,
  MachineSetApply,
  MachineSetReport,
  MachineSetView,
  MachineView,
  RemediationReason,
  SetInPlace,
  MachineInPlace,
} from './types.js';

// Cluster
/** Creates the cluster (with update-with-start) or confirms it is as applied. */
export const applyClusterUpdate = defineUpdate<ApplyResult, [ClusterApply]>('applyCluster');
/** Adds a worker Machine to its cluster; it waits at the init gate until the control plane is initialized. */
export const applyMachineUpdate = defineUpdate<ApplyResult, [MachineApply]>('applyMachine');
/** Adds a MachineDeployment to its cluster (its later changes go to its own workflow's applyMachineDeployment). */
export const addMachineDeploymentUpdate = defineUpdate<ApplyResult, [MachineDeploymentApply]>('addMachineDeployment');
/** A new MachineSet that no MachineDeployment owns, added to its Cluster (which starts it). */
export const addMachineSetUpdate = defineUpdate<ApplyResult, [MachineSetApply]>('addMachineSet');
/** Starts deletion in Cluster API's order: workers, control plane, infrastructure. */
export const deleteClusterUpdate = defineUpdate<{ accepted: true }, []>('deleteCluster');
export const clusterStatusQuery = defineQuery<ClusterView>('status');
export const controlPlaneReportSignal = defineSignal<[ControlPlaneReport]>('controlPlaneReport');

// Control plane
/** Deletes the control plane's machines; `clusterDeleting` as for deleteMachine. */
export const deleteControlPlaneSignal = defineSignal<[DeleteRequest?]>('deleteControlPlane');
export const controlPlaneStatusQuery = defineQuery<ControlPlaneView>('status');
/** The Cluster's change of the control plane's spec.replicas (odd, validated at apply). */
/** The KubeadmControlPlane's spec or machine template changed (a version upgrade, a new template, rollout or remediation settings). */
export const updateControlPlaneSignal = defineSignal<[{ controlPlane: KubeadmControlPlane; machineTemplate: SimMachineTemplate }]>('updateControlPlane');
export const scaleControlPlaneSignal = defineSignal<[{ replicas: number }]>('scaleControlPlane');
/**
 * A MachineHealthCheck asks the control plane to remediate one of its machines: the control plane
 * deletes it (then replaces it) only when it may (planners/control-plane-remediation.ts). Without
 * `remediation`, the request is withdrawn: the machine is healthy again.
 */
export const remediateControlPlaneMachineSignal = defineSignal<[{ machine: string; remediation?: RemediationReason }]>('remediateMachine');

// Machine
/** A machine's report to its owner (Cluster or control plane). */
export const machineReportSignal = defineSignal<[MachineReport]>('machineReport');
/** Opens the init gate: the control plane is initialized, joins may proceed. */
/** Owner → MachineDeployment / MachineSet: the control plane's version or rollout changed (preflight checks). */
export const controlPlaneChangedSignal = defineSignal<[ControlPlaneFacts]>('controlPlaneChanged');
export const controlPlaneInitializedSignal = defineSignal<[]>('controlPlaneInitialized');
/**
 * Deletes a Machine. When the whole Cluster is being deleted, the machine skips draining and
 * deleting its Node, as Cluster API does: the workload cluster is going away with it.
 */
export const deleteMachineSignal = defineSignal<[DeleteRequest?]>('deleteMachine');
export const machineStatusQuery = defineQuery<MachineView>('status');
/** A Running machine's NodeReady and NodeHealthy, sent only when they changed (activities/node-conditions.ts). */
export const nodeConditionsSignal = defineSignal<[NodeConditions]>('nodeConditions');
/**
 * To a quiet observer's workflow (a Cluster's Node-conditions mirror, a MachineHealthCheck), from
 * the worker's waker: what it watches no longer matches the mark it showed; observe again. One
 * that is not quiet ignores it.
 */
export const wakeObserverSignal = defineSignal('wakeObserver');
/**
 * Sets and removes a Machine's annotations (its spec stays immutable). The deletion hooks are
 * annotations: `pre-drain.delete.hook.machine.cluster.capstan.dev/<name>` and
 * `pre-terminate.delete.hook.machine.cluster.capstan.dev/<name>` hold a deletion until removed.
 */
export const annotateMachineUpdate = defineUpdate<Record<string, string>, [{ set?: Record<string, string>; remove?: string[] }]>('annotateMachine');

// MachineSet
/** Scales the set (`spec.replicas`); validated (a non-negative integer), answers the new generation. */
export const scaleMachineSetUpdate = defineUpdate<{ generation: number }, [{ replicas: number }]>('scaleMachineSet');
/** The owning MachineDeployment's scale of the set (a workflow cannot send an Update). */
export const setMachineSetReplicasSignal = defineSignal<[{ replicas: number }]>('setMachineSetReplicas');
/**
 * The owning MachineDeployment's word that the set must not replace the machines it loses (Cluster
 * API's `machineset.cluster.x-k8s.io/disable-machine-create` annotation, set on the old sets of an
 * OnDelete rollout) or may again (the set became the new one). Revision 8.
 */
export const disableMachineCreateSignal = defineSignal<[{ disabled: boolean }]>('disableMachineCreate');
/**
 * What its owner changes on a set in place, without a rollout (Cluster API's in-place propagated
 * fields): minReadySeconds, the machines' deletion timeouts and the set's deletion order. The set
 * gives them to the machines it makes from then on. Revision 8.
 */
export const updateMachineSetInPlaceSignal = defineSignal<[SetInPlace]>('updateMachineSetInPlace');
/** Sent by a MachineSet to its machines when its template's deletion timeouts or annotations change (Cluster API's in-place propagation). */
export const updateMachineInPlaceSignal = defineSignal<[MachineInPlace]>('updateMachineInPlace');
/** Deletes the set's machines, then the set; `clusterDeleting` as for deleteMachine. */
export const deleteMachineSetSignal = defineSignal<[DeleteRequest?]>('deleteMachineSet');
export const machineSetStatusQuery = defineQuery<MachineSetView>('status');
/** A MachineSet's report to its owner. */
export const machineSetReportSignal = defineSignal<[MachineSetReport]>('machineSetReport');

// MachineDeployment
/** A changed spec or templates (validated; a template change rolls out); answers the generation. */
/** A new MachineHealthCheck, added to its Cluster (which starts it once the control plane is initialized). */
export const addMachineHealthCheckUpdate = defineUpdate<ApplyResult, [MachineHealthCheck]>('addMachineHealthCheck');
/** A change to a running MachineHealthCheck's spec (its clusterName is immutable). */
export const applyMachineHealthCheckUpdate = defineUpdate<{ generation: number; result: 'configured' | 'unchanged' }, [MachineHealthCheck]>('applyMachineHealthCheck');
export const deleteMachineHealthCheckSignal = defineSignal('deleteMachineHealthCheck');
export const machineHealthCheckStatusQuery = defineQuery<MachineHealthCheckView>('status');
/** A change to a running MachineSet that its Cluster owns: replicas only (its template is immutable). */
export const applyMachineSetUpdate = defineUpdate<{ generation: number; result: 'configured' | 'unchanged' }, [MachineSetApply]>('applyMachineSet');
export const applyMachineDeploymentUpdate = defineUpdate<{ generation: number; result: 'configured' | 'unchanged' }, [MachineDeploymentApply]>('applyMachineDeployment');
/** `capstan scale machinedeployment`: spec.replicas (a non-negative integer); answers the generation. */
export const scaleMachineDeploymentUpdate = defineUpdate<{ generation: number }, [{ replicas: number }]>('scaleMachineDeployment');
/** `capstan rollout pause|resume`: spec.paused; answers the generation. */
export const pauseMachineDeploymentUpdate = defineUpdate<{ generation: number }, [{ paused: boolean }]>('pauseMachineDeployment');
/** `capstan rollout restart`: spec.rollout.after (RFC 3339); machines created before it are rolled out once it passes. */
export const restartMachineDeploymentUpdate = defineUpdate<{ generation: number }, [{ after: string }]>('restartMachineDeployment');
/** Deletes every set of the deployment, then the deployment; `clusterDeleting` as for deleteMachine. */
export const deleteMachineDeploymentSignal = defineSignal<[DeleteRequest?]>('deleteMachineDeployment');
export const machineDeploymentStatusQuery = defineQuery<MachineDeploymentView>('status');
/** A MachineDeployment's report to its Cluster. */
export const machineDeploymentReportSignal = defineSignal<[MachineDeploymentReport]>('machineDeploymentReport');
/**
 * Cluster API's pause, from the Cluster (spec.paused) to its control plane, deployments, sets and
 * health checks, and from a deployment to its sets (pause.ts).
 */
/**
 * A pause for a workflow (pause.ts): `paused`, its Cluster's spec.paused (from its owner);
 * `annotated`, its own object's paused annotation (a control plane's, from its Cluster, which
 * takes the control plane's manifest). Each is sent only when it changed.
 */
export const pauseSignal = defineSignal<[{ paused?: boolean; annotated?: boolean }]>('pause');
