// Servers left behind by an earlier cloud process that died without stopping them (kill -9 when
// setpriv's parent-death signal is not available, or a test runner killed mid-way). Before we
// start anything we end them: only processes whose /proc/<pid>/cmdline is one of our server
// binaries AND names a path inside this cloud's runtime dir, so another cloud's servers (or an
// unrelated process that reused the PID) are never touched.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordedProcess, ServerBinary } from './state.js';

const BINARIES: ReadonlySet<string> = new Set<ServerBinary>(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);

export function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined; // a zombie, or a kernel thread
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Whether `argv` is one of our servers started for the runtime dir `runtimeDir`. */
export function isOurServer(argv: string[], runtimeDir: string): boolean {
  const [argv0, ...args] = argv;
  // A previous minor's build carries its version: kube-apiserver-v1.36.3.
  if (!argv0 || !BINARIES.has(path.basename(argv0).replace(/-v\d+\.\d+\.\d+$/, ''))) return false;
  const prefix = runtimeDir.endsWith('/') ? runtimeDir : runtimeDir + '/';
  return args.some((a) => {
    const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : a;
    return value.startsWith(prefix);
  });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the parenthesised command name; Z (zombie) and X (dead) hold no resources.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every live PID on the host that runs one of our servers for `runtimeDir` (Linux /proc). */
export function findOurServers(runtimeDir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const argv = readCmdline(pid);
    if (argv && isOurServer(argv, runtimeDir) && alive(pid)) out.push(pid);
  }
  return out;
}

/**
 * SIGKILLs the recorded PIDs and any other process found running our servers for `runtimeDir`,
 * then waits (up to `timeoutMs`) until they are gone. etcd runs with fsync on, so SIGKILL loses
 * nothing it acknowledged. Returns the PIDs it killed.
 */
export async function killStaleServers(runtimeDir: string, recorded: RecordedProcess[], timeoutMs = 10_000): Promise<number[]> {
  const candidates = new Set<number>(findOurServers(runtimeDir));
  for (const r of recorded) {
    const argv = readCmdline(r.pid);
    if (argv && isOurServer(argv, runtimeDir) && alive(r.pid)) candidates.add(r.pid);
  }
  for (const pid of candidates) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = [...candidates].filter(alive);
    if (left.length === 0) break;
    if (Date.now() > deadline) throw new Error(`stale servers did not exit after SIGKILL: pids ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return [...candidates];
}
