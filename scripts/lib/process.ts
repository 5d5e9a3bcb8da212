// Child processes for real servers: output to a log file, a readiness probe, a clean stop, and
// no orphans when the parent goes away.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Human name used in errors and the log header, e.g. `etcd` or `kube-apiserver(prefix=/a)`. */
  name: string;
  command: string;
  args?: string[];
  /** Added over the parent's environment (a value of `undefined` removes a variable). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** stdout and stderr are appended here; the parent directory is created. */
  logFile: string;
  /**
   * Polled until it resolves true; a throw counts as "not yet" (its message is kept for errors).
   * `output()` is what this run has written to the log so far (for servers that announce
   * readiness with a line rather than an endpoint).
   */
  ready: (output: () => string) => Promise<boolean>;
  /** Default 30 s. */
  readyTimeoutMs?: number;
  /** Default 200 ms. */
  pollMs?: number;
  /**
   * Default true: on Linux, start the child through `setpriv --pdeathsig KILL` so the kernel
   * kills it when this process dies by any means (SIGKILL, a test runner tearing down its
   * worker) — the `exit` hook below only runs on an orderly exit. setpriv execs the command, so
   * the pid is the server's own.
   */
  dieWithParent?: boolean;
}

export interface StopOptions {
  /** Default SIGTERM. */
  signal?: NodeJS.Signals;
  /** Time allowed after `signal` before SIGKILL. Default 10 s. */
  timeoutMs?: number;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Milliseconds from spawn until `ready()` first returned true. */
  readonly readyAfterMs: number;
  /** Resolves (never rejects) when the process has exited and been reaped. */
  readonly exited: Promise<ExitInfo>;
  readonly running: boolean;
  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILL. Idempotent. */
  stop(options?: StopOptions): Promise<ExitInfo>;
  /** SIGKILL now (a crash, as far as the server can tell). */
  kill9(): Promise<ExitInfo>;
  /** Resident set size from /proc (Linux), or undefined once exited / elsewhere. */
  rssBytes(): number | undefined;
  /** The last `lines` lines this process wrote to its log (this run only). */
  logTail(lines?: number): string;
}

const live = new Set<LiveProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: no graceful stop here, only make sure nothing outlives us.
  process.on('exit', () => {
    for (const p of live) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

let setprivPath: string | null | undefined;
function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform === 'linux') {
    for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
      if (existsSync(candidate)) {
        setprivPath = candidate;
        break;
      }
    }
  }
  return setprivPath;
}

/** Everything written to `file` from `offset` on ('' if nothing yet). */
function readFrom(file: string, offset: number): string {
  try {
    const size = statSync(file).size;
    if (size <= offset) return '';
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

function readTail(file: string, fromOffset: number, lines: number): string {
  try {
    const size = statSync(file).size;
    const maxBytes = 256 * 1024;
    const start = Math.max(fromOffset, size - maxBytes);
    if (size <= start) return '';
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const all = buf.toString('utf8').replace(/\n$/, '').split('\n');
      return all.slice(-lines).join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

function readRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class LiveProcess implements ManagedProcess {
  readyAfterMs = 0;
  exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  constructor(
    readonly name: string,
    readonly pid: number,
    readonly logFile: string,
    private readonly child: ChildProcess,
    private readonly logOffset: number,
  ) {
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        try {
          appendFileSync(logFile, `--- capstan: ${name} (pid ${pid}) exited: code=${code} signal=${signal} at ${new Date().toISOString()}\n`);
        } catch {
          // the log is best effort
        }
        resolve(this.exitInfo);
      });
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  async stop({ signal = 'SIGTERM', timeoutMs = 10_000 }: StopOptions = {}): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first === 'timeout') {
      this.signal('SIGKILL');
    }
    return this.exited;
  }

  kill9(): Promise<ExitInfo> {
    if (!this.exitInfo) this.signal('SIGKILL');
    return this.exited;
  }

  rssBytes(): number | undefined {
    return this.exitInfo ? undefined : readRss(this.pid);
  }

  logTail(lines = 40): string {
    return readTail(this.logFile, this.logOffset, lines);
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.child.kill(sig);
    } catch {
      // already gone
    }
  }
}

/**
 * Starts `command` and resolves once `ready()` returns true. If the process exits first or
 * readiness times out, the process is killed and the promise rejects with an Error that names
 * the server and quotes the last ~40 lines of its log.
 */
export async function startProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  const { name, command, args = [], cwd, logFile, ready } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const pollMs = options.pollMs ?? 200;
  installExitHook();

  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  let logOffset: number;
  let child: ChildProcess;
  try {
    logOffset = fstatSync(fd).size;
    appendFileSync(fd, `--- capstan: starting ${name} at ${new Date().toISOString()}: ${[command, ...args].join(' ')}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const setpriv = options.dieWithParent === false ? null : findSetpriv();
    const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
    child = spawn(file, argv, { cwd, env, stdio: ['ignore', fd, fd], detached: false });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(fd);
  }

  if (child.pid === undefined) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`${name}: could not start ${command}: ${err.message}`);
  }
  // Later 'error' events (e.g. a failed kill) must not crash the parent.
  child.on('error', () => {});

  const proc = new LiveProcess(name, child.pid, logFile, child, logOffset);
  live.add(proc);

  const started = Date.now();
  const deadline = started + readyTimeoutMs;
  let lastProbeError: string | undefined;
  let failure: string | undefined;
  for (;;) {
    if (proc.exitInfo) {
      failure = `exited before it was ready (code ${proc.exitInfo.code}, signal ${proc.exitInfo.signal})`;
      break;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      failure = `was not ready within ${readyTimeoutMs} ms` + (lastProbeError ? ` (last probe: ${lastProbeError})` : '');
      break;
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready(() => readFrom(logFile, logOffset)).then(
        (ok) => (ok ? 'ready' : 'not-ready'),
        (err: unknown) => {
          lastProbeError = err instanceof Error ? err.message : String(err);
          return 'not-ready';
        },
      ),
      proc.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), remaining);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready' && !proc.exitInfo) {
      proc.readyAfterMs = Date.now() - started;
      return proc;
    }
    if (outcome === 'not-ready') await Promise.race([delay(pollMs), proc.exited]);
  }

  await proc.kill9();
  const tail = proc.logTail(40);
  // A taken port is named near the top of this run's log, and may be far above its last lines (a
  // Go panic's stack follows it, seen in CI): the message names it, for callers that retry on it.
  const bind = readFrom(logFile, logOffset).split('\n').find((l) => /address already in use/.test(l) && !l.startsWith('--- capstan:') && !tail.includes(l));
  throw new Error(
    `${name} (pid ${proc.pid}) ${failure}.${bind ? ` ${bind.trim()}.` : ''} Last lines of ${logFile}:\n` + (tail ? tail : '(log is empty)'),
  );
}

/** Stops every process started through startProcess that is still running (test teardown). */
export async function stopAll(options?: StopOptions): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(options)));
}

/** Processes started here that have not exited yet. */
export function liveProcesses(): ManagedProcess[] {
  return [...live];
}
