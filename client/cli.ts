// The `capstan` command line.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { dataDir } from '../workers/config.js';
import { annotateMachine, parseAnnotationArgs } from './annotate.js';
import { ApplyError } from './apply.js';
import { bool, type CommandSpec, parseCommand, type ParsedCommand, str, strs, UsageError, wantsHelp } from './args.js';
import { applyCommand, deleteCluster, describe, getNodes, getObjects, type Kind, type ListOptions, readKubeconfig, readManifestFiles, watchObjects } from './commands.js';
import { loadDevEnv } from './dev-env.js';
import { changeMachineDeployment, parseDuration, rolloutStatus } from './machine-deployments.js';
import { applyToManagement, changeDeploymentObject, deleteClusterObject, managementKubeconfig } from './management-apply.js';
import { ManifestError, readDocuments } from './manifests.js';
import { conversionYaml, convertDocuments, convertFiles, hasCapiDocuments } from './convert.js';
import { MAX_PLANNED_MACHINES, rolloutPlanCommand } from './rollout-plan.js';
import { connectClient, TASK_QUEUE, temporalSettings } from './temporal.js';
import { COMMANDS, groupNoun, groupUsage, type Output, OVERVIEW, RESOURCES, ROLLOUT_RESOURCES } from './usage.js';

/** What a conversion of Cluster API documents could not carry over, on stderr. */
const warnNotCarried = (notes: string[]) => notes.forEach((n) => console.error(`warning: not carried over: ${n}`));

/** A manifest with Cluster API documents, converted first (client/convert.ts). */
function convertIfCapi(files: { file: string; text: string }[]): { file: string; text: string }[] {
  const docs = files.map((f) => ({ file: f.file, docs: readDocuments(f.file, f.text) }));
  if (!docs.some((f) => hasCapiDocuments(f.docs))) return files;
  const c = convertFiles(docs);
  warnNotCarried(c.notes);
  return c.files;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Options of `get`/`describe`/`delete` that take a value, so `get -n ns clusters` finds its resource. */
function valueFlags(group: string): Set<string> {
  const out = new Set<string>();
  for (const command of new Set(Object.values(RESOURCES[group]!))) {
    for (const [name, o] of Object.entries(COMMANDS[command]!.options)) {
      if (o.type !== 'string') continue;
      out.add(`--${name}`);
      if (o.short) out.add(`-${o.short}`);
    }
  }
  return out;
}

/** The command's spec and its arguments; `get clusters -n x` → (`get clusters`, [-n, x]). */
function resolveCommand(argv: string[]): { spec: CommandSpec; args: string[] } {
  const [command, ...rest] = argv;
  const resources = RESOURCES[command!];
  if (!resources) {
    const spec = COMMANDS[command!];
    if (!spec) throw new UsageError(`unknown command "${command}"`, OVERVIEW);
    return { spec, args: rest };
  }
  const takesValue = valueFlags(command!);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    const spec = COMMANDS[resources[a] ?? ''];
    if (!spec) throw new UsageError(`${command}: unknown ${groupNoun(command!)} "${a}" (${[...new Set(Object.keys(resources))].join(', ')})`, groupUsage(command!));
    return { spec, args: [...rest.slice(0, i), ...rest.slice(i + 1)] };
  }
  if (wantsHelp(rest)) throw new HelpRequest(groupUsage(command!));
  throw new UsageError(`${command}: missing ${groupNoun(command!).toUpperCase()}`, groupUsage(command!));
}

class HelpRequest extends Error {
  constructor(readonly usage: string) {
    super('help');
  }
}

// Kubernetes object names and namespaces (RFC 1123 subdomains): checked before they reach a
// visibility query or a workflow ID.
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function objectName(spec: CommandSpec, what: string, value: string | undefined): string | undefined {
  if (value !== undefined && !DNS_NAME.test(value)) throw new UsageError(`${spec.name}: ${what}: "${value}" is not a valid Kubernetes name`, spec.usage);
  return value;
}

/** `rollout VERB machinedeployment NAME` or kubectl's `rollout VERB machinedeployment/NAME`: the NAME. */
function rolloutTarget(spec: CommandSpec, positionals: string[]): string {
  const [first, second] = positionals;
  const slash = first!.indexOf('/');
  const [resource, name] = slash >= 0 ? [first!.slice(0, slash), first!.slice(slash + 1)] : [first!, second];
  if (!ROLLOUT_RESOURCES.includes(resource!)) throw new UsageError(`${spec.name}: unknown resource "${resource}" (${ROLLOUT_RESOURCES.join(', ')})`, spec.usage);
  if (slash >= 0 && second !== undefined) throw new UsageError(`${spec.name}: unexpected argument "${second}"`, spec.usage);
  if (!name) throw new UsageError(`${spec.name}: missing NAME`, spec.usage);
  return objectName(spec, 'NAME', name)!;
}

const LISTED: Record<string, Kind> = {
  'get clusters': 'Cluster',
  'get machines': 'Machine',
  'get machinedeployments': 'MachineDeployment',
  'get machinesets': 'MachineSet',
  'get machinehealthchecks': 'MachineHealthCheck',
  'get kubeadmcontrolplanes': 'KubeadmControlPlane',
};

