// kubeadm's configuration API (kubeadm.k8s.io/v1beta4) as typed plain objects, builders that
// take every value explicitly, and multi-document YAML in and out.
import { parseAllDocuments, stringify } from 'yaml';
import { isBootstrapTokenFormat } from './bootstrap-token.js';
import type { KeyAlgorithm } from './pki/keys.js';

export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
/** containerd's socket, kubeadm's usual choice; builders do not apply it for you. */
export const CONTAINERD_CRI_SOCKET = 'unix:///var/run/containerd/containerd.sock';
export const CERTIFICATES_DIR = '/etc/kubernetes/pki';
export const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/** v1beta4 turned extraArgs maps into lists, so a flag may repeat. */
export interface Arg {
  name: string;
  value: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeRegistrationOptions {
  name: string;
  criSocket: string;
  kubeletExtraArgs: Arg[];
  /** An empty list means no taints (kubeadm adds the control-plane taint only when absent). */
  taints: Taint[];
}

export interface APIEndpoint {
  advertiseAddress: string;
  bindPort: number;
}

export interface BootstrapTokenSpec {
  token: string;
  /** Go duration, e.g. "15m0s". */
  ttl: string;
  usages: Array<'signing' | 'authentication'>;
  groups: string[];
  description?: string;
}

export interface InitConfiguration {
  apiVersion: typeof KUBEADM_API_VERSION;
  kind: 'InitConfiguration';
  bootstrapTokens: BootstrapTokenSpec[];
  nodeRegistration: NodeRegistrationOptions;
  localAPIEndpoint: APIEndpoint;
}

export interface ControlPlaneComponent {
  extraArgs: Arg[];
}

export interface ClusterConfiguration {
  apiVersion: typeof KUBEADM_API_VERSION;
  kind: 'ClusterConfiguration';
  clusterName: string;
  kubernetesVersion: string;
  /** `host:port`, IPv6 hosts bracketed. */
  controlPlaneEndpoint: string;
  networking: { serviceSubnet: string; podSubnet: string; dnsDomain: string };
  certificatesDir: string;
  apiServer: ControlPlaneComponent & { certSANs?: string[] };
  controllerManager: ControlPlaneComponent;
  encryptionAlgorithm?: KeyAlgorithm;
}

export interface JoinConfiguration {
  apiVersion: typeof KUBEADM_API_VERSION;
  kind: 'JoinConfiguration';
  discovery: {
    bootstrapToken: { apiServerEndpoint: string; token: string; caCertHashes: string[] };
  };
  nodeRegistration: NodeRegistrationOptions;
  /** Present only when the node joins as a control-plane member. */
  controlPlane?: { localAPIEndpoint: APIEndpoint };
}

export type KubeadmConfiguration = InitConfiguration | ClusterConfiguration | JoinConfiguration;

// ---------------------------------------------------------------- builders

/** `host:port` with IPv6 literals bracketed, as Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${port}`);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's time.Duration.String() for whole seconds: 900 → "15m0s", 86400 → "24h0m0s". */
export function goDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`duration must be whole non-negative seconds, got ${seconds}`);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** A record of flags as a v1beta4 list, sorted by name so output is stable. */
export function argsFromRecord(args: Record<string, string>): Arg[] {
  return Object.keys(args)
    .sort()
    .map((name) => ({ name, value: args[name]! }));
}

function toArgs(args: Record<string, string> | Arg[]): Arg[] {
  return Array.isArray(args) ? args.map((a) => ({ name: a.name, value: a.value })) : argsFromRecord(args);
}

export interface NodeRegistrationInput {
  name: string;
  criSocket: string;
  kubeletExtraArgs: Record<string, string> | Arg[];
  taints: Taint[];
}

export function buildNodeRegistration(input: NodeRegistrationInput): NodeRegistrationOptions {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(input.name) || input.name.length > 253) {
    throw new Error(`node name ${JSON.stringify(input.name)} is not a DNS subdomain`);
  }
  return {
    name: input.name,
    criSocket: input.criSocket,
    kubeletExtraArgs: toArgs(input.kubeletExtraArgs),
    taints: input.taints.map((t) => ({ ...t })),
  };
}

export function buildInitConfiguration(input: {
  bootstrapToken: { token: string; ttlSeconds: number; groups: string[]; description?: string };
  nodeRegistration: NodeRegistrationInput;
  localAPIEndpoint: APIEndpoint;
}): InitConfiguration {
  const { token, ttlSeconds, groups, description } = input.bootstrapToken;
  if (!isBootstrapTokenFormat(token)) throw new Error('bootstrap token is not in the form [a-z0-9]{6}.[a-z0-9]{16}');
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'InitConfiguration',
    bootstrapTokens: [
      { token, ttl: goDuration(ttlSeconds), usages: ['signing', 'authentication'], groups: [...groups], ...(description ? { description } : {}) },
    ],
    nodeRegistration: buildNodeRegistration(input.nodeRegistration),
    localAPIEndpoint: checkEndpoint(input.localAPIEndpoint),
  };
}

