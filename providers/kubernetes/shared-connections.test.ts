import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificateAuthority, issueServingCertificate } from '../kubeadm/pki/cluster-pki.js';
import { closeConnections, shareConnections } from './shared-connections.js';

// A TLS server on loopback that answers every request with an empty NodeList and counts the TLS
// connections its clients open.
let server: Server;
let url: string;
let caPem: string;
let connections = 0;

beforeAll(async () => {
  const ca = await generateCertificateAuthority('test-ca', { now: new Date() });
  const serving = await issueServingCertificate(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], now: new Date() });
  caPem = ca.certPem;
  server = createServer({ key: serving.keyPem, cert: serving.certPem }, (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  server.keepAliveTimeout = 30_000;
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function kubeconfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token: 'not-checked' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

/** TLS connections opened while `fn` ran. */
async function opened(fn: () => Promise<unknown>): Promise<number> {
  const before = connections;
  await fn();
  return connections - before;
}

// A connection goes back to the pool a moment after its response resolves, so a request sent
// at once after another may still open a second one: the bounds below leave room for that, and
// are far below one connection per request (the planted case).
describe('shareConnections', () => {
  it('sends the requests of every client of a KubeConfig over a connection or two, not one each', async () => {
    const kc = shareConnections(kubeconfig());
    const a = kc.makeApiClient(CoreV1Api);
    const b = kc.makeApiClient(CoreV1Api);
    expect(
      await opened(async () => {
        for (let i = 0; i < 10; i++) {
          await a.listNode();
          await b.listNode();
        }
      }),
    ).toBeLessThanOrEqual(3);
    await closeConnections(kc);
  });

  it('planted: without it, client-node opens a connection per request (why this module exists)', async () => {
    const api = kubeconfig().makeApiClient(CoreV1Api);
    expect(
      await opened(async () => {
        for (let i = 0; i < 20; i++) await api.listNode();
      }),
    ).toBe(20);
  });

  it('is idempotent, and a closed pool is opened again by the next request', async () => {
    const kc = kubeconfig();
    expect(shareConnections(shareConnections(kc))).toBe(kc);
    const api = kc.makeApiClient(CoreV1Api);
    const twenty = async () => {
      for (let i = 0; i < 20; i++) await api.listNode();
    };
    expect(await opened(twenty)).toBeLessThanOrEqual(3);
    await closeConnections(kc);
    const again = await opened(twenty);
    expect(again).toBeGreaterThan(0);
    expect(again).toBeLessThanOrEqual(3);
    await closeConnections(kc);
  });

  it('opens what concurrent requests need, then reuses them', async () => {
    const kc = shareConnections(kubeconfig());
    const api = kc.makeApiClient(CoreV1Api);
    const bursts = async () => {
      for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 4 }, () => api.listNode()));
    };
    expect(await opened(bursts)).toBeLessThanOrEqual(8);
    await closeConnections(kc);
  });

  // A kubelet renews its Lease every 10 s; undici drops an idle connection after 4 s unless told
  // otherwise, and each renewal then paid a TLS handshake on both sides.
  it('keeps an idle connection longer than undici\'s 4 s default (planted: with 4 s, a call after 4.5 s opens another)', async () => {
    const idleCall = async (kc: KubeConfig) => {
      const api = kc.makeApiClient(CoreV1Api);
      const n = await opened(async () => {
        await api.listNode();
        await new Promise((r) => setTimeout(r, 4_500));
        await api.listNode();
      });
      await closeConnections(kc);
      return n;
    };
    expect(await idleCall(shareConnections(kubeconfig()))).toBe(1);
    expect(await idleCall(shareConnections(kubeconfig(), { keepAliveMs: 4_000 }))).toBe(2);
  }, 20_000);
});
