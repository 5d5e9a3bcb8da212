// The kubeadm bootstrap provider's activities: cluster certificates (look up or generate),
// the admin kubeconfig, and per-machine bootstrap data with its bootstrap token. Everything
// secret is written to the secret store here; workflows get back names and public facts only.
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { KubeadmConfigSpec } from '../api/kubeadm-config.js';
import { LABELS } from '../api/meta.js';
import {
  DEFAULT_BOOTSTRAP_TOKEN_TTL_SECONDS as BOOTSTRAP_TOKEN_TTL_SECONDS,
  DEFAULT_NODE_TOKEN_GROUP,
  bootstrapTokenSecretManifest,
  generateBootstrapToken,
  parseBootstrapToken,
  rfc3339,
} from '../providers/kubeadm/bootstrap-token.js';
import { renderInitData, renderJoinData } from '../providers/kubeadm/cloud-init.js';
import {
  buildClusterConfiguration,
  buildInitConfiguration,
  buildJoinConfiguration,
  CONTAINERD_CRI_SOCKET,
  CONTROL_PLANE_TAINT,
} from '../providers/kubeadm/kubeadm-config.js';
import { adminKubeconfig } from '../providers/kubeadm/kubeconfig.js';
import {
  CA_COMMON_NAMES,
  caCertHash,
  generateCertificateAuthority,
  generateServiceAccountKeyPair,
  type ClusterPki,
} from '../providers/kubeadm/pki/cluster-pki.js';
import type { SecretStore } from '../providers/secrets/store.js';
import type { ObjectKey } from '../workflows/ids.js';
import type { BootstrapRole, ClusterContext } from '../workflows/types.js';
import { failure, malformedSecret, secretNotFound } from './errors.js';
import { apiStatus, kubeconfigSecretName, workloadClient } from './workload-client.js';
import { workloadWrite } from './workload-limit.js';

export interface BootstrapDeps {
  secrets: SecretStore;
}

/** Cluster API's secret names: `<cluster>-ca`, `-etcd`, `-proxy`, `-sa`, `-kubeconfig`. */
const CERT_SECRETS = { ca: 'ca', etcdCa: 'etcd', frontProxyCa: 'proxy' } as const;
const SECRET_TYPE = 'cluster.x-k8s.io/secret';
const TOKEN_ID_LABEL = 'bootstrap.capstan.dev/token-id';

const pair = (certPem: string, keyPem: string) => ({ 'tls.crt': certPem, 'tls.key': keyPem });

/** A `<cluster>-<suffix>` secret's tls.crt and, if it has one, tls.key; a missing secret or certificate is named. */
async function readCertSecret(secrets: SecretStore, cluster: ObjectKey, suffix: string): Promise<{ name: string; certPem: string; keyPem?: string }> {
  const name = `${cluster.name}-${suffix}`;
  const s = await secrets.get(cluster.namespace, name);
  if (!s) throw secretNotFound(cluster.namespace, name, 'cluster certificates are not generated yet');
  const certPem = s.data['tls.crt'];
  if (!certPem) throw malformedSecret(cluster.namespace, name, 'missing tls.crt');
  return { name, certPem, keyPem: s.data['tls.key'] };
}

export async function loadPki(secrets: SecretStore, cluster: ObjectKey): Promise<ClusterPki> {
  // A missing secret may yet appear (retryable); one that is there but does not parse will not
  // mend itself (non-retryable). Parse errors name the secret and the key, never the content.
  const get = async (suffix: string, kind: 'cert' | 'public-key') => {
    const { name, certPem, keyPem } = await readCertSecret(secrets, cluster, suffix);
    if (!keyPem) throw malformedSecret(cluster.namespace, name, 'missing tls.key (a CA without its key, an external CA, is not supported)');
    let publicKey: KeyObject;
    try {
      publicKey = kind === 'cert' ? new X509Certificate(certPem).publicKey : createPublicKey(certPem);
    } catch {
      throw malformedSecret(cluster.namespace, name, `tls.crt is not a PEM ${kind === 'cert' ? 'certificate' : 'public key'}`);
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(keyPem);
    } catch {
      throw malformedSecret(cluster.namespace, name, 'tls.key is not a PEM private key');
    }
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
    if (!spki(createPublicKey(privateKey)).equals(spki(publicKey))) {
      throw malformedSecret(cluster.namespace, name, 'tls.key does not belong to tls.crt');
    }
    return { certPem, keyPem };
  };
  const ca = await get(CERT_SECRETS.ca, 'cert');
  const etcdCa = await get(CERT_SECRETS.etcdCa, 'cert');
  const frontProxyCa = await get(CERT_SECRETS.frontProxyCa, 'cert');
  const sa = await get('sa', 'public-key');
  return { ca, etcdCa, frontProxyCa, serviceAccount: { publicKeyPem: sa.certPem, privateKeyPem: sa.keyPem } } as ClusterPki;
}

