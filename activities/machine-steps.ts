// A worker Machine's life in fewer activities (workflow revision 2, see workflows/flow.ts).
// Each scheduled activity is a billed action and a round trip through the server, so the
// steps a Machine always takes back to back run as one activity each, built from the same
// functions the one-step activities use (both idempotent, so a retry of the whole is safe):
// - provisionMachine: render the bootstrap data (reused if rendered), then create the instance
//   (the client token returns the same one on a retry);
// - waitForMachineReady: the instance running, the Node with its providerID, the Node Ready;
// - teardownMachine: delete the instance and wait for it to terminate, then the Node and the
//   bootstrap data, best effort (what could not be done comes back, for the Deleting condition);
// - drainAndTeardownMachine (revision 7): a slice of the drain and, when it ends the drain, the
//   teardown, for a machine with no pre-terminate hook (nothing to wait for between the two).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { MachineAddress } from '../api/machine.js';
import type { KubeadmConfigSpec } from '../api/kubeadm-config.js';
import type { SimMachineSpec } from '../api/sim.js';
import type { ObjectKey } from '../workflows/ids.js';
import type { BootstrapRole, ClusterContext } from '../workflows/types.js';
import type { ActivityDeps } from './index.js';
import { bootstrapActivities } from './bootstrap.js';
import { classifyError } from './errors.js';
import { infrastructureActivities } from './infrastructure.js';
import { workloadActivities, type DrainResult } from './workload.js';

/** How often a machine waiting for its Node checks that its instance still runs (one cloud read). */
const INSTANCE_CHECK_MS = 5000;

export interface ProvisionMachineInput {
  cluster: ClusterContext;
  machineName: string;
  namespace: string;
  configName: string;
  role: BootstrapRole;
  version?: string;
  config: KubeadmConfigSpec;
  clientToken: string;
  spec: SimMachineSpec;
  failureDomain?: string;
}

export interface TeardownMachineInput {
  instanceId?: string;
  clientToken: string;
  providerClusterId: string;
  /** The Node to delete once the instance is gone (absent: none, or the cluster is going). */
  node?: { cluster: ObjectKey; nodeName: string; timeoutSeconds: number };
  /** The bootstrap data to delete, and the token to revoke (absent when the cluster goes). */
  bootstrap?: { cluster: ObjectKey; dataSecretName: string; tokenId?: string };
}

/** A cleanup the teardown could not do for good (its failure type and message). */
export interface SkippedCleanup {
  what: string;
  type: string;
  message: string;
}

export type DrainNodeInput = Parameters<ReturnType<typeof workloadActivities>['drainNode']>[0];

export interface DrainAndTeardownResult {
  drain: DrainResult;
  /** The drain failed for good (no retry helps): the machine was torn down without it. */
  drainSkipped?: SkippedCleanup;
  /** Present when the drain ended (drained, timed out or skipped) and the machine was torn down. */
  teardown?: { skipped: SkippedCleanup[] };
}

