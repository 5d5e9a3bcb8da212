// kubeadm init's post-control-plane phases, done with the runtime's super-admin identity against
// the new API server: upload-config, bootstrap-token (token Secrets, the TLS-bootstrap RBAC,
// cluster-info and its anonymous read access) and mark-control-plane (also run by control-plane
// joins). Each create is create-or-update, so a rerun after a crash mid-init converges.
import type { V1ClusterRoleBinding, V1ConfigMap, V1Node, V1Role, V1RoleBinding, V1Secret } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { bootstrapTokenSecretManifest, DEFAULT_NODE_TOKEN_GROUP, parseBootstrapToken, rfc3339 } from '../../kubeadm/bootstrap-token.js';
import { YAML_OUTPUT, type BootstrapTokenSpec, type ClusterConfiguration, type Taint } from '../../kubeadm/kubeadm-config.js';
import { KubeadmPhaseError } from './certs.js';
import { callOptions, describeApiError, isAlreadyExists, isConflict, isNotFound, type KubeClients } from './kube.js';
import { CONTROL_PLANE_LABEL, EXCLUDE_FROM_LB_LABEL } from './node-objects.js';
import { parseGoDuration, seconds, sleep, throwIfAborted } from './util.js';

const NODES_GROUP = 'system:nodes';

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubeadmPhaseError) throw err;
    throw new KubeadmPhaseError(name, describeApiError(err));
  }
}

async function upsertConfigMap(admin: KubeClients, cm: V1ConfigMap, keep?: (key: string) => boolean): Promise<void> {
  const namespace = cm.metadata!.namespace!;
  try {
    await admin.core.createNamespacedConfigMap({ namespace, body: cm }, callOptions());
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const current = await admin.core.readNamespacedConfigMap({ name: cm.metadata!.name!, namespace }, callOptions());
    const kept = Object.fromEntries(Object.entries(current.data ?? {}).filter(([k]) => keep?.(k)));
    await admin.core.replaceNamespacedConfigMap(
      { name: cm.metadata!.name!, namespace, body: { ...cm, metadata: { ...cm.metadata, resourceVersion: current.metadata?.resourceVersion }, data: { ...kept, ...cm.data } } },
      callOptions(),
    );
  }
}

async function createIfMissing(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/** upload-config/kubeadm: kube-system/kubeadm-config with the ClusterConfiguration (read by joins). */
export async function uploadConfig(admin: KubeClients, clusterConfiguration: ClusterConfiguration): Promise<void> {
  await phase('upload-config/kubeadm', async () => {
    await upsertConfigMap(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
      data: { ClusterConfiguration: stringify(clusterConfiguration, YAML_OUTPUT) },
    });
    // kubeadm:nodes-kubeadm-config: joining nodes (bootstrap token) and nodes read it.
    const role: V1Role = {
      metadata: { name: 'kubeadm:nodes-kubeadm-config', namespace: 'kube-system' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['kubeadm-config'], verbs: ['get'] }],
    };
    await createIfMissing(() => admin.rbac.createNamespacedRole({ namespace: 'kube-system', body: role }, callOptions()));
    const binding: V1RoleBinding = {
      metadata: { name: 'kubeadm:nodes-kubeadm-config', namespace: 'kube-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeadm:nodes-kubeadm-config' },
      subjects: [
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: DEFAULT_NODE_TOKEN_GROUP },
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: NODES_GROUP },
      ],
    };
    await createIfMissing(() => admin.rbac.createNamespacedRoleBinding({ namespace: 'kube-system', body: binding }, callOptions()));
  });
}

function clusterRoleBinding(name: string, clusterRole: string, group: string): V1ClusterRoleBinding {
  return {
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: group }],
  };
}

/** The kubeconfig kubeadm puts in kube-public/cluster-info: only the cluster (server + CA), no user. */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(caPem, 'utf8').toString('base64'), server }, name: '' }],
      contexts: null,
      'current-context': '',
      kind: 'Config',
      preferences: {},
      users: null,
    },
    YAML_OUTPUT,
  );
}

/**
 * bootstrap-token: the InitConfiguration's tokens as `bootstrap-token-<id>` Secrets, the RBAC that
 * lets a token's holder file a node CSR that gets auto-approved (and lets nodes renew their own),
 * `kubeadm:cluster-admins`, and kube-public/cluster-info readable by system:anonymous.
 */