/**
 * The cluster CA's certificate alone: all a worker's join needs (its hash pins the API server).
 * A worker's bootstrap data carries no key, so neither the keys nor the other CAs are read (nor
 * parsed: for a fleet of workers created at once, that parsing was a third of their bootstrap).
 */
export async function loadCaCert(secrets: SecretStore, cluster: ObjectKey): Promise<string> {
  const { name, certPem } = await readCertSecret(secrets, cluster, CERT_SECRETS.ca);
  try {
    new X509Certificate(certPem);
  } catch {
    throw malformedSecret(cluster.namespace, name, 'tls.crt is not a PEM certificate');
  }
  return certPem;
}

/** Creates the workload cluster's bootstrap token Secret (kubeadm's bootstrap-token-<id>). */
async function ensureWorkloadToken(secrets: SecretStore, cluster: ObjectKey, token: string, machineName: string): Promise<void> {
  const client = await workloadClient(secrets, cluster);
  const { id, secret } = parseBootstrapToken(token);
  const manifest = bootstrapTokenSecretManifest(
    { id, secret, expiresAt: rfc3339(new Date(Date.now() + BOOTSTRAP_TOKEN_TTL_SECONDS * 1000)) },
    { description: `capstan: joins Machine ${cluster.namespace}/${machineName}` },
  );
  try {
    await client.core.createNamespacedSecret({ namespace: 'kube-system', body: manifest });
  } catch (err) {
    if (apiStatus(err) !== 409) throw err; // AlreadyExists: an earlier attempt made it
  }
}