export async function main(argv: string[]): Promise<number> {
  if (!argv.length) {
    console.error(OVERVIEW);
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    const topic = argv.slice(1);
    if (!topic.length) {
      console.log(OVERVIEW);
      return 0;
    }
    return main([...topic, '--help']);
  }
  let spec: CommandSpec;
  let p: ParsedCommand;
  try {
    const r = resolveCommand(argv);
    spec = r.spec;
    if (wantsHelp(r.args)) {
      console.log(spec.usage);
      return 0;
    }
    p = parseCommand(spec, r.args);
  } catch (err) {
    if (err instanceof HelpRequest) {
      console.log(err.usage);
      return 0;
    }
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      if (err.usage) console.error(`\n${err.usage}`);
      return 2;
    }
    throw err;
  }

  const dir = dataDir();
  loadDevEnv(dir);
  let connection: Awaited<ReturnType<typeof connectClient>>['connection'] | undefined;
  const connect = async (): Promise<Client> => {
    const c = await connectClient(temporalSettings());
    connection = c.connection;
    return c.client;
  };
  try {
    const namespace = objectName(spec, '-n/--namespace', str(p, 'namespace')) ?? 'default';
    const [arg] = p.positionals;
    switch (spec.name) {
      case 'apply': {
        const files = strs(p, 'filename');
        if (!files.length) throw new UsageError('apply needs -f FILE (or -f - for stdin)', spec.usage);
        const input = convertIfCapi(await readManifestFiles(files, readStdin));
        const management = bool(p, 'dry-run') ? undefined : managementKubeconfig(str(p, 'kubeconfig'));
        const lines = management ? await applyToManagement(management, input) : await applyCommand({ files: input, dryRun: bool(p, 'dry-run'), connect, taskQueue: TASK_QUEUE });
        for (const line of lines) console.log(line);
        return 0;
      }
      case 'convert': {
        const files = strs(p, 'filename');
        if (!files.length) throw new UsageError('convert needs -f FILE (or -f - for stdin)', spec.usage);
        const input = await readManifestFiles(files, readStdin);
        const c = convertDocuments(input.flatMap((f) => readDocuments(f.file, f.text)));
        warnNotCarried(c.notes);
        process.stdout.write(conversionYaml(c));
        return 0;
      }
      case 'rollout plan': {
        const files = strs(p, 'filename');
        if (!files.length) throw new UsageError('rollout plan needs -f FILE (or -f - for stdin)', spec.usage);
        const from = str(p, 'from-replicas');
        if (from !== undefined && !(/^\d+$/.test(from) && Number(from) <= MAX_PLANNED_MACHINES)) {
          throw new UsageError(`rollout plan: --from-replicas: "${from}" is not an integer between 0 and ${MAX_PLANNED_MACHINES}`, spec.usage);
        }
        const input = await readManifestFiles(files, readStdin);
        console.log(rolloutPlanCommand({ files: input, fromReplicas: from === undefined ? undefined : Number(from), output: (str(p, 'output') ?? 'table') as 'table' | 'json' }));
        return 0;
      }
      case 'get clusters':
      case 'get machines':
      case 'get machinedeployments':
      case 'get machinesets':
      case 'get machinehealthchecks':
      case 'get kubeadmcontrolplanes': {
        const all = bool(p, 'all-namespaces');
        const name = objectName(spec, 'NAME', arg);
        if (all && name) throw new UsageError(`${spec.name}: a name cannot be looked up across all namespaces (-A); use -n NS`, spec.usage);
        const o: ListOptions = { namespace: all ? undefined : namespace, name, cluster: objectName(spec, '--cluster', str(p, 'cluster')) };
        const output = (str(p, 'output') ?? 'table') as Output;
        const kind = LISTED[spec.name]!;
        const client = await connect();
        if (!bool(p, 'watch')) {
          console.log(await getObjects(client, kind, o, output));
          return 0;
        }
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const interval = Number(process.env.CAPSTAN_WATCH_INTERVAL_MS) || undefined;
          await watchObjects(client, kind, o, output, (t) => console.log(t), stop.signal, interval);
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        return 0;
      }
      case 'get nodes':
        console.log(await getNodes(dir, namespace, objectName(spec, 'CLUSTER', arg)!, managementKubeconfig(str(p, 'kubeconfig'))));
        return 0;
      case 'get kubeconfig':
        process.stdout.write(await readKubeconfig(dir, namespace, objectName(spec, 'CLUSTER', arg)!, managementKubeconfig(str(p, 'kubeconfig'))));
        return 0;
      case 'describe cluster':
      case 'describe machine':
      case 'describe machinedeployment': {
        const kind = spec.name.split(' ')[1] as 'cluster' | 'machine' | 'machinedeployment';
        console.log(await describe(await connect(), kind, namespace, objectName(spec, 'NAME', arg)!, (str(p, 'output') ?? 'table') as Output));
        return 0;
      }
      case 'annotate machine': {
        const name = objectName(spec, 'NAME', arg)!;
        const change = parseAnnotationArgs(p.positionals.slice(1));
        if (typeof change === 'string') throw new UsageError(`${spec.name}: ${change}`, spec.usage);
        console.log(await annotateMachine(await connect(), namespace, name, change));
        return 0;
      }
      case 'scale machinedeployment': {
        const name = objectName(spec, 'NAME', arg)!;
        const replicas = str(p, 'replicas');
        if (replicas === undefined) throw new UsageError(`${spec.name}: --replicas N is required`, spec.usage);
        // A negative integer (--replicas=-1) goes to the workflow, whose validation of the spec
        // refuses it naming spec.replicas; what is no integer at all never leaves the CLI.
        if (!/^-?\d{1,9}$/.test(replicas)) throw new UsageError(`${spec.name}: --replicas: "${replicas}" is not an integer`, spec.usage);
        const management = managementKubeconfig(str(p, 'kubeconfig'));
        const change = { verb: 'scale', replicas: Number(replicas) } as const;
        console.log(management ? await changeDeploymentObject(management, namespace, name, change) : await changeMachineDeployment(await connect(), namespace, name, change));
        return 0;
      }
      case 'rollout pause':
      case 'rollout resume':
      case 'rollout restart': {
        const name = rolloutTarget(spec, p.positionals);
        const verb = spec.name.split(' ')[1] as 'pause' | 'resume' | 'restart';
        const change = verb === 'restart' ? { verb, now: new Date() } : { verb };
        const management = managementKubeconfig(str(p, 'kubeconfig'));
        console.log(management ? await changeDeploymentObject(management, namespace, name, change) : await changeMachineDeployment(await connect(), namespace, name, change));
        return 0;
      }
      case 'rollout status': {
        const name = rolloutTarget(spec, p.positionals);
        const timeout = str(p, 'timeout') ?? '0';
        const timeoutMs = parseDuration(timeout);
        if (timeoutMs === undefined) throw new UsageError(`${spec.name}: --timeout: "${timeout}" is not a duration (e.g. 90s, 5m, 1h30m)`, spec.usage);
        const client = await connect();
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const done = await rolloutStatus(client, namespace, name, {
            watch: bool(p, 'watch', true),
            timeoutMs,
            intervalMs: Number(process.env.CAPSTAN_WATCH_INTERVAL_MS) || undefined,
            tty: !!process.stdout.isTTY,
            columns: process.stdout.columns,
            write: (t) => void process.stdout.write(t),
            signal: stop.signal,
          });
          if (done) return 0;
          // kubectl's words when --timeout passes first.
          if (!stop.signal.aborted) console.error('error: timed out waiting for the condition');
          return 1;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }
      case 'delete cluster': {
        const name = objectName(spec, 'NAME', arg)!;
        const management = managementKubeconfig(str(p, 'kubeconfig'));
        const progress = (l: string) => console.error(l);
        console.log(management ? await deleteClusterObject(management, namespace, name, bool(p, 'wait', true), progress) : await deleteCluster(await connect(), namespace, name, bool(p, 'wait', true), progress));
        return 0;
      }
      case 'watch': {
        const { runWatcher } = await import('./watch-command.js');
        return await runWatcher(await connect(), str(p, 'kubeconfig'));
      }
      case 'worker': {
        const { runWorker } = await import('../workers/main.js');
        await runWorker();
        return 0;
      }
      case 'sim': {
        const { runSimCloudCommand, simVmActionCommand, SIM_VM_ACTIONS } = await import('./sim-command.js');
        const [action, machine] = p.positionals;
        if (action !== undefined) {
          if (!(SIM_VM_ACTIONS as readonly string[]).includes(action)) throw new UsageError(`sim: ACTION: "${action}" is not one of ${SIM_VM_ACTIONS.join(', ')}`, spec.usage);
          if (!machine) throw new UsageError(`sim ${action}: MACHINE is required`, spec.usage);
          console.log(await simVmActionCommand(action as (typeof SIM_VM_ACTIONS)[number], machine));
          return 0;
        }
        const port = str(p, 'port');
        if (port !== undefined && !(/^\d+$/.test(port) && Number(port) <= 65535)) throw new UsageError(`sim: --port: "${port}" is not a port number`, spec.usage);
        return await runSimCloudCommand({ port: port === undefined ? undefined : Number(port), profile: (str(p, 'profile') ?? 'demo') as 'demo' | 'test' }, dir);
      }
      case 'dev': {
        const { runDev } = await import('./dev.js');
        return await runDev({ dataDir: dir, profile: (str(p, 'profile') ?? 'demo') as 'demo' | 'test', exitWhenReady: bool(p, 'exit-when-ready'), demo: !bool(p, 'no-demo') });
      }
      default:
        throw new Error(`command ${spec.name} has no implementation`);
    }
  } catch (err) {
    if (err instanceof ManifestError) {
      console.error(`error: ${err.problems.length} problem(s) found; nothing was applied:`);
      for (const p of err.problems) console.error(`  ${p}`);
      return 1;
    }
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      if (err.usage) console.error(`\n${err.usage}`);
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
