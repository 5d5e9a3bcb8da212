// Helpers for the simulated cloud's process tests: temp data dirs, event waits, a TCP echo
// backend and a raw TCP probe. Everything here is loopback only and closed by the caller.
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SimCloudClient, SimEvent } from '../../providers/sim/client.js';

export function tempDataDir(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `capstan-sim-${label}-`));
}

/** Polls the event log (long poll, 1 s at a time) until `match` finds an event; rejects after `timeoutMs`. */
export async function waitForEvent(client: SimCloudClient, match: (e: SimEvent) => boolean, timeoutMs = 15_000): Promise<SimEvent> {
  const deadline = Date.now() + timeoutMs;
  let since = 0;
  for (;;) {
    const events = await client.events(since, { waitSeconds: 1 });
    const hit = events.find(match);
    if (hit) return hit;
    if (events.length > 0) since = events[events.length - 1]!.seq;
    if (Date.now() > deadline) throw new Error('no matching event in time');
  }
}

export interface EchoServer {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that writes back what it reads, prefixed with `prefix`. */
export async function startEchoServer(prefix = 'echo:'): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', (d) => s.write(prefix + d.toString('utf8')));
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    get connections() {
      return state.connections;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type ProbeResult = { kind: 'data'; text: string } | { kind: 'closed' } | { kind: 'reset' } | { kind: 'refused' } | { kind: 'timeout' };

/**
 * Connects to 127.0.0.1:port, writes `payload`, and reports the first thing that happens: data
 * back, a clean close, a reset, a refused connection, or nothing within `timeoutMs`.
 */
export function probeTcp(port: number, payload: string, timeoutMs = 3000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    let settled = false;
    const done = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(received ? { kind: 'data', text: received } : { kind: 'timeout' }), timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d) => {
      received += d.toString('utf8');
      if (received.length >= payload.length) done({ kind: 'data', text: received });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') done({ kind: 'refused' });
      else if (err.code === 'ECONNRESET' || err.code === 'EPIPE') done(received ? { kind: 'data', text: received } : { kind: 'reset' });
      else done({ kind: 'reset' });
    });
    socket.on('close', () => done(received ? { kind: 'data', text: received } : { kind: 'closed' }));
  });
}