export function bootstrapActivities({ secrets }: BootstrapDeps) {
  return {
    /**
     * Looks up or generates the cluster CA, etcd CA, front-proxy CA and service-account keys,
     * and the admin kubeconfig for the endpoint. Returns only the CA's public pin.
     */
    async ensureClusterCertificates(input: { cluster: ClusterContext }): Promise<{ caCertHash: string }> {
      const { key, endpoint } = input.cluster;
      const labels = { [LABELS.clusterName]: key.name };
      const now = new Date();
      // A secret is made only where none is stored: what the user supplied (Cluster API's
      // `<cluster>-ca`, `-etcd`, …) or an earlier attempt stored wins, so a user's CA is used
      // as given and a retry never rotates a CA that machines may already trust.
      const ensure = async (name: string, make: () => Promise<Record<string, string>>): Promise<void> => {
        if (await secrets.get(key.namespace, name)) return;
        await secrets.create(key.namespace, name, { type: SECRET_TYPE, data: await make(), labels });
      };
      for (const field of ['ca', 'etcdCa', 'frontProxyCa'] as const) {
        await ensure(`${key.name}-${CERT_SECRETS[field]}`, async () => {
          const ca = await generateCertificateAuthority(CA_COMMON_NAMES[field], { now });
          return pair(ca.certPem, ca.keyPem);
        });
      }
      await ensure(`${key.name}-sa`, async () => {
        const sa = generateServiceAccountKeyPair();
        return pair(sa.publicKeyPem, sa.privateKeyPem);
      });
      const pki = await loadPki(secrets, key);
      const server = `https://${endpoint.host}:${endpoint.port}`;
      await ensure(kubeconfigSecretName(key.name), async () => ({
        value: await adminKubeconfig(pki.ca, { clusterName: key.name, server, now }),
      }));
      return { caCertHash: caCertHash(pki.ca.certPem) };
    },

    /**
     * Renders the machine's cloud-init bootstrap data (init, control-plane join or worker join)
     * into the secret `<configName>`; for joins, registers a fresh bootstrap token in the
     * workload cluster. Returns the secret's name and the token's public ID.
     */
    async renderBootstrapData(input: {
      cluster: ClusterContext;
      machineName: string;
      configName: string;
      role: BootstrapRole;
      version?: string;
      config: KubeadmConfigSpec;
    }): Promise<{ dataSecretName: string; tokenId: string }> {
      const { cluster, machineName, role, config } = input;
      const ns = cluster.key.namespace;
      let stored = await secrets.get(ns, input.configName);
      if (!stored) {
        // The secrets first (a missing or malformed one is what to report): a worker's join needs
        // the CA's certificate only, a control-plane machine every CA with its key.
        const pki = role === 'worker-join' ? undefined : await loadPki(secrets, cluster.key);
        const caCertPem = pki ? pki.ca.certPem : await loadCaCert(secrets, cluster.key);
        const token = generateBootstrapToken({ now: new Date(), ttlSeconds: BOOTSTRAP_TOKEN_TTL_SECONDS });
        const network = cluster.clusterNetwork;
        const common = {
          preKubeadmCommands: config.preKubeadmCommands,
          postKubeadmCommands: config.postKubeadmCommands,
          files: config.files.map((f) => ({ path: f.path, content: f.content, owner: f.owner, permissions: f.permissions.padStart(4, '0') })),
        };
        const localAPIEndpoint = { advertiseAddress: '0.0.0.0', bindPort: network.apiServerPort };
        let value: string;
        if (role === 'init') {
          if (!input.version) throw failure('InvalidConfiguration', `Machine ${machineName}: spec.version is required for a control-plane machine`);
          if (!pki) throw new Error('unreachable: an init machine loads every CA');
          const reg = config.initConfiguration.nodeRegistration;
          value = renderInitData({
            clusterConfiguration: buildClusterConfiguration({
              clusterName: cluster.key.name,
              kubernetesVersion: input.version,
              controlPlaneEndpoint: cluster.endpoint,
              networking: {
                serviceSubnet: network.services.cidrBlocks.join(','),
                podSubnet: network.pods.cidrBlocks.join(','),
                dnsDomain: network.serviceDomain,
              },
              apiServerExtraArgs: config.clusterConfiguration.apiServer.extraArgs,
              apiServerCertSANs: config.clusterConfiguration.apiServer.certSANs,
              controllerManagerExtraArgs: config.clusterConfiguration.controllerManager.extraArgs,
            }),
            initConfiguration: buildInitConfiguration({
              bootstrapToken: { token: token.token, ttlSeconds: BOOTSTRAP_TOKEN_TTL_SECONDS, groups: [DEFAULT_NODE_TOKEN_GROUP] },
              nodeRegistration: { name: reg.name ?? machineName, criSocket: CONTAINERD_CRI_SOCKET, kubeletExtraArgs: reg.kubeletExtraArgs, taints: reg.taints ?? [CONTROL_PLANE_TAINT] },
              localAPIEndpoint,
            }),
            pki,
            ...common,
          });
        } else {
          const controlPlane = role === 'control-plane-join';
          const reg = config.joinConfiguration.nodeRegistration;
          const joinConfiguration = buildJoinConfiguration({
            apiServerEndpoint: cluster.endpoint,
            token: token.token,
            caCertHashes: [caCertHash(caCertPem)],
            nodeRegistration: {
              name: reg.name ?? machineName,
              criSocket: CONTAINERD_CRI_SOCKET,
              kubeletExtraArgs: reg.kubeletExtraArgs,
              taints: reg.taints ?? (controlPlane ? [CONTROL_PLANE_TAINT] : []),
            },
            ...(controlPlane ? { controlPlane: { localAPIEndpoint } } : {}),
          });
          value = pki
            ? renderJoinData({ joinConfiguration, controlPlane: true, pki, ...common })
            : renderJoinData({ joinConfiguration, controlPlane: false, ...common });
        }
        stored = await secrets.create(ns, input.configName, {
          type: SECRET_TYPE,
          data: { value, format: 'cloud-config', token: token.token },
          labels: { [LABELS.clusterName]: cluster.key.name, [TOKEN_ID_LABEL]: token.id },
        });
      }
      const token = stored.data.token!;
      // The init machine's token is created by `kubeadm init` itself (InitConfiguration);
      // a join's token must exist in the workload cluster before the machine boots.
      if (role !== 'init') await workloadWrite(cluster.key, () => ensureWorkloadToken(secrets, cluster.key, token, machineName));
      return { dataSecretName: input.configName, tokenId: parseBootstrapToken(token).id };
    },

    /** Deletes the machine's bootstrap data and, where the API answers, its bootstrap token. */
    async deleteBootstrapData(input: { cluster: ObjectKey; dataSecretName: string; tokenId?: string }): Promise<void> {
      if (input.tokenId) {
        try {
          const client = await workloadClient(secrets, input.cluster);
          await workloadWrite(input.cluster, () => client.core.deleteNamespacedSecret({ name: `bootstrap-token-${input.tokenId}`, namespace: 'kube-system' }));
        } catch (err) {
          // Gone already, or the API is down (the cluster is being deleted): tokencleaner
          // removes an expired token anyway.
          Context.current().log.info('bootstrap token not deleted', { tokenId: input.tokenId, status: apiStatus(err) });
        }
      }
      await secrets.delete(input.cluster.namespace, input.dataSecretName);
    },

    /** Removes every secret of the cluster (certificates, kubeconfig, leftover bootstrap data). */
    async deleteClusterSecrets(input: { cluster: ObjectKey }): Promise<{ deleted: number }> {
      const owned = await secrets.list(input.cluster.namespace, { [LABELS.clusterName]: input.cluster.name });
      for (const s of owned) await secrets.delete(input.cluster.namespace, s.name);
      return { deleted: owned.length };
    },
  };
}

