// Temporal on loopback: the CLI's dev server (SQLite file or in-memory, optional Web UI) and the
// Java SDK's time-skipping test server.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from './ports.js';
import { startProcess, type ManagedProcess, type StopOptions } from './process.js';
import { toolPath } from './tools.js';

/** The types `temporal server start-dev --search-attribute NAME=TYPE` accepts (CLI 1.9). */
export type SearchAttributeType = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface StartTemporalDevServerOptions {
  /** SQLite file (WAL); omitted means in-memory: every workflow is lost when the server stops. */
  dbFile?: string;
  /** Front-end gRPC port. */
  port?: number;
  /** Web UI port; ignored when headless. */
  uiPort?: number;
  /** Created at launch if not `default` (which always exists). Default `default`. */
  namespace?: string;
  searchAttributes?: Record<string, SearchAttributeType>;
  logFile: string;
  /** No Web UI. */
  headless?: boolean;
  /** `--dynamic-config-value KEY=JSON` pairs. */
  dynamicConfig?: Record<string, unknown>;
  /** Server log level (the CLI's --log-level); default warn. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  readyTimeoutMs?: number;
  extraArgs?: string[];
}

export interface TemporalServer {
  /** `127.0.0.1:PORT`, for `Connection.connect({ address })`. */
  address: string;
  port: number;
  process: ManagedProcess;
  stop(options?: StopOptions): Promise<void>;
}

export interface TemporalDevServer extends TemporalServer {
  /** `http://127.0.0.1:UIPORT`, or undefined when headless. */
  uiUrl: string | undefined;
  /** Prometheus metrics, including the server's `action` counter (what Temporal bills by). */
  metricsUrl: string;
  namespace: string;
}

/**
 * One readiness probe: the front end answers GetSystemInfo (Connection.connect does that call),
 * then optionally `check` on the connection. Each probe uses its own short-lived connection.
 */
async function probe(address: string, check?: (c: Connection) => Promise<boolean>): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    return check ? await check(connection) : true;
  } finally {
    await connection.close();
  }
}

/**
 * Starts the dev server; again, on fresh ports, when one of its listeners found its port taken.
 * The CLI picks free ports for its internal services itself, so one of them can land on a port we
 * picked for it a moment before (seen once in CI: the worker service on our --http-port).
 */
export async function startTemporalDevServer(options: StartTemporalDevServerOptions): Promise<TemporalDevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(options);
    } catch (err) {
      if (attempt < 3 && /address already in use/.test((err as Error).message)) continue;
      throw err;
    }
  }
}

async function startDevServerOnce(options: StartTemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const headless = options.headless ?? false;
  const uiPort = headless ? undefined : (options.uiPort ?? (await freePort()));
  // Left to the CLI, these two pick random ports; pinning them keeps every listener on 127.0.0.1
  // and out of the way of ports other servers were just given.
  const httpPort = await freePort();
  const metricsPort = await freePort();
  const searchAttributes = options.searchAttributes ?? {};

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  if (headless) args.push('--headless');
  else args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (options.dbFile) {
    const dbFile = path.resolve(options.dbFile);
    mkdirSync(path.dirname(dbFile), { recursive: true });
    // Without WAL, file-backed SQLite manages only a few workflows per second (DESIGN.md).
    args.push('--db-filename', dbFile, '--sqlite-pragma', 'journal_mode=wal');
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(searchAttributes)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`search attribute name '${name}' is not an identifier`);
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  args.push(...(options.extraArgs ?? []));

  const address = `127.0.0.1:${port}`;
  const proc = await startProcess({
    name: `temporal dev server(${address})`,
    command: toolPath('temporal'),
    args,
    logFile: options.logFile,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    pollMs: 200,
    // Ready = the namespace can be described and every requested search attribute is registered
    // in it (the dev server registers them during start-up).
    ready: () =>
      probe(address, async (c) => {
        await c.workflowService.describeNamespace({ namespace });
        const wanted = Object.keys(searchAttributes);
        if (wanted.length === 0) return true;
        const listed = await c.operatorService.listSearchAttributes({ namespace });
        const have = listed.customAttributes ?? {};
        return wanted.every((n) => n in have);
      }),
  });
  return {
    address,
    port,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    namespace,
    process: proc,
    stop: async (stopOptions) => {
      await proc.stop(stopOptions);
    },
  };
}

export interface StartTemporalTestServerOptions {
  port?: number;
  logFile: string;
  /**
   * Default true: pass `--enable-time-skipping` (usage: `temporal-test-server <port> <flags>`),
   * so timers fire as soon as no workflow task is running. TestWorkflowEnvironment's own
   * lock/unlock calls still apply.
   */
  timeSkipping?: boolean;
  readyTimeoutMs?: number;
}

/**
 * The Java SDK's in-memory, time-skipping test server (1.40.0). It implements the workflow
 * service itself rather than running Temporal server code. Probed here with raw RPCs:
 * - works: start/signal/query, workflow Update and update-with-start (ExecuteMultiOperation
 *   with exactly [Start, Update]), DescribeNamespace, AddSearchAttributes, GetSystemInfo, health.
 * - UNIMPLEMENTED: ListWorkflowExecutions / CountWorkflowExecutions (no visibility, so no
 *   search-attribute queries), ListSearchAttributes, GetSearchAttributes, schedules,
 *   ResetWorkflowExecution, batch operations, DescribeTaskQueue, ListNamespaces,
 *   worker-versioning RPCs, PauseActivity, UpdateWorkflowExecutionOptions.
 * - It listens on the wildcard address (`*:PORT`, IPv4 and IPv6): the binary has no
 *   bind-address flag. We only ever dial 127.0.0.1, but the port is reachable from other
 *   hosts while it runs; prefer the dev server where that matters.
 */
export async function startTemporalTestServer(options: StartTemporalTestServerOptions): Promise<TemporalServer> {
  const port = options.port ?? (await freePort());
  const args = [String(port)];
  if (options.timeSkipping ?? true) args.push('--enable-time-skipping');
  const address = `127.0.0.1:${port}`;
  const proc = await startProcess({
    name: `temporal test server(${address})`,
    command: toolPath('temporal-test-server'),
    args,
    logFile: options.logFile,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    pollMs: 100,
    ready: () => probe(address),
  });
  return {
    address,
    port,
    process: proc,
    stop: async (stopOptions) => {
      await proc.stop(stopOptions);
    },
  };
}
