// A cluster's load balancer: a real TCP listener on 127.0.0.1 that forwards each connection to
// the cluster's current backend (a kube-apiserver, once the runtime has one). With no backend it
// accepts and resets the connection at once, as a load balancer with no healthy target does.
import net from 'node:net';
import type { SimEndpoint } from './types.js';

const HOST = '127.0.0.1';

export class LoadBalancer {
  private server: net.Server | undefined;
  private backend: SimEndpoint | null = null;
  private readonly sockets = new Set<net.Socket>();
  private boundPort = 0;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly log: (message: string) => void = () => {},
  ) {}

  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  get currentBackend(): SimEndpoint | null {
    return this.backend ? { ...this.backend } : null;
  }

  /**
   * Listens on `port` (0: any free port) and resolves with the bound port. A fixed port that is
   * still taken (the previous process's socket not yet gone) is retried until `retryForMs`.
   */
  async listen(port: number, retryForMs = 10_000): Promise<number> {
    if (this.server) throw new Error(`${this.name}: already listening`);
    const deadline = Date.now() + retryForMs;
    for (;;) {
      try {
        this.boundPort = await this.tryListen(port);
        return this.boundPort;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (port === 0 || code !== 'EADDRINUSE' || Date.now() >= deadline || this.closed) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private tryListen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: false }, (socket) => this.onConnection(socket));
      const onError = (err: Error) => {
        server.close();
        reject(err);
      };
      server.once('error', onError);
      server.listen({ host: HOST, port, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log(`${this.name}: listener error: ${err.message}`));
        this.server = server;
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  setBackend(backend: SimEndpoint | null): void {
    // Connections already forwarded stay with the backend they have (as an LB drains them);
    // only new connections see the change.
    this.backend = backend ? { host: backend.host, port: backend.port } : null;
  }

  private onConnection(client: net.Socket): void {
    if (this.closed) {
      client.destroy();
      return;
    }
    const backend = this.backend;
    if (!backend) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: backend.host, port: backend.port });
    this.sockets.add(client);
    this.sockets.add(upstream);
    let ended = false;
    const finish = (reset: boolean) => {
      if (ended) return;
      ended = true;
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      // A failed side resets the other, so the caller sees a broken connection, not a clean EOF.
      if (reset) {
        if (!client.destroyed) client.resetAndDestroy();
        if (!upstream.destroyed) upstream.resetAndDestroy();
      } else {
        client.destroy();
        upstream.destroy();
      }
    };
    client.on('error', () => finish(true));
    upstream.on('error', () => finish(true));
    client.on('close', () => finish(false));
    upstream.on('close', () => finish(false));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Stops listening and cuts every forwarded connection. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