export function buildClusterConfiguration(input: {
  clusterName: string;
  kubernetesVersion: string;
  controlPlaneEndpoint: { host: string; port: number };
  networking: { serviceSubnet: string; podSubnet: string; dnsDomain: string };
  apiServerExtraArgs: Record<string, string> | Arg[];
  apiServerCertSANs?: string[];
  controllerManagerExtraArgs: Record<string, string> | Arg[];
  encryptionAlgorithm?: KeyAlgorithm;
}): ClusterConfiguration {
  if (!/^v\d+\.\d+\.\d+([-+].*)?$/.test(input.kubernetesVersion)) {
    throw new Error(`kubernetesVersion ${JSON.stringify(input.kubernetesVersion)} must look like v1.31.0`);
  }
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'ClusterConfiguration',
    clusterName: input.clusterName,
    kubernetesVersion: input.kubernetesVersion,
    controlPlaneEndpoint: joinHostPort(input.controlPlaneEndpoint.host, input.controlPlaneEndpoint.port),
    networking: { ...input.networking },
    certificatesDir: CERTIFICATES_DIR,
    apiServer: {
      extraArgs: toArgs(input.apiServerExtraArgs),
      ...(input.apiServerCertSANs?.length ? { certSANs: [...input.apiServerCertSANs] } : {}),
    },
    controllerManager: { extraArgs: toArgs(input.controllerManagerExtraArgs) },
    ...(input.encryptionAlgorithm ? { encryptionAlgorithm: input.encryptionAlgorithm } : {}),
  };
}

export function buildJoinConfiguration(input: {
  apiServerEndpoint: { host: string; port: number };
  token: string;
  /** `sha256:<hex>` pins of the cluster CA (see caCertHash). */
  caCertHashes: string[];
  nodeRegistration: NodeRegistrationInput;
  /** Given only for a control-plane join: where this member's API server listens. */
  controlPlane?: { localAPIEndpoint: APIEndpoint };
}): JoinConfiguration {
  if (!isBootstrapTokenFormat(input.token)) throw new Error('bootstrap token is not in the form [a-z0-9]{6}.[a-z0-9]{16}');
  if (input.caCertHashes.length === 0) throw new Error('a join needs at least one caCertHash (no unsafe CA skipping)');
  for (const hash of input.caCertHashes) {
    if (!/^sha256:[0-9a-f]{64}$/.test(hash)) throw new Error(`caCertHash ${JSON.stringify(hash)} is not sha256:<64 hex>`);
  }
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: joinHostPort(input.apiServerEndpoint.host, input.apiServerEndpoint.port),
        token: input.token,
        caCertHashes: [...input.caCertHashes],
      },
    },
    nodeRegistration: buildNodeRegistration(input.nodeRegistration),
    ...(input.controlPlane ? { controlPlane: { localAPIEndpoint: checkEndpoint(input.controlPlane.localAPIEndpoint) } } : {}),
  };
}

function checkEndpoint(endpoint: APIEndpoint): APIEndpoint {
  joinHostPort(endpoint.advertiseAddress, endpoint.bindPort);
  return { advertiseAddress: endpoint.advertiseAddress, bindPort: endpoint.bindPort };
}

// ---------------------------------------------------------------- YAML

/**
 * The readers of these files (cloud-init's PyYAML, kubeadm's and client-go's go-yaml) speak
 * YAML 1.1, where a bare `on`, `yes` or `1:30` is not a string. Writing with the 1.1 schema
 * quotes such strings; reading with it sees what those readers see. lineWidth 0: never fold
 * long commands or PEM lines.
 */
export const YAML_OUTPUT = { version: '1.1', lineWidth: 0 } as const;
export const YAML_INPUT = { version: '1.1' } as const;

/** Documents joined by `---`, the layout of /run/kubeadm/kubeadm.yaml. */
export function renderKubeadmYaml(documents: KubeadmConfiguration[]): string {
  return documents.map((doc) => '---\n' + stringify(doc, YAML_OUTPUT)).join('');
}

export interface KubeadmDocuments {
  clusterConfiguration?: ClusterConfiguration;
  initConfiguration?: InitConfiguration;
  joinConfiguration?: JoinConfiguration;
}

const KIND_FIELD = {
  ClusterConfiguration: 'clusterConfiguration',
  InitConfiguration: 'initConfiguration',
  JoinConfiguration: 'joinConfiguration',
} as const;

/**
 * Reads a kubeadm config file. Documents of other API groups (a KubeletConfiguration, say)
 * are skipped as kubeadm passes them on; a kubeadm kind of another version, a repeated
 * kind or a document without apiVersion/kind is an error.
 */
export function parseKubeadmYaml(text: string, source = 'kubeadm config'): KubeadmDocuments {
  const result: KubeadmDocuments = {};
  for (const [index, document] of parseAllDocuments(text, YAML_INPUT).entries()) {
    if (document.errors.length) throw new Error(`${source}: document ${index + 1} is not valid YAML: ${document.errors[0]!.message}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: document ${index + 1} is not a mapping`);
    const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      throw new Error(`${source}: document ${index + 1} has no apiVersion/kind`);
    }
    if (!apiVersion.startsWith('kubeadm.k8s.io/')) continue;
    if (apiVersion !== KUBEADM_API_VERSION) throw new Error(`${source}: ${kind} has apiVersion ${apiVersion}, only ${KUBEADM_API_VERSION} is supported`);
    const field = KIND_FIELD[kind as keyof typeof KIND_FIELD];
    if (!field) throw new Error(`${source}: unknown kubeadm kind ${kind}`);
    if (result[field]) throw new Error(`${source}: more than one ${kind}`);
    (result as Record<string, unknown>)[field] = value;
  }
  return result;
}
