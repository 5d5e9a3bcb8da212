// Starts the real servers from scripts/lib on loopback and checks what the rest of capstan relies
// on: TLS and client-cert auth on kube-apiserver, independent API servers on one etcd,
// kube-controller-manager signing node CSRs, kube-scheduler binding a pod, Temporal dev/test
// servers, etcd restarts.
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  httpGet,
  startEtcd,
  startKubeApiserver,
  startKubeControllerManager,
  startKubeScheduler,
  startProcess,
  startTemporalDevServer,
  startTemporalTestServer,
  stopAll,
  toolPath,
  type EtcdServer,
  type KubeApiserver,
  type ManagedProcess,
} from '../../scripts/lib/index.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'capstan-servers-'));
const pki = path.join(work, 'pki');

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(name: string): void {
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${pki}/${name}.key`);
  openssl(
    'req', '-x509', '-new', '-key', `${pki}/${name}.key`, '-out', `${pki}/${name}.crt`, '-days', '2',
    '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  );
}

/** A leaf cert signed by `ca`; `ext` is the x509v3 extension section. */
function makeLeaf(ca: string, name: string, subject: string, ext: string): void {
  const key = `${pki}/${name}.key`;
  const csr = `${pki}/${name}.csr`;
  const extFile = `${pki}/${name}.ext`;
  writeFileSync(extFile, ext);
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key);
  openssl('req', '-new', '-key', key, '-subj', subject, '-out', csr);
  openssl(
    'x509', '-req', '-in', csr, '-CA', `${pki}/${ca}.crt`, '-CAkey', `${pki}/${ca}.key`, '-CAcreateserial',
    '-days', '2', '-extfile', extFile, '-out', `${pki}/${name}.crt`,
  );
}

const file = (name: string) => path.join(pki, name);
const pem = (name: string) => readFileSync(file(name));

function makePki(): void {
  execFileSync('mkdir', ['-p', pki]);
  makeCa('ca');
  makeLeaf('ca', 'apiserver', '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' +
      'extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n');
  const client = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
  makeLeaf('ca', 'admin', '/O=system:masters/CN=capstan-admin', client);
  // Same subject, wrong CA: must be refused.
  makeCa('other-ca');
  makeLeaf('other-ca', 'intruder', '/O=system:masters/CN=capstan-admin', client);
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file('sa.key'));
  openssl('pkey', '-in', file('sa.key'), '-pubout', '-out', file('sa.pub'));
}

const admin = () => ({ ca: pem('ca.crt'), cert: pem('admin.crt'), key: pem('admin.key') });

/** A JSON request to an API server as the admin. */
function kube(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(url),
      { method, ...admin(), agent: false, headers: { 'content-type': 'application/json', accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A JSON merge patch as the admin; resolves the HTTP status. */
function mergePatch(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(url), { method: 'PATCH', ...admin(), agent: false, headers: { 'content-type': 'application/merge-patch+json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A kubeconfig file for `server` with the admin client certificate (system:masters). */
function writeAdminKubeconfig(server: string): string {
  const kubeconfig = path.join(work, 'admin.kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'a', cluster: { server, 'certificate-authority': file('ca.crt') } }],
      users: [{ name: 'admin', user: { 'client-certificate': file('admin.crt'), 'client-key': file('admin.key') } }],
      contexts: [{ name: 'a', context: { cluster: 'a', user: 'admin' } }],
      'current-context': 'a',
    }),
  );
  return kubeconfig;
}

const figures: string[] = [];
function record(label: string, p: ManagedProcess): void {
  figures.push(`${label}: ready in ${(p.readyAfterMs / 1000).toFixed(1)} s, RSS ${((p.rssBytes() ?? 0) / 2 ** 20).toFixed(0)} MB`);
}

afterAll(async () => {
  await stopAll();
  if (figures.length) console.log(figures.join('\n'));
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('tools', () => {
  it('names the setup script when a tool is missing', () => {
    expect(() => toolPath('no-such-tool')).toThrow(/no-such-tool not installed.*bash scripts\/setup-tools\.sh/);
  });

  it('rejects a server that exits before it is ready, quoting its log', async () => {
    await expect(
      startEtcd({ dataDir: path.join(work, 'etcd-bad'), extraArgs: ['--no-such-flag'] }),
    ).rejects.toThrow(/etcd\(.*exited before it was ready[\s\S]*no-such-flag/);
  });

  it('names a taken port even when a long stack follows it in the log (what a retry on a fresh port looks for)', async () => {
    const start = (name: string, script: string) =>
      startProcess({ name, command: 'sh', args: ['-c', script], logFile: path.join(work, `${name}.log`), ready: async () => false, readyTimeoutMs: 10_000 }).catch((e: Error) => e);
    const stack = 'for i in $(seq 60); do echo "  frame $i"; done; exit 2';
    const taken = await start('binder', `echo 'listen tcp 127.0.0.1:1: bind: address already in use'; echo panic; ${stack}`);
    expect(String(taken)).toMatch(/binder \(pid \d+\) exited before it was ready \(code 2, signal null\)\. listen tcp 127\.0\.0\.1:1: bind: address already in use\. Last lines/);
    // Without one, the message says no such thing.
    expect(String(await start('panicker', `echo panic; ${stack}`))).not.toMatch(/address already in use/);
  });

  it('rejects a server whose readiness times out, and kills it', async () => {
    const err = await startProcess({
      name: 'sleeper',
      command: 'sh',
      args: ['-c', 'echo sleeping; exec sleep 30'],
      logFile: path.join(work, 'sleeper.log'),
      ready: async () => false,
      readyTimeoutMs: 500,
    }).catch((e: Error) => e);
    expect(String(err)).toMatch(/sleeper \(pid (\d+)\) was not ready within 500 ms[\s\S]*sleeping/);
    const pid = Number(/pid (\d+)/.exec(String(err))![1]);
    expect(isAlive(pid)).toBe(false);
  });
});

describe('kube-apiserver on etcd', () => {
  let etcd: EtcdServer;
  let apiA: KubeApiserver;
  let apiB: KubeApiserver;

  beforeAll(async () => {
    makePki();
    etcd = await startEtcd({ dataDir: path.join(work, 'etcd') });
    record('etcd', etcd.process);
    const start = (prefix: string) =>
      startKubeApiserver({
        etcdServers: etcd.endpoint,
        etcdPrefix: prefix,
        certDir: path.join(work, `certs${prefix.replaceAll('/', '-')}`),
        files: {
          clientCaFile: file('ca.crt'),
          tlsCertFile: file('apiserver.crt'),
          tlsPrivateKeyFile: file('apiserver.key'),
          serviceAccountKeyFile: file('sa.pub'),
          serviceAccountSigningKeyFile: file('sa.key'),
        },
        readinessClient: { certFile: file('admin.crt'), keyFile: file('admin.key'), caFile: file('ca.crt') },
        logFile: path.join(work, `kube-apiserver${prefix.replaceAll('/', '-')}.log`),
      });
    apiA = await start('/a/registry');
    record('kube-apiserver A (cold)', apiA.process);
    apiB = await start('/b/registry');
    record('kube-apiserver B', apiB.process);
  }, 180_000);

  afterAll(async () => {
    await apiA?.stop();
    await apiB?.stop();
    await etcd?.stop();
  }, 60_000);

  it('answers /readyz to the admin cert and 401 to a cert from another CA', async () => {
    expect((await httpGet(`${apiA.url}/readyz`, admin())).status).toBe(200);
    const intruder = { ca: pem('ca.crt'), cert: pem('intruder.crt'), key: pem('intruder.key') };
    expect((await httpGet(`${apiA.url}/readyz`, intruder)).status).toBe(401);
  }, 30_000);

  it('reports v1.37.2 on /version', async () => {
    const res = await httpGet(`${apiA.url}/version`, admin());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).gitVersion).toBe('v1.37.2');
  }, 30_000);

  it('keeps API servers with different etcd prefixes independent', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'only-in-a' } };
    expect((await kube('POST', `${apiA.url}/api/v1/namespaces`, ns)).status).toBe(201);
    expect((await kube('GET', `${apiA.url}/api/v1/namespaces/only-in-a`)).status).toBe(200);
    expect((await kube('GET', `${apiB.url}/api/v1/namespaces/only-in-a`)).status).toBe(404);
  }, 30_000);

  it('runs kube-controller-manager, which approves and signs a node client CSR', async () => {
    const kubeconfig = writeAdminKubeconfig(apiA.url);
    const kcm = await startKubeControllerManager({
      kubeconfigFile: kubeconfig,
      clusterSigningCertFile: file('ca.crt'),
      clusterSigningKeyFile: file('ca.key'),
      rootCaFile: file('ca.crt'),
      serviceAccountPrivateKeyFile: file('sa.key'),
      logFile: path.join(work, 'kube-controller-manager.log'),
    });
    try {
      record('kube-controller-manager', kcm.process);
      // A kubelet-style client CSR: csrapproving approves it (the admin may create
      // certificatesigningrequests/nodeclient), csrsigning signs it with our CA.
      openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file('node1.key'));
      openssl('req', '-new', '-key', file('node1.key'), '-subj', '/O=system:nodes/CN=system:node:node1', '-out', file('node1.csr'));
      const csr = {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: 'node1-client' },
        spec: {
          request: pem('node1.csr').toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
          usages: ['digital signature', 'client auth'],
        },
      };
      expect((await kube('POST', `${apiA.url}/apis/certificates.k8s.io/v1/certificatesigningrequests`, csr)).status).toBe(201);
      const certificate = await until(
        'the CSR to be signed',
        async () => {
          const r = await kube('GET', `${apiA.url}/apis/certificates.k8s.io/v1/certificatesigningrequests/node1-client`);
          return r.json?.status?.certificate as string | undefined;
        },
        30_000,
      );
      writeFileSync(file('node1.crt'), Buffer.from(certificate, 'base64'));
      const verify = execFileSync('openssl', ['verify', '-CAfile', file('ca.crt'), file('node1.crt')]).toString();
      expect(verify).toMatch(/OK/);
    } finally {
      await kcm.stop();
    }
    expect(isAlive(kcm.process.pid)).toBe(false);
  }, 120_000);

  it('runs kube-scheduler, which binds a pending pod to the node with room for it', async () => {
    const kubeconfig = writeAdminKubeconfig(apiA.url);
    const scheduler = await startKubeScheduler({ kubeconfigFile: kubeconfig, logFile: path.join(work, 'kube-scheduler.log') });
    try {
      record('kube-scheduler', scheduler.process);
      const api = `${apiA.url}/api/v1`;
      // Two nodes; only `roomy` has allocatable room for a pod. A node's status is its kubelet's (set
      // through /status), and the TaintNodesByCondition admission plugin taints a new Node
      // not-ready until the controller manager (not running here) sees it Ready: lift that taint.
      for (const [name, pods] of [['full', '0'], ['roomy', '110']] as const) {
        expect((await kube('POST', `${api}/nodes`, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } })).status).toBe(201);
        const resources = { cpu: '2', memory: '4Gi', pods };
        expect(await mergePatch(`${api}/nodes/${name}/status`, { status: { allocatable: resources, capacity: resources } })).toBe(200);
        expect(await mergePatch(`${api}/nodes/${name}`, { spec: { taints: null } })).toBe(200);
      }
      // The ServiceAccount admission plugin wants the namespace's `default` ServiceAccount (no controller manager runs now).
      expect([201, 409]).toContain((await kube('POST', `${api}/namespaces/default/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status);
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'app', image: 'sim/app:1', resources: { requests: { cpu: '100m' } } }] } };
      expect((await kube('POST', `${api}/namespaces/default/pods`, pod)).status).toBe(201);
      const bound = await until('the pod to be bound', async () => {
        const r = await kube('GET', `${api}/namespaces/default/pods/p1`);
        return (r.json?.spec?.nodeName as string | undefined) || undefined;
      }, 30_000);
      expect(bound).toBe('roomy');
      const scheduled = (await kube('GET', `${api}/namespaces/default/pods/p1`)).json.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled');
      expect(scheduled).toMatchObject({ status: 'True' });
    } finally {
      await scheduler.stop();
    }
    expect(isAlive(scheduler.process.pid)).toBe(false);
  }, 120_000);
});

