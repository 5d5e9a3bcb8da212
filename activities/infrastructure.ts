// Infrastructure activities: the simulated cloud's cluster infrastructure and VMs.
// Every create carries a client token derived from the object's UID, so a retry after a
// crash, a timeout or a lost response returns the same resource instead of a second one.
import { Context } from '@temporalio/activity';
import type { APIEndpoint } from '../api/cluster.js';
import type { MachineAddress } from '../api/machine.js';
import type { SimClusterSpec, SimMachineSpec } from '../api/sim.js';
import { type SimCloudClient, SimValidationError } from '../providers/sim/client.js';
import type { SecretStore } from '../providers/secrets/store.js';
import { callProvider, classifyError, failure, isNotFound } from './errors.js';
import { heartbeat, pause } from './heartbeat.js';

export interface InfrastructureDeps {
  sim: SimCloudClient;
  secrets: SecretStore;
}

const LONG_POLL_SECONDS = 20;

export function infrastructureActivities({ sim, secrets }: InfrastructureDeps) {
  return {
    async createInfraCluster(input: { clientToken: string; name: string; namespace: string; spec: SimClusterSpec }): Promise<{ providerClusterId: string; endpoint: APIEndpoint; failureDomains: string[] }> {
      const c = await callProvider(() =>
        sim.createCluster({ clientToken: input.clientToken, name: `${input.namespace}-${input.name}`, region: input.spec.region }),
      );
      return { providerClusterId: c.id, endpoint: c.endpoint, failureDomains: c.failureDomains ?? [] };
    },

    async deleteInfraCluster(input: { providerClusterId: string }): Promise<void> {
      for (;;) {
        try {
          const c = await sim.deleteCluster(input.providerClusterId);
          if (c.state === 'deleted') return;
        } catch (err) {
          if (isNotFound(err)) return;
          // Instances still shutting down: a real cloud refuses too; wait for them.
          if (err instanceof SimValidationError && err.code === 'DependencyViolation') {
            await pause(1000, 'waiting for instances to terminate');
            continue;
          }
          throw classifyError(err);
        }
        await pause(500, 'waiting for the cluster infrastructure to be deleted');
      }
    },

    async createMachineInfra(input: {
      clientToken: string;
      providerClusterId: string;
      machineName: string;
      namespace: string;
      spec: SimMachineSpec;
      dataSecretName: string;
      /** The Machine's Kubernetes version: the image is picked by it, as a real provider does. */
      version?: string;
      /** The Machine's failure domain: the zone the instance is placed in. */
      failureDomain?: string;
    }): Promise<{ instanceId: string; providerID: string }> {
      const data = await secrets.get(input.namespace, input.dataSecretName);
      if (!data?.data.value) {
        throw failure('BootstrapDataMissing', `bootstrap data secret ${input.namespace}/${input.dataSecretName} not found`);
      }
      const vm = await callProvider(() =>
        sim.createVm({
          clientToken: input.clientToken,
          clusterId: input.providerClusterId,
          name: input.machineName,
          instanceType: input.spec.instanceType,
          ...(input.version ? { image: `kubernetes-${input.version}` } : {}),
          ...(input.failureDomain ? { failureDomain: input.failureDomain } : {}),
          userData: Buffer.from(data.data.value!, 'utf8').toString('base64'),
        }),
      );
      return { instanceId: vm.id, providerID: vm.providerID };
    },

    async waitForMachineInfra(input: { instanceId: string }): Promise<{ addresses: MachineAddress[] }> {
      const signal = Context.current().cancellationSignal;
      for (;;) {
        heartbeat(`waiting for ${input.instanceId} to run`);
        const vm = await callProvider(() => sim.waitForVmState(input.instanceId, 'running', { timeoutSeconds: LONG_POLL_SECONDS, signal }));
        if (vm.state === 'running') return { addresses: vm.addresses as MachineAddress[] };
        if (vm.state === 'terminated' || vm.state === 'shutting-down') {
          throw failure('InstanceTerminated', `instance ${vm.id} is ${vm.state}${vm.stateReason ? ` (${vm.stateReason})` : ''} before it ran`);
        }
      }
    },

    /** Fails for good (InstanceTerminated) when the instance is no longer running: it will never join. */
    async assertInstanceRunning(input: { instanceId: string }): Promise<void> {
      // A cloud that does not answer this time says nothing about the instance: look again later.
      const vm = await sim.getVm(input.instanceId).catch((err: unknown) => {
        if (isNotFound(err)) throw failure('InstanceTerminated', `instance ${input.instanceId} no longer exists: it will not join the cluster`);
        return undefined;
      });
      if (vm && vm.state !== 'running') {
        throw failure('InstanceTerminated', `instance ${vm.id} is ${vm.state}${vm.stateReason ? ` (${vm.stateReason})` : ''}: it will not join the cluster`);
      }
    },

    async deleteMachineInfra(input: { instanceId?: string; clientToken: string; providerClusterId: string }): Promise<void> {
      let id = input.instanceId;
      if (!id) {
        // The create may have reached the cloud without us learning the ID: find it by token.
        const vms = await callProvider(() => sim.listVms({ clusterId: input.providerClusterId }));
        id = vms.find((v) => v.clientToken === input.clientToken)?.id;
        if (!id) return;
      }
      const signal = Context.current().cancellationSignal;
      try {
        await callProvider(() => sim.deleteVm(id!));
        for (;;) {
          heartbeat(`waiting for ${id} to terminate`);
          const vm = await callProvider(() => sim.waitForVmState(id!, 'terminated', { timeoutSeconds: LONG_POLL_SECONDS, signal }));
          if (vm.state === 'terminated') return;
        }
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    },
  };
}
