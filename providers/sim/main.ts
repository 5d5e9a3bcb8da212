// The simulated cloud's process. Prints exactly one line to stdout once it listens:
//   {"ready":true,"url":"http://127.0.0.1:PORT"}
// and logs everything else to stderr. SIGTERM/SIGINT: stop accepting, close the runtime, exit 0.
//
//   node --import tsx providers/sim/main.ts --data-dir DIR [--port N] [--profile demo|test]
//     [--seed N] [--runtime noop|kubernetes] [--runtime-opt key=value]...
//     [--api-latency-ms MIN-MAX] [--boot-ms MIN-MAX] [--delete-ms MIN-MAX]
//     [--node-ready-ms MIN-MAX] [--pod-start-ms MIN-MAX] [--retry-after-ms MIN-MAX]
import type http from 'node:http';
import { parseArgs, type MainArgs } from './args.js';
import { SimCloud } from './cloud.js';
import { NoopRuntime } from './noop-runtime.js';
import type { RuntimeFactory, RuntimeFactoryOptions, VmRuntime } from './runtime.js';
import { createSimServer } from './server.js';

async function createRuntime(args: MainArgs, log: (m: string) => void): Promise<VmRuntime> {
  const opts: RuntimeFactoryOptions = {
    dataDir: args.dataDir,
    profile: args.profile,
    seed: args.seed,
    options: args.runtimeOptions,
    log: (m) => log(`runtime: ${m}`),
  };
  if (args.runtime === 'kubernetes') {
    // Imported only when selected, so the cloud runs without providers/sim/host/ present. The
    // specifier is a variable so type checking does not require the module either.
    const specifier = './host/index.js';
    let mod: { createKubernetesRuntime?: RuntimeFactory };
    try {
      mod = (await import(specifier)) as typeof mod;
    } catch (err) {
      throw new Error(`--runtime kubernetes: cannot load providers/sim/host/index.ts (${(err as Error).message}); use --runtime noop`);
    }
    if (typeof mod.createKubernetesRuntime !== 'function') {
      throw new Error('--runtime kubernetes: providers/sim/host/index.ts does not export createKubernetesRuntime(opts)');
    }
    return mod.createKubernetesRuntime(opts);
  }
  return NoopRuntime.fromFactoryOptions(opts);
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

async function listenWithRetry(server: http.Server, port: number, retryForMs: number): Promise<number> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      return await listen(server, port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function main(): Promise<void> {
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} sim-cloud: ${m}\n`);
  let args: MainArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const p = args.profile;
  log(
    `starting: data dir ${args.dataDir}, profile ${p.name} (api ${p.apiLatencyMs.join('-')} ms, boot ${p.bootMs.join('-')} ms, ` +
      `delete ${p.deleteMs.join('-')} ms, node ready ${p.nodeReadyMs.join('-')} ms, pod start ${p.podStartMs.join('-')} ms), seed ${args.seed}, runtime ${args.runtime}`,
  );
  const runtime = await createRuntime(args, log);
  const cloud = await SimCloud.open({ dataDir: args.dataDir, profile: args.profile, seed: args.seed, runtime, log });
  const server = createSimServer(cloud, log);
  // Long polls last up to 30 s; the defaults would cut idle keep-alive sockets sooner than a client expects.
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0;

  let port: number;
  if (args.port !== undefined) {
    port = await listenWithRetry(server, args.port, args.port === 0 ? 0 : 10_000);
  } else if (cloud.savedApiPort !== undefined) {
    // Same URL as before the restart, so clients configured with it keep working.
    try {
      port = await listenWithRetry(server, cloud.savedApiPort, 3_000);
    } catch (err) {
      log(`previous API port ${cloud.savedApiPort} is taken (${(err as Error).message}); using a free one`);
      port = await listen(server, 0);
    }
  } else {
    port = await listen(server, 0);
  }
  cloud.recordApiPort(port);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    server.close();
    // Releases long polls (they answer with the VM as it is), closes the runtime and the LBs.
    await cloud.close();
    server.closeIdleConnections();
    // A moment for the released long polls' answers to go out.
    await new Promise((r) => setTimeout(r, 100));
    server.closeAllConnections();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  log(`listening on http://127.0.0.1:${port}${cloud.restarted ? ' (restarted on existing state)' : ''}`);
  process.stdout.write(JSON.stringify({ ready: true, url: `http://127.0.0.1:${port}` }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`sim-cloud: fatal: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
