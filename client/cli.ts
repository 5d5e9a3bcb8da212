// The `capstan` command line.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { dataDir } from '../workers/config.js';
import { ApplyError } from './apply.js';
import { bool, flag, flags, parseArgs, type ParsedArgs, UsageError } from './args.js';
import { applyCommand, deleteCluster, describe, getClusters, getMachines, getNodes, readKubeconfig, readManifestFiles } from './commands.js';
import { loadDevEnv } from './dev-env.js';
import { ManifestError } from './manifests.js';
import { connectClient, TASK_QUEUE, temporalSettings } from './temporal.js';

const USAGE = `capstan: Cluster API's cluster lifecycle as durable Temporal workflows

Usage:
  capstan dev                              start Temporal (with its UI), the simulated cloud and a worker; create the demo cluster
  capstan apply -f FILE [-f FILE...]       create what the manifests describe (multi-document YAML; - for stdin)
        [--dry-run]                        validate and resolve every document, start nothing
  capstan get clusters|machines [-n NS] [--cluster NAME]
  capstan get nodes CLUSTER [-n NS]        the workload cluster's Nodes (like kubectl get nodes)
  capstan get kubeconfig CLUSTER [-n NS]   print the workload cluster's admin kubeconfig
  capstan describe cluster|machine NAME [-n NS]
  capstan delete cluster NAME [-n NS] [--wait=false]
  capstan worker                           run a worker (workflows + activities)
  capstan sim [--port P] [--profile demo|test]   run the simulated cloud

Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH,
TEMPORAL_TLS_CLIENT_KEY_PATH, CAPSTAN_DATA_DIR (default ./.capstan), CAPSTAN_SIM_URL.
While \`capstan dev\` runs, other capstan commands find its servers through <data dir>/dev.env.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  const [command, ...rest] = args.positionals;
  if (!command || bool(args, 'help')) {
    console.log(USAGE);
    return bool(args, 'help') ? 0 : 2;
  }
  const dir = dataDir();
  loadDevEnv(dir);
  const namespace = flag(args, 'namespace') ?? 'default';
  let connection: Awaited<ReturnType<typeof connectClient>>['connection'] | undefined;
  const connect = async (): Promise<Client> => {
    const c = await connectClient(temporalSettings());
    connection = c.connection;
    return c.client;
  };
  try {
    switch (command) {
      case 'apply': {
        const files = flags(args, 'filename');
        if (!files.length) throw new UsageError('apply needs -f FILE (or -f - for stdin)');
        const input = await readManifestFiles(files, readStdin);
        for (const line of await applyCommand({ files: input, dryRun: bool(args, 'dry-run'), connect, taskQueue: TASK_QUEUE })) console.log(line);
        return 0;
      }
      case 'get': {
        const [what, name] = rest;
        if (what === 'clusters' || what === 'cluster') console.log(await getClusters(await connect(), flag(args, 'namespace')));
        else if (what === 'machines' || what === 'machine') console.log(await getMachines(await connect(), flag(args, 'namespace'), flag(args, 'cluster')));
        else if (what === 'nodes' || what === 'node') {
          if (!name) throw new UsageError('get nodes needs the cluster name: capstan get nodes CLUSTER');
          console.log(await getNodes(dir, namespace, name));
        } else if (what === 'kubeconfig') {
          if (!name) throw new UsageError('get kubeconfig needs the cluster name');
          process.stdout.write(await readKubeconfig(dir, namespace, name));
        } else throw new UsageError(`get: unknown resource "${what ?? ''}" (clusters, machines, nodes CLUSTER, kubeconfig CLUSTER)`);
        return 0;
      }
      case 'describe': {
        const [kind, name] = rest;
        if (!kind || !name) throw new UsageError('describe needs a kind and a name: capstan describe cluster NAME');
        console.log(await describe(await connect(), kind, namespace, name));
        return 0;
      }
      case 'delete': {
        const [kind, name] = rest;
        if ((kind !== 'cluster' && kind !== 'clusters') || !name) throw new UsageError('delete needs: capstan delete cluster NAME');
        console.log(await deleteCluster(await connect(), namespace, name, bool(args, 'wait', true), (l) => console.error(l)));
        return 0;
      }
      case 'worker': {
        const { runWorker } = await import('../workers/main.js');
        await runWorker();
        return 0;
      }
      case 'sim': {
        const { runSimCloudCommand } = await import('./sim-command.js');
        return await runSimCloudCommand(args, dir);
      }
      case 'dev': {
        const { runDev } = await import('./dev.js');
        return await runDev({ dataDir: dir, args });
      }
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    if (err instanceof ManifestError) {
      console.error(`error: ${err.problems.length} problem(s) found; nothing was applied:`);
      for (const p of err.problems) console.error(`  ${p}`);
      return 1;
    }
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    if (err instanceof ApplyError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    if (err instanceof WorkflowNotFoundError) {
      console.error(`error: not found: ${err.workflowId}`);
      return 1;
    }
    console.error(`error: ${(err as Error).message ?? String(err)}`);
    return 1;
  } finally {
    await connection?.close();
  }
}
