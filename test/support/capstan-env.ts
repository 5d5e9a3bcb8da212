// A whole capstan on loopback for workflow and end-to-end tests: a real Temporal dev server
// (in memory, or on a SQLite file so it can be restarted), the simulated cloud as its own process running real kube-apiservers, and a
// worker — in this process (workflow tests) or as its own process (end-to-end tests, which
// kill it). Each test file starts one and stops it in afterAll.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import { startSimCloud, type SimCloudProcess } from '../../providers/sim/launch.js';
import { SimCloudClient } from '../../providers/sim/client.js';
import type { ManagedProcess } from '../../scripts/lib/process.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal.js';
import { startWorkerProcess } from '../../workers/launch.js';
import { createWorker, workflowsPath } from '../../workers/worker.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../../workers/config.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';

export interface CapstanEnvOptions {
  /** A management cluster's kubeconfig file for the worker (external remediation). */
  managementKubeconfig?: string;
  /** Where the worker keeps secrets (default file; kubernetes needs managementKubeconfig). */
  secretStore?: 'file' | 'kubernetes';
  /** 'in-process' (default) or 'process' (a separate `capstan worker`). */
  worker?: 'in-process' | 'process';
  /** Extra flags for the simulated cloud, e.g. ['--boot-ms', '500-600']. */
  simExtra?: string[];
  taskQueue?: string;
  /** The simulated cloud's VM runtime; 'noop' VMs boot but run no Kubernetes. */
  simRuntime?: 'kubernetes' | 'noop';
  /** The simulated cloud's latency profile; default 'test' (fast). */
  profile?: 'test' | 'demo';
  /** Keep Temporal's state in a SQLite file under the data dir (default: in memory), so restartTemporal() keeps every workflow. */
  temporalDbFile?: boolean;
  /** The dev server's dynamic config, e.g. { 'limit.historyCount.suggestContinueAsNew': 200 }. */
  temporalDynamicConfig?: Record<string, unknown>;
  /** How long an observer sees nothing change before it goes quiet (CAPSTAN_OBSERVER_QUIET_SECONDS; default 50). */
  observerQuietSeconds?: number;
  /** How often the in-process worker's observer waker lists quiet workflows (ms; default 5000). */
  wakerListEveryMs?: number;
  /** How long the in-process worker tolerates a failing workload API (ms; default 60 s). */
  unreachableGraceMs?: number;
}

export interface CapstanEnv {
  dataDir: string;
  temporal: TemporalDevServer;
  sim: SimCloudProcess;
  simClient: SimCloudClient;
  client: Client;
  taskQueue: string;
  /** Environment for a `capstan` process pointed at this capstan. */
  env: Record<string, string>;
  worker?: Worker;
  workerProcess?: ManagedProcess;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Restarts the simulated cloud on the same data dir (after a kill9 or a stop). */
  restartSim(): Promise<void>;
  /**
   * Stops the Temporal dev server and starts it again on the same port and SQLite file
   * (needs temporalDbFile). The client and workers reconnect by themselves. Its metrics port
   * changes, and its counters start again from zero. `downMs`: how long it stays down.
   */
  restartTemporal(o?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

let bundle: Promise<{ code: string }> | undefined;
/** One workflow bundle per test process (webpack takes seconds). */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never });
  return bundle;
}

