// Cluster API-style cloud-init bootstrap data for kubeadm nodes, and the reverse: reading it
// back the way a booting VM would (cloud-init writes files, runs commands; kubeadm reads its
// config). The simulated cloud uses the parser to play cloud-init + kubeadm on its VMs.
import { gunzipSync } from 'node:zlib';
import { parse, stringify } from 'yaml';
import { parseKubeadmYaml, renderKubeadmYaml, YAML_INPUT, YAML_OUTPUT, type ClusterConfiguration, type InitConfiguration, type JoinConfiguration, type KubeadmDocuments } from './kubeadm-config.js';
import type { ClusterPki } from './pki/cluster-pki.js';

export const INIT_CONFIG_PATH = '/run/kubeadm/kubeadm.yaml';
export const JOIN_CONFIG_PATH = '/run/kubeadm/kubeadm-join-config.yaml';
/** Cluster API's marker that kubeadm finished; infrastructure providers may look for it. */
export const BOOTSTRAP_SENTINEL_PATH = '/run/cluster-api/bootstrap-success.complete';
const SENTINEL_SUFFIX = ` && echo success > ${BOOTSTRAP_SENTINEL_PATH}`;

export interface BootstrapFile {
  path: string;
  content: string;
  /** Default root:root. */
  owner?: string;
  /** Octal string; default '0640'. */
  permissions?: string;
}

/** The shared CA material every control-plane node needs (kubeadm does not copy it for us). */
export type ClusterPkiFiles = Pick<ClusterPki, 'ca' | 'etcdCa' | 'frontProxyCa' | 'serviceAccount'>;

interface CommonInput {
  /** Run before kubeadm, in order. */
  preKubeadmCommands?: string[];
  /** Run after kubeadm succeeded, in order. */
  postKubeadmCommands?: string[];
  /** Extra files, written after the generated ones. */
  files?: BootstrapFile[];
}

/** kubeadm's file names under /etc/kubernetes/pki; keys 0600, certificates 0640. */
export function pkiFiles(pki: ClusterPkiFiles): BootstrapFile[] {
  const dir = '/etc/kubernetes/pki';
  const cert = (path: string, content: string): BootstrapFile => ({ path: `${dir}/${path}`, content, permissions: '0640' });
  const key = (path: string, content: string): BootstrapFile => ({ path: `${dir}/${path}`, content, permissions: '0600' });
  return [
    cert('ca.crt', pki.ca.certPem),
    key('ca.key', pki.ca.keyPem),
    cert('etcd/ca.crt', pki.etcdCa.certPem),
    key('etcd/ca.key', pki.etcdCa.keyPem),
    cert('front-proxy-ca.crt', pki.frontProxyCa.certPem),
    key('front-proxy-ca.key', pki.frontProxyCa.keyPem),
    cert('sa.pub', pki.serviceAccount.publicKeyPem),
    key('sa.key', pki.serviceAccount.privateKeyPem),
  ];
}

// Cluster API writes this so /run/cluster-api exists for the sentinel on every OS.
const SENTINEL_DIR_PLACEHOLDER: BootstrapFile = {
  path: '/run/cluster-api/placeholder',
  content: 'This placeholder file is used to create the /run/cluster-api sub directory in a way that is compatible with both Linux and Windows (mkdir -p /run/cluster-api does not work with Windows)',
};

function renderCloudConfig(files: BootstrapFile[], commands: string[]): string {
  const paths = new Set<string>();
  const writeFiles = files.map((file) => {
    if (!file.path.startsWith('/')) throw new Error(`bootstrap file path ${JSON.stringify(file.path)} must be absolute`);
    if (paths.has(file.path)) throw new Error(`bootstrap file ${file.path} is given twice`);
    paths.add(file.path);
    const permissions = file.permissions ?? '0640';
    if (!/^0[0-7]{3}$/.test(permissions)) throw new Error(`bootstrap file ${file.path}: permissions ${JSON.stringify(permissions)} must be octal like '0640'`);
    return { path: file.path, owner: file.owner ?? 'root:root', permissions, content: file.content };
  });
  return '#cloud-config\n' + stringify({ write_files: writeFiles, runcmd: commands }, YAML_OUTPUT);
}