describe('etcd restart', () => {
  const put = (endpoint: string, key: string, value: string) =>
    fetch(`${endpoint}/v3/kv/put`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') }),
    }).then((r) => r.status);
  const get = async (endpoint: string, key: string) => {
    const r = await fetch(`${endpoint}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from(key).toString('base64') }),
    });
    const body = (await r.json()) as { kvs?: { value: string }[] };
    return body.kvs?.[0] ? Buffer.from(body.kvs[0].value, 'base64').toString('utf8') : undefined;
  };

  it('keeps data across a stop and a kill -9 on the same data dir and ports', async () => {
    const dataDir = path.join(work, 'etcd-restart');
    let etcd = await startEtcd({ dataDir, durable: true });
    const { clientPort, peerPort } = etcd;
    expect(await put(etcd.endpoint, '/capstan/k', 'v1')).toBe(200);
    await etcd.stop();
    expect(isAlive(etcd.process.pid)).toBe(false);

    etcd = await startEtcd({ dataDir, clientPort, peerPort, durable: true });
    expect(await get(etcd.endpoint, '/capstan/k')).toBe('v1');
    expect(await put(etcd.endpoint, '/capstan/k', 'v2')).toBe(200);
    await etcd.process.kill9();

    etcd = await startEtcd({ dataDir, clientPort, peerPort, durable: true });
    try {
      expect(await get(etcd.endpoint, '/capstan/k')).toBe('v2');
    } finally {
      await etcd.stop();
    }
  }, 60_000);
});

describe('Temporal', () => {
  it('starts the dev server with a search attribute and a Web UI, and stops it', async () => {
    const dev = await startTemporalDevServer({
      dbFile: path.join(work, 'temporal.db'),
      namespace: 'capstan',
      searchAttributes: { CapstanKind: 'Keyword', CapstanPhase: 'Keyword' },
      logFile: path.join(work, 'temporal.log'),
    });
    record('temporal dev server', dev.process);
    try {
      const connection = await Connection.connect({ address: dev.address });
      try {
        const ns = await connection.workflowService.describeNamespace({ namespace: 'capstan' });
        expect(ns.namespaceInfo?.name).toBe('capstan');
        const sa = await connection.operatorService.listSearchAttributes({ namespace: 'capstan' });
        expect(Object.keys(sa.customAttributes ?? {})).toEqual(expect.arrayContaining(['CapstanKind', 'CapstanPhase']));
      } finally {
        await connection.close();
      }
      expect(dev.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(dev.uiUrl!)).status).toBe(200);
    } finally {
      await dev.stop();
    }
    expect(dev.process.running).toBe(false);
    expect(isAlive(dev.process.pid)).toBe(false);
  }, 120_000);

  it('starts the time-skipping test server and stops it', async () => {
    const ts = await startTemporalTestServer({ logFile: path.join(work, 'temporal-test-server.log') });
    record('temporal test server', ts.process);
    try {
      const connection = await Connection.connect({ address: ts.address });
      try {
        expect((await connection.workflowService.getSystemInfo({})).capabilities).toBeDefined();
      } finally {
        await connection.close();
      }
    } finally {
      await ts.stop();
    }
    expect(isAlive(ts.process.pid)).toBe(false);
  }, 60_000);
});