export async function startCapstanEnv(o: CapstanEnvOptions = {}): Promise<CapstanEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), 'capstan-test-'));
  const taskQueue = o.taskQueue ?? 'capstan';
  const temporalOpts = {
    headless: true,
    searchAttributes: SEARCH_ATTRIBUTES,
    logFile: join(dataDir, 'temporal.log'),
    dbFile: o.temporalDbFile ? join(dataDir, 'temporal.db') : undefined,
    dynamicConfig: o.temporalDynamicConfig,
  };
  let temporal = await startTemporalDevServer(temporalOpts);
  const simOpts = { dataDir: join(dataDir, 'sim'), profile: o.profile ?? ('test' as const), runtime: o.simRuntime ?? ('kubernetes' as const), port: 0, extra: o.simExtra, logFile: join(dataDir, 'sim.log') };
  let sim = await startSimCloud(simOpts);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    CAPSTAN_SIM_URL: sim.url,
    CAPSTAN_DATA_DIR: dataDir,
    CAPSTAN_TASK_QUEUE: taskQueue,
    // The CLI talks to this Temporal, never to a management cluster the developer's shell names.
    KUBECONFIG: '',
    CAPSTAN_MANAGEMENT_KUBECONFIG: '',
    ...(o.observerQuietSeconds ? { CAPSTAN_OBSERVER_QUIET_SECONDS: String(o.observerQuietSeconds) } : {}),
  };

  const self: CapstanEnv = {
    dataDir,
    temporal,
    sim,
    simClient: new SimCloudClient(sim.url),
    client,
    taskQueue,
    env,
    async startWorker() {
      if (o.worker === 'process') {
        self.workerProcess = await startWorkerProcess({ env, logFile: join(dataDir, 'worker.log') });
        return;
      }
      const nativeConnection = await NativeConnection.connect({ address: temporal.address });
      const worker = await createWorker({
        settings: {
          dataDir,
          simUrl: sim.url,
          taskQueue,
          maxConcurrentActivities: 200,
          maxConcurrentWorkflowTasks: 40,
          maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS,
          ...(o.managementKubeconfig ? { managementKubeconfig: o.managementKubeconfig } : {}),
          ...(o.secretStore ? { secretStore: o.secretStore } : {}),
          ...(o.observerQuietSeconds ? { observerQuietSeconds: o.observerQuietSeconds } : {}),
        },
        connection: nativeConnection,
        namespace: temporal.namespace,
        pollMs: 200,
        workflowBundle: await workflowBundle(),
        client: self.client,
        ...(o.wakerListEveryMs ? { wakerListEveryMs: o.wakerListEveryMs } : {}),
        ...(o.unreachableGraceMs ? { unreachableGraceMs: o.unreachableGraceMs } : {}),
      });
      self.worker = worker;
      const running = worker.run().finally(() => nativeConnection.close());
      stopInProcess = async () => {
        worker.shutdown();
        await running;
      };
    },
    async stopWorker() {
      if (self.workerProcess) await self.workerProcess.stop();
      self.workerProcess = undefined;
      await stopInProcess?.();
      stopInProcess = undefined;
      self.worker = undefined;
    },
    async restartSim() {
      if (sim.process.running) await sim.stop();
      // The same port: the URL the worker was given must keep working.
      sim = await startSimCloud({ ...simOpts, port: sim.port });
      self.sim = sim;
    },
    async restartTemporal({ downMs = 0 } = {}) {
      if (!temporalOpts.dbFile) throw new Error('restartTemporal needs temporalDbFile: an in-memory server would lose every workflow');
      if (temporal.process.running) await temporal.stop();
      await new Promise((r) => setTimeout(r, downMs));
      temporal = await startTemporalDevServer({ ...temporalOpts, port: temporal.port });
      self.temporal = temporal;
    },
    async stop() {
      await self.stopWorker().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await sim.stop().catch(() => undefined);
      await temporal.stop().catch(() => undefined);
      if (!process.env.CAPSTAN_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  let stopInProcess: (() => Promise<void>) | undefined;
  await self.startWorker();
  return self;
}

/** Polls `fn` until it returns a value other than undefined/false; fails after timeoutMs naming `what`. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000, pollMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Every history (each run) of the workflows the visibility query lists, for a replay test. */
export async function fetchHistories(client: Client, query?: string): Promise<{ workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }[]> {
  const out = [];
  for await (const wf of client.workflow.list(query ? { query } : undefined)) {
    out.push({ workflowId: wf.workflowId, history: await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory() });
  }
  return out;
}
