// kube-apiserver on loopback with kubeadm's flags where they apply, on a caller-given etcd.
import { mkdirSync, readFileSync } from 'node:fs';
import { freePort } from './ports.js';
import { httpGet } from './probe.js';
import { startProcess, type ManagedProcess, type StopOptions } from './process.js';
import { kubernetesToolPath } from './tools.js';

export interface KubeApiserverFiles {
  /** CA that signs client certificates (the cluster CA). */
  clientCaFile: string;
  /** Serving cert: must carry IP SAN 127.0.0.1. */
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** Public key that verifies service-account tokens (sa.pub). */
  serviceAccountKeyFile: string;
  /** Private key that signs them (sa.key). */
  serviceAccountSigningKeyFile: string;
  /** Front-proxy (aggregation layer) CA and client pair; all three or none. */
  requestheaderClientCaFile?: string;
  proxyClientCertFile?: string;
  proxyClientKeyFile?: string;
}

export interface ReadinessClient {
  /** PEM files: a client cert the server accepts (e.g. O=system:masters), and the CA that signed the serving cert. */
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface StartKubeApiserverOptions {
  /** Which build runs: the one of this version's minor (default: scripts/versions.env's KUBERNETES_VERSION). */
  kubernetesVersion?: string;
  /** e.g. `http://127.0.0.1:2379` (comma-separated for several). */
  etcdServers: string;
  /** Key prefix in etcd; distinct prefixes make independent API servers on one etcd. */
  etcdPrefix: string;
  securePort?: number;
  /** --cert-dir: only used by the server for files it would generate; ours are given. */
  certDir: string;
  files: KubeApiserverFiles;
  /** Default 10.96.0.0/12 (kubeadm's). */
  serviceClusterIpRange?: string;
  /** Default kubeadm's `https://kubernetes.default.svc.cluster.local`. */
  serviceAccountIssuer?: string;
  /** Default true. */
  enableBootstrapTokenAuth?: boolean;
  /** Default `Node,RBAC`. */
  authorizationMode?: string;
  /** Default `NodeRestriction`. */
  admissionPlugins?: string;
  readinessClient: ReadinessClient;
  extraArgs?: string[];
  logFile: string;
  /** Default 60 s (cold starts of 31-35 s seen on slow CI: kubernetes#137743). */
  readyTimeoutMs?: number;
}

export interface KubeApiserver {
  /** `https://127.0.0.1:PORT` */
  url: string;
  port: number;
  process: ManagedProcess;
  stop(options?: StopOptions): Promise<void>;
}

export async function startKubeApiserver(options: StartKubeApiserverOptions): Promise<KubeApiserver> {
  const port = options.securePort ?? (await freePort());
  const f = options.files;
  const proxyFiles = [f.requestheaderClientCaFile, f.proxyClientCertFile, f.proxyClientKeyFile];
  const proxyGiven = proxyFiles.filter((x) => x !== undefined).length;
  if (proxyGiven !== 0 && proxyGiven !== 3) {
    throw new Error('kube-apiserver: requestheaderClientCaFile, proxyClientCertFile and proxyClientKeyFile go together');
  }
  mkdirSync(options.certDir, { recursive: true });

  const args = [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // The default (lease) reconciler writes the advertise address into the `kubernetes`
    // Service's Endpoints, whose validation rejects loopback: 1.37 refuses to start with
    // "cannot use public IP 127.0.0.1 with endpoint reconciler". Nothing in a loopback cluster
    // reaches the API through that Service, so no reconciler (the Service itself still exists).
    '--endpoint-reconciler-type=none',
    `--secure-port=${port}`,
    `--cert-dir=${options.certDir}`,
    '--allow-privileged=true',
    `--enable-bootstrap-token-auth=${options.enableBootstrapTokenAuth ?? true}`,
    `--authorization-mode=${options.authorizationMode ?? 'Node,RBAC'}`,
    `--enable-admission-plugins=${options.admissionPlugins ?? 'NodeRestriction'}`,
    `--client-ca-file=${f.clientCaFile}`,
    `--tls-cert-file=${f.tlsCertFile}`,
    `--tls-private-key-file=${f.tlsPrivateKeyFile}`,
    `--service-account-key-file=${f.serviceAccountKeyFile}`,
    `--service-account-signing-key-file=${f.serviceAccountSigningKeyFile}`,
    `--service-account-issuer=${options.serviceAccountIssuer ?? 'https://kubernetes.default.svc.cluster.local'}`,
    `--service-cluster-ip-range=${options.serviceClusterIpRange ?? '10.96.0.0/12'}`,
    `--etcd-servers=${options.etcdServers}`,
    `--etcd-prefix=${options.etcdPrefix}`,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    '--profiling=false',
  ];
  if (proxyGiven === 3) {
    // kubeadm's aggregation-layer settings.
    args.push(
      `--requestheader-client-ca-file=${f.requestheaderClientCaFile}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-username-headers=X-Remote-User',
      `--proxy-client-cert-file=${f.proxyClientCertFile}`,
      `--proxy-client-key-file=${f.proxyClientKeyFile}`,
    );
  }
  args.push(...(options.extraArgs ?? []));

  const rc = options.readinessClient;
  const tls = { ca: readFileSync(rc.caFile), cert: readFileSync(rc.certFile), key: readFileSync(rc.keyFile) };
  const url = `https://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: `kube-apiserver(${url}, etcd prefix ${options.etcdPrefix})`,
    command: kubernetesToolPath('kube-apiserver', options.kubernetesVersion),
    args,
    logFile: options.logFile,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    pollMs: 250,
    // /readyz is 200 only when every check (etcd, RBAC bootstrap roles, ...) has passed. The
    // serving cert is verified against the CA: a wrong SAN or CA fails here, not later.
    ready: async () => (await httpGet(`${url}/readyz`, { ...tls, timeoutMs: 2000 })).status === 200,
  });
  return {
    url,
    port,
    process: proc,
    stop: async (stopOptions) => {
      await proc.stop(stopOptions);
    },
  };
}