export function renderInitData(
  input: CommonInput & { clusterConfiguration: ClusterConfiguration; initConfiguration: InitConfiguration; pki: ClusterPkiFiles },
): string {
  const kubeadmYaml = renderKubeadmYaml([input.clusterConfiguration, input.initConfiguration]);
  return renderCloudConfig(
    [...pkiFiles(input.pki), { path: INIT_CONFIG_PATH, content: kubeadmYaml }, SENTINEL_DIR_PLACEHOLDER, ...(input.files ?? [])],
    [...(input.preKubeadmCommands ?? []), `kubeadm init --config ${INIT_CONFIG_PATH}${SENTINEL_SUFFIX}`, ...(input.postKubeadmCommands ?? [])],
  );
}

export type JoinDataInput = CommonInput & { joinConfiguration: JoinConfiguration } & (
    | { controlPlane: true; pki: ClusterPkiFiles }
    | { controlPlane: false; pki?: undefined }
  );

export function renderJoinData(input: JoinDataInput): string {
  const hasControlPlaneSection = input.joinConfiguration.controlPlane !== undefined;
  if (input.controlPlane !== hasControlPlaneSection) {
    throw new Error(
      input.controlPlane
        ? 'a control-plane join needs joinConfiguration.controlPlane (its localAPIEndpoint)'
        : 'a worker join must not carry joinConfiguration.controlPlane',
    );
  }
  if (input.controlPlane && !input.pki) throw new Error('a control-plane join needs the cluster CAs (pki)');
  if (!input.controlPlane && input.pki) throw new Error('a worker join must not carry the cluster CAs');
  const files = [
    ...(input.controlPlane ? pkiFiles(input.pki) : []),
    { path: JOIN_CONFIG_PATH, content: renderKubeadmYaml([input.joinConfiguration]) },
    SENTINEL_DIR_PLACEHOLDER,
    ...(input.files ?? []),
  ];
  const userData = renderCloudConfig(files, [
    ...(input.preKubeadmCommands ?? []),
    `kubeadm join --config ${JOIN_CONFIG_PATH}${SENTINEL_SUFFIX}`,
    ...(input.postKubeadmCommands ?? []),
  ]);
  // Worker user data is readable from instance metadata by anything on the VM: no keys, ever.
  if (!input.controlPlane && userData.includes('PRIVATE KEY')) {
    throw new Error('worker join data would contain a private key (check files and commands)');
  }
  return userData;
}

// ---------------------------------------------------------------- parsing

export type BootstrapRole = 'init' | 'control-plane-join' | 'worker-join';

export interface ParsedBootstrapData {
  role: BootstrapRole;
  /** write_files by path, contents decoded. */
  files: Record<string, string>;
  kubeadm: KubeadmDocuments;
  /** runcmd entries as shell command lines, in order. */
  commands: string[];
}

function bootstrapError(problem: string): Error {
  return new Error(`bootstrap data: ${problem}`);
}

function decodeContent(path: string, content: unknown, encoding: unknown): string {
  if (content === undefined || content === null) return '';
  if (typeof content !== 'string') throw bootstrapError(`write_files ${path}: content is not a string`);
  const kind = encoding === undefined || encoding === null ? 'text/plain' : String(encoding).toLowerCase();
  switch (kind) {
    case 'text/plain':
      return content;
    case 'b64':
    case 'base64':
      return Buffer.from(content, 'base64').toString('utf8');
    case 'gz+b64':
    case 'gz+base64':
    case 'gzip+b64':
    case 'gzip+base64':
      return gunzipSync(Buffer.from(content, 'base64')).toString('utf8');
    default:
      throw bootstrapError(`write_files ${path}: unsupported encoding ${JSON.stringify(encoding)}`);
  }
}