export function machineStepActivities(deps: ActivityDeps) {
  const infra = infrastructureActivities(deps);
  const boot = bootstrapActivities(deps);
  const workload = workloadActivities(deps);

  /** Runs a cleanup; a failure no retry can mend is returned instead of failing the teardown. */
  async function bestEffort(what: string, step: () => Promise<unknown>, skipped: SkippedCleanup[]): Promise<void> {
    try {
      await step();
    } catch (err) {
      const f = classifyError(err);
      if ('nonRetryable' in f && f.nonRetryable) skipped.push({ what, type: f.type ?? 'Unexpected', message: f.message });
      else throw f;
    }
  }

  return {
    async provisionMachine(input: ProvisionMachineInput): Promise<{ dataSecretName: string; tokenId: string; instanceId: string; providerID: string }> {
      const data = await boot.renderBootstrapData({
        cluster: input.cluster,
        machineName: input.machineName,
        configName: input.configName,
        role: input.role,
        version: input.version,
        config: input.config,
      });
      const vm = await infra.createMachineInfra({
        clientToken: input.clientToken,
        providerClusterId: input.cluster.providerClusterId,
        machineName: input.machineName,
        namespace: input.namespace,
        spec: input.spec,
        dataSecretName: data.dataSecretName,
        ...(input.version ? { version: input.version } : {}),
        ...(input.failureDomain ? { failureDomain: input.failureDomain } : {}),
      });
      return { ...data, ...vm };
    },

    async waitForMachineReady(input: { instanceId: string; cluster: ObjectKey; providerID: string; tokenId?: string }): Promise<{ addresses: MachineAddress[]; nodeName: string }> {
      const { addresses } = await infra.waitForMachineInfra({ instanceId: input.instanceId });
      // An instance that dies before its Node is Ready never will be: the machine fails (and a
      // MachineHealthCheck remediates it) instead of waiting for its startup timeout.
      const stillRunning = { everyMs: INSTANCE_CHECK_MS, run: () => infra.assertInstanceRunning({ instanceId: input.instanceId }) };
      const { nodeName } = await workload.waitForNode({ cluster: input.cluster, providerID: input.providerID, tokenId: input.tokenId }, stillRunning);
      await workload.waitForNodeReady({ cluster: input.cluster, nodeName }, stillRunning);
      return { addresses, nodeName };
    },

    teardownMachine,

    /**
     * Revision 7: one slice of the drain (as drainNode) and, when the slice ends the drain, the
     * teardown (as teardownMachine): one activity where a machine without a pre-terminate hook
     * took two. A drain that cannot be done for good (the workload API refuses us) is skipped, as
     * the workflow's best effort skips it, and comes back for the Deleting condition. A slice that
     * ends with pods still on the Node tears nothing down: the workflow shows what blocks it and
     * calls again. Idempotent: a retry drains a drained Node at once, and tears down by ID or token.
     */
    async drainAndTeardownMachine(input: { drain: DrainNodeInput; teardown: TeardownMachineInput }): Promise<DrainAndTeardownResult> {
      // Nothing to drain (skipped, or the instance is gone) counts as drained.
      let drain: DrainResult = { evicted: 0, done: true, timedOut: false };
      const skipped: SkippedCleanup[] = [];
      await bestEffort(`draining Node ${input.drain.nodeName}`, async () => {
        // A retry after the teardown began finds the instance gone: nothing is left to drain, and
        // a workload API that fails would hold the teardown (and the Node's deletion) for ever.
        const { instanceId } = input.teardown;
        const gone = Context.current().info.attempt > 1 && instanceId !== undefined && (await infra.assertInstanceRunning({ instanceId }).then(() => false, isTerminated));
        if (!gone) drain = await workload.drainNode(input.drain);
      }, skipped);
      if (!drain.done && !drain.timedOut) return { drain };
      return { drain, ...(skipped[0] ? { drainSkipped: skipped[0] } : {}), teardown: await teardownMachine(input.teardown) };
    },
  };

  async function teardownMachine(input: TeardownMachineInput): Promise<{ skipped: SkippedCleanup[] }> {
    await infra.deleteMachineInfra({ instanceId: input.instanceId, clientToken: input.clientToken, providerClusterId: input.providerClusterId });
    const skipped: SkippedCleanup[] = [];
    const { node, bootstrap } = input;
    // nodeDeletionTimeout counts from here, not from the activity's start (a drain, the instance's termination).
    const since = Date.now();
    if (node) {
      const what = `deleting Node ${node.nodeName}`;
      await bestEffort(what, async () => {
        const r = await workload.deleteNode({ ...node, sinceMs: since });
        if (!r.deleted) skipped.push({ what, type: 'NodeDeletionTimedOut', message: `gave up after nodeDeletionTimeout (${node.timeoutSeconds}s)` });
      }, skipped);
    }
    if (bootstrap) await bestEffort('deleting the bootstrap data', () => boot.deleteBootstrapData(bootstrap), skipped);
    return { skipped };
  }
}

/** assertInstanceRunning's answer that the instance no longer runs (anything else is rethrown). */
function isTerminated(err: unknown): boolean {
  if (err instanceof ApplicationFailure && err.type === 'InstanceTerminated') return true;
  throw err;
}
