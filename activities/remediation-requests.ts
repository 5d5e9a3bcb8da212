// External remediation (Cluster API's MachineHealthCheck `remediation.templateRef`): instead of
// deleting an unhealthy machine, the health check creates a remediation request — an object of
// the template's kind without its `Template` suffix (Metal3RemediationTemplate → Metal3Remediation),
// named after the machine, with the template's `spec.template.spec` — in the management cluster,
// for an external remediation controller to act on (reboot the host, say) and delete when done.
// The health check deletes a request whose machine is healthy again.
import type { KubeConfig } from '@kubernetes/client-node';
import { LABELS } from '../api/meta.js';
import { failure } from './errors.js';
import { ManagementApiError, ManagementClient } from '../providers/management/client.js';

export interface RemediationTemplateRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface RemediationRequestInput {
  templateRef: RemediationTemplateRef;
  namespace: string;
  machine: string;
  clusterName: string;
}

/** The request's kind: the template's without `Template`. */
export const requestKind = (templateKind: string) => templateKind.replace(/Template$/, '');

export function remediationRequestActivities({ management }: { management?: KubeConfig }) {
  const client = management ? new ManagementClient(management) : undefined;
  const need = (): ManagementClient => {
    if (!client) {
      throw failure('ManagementClusterRequired', 'remediation.templateRef: external remediation creates its requests in the management cluster, and this worker has none (set CAPSTAN_MANAGEMENT_KUBECONFIG)');
    }
    return client;
  };
  /** 4xx from the management cluster but a conflict or throttling: a retry will not mend it. */
  const terminal = (err: unknown, what: string) => {
    if (err instanceof ManagementApiError && err.status >= 400 && err.status < 500 && err.status !== 409 && err.status !== 429) {
      return failure('RemediationRequestRefused', `${what}: ${err.message}`);
    }
    return err;
  };

  return {
    /** Creates the machine's remediation request from the template; one already there is kept. */
    async createRemediationRequest(input: RemediationRequestInput): Promise<{ apiVersion: string; kind: string; name: string; created: boolean }> {
      const c = need();
      const { templateRef: t, namespace, machine } = input;
      const kind = requestKind(t.kind);
      try {
        const tr = await c.resource(t.apiGroup, t.kind);
        const template = await c.request<{ spec?: { template?: { spec?: unknown } } }>('GET', `/apis/${t.apiGroup}/${tr.version}/namespaces/${namespace}/${tr.plural}/${t.name}`);
        const rr = await c.resource(t.apiGroup, kind);
        const apiVersion = `${t.apiGroup}/${rr.version}`;
        const body = {
          apiVersion,
          kind,
          metadata: { name: machine, namespace, labels: { [LABELS.clusterName]: input.clusterName }, annotations: { 'cluster.capstan.dev/remediation-template': t.name } },
          spec: template.spec?.template?.spec ?? {},
        };
        try {
          await c.request('POST', `/apis/${t.apiGroup}/${rr.version}/namespaces/${namespace}/${rr.plural}`, body);
          return { apiVersion, kind, name: machine, created: true };
        } catch (err) {
          if (err instanceof ManagementApiError && err.status === 409) return { apiVersion, kind, name: machine, created: false };
          throw err;
        }
      } catch (err) {
        throw terminal(err, `remediation.templateRef ${t.kind} "${t.name}"`);
      }
    },

    /** Deletes the machine's remediation request, if there is one. */
    async deleteRemediationRequest(input: Omit<RemediationRequestInput, 'clusterName'>): Promise<{ deleted: boolean }> {
      const c = need();
      const { templateRef: t, namespace, machine } = input;
      try {
        const rr = await c.resource(t.apiGroup, requestKind(t.kind));
        await c.request('DELETE', `/apis/${t.apiGroup}/${rr.version}/namespaces/${namespace}/${rr.plural}/${machine}`);
        return { deleted: true };
      } catch (err) {
        if (err instanceof ManagementApiError && err.status === 404) return { deleted: false };
        throw terminal(err, `remediation request ${requestKind(t.kind)} "${machine}"`);
      }
    },
  };
}
