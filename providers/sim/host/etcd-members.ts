// etcd as a stacked kubeadm control plane has it, on the simulated hosts: one etcd member per
// control-plane VM. `kubeadm init` makes the first member, `kubeadm join --control-plane` adds one
// (after checking the cluster is healthy), a member is healthy while its VM runs, and a member
// whose VM was deleted stays in the cluster, unhealthy, until someone removes it — which is why
// Cluster API's KCP removes a machine's member before it deletes the machine. When fewer healthy
// members than a majority remain, etcd cannot commit and the cluster's API stops answering (the
// runtime then resets its load balancer); it answers again when a majority is back.
//
// The data itself lives in the cloud's one shared etcd (see control-plane.ts): this models the
// membership, not replication. Members are reached the way Cluster API reaches them: over mutual
// TLS, with a client certificate signed by the cluster's etcd CA (the member API server below,
// one per cloud, picks the cluster by SNI `etcd.<clusterId>` and presents a serving certificate of
// that cluster's etcd CA).
import { randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { issueServingCertificate } from '../../kubeadm/pki/cluster-pki.js';
import { PkiDir } from './certs.js';
import { readJson, writeJson, type RuntimePaths } from './state.js';
import { errorMessage } from './util.js';

export interface EtcdMember {
  /** etcd's member ID, 16 hex digits. */
  id: string;
  /** The node name (kubeadm names a member after its node). */
  name: string;
  vmId: string;
  peerURLs: string[];
  clientURLs: string[];
  addedAt: string;
}

/** A member as the member API reports it: with its health (whether its VM's etcd answers). */
export interface EtcdMemberStatus extends EtcdMember {
  healthy: boolean;
}

/** The majority of `members`: how many must be healthy for etcd to commit. */
export const etcdQuorum = (members: number) => Math.floor(members / 2) + 1;

export const ETCD_SERVER_NAME_PREFIX = 'etcd.';

/** The membership of each cluster, in `<cluster>/etcd-members.json` (it outlives the cloud process). */
export class EtcdMembership {
  constructor(private readonly paths: RuntimePaths) {}

  private file(clusterId: string): string {
    return `${this.paths.clusterDir(clusterId)}/etcd-members.json`;
  }

  list(clusterId: string): EtcdMember[] {
    return readJson<EtcdMember[]>(this.file(clusterId)) ?? [];
  }

  /** A fresh cluster (kubeadm init on an empty etcd): no member but the one init adds. */
  reset(clusterId: string): void {
    writeJson(this.file(clusterId), []);
  }

  /** Adds the VM's member; a second add for the same VM (a rerun bootstrap) returns the first. */
  add(clusterId: string, m: { name: string; vmId: string; address: string }): EtcdMember {
    const members = this.list(clusterId);
    const existing = members.find((x) => x.vmId === m.vmId);
    if (existing) return existing;
    const member: EtcdMember = {
      id: randomBytes(8).toString('hex'),
      name: m.name,
      vmId: m.vmId,
      peerURLs: [`https://${m.address}:2380`],
      clientURLs: [`https://${m.address}:2379`],
      addedAt: new Date().toISOString(),
    };
    writeJson(this.file(clusterId), [...members, member]);
    return member;
  }

  /** Removes a member by ID; false when there is none. */
  remove(clusterId: string, id: string): boolean {
    const members = this.list(clusterId);
    const kept = members.filter((x) => x.id !== id);
    if (kept.length === members.length) return false;
    writeJson(this.file(clusterId), kept);
    return true;
  }
}

export interface EtcdMemberApiDeps {
  paths: RuntimePaths;
  membership: EtcdMembership;
  /** Members with their health, or undefined for a cluster this host has no control plane of. */
  members(clusterId: string): EtcdMemberStatus[] | undefined;
  /** A member was removed: the runtime looks at quorum again. */
  removed(clusterId: string, member: EtcdMember): void;
  log(message: string): void;
}

/**
 * The member API: `GET /members` and `DELETE /members/<id>`, JSON, over mutual TLS with the
 * cluster's etcd CA. A client without a certificate of that CA gets 401 and nothing else.
 */
export class EtcdMemberApi {
  private server: https.Server | undefined;
  private started: Promise<number> | undefined;
  private readonly contexts = new Map<string, Promise<{ cert: string; key: string; ca: string }>>();

  constructor(private readonly deps: EtcdMemberApiDeps) {}

  /** The loopback port it listens on (started on first use). */
  port(): Promise<number> {
    this.started ??= new Promise<number>((resolve, reject) => {
      const server = https.createServer(
        {
          requestCert: true,
          // Verified per cluster below (each cluster has its own etcd CA); the handshake already
          // proved the client holds the key of the certificate it sent.
          rejectUnauthorized: false,
          SNICallback: (servername, cb) => {
            this.context(servername).then(
              (c) => cb(null, tlsContext(c)),
              (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
            );
          },
        },
        (req, res) => this.handle(req, res),
      );
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
      this.server = server;
    });
    return this.started;
  }

  /** The serving certificate of `etcd.<clusterId>`, issued once by the cluster's etcd CA. */
  private context(servername: string): Promise<{ cert: string; key: string; ca: string }> {
    let c = this.contexts.get(servername);
    if (!c) {
      c = (async () => {
        const clusterId = servername.slice(ETCD_SERVER_NAME_PREFIX.length);
        const pki = new PkiDir(this.deps.paths.pkiDir(clusterId));
        if (!servername.startsWith(ETCD_SERVER_NAME_PREFIX) || !pki.has('etcd/ca.crt')) throw new Error(`no etcd for ${servername}`);
        const ca = pki.pair('etcd/ca');
        const serving = await issueServingCertificate(ca, { commonName: servername, dnsNames: [servername], ipAddresses: ['127.0.0.1'], now: new Date() });
        return { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem };
      })();
      c.catch(() => this.contexts.delete(servername));
      this.contexts.set(servername, c);
    }
    return c;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const socket = req.socket as TLSSocket;
    const servername = (socket as TLSSocket & { servername?: string }).servername ?? '';
    const clusterId = servername.slice(ETCD_SERVER_NAME_PREFIX.length);
    void (async () => {
      try {
        const ctx = await this.context(servername);
        const peer = socket.getPeerX509Certificate();
        const why = peer ? clientCertificateProblem(peer, new X509Certificate(ctx.ca)) : 'no client certificate';
        if (why) return reply(401, { error: `etcd client certificate refused: ${why}` });
        const members = this.deps.members(clusterId);
        if (!members) return reply(404, { error: `cluster ${clusterId} has no etcd members on this host` });
        const url = new URL(req.url ?? '/', 'https://etcd');
        if (req.method === 'GET' && url.pathname === '/members') return reply(200, { members });
        const m = /^\/members\/([0-9a-f]{16})$/.exec(url.pathname);
        if (req.method === 'DELETE' && m) {
          const member = members.find((x) => x.id === m[1]);
          if (!member) return reply(404, { error: `member ${m[1]} not found` });
          this.deps.membership.remove(clusterId, member.id);
          this.deps.log(`cluster ${clusterId}: etcd member ${member.name} (${member.id}) removed`);
          this.deps.removed(clusterId, member);
          return reply(200, { members: this.deps.members(clusterId) ?? [] });
        }
        return reply(404, { error: `no endpoint ${req.method} ${url.pathname}` });
      } catch (err) {
        reply(500, { error: errorMessage(err) });
      }
    })();
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

const tlsContext = (c: { cert: string; key: string; ca: string }) => createSecureContext({ cert: c.cert, key: c.key, ca: c.ca });

/** Why a client certificate is not one of the cluster's etcd CA for client use, or undefined. */
export function clientCertificateProblem(cert: X509Certificate, ca: X509Certificate, now = new Date()): string | undefined {
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not signed by the cluster\'s etcd CA';
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return 'expired or not yet valid';
  const usage = cert.keyUsage;
  if (usage && usage.length && !usage.includes('1.3.6.1.5.5.7.3.2')) return 'not for client authentication';
  return undefined;
}