export async function bootstrapTokenPhase(admin: KubeClients, tokens: BootstrapTokenSpec[], clusterInfo: { server: string; caPem: string }, now = new Date()): Promise<void> {
  await phase('bootstrap-token', async () => {
    for (const spec of tokens) {
      const { id, secret } = parseBootstrapToken(spec.token);
      const ttlMs = spec.ttl === undefined ? 24 * 3600_000 : parseGoDuration(spec.ttl);
      const manifest = bootstrapTokenSecretManifest(
        { id, secret, expiresAt: ttlMs > 0 ? rfc3339(new Date(now.getTime() + ttlMs)) : '' },
        { description: spec.description, usages: spec.usages ?? ['signing', 'authentication'], extraGroups: spec.groups ?? [DEFAULT_NODE_TOKEN_GROUP] },
      );
      // ttl 0: the token never expires (no expiration key).
      if (ttlMs <= 0) delete manifest.stringData.expiration;
      const body = manifest as unknown as V1Secret;
      try {
        await admin.core.createNamespacedSecret({ namespace: 'kube-system', body }, callOptions());
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        await admin.core.replaceNamespacedSecret({ name: manifest.metadata.name, namespace: 'kube-system', body }, callOptions());
      }
    }
  });

  await phase('bootstrap-token', async () => {
    const bindings = [
      clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', DEFAULT_NODE_TOKEN_GROUP),
      clusterRoleBinding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', DEFAULT_NODE_TOKEN_GROUP),
      clusterRoleBinding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', NODES_GROUP),
      clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', DEFAULT_NODE_TOKEN_GROUP),
      clusterRoleBinding('kubeadm:cluster-admins', 'cluster-admin', 'kubeadm:cluster-admins'),
    ];
    await createIfMissing(() =>
      admin.rbac.createClusterRole({ body: { metadata: { name: 'kubeadm:get-nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] } }, callOptions()),
    );
    for (const body of bindings) await createIfMissing(() => admin.rbac.createClusterRoleBinding({ body }, callOptions()));

    const kubeconfig = clusterInfoKubeconfig(clusterInfo.server, clusterInfo.caPem);
    let sameKubeconfig = false;
    try {
      const current = await admin.core.readNamespacedConfigMap({ name: 'cluster-info', namespace: 'kube-public' }, callOptions());
      sameKubeconfig = current.data?.kubeconfig === kubeconfig;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    // The bootstrap signer's jws-kubeconfig-* keys stay valid only over the same kubeconfig.
    await upsertConfigMap(
      admin,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data: { kubeconfig } },
      (key) => sameKubeconfig && key.startsWith('jws-kubeconfig-'),
    );
    const role: V1Role = {
      metadata: { name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }],
    };
    await createIfMissing(() => admin.rbac.createNamespacedRole({ namespace: 'kube-public', body: role }, callOptions()));
    const binding: V1RoleBinding = {
      metadata: { name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'system:anonymous' }],
    };
    await createIfMissing(() => admin.rbac.createNamespacedRoleBinding({ namespace: 'kube-public', body: binding }, callOptions()));
  });
}

/**
 * mark-control-plane: wait for the node's Node, then label it control-plane and
 * exclude-from-external-load-balancers and add the taints it lacks. Done with the admin identity:
 * NodeRestriction forbids a kubelet to set node-role labels on itself.
 */
export async function markControlPlane(admin: KubeClients, nodeName: string, taints: Taint[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'the Node does not exist yet';
  for (;;) {
    throwIfAborted(signal);
    let node: V1Node | undefined;
    try {
      node = await admin.core.readNode({ name: nodeName }, callOptions());
    } catch (err) {
      lastError = isNotFound(err) ? 'the Node does not exist yet' : describeApiError(err);
    }
    if (node) {
      const existing = node.spec?.taints ?? [];
      const missing = taints.filter((t) => !existing.some((e) => e.key === t.key && e.effect === t.effect));
      const patch = {
        metadata: { resourceVersion: node.metadata?.resourceVersion, labels: { [CONTROL_PLANE_LABEL]: '', [EXCLUDE_FROM_LB_LABEL]: '' } },
        ...(missing.length
          ? { spec: { taints: [...existing, ...missing.map((t) => ({ key: t.key, effect: t.effect, ...(t.value !== undefined ? { value: t.value } : {}) }))] } }
          : {}),
      };
      try {
        await admin.core.patchNode({ name: nodeName, body: patch }, callOptions(10_000, 'merge'));
        return;
      } catch (err) {
        // 409: the node changed since we read it (the kubelet posted status); read it again.
        lastError = isConflict(err) ? 'conflict' : describeApiError(err);
      }
    }
    if (Date.now() > deadline) {
      throw new KubeadmPhaseError('mark-control-plane', `error patching node "${nodeName}" through apiserver: timed out after ${seconds(timeoutMs)} (${lastError})`);
    }
    await sleep(300, signal);
  }
}