/** runcmd entries are shell strings or argv lists (cloud-init runs lists without a shell). */
function commandLine(entry: unknown, index: number): string {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry) && entry.every((part) => typeof part === 'string' || typeof part === 'number')) {
    return entry.map((part) => (/^[\w@%+=:,./-]+$/.test(String(part)) ? String(part) : `'${String(part).replace(/'/g, `'\\''`)}'`)).join(' ');
  }
  throw bootstrapError(`runcmd entry ${index + 1} is neither a string nor a list of strings`);
}

function firstLineProblem(userData: string): string {
  const firstLine = userData.split('\n', 1)[0]!.trim();
  if (firstLine === '') return 'user data is empty or starts with a blank line; expected "#cloud-config" on the first line';
  if (/^I2Nsb3VkLWNvbmZpZ|^IyMgdGVtcGxhdGU6/.test(firstLine)) return 'user data looks base64-encoded; decode it before parsing';
  if (firstLine.startsWith('#!')) return `user data is a shell script (${JSON.stringify(firstLine)}), not #cloud-config`;
  if (/^content-type:|^mime-version:/i.test(firstLine)) return 'multipart MIME user data is not supported; expected plain #cloud-config';
  return `user data is not #cloud-config: first line is ${JSON.stringify(firstLine.slice(0, 60))}`;
}

/**
 * Reads bootstrap data as cloud-init and kubeadm would on a booting machine. Throws an error
 * naming the problem when the data is not `#cloud-config`, does not parse, has no (or more
 * than one) `kubeadm init|join` command, or its kubeadm config file is missing or wrong.
 */
export function parseBootstrapData(userData: string): ParsedBootstrapData {
  const text = userData.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  // Cluster API prefixes "## template: jinja" when it uses instance-data templating.
  const body = text.replace(/^## template: jinja[ \t]*\n/, '');
  if (!/^#cloud-config[ \t]*(\n|$)/.test(body)) throw bootstrapError(firstLineProblem(body));

  let config: unknown;
  try {
    config = parse(body, YAML_INPUT);
  } catch (error) {
    throw bootstrapError(`#cloud-config is not valid YAML: ${(error as Error).message}`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw bootstrapError('#cloud-config holds no mapping (no write_files, no runcmd)');
  }
  const { write_files: writeFiles = [], runcmd = [] } = config as { write_files?: unknown; runcmd?: unknown };
  if (!Array.isArray(writeFiles)) throw bootstrapError('write_files is not a list');
  if (!Array.isArray(runcmd)) throw bootstrapError('runcmd is not a list');

  const files: Record<string, string> = {};
  writeFiles.forEach((entry: unknown, index) => {
    const file = entry as { path?: unknown; content?: unknown; encoding?: unknown } | null;
    if (!file || typeof file.path !== 'string') throw bootstrapError(`write_files entry ${index + 1} has no path`);
    files[file.path] = decodeContent(file.path, file.content, file.encoding);
  });
  const commands = runcmd.map(commandLine);

  const kubeadmCommands = commands.filter((command) => /(^|[\s;&|(])kubeadm\s+(init|join)\b/.test(command));
  if (kubeadmCommands.length === 0) throw bootstrapError('runcmd has no "kubeadm init" or "kubeadm join" command');
  if (kubeadmCommands.length > 1) throw bootstrapError(`runcmd has ${kubeadmCommands.length} kubeadm init/join commands; expected one`);
  const command = kubeadmCommands[0]!;
  const phase = /kubeadm\s+(init|join)\b/.exec(command)![1] as 'init' | 'join';
  const configPath = /--config[=\s]+("[^"]+"|'[^']+'|\S+)/.exec(command)?.[1]?.replace(/^["']|["']$/g, '');
  if (!configPath) throw bootstrapError(`"kubeadm ${phase}" has no --config file: ${command}`);
  const configText = files[configPath];
  if (configText === undefined) throw bootstrapError(`kubeadm config ${configPath} is not among write_files`);
  let kubeadm: KubeadmDocuments;
  try {
    kubeadm = parseKubeadmYaml(configText, configPath);
  } catch (error) {
    throw bootstrapError((error as Error).message);
  }

  let role: BootstrapRole;
  if (phase === 'init') {
    if (!kubeadm.clusterConfiguration) throw bootstrapError(`kubeadm init config ${configPath} has no ClusterConfiguration`);
    if (!kubeadm.initConfiguration) throw bootstrapError(`kubeadm init config ${configPath} has no InitConfiguration`);
    role = 'init';
  } else {
    if (!kubeadm.joinConfiguration) throw bootstrapError(`kubeadm join config ${configPath} has no JoinConfiguration`);
    const controlPlane = kubeadm.joinConfiguration.controlPlane !== undefined || /\s--control-plane\b/.test(command);
    role = controlPlane ? 'control-plane-join' : 'worker-join';
  }
  return { role, files, kubeadm, commands };
}
