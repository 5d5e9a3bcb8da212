// Loopback ports: pick a free one, wait until one accepts connections.
import net from 'node:net';

// Ports handed out recently by this process. The kernel may hand the same ephemeral port to two
// back-to-back listen(0) calls once the first is closed; remembering them keeps two servers
// started by one process from being given the same port before either has bound it.
const recentlyGiven: number[] = [];
const RECENT_MAX = 256;

function listenOnce(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('listen(0) returned no port'))));
    });
  });
}

/**
 * A TCP port that is free on 127.0.0.1 right now (listen on port 0, read it, close). Another
 * process may still take it before the caller binds it; callers that start servers report
 * the bind error from the server's log.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await listenOnce(host);
    if (!recentlyGiven.includes(port)) {
      recentlyGiven.push(port);
      if (recentlyGiven.length > RECENT_MAX) recentlyGiven.shift();
      return port;
    }
  }
  throw new Error(`no fresh free port on ${host} after 20 attempts`);
}

/** True when a TCP connection to host:port succeeds within timeoutMs. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves once host:port accepts TCP connections; rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs: number, pollMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(host, port, Math.min(1000, Math.max(50, deadline - Date.now())))) return;
    if (Date.now() >= deadline) throw new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
