// What each capstan command accepts: its usage text, options and positionals, in one table,
// so the help and the parser cannot disagree. `get`, `describe` and `delete` take a resource
// (`get clusters`), and each resource is a command of its own.
import type { CommandSpec } from './args.js';

export const OUTPUTS = ['table', 'json', 'yaml'] as const;
export type Output = (typeof OUTPUTS)[number];

export const OVERVIEW = `capstan: Cluster API's cluster lifecycle as durable Temporal workflows

Usage:
  capstan dev                                start Temporal (with its UI), the simulated cloud and a worker; create the demo cluster
  capstan apply -f FILE [-f FILE...]         create what the manifests describe (capstan's kinds, or Cluster API's)
  capstan convert -f FILE [-f FILE...]       Cluster API v1beta1/v1beta2 manifests as capstan's kinds
  capstan get clusters|machines [NAME]       list objects (-n NS, -A, -o table|json|yaml, -w)
  capstan get machinedeployments|machinesets [NAME]   list deployments and their sets (--cluster C)
  capstan get machinehealthchecks [NAME]     list health checks: expected, max unhealthy, healthy
  capstan get kubeadmcontrolplanes [NAME]    list control planes: initialized, available, replicas (-o yaml: conditions)
  capstan get nodes CLUSTER                  the workload cluster's Nodes (like kubectl get nodes)
  capstan get kubeconfig CLUSTER             print the workload cluster's admin kubeconfig
  capstan describe cluster|machine NAME      an object's status, conditions and machines
  capstan describe machinedeployment NAME    a deployment's spec, status, conditions and sets
  capstan scale machinedeployment NAME --replicas N   change a deployment's replicas
  capstan annotate machine NAME K=V... K-... set or remove a Machine's annotations (deletion hooks, delete-machine)
  capstan delete cluster NAME                delete a cluster in Cluster API's order
  capstan rollout plan -f FILE               the steps a MachineDeployment's rollout would take
  capstan rollout status machinedeployment NAME       a rollout's progress, until it is done
  capstan rollout pause|resume|restart machinedeployment NAME   hold, continue or redo a rollout
  capstan worker                             run a worker (workflows + activities)
  capstan watch [--kubeconfig FILE]          run the CRD watcher against a management cluster
  capstan sim                                run the simulated cloud
  capstan sim kill|node-not-ready|node-ready MACHINE  break (or mend) a machine in the simulated cloud

  capstan COMMAND --help                     a command's flags

Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH,
TEMPORAL_TLS_CLIENT_KEY_PATH, CAPSTAN_DATA_DIR (default ./.capstan), CAPSTAN_SIM_URL.
While \`capstan dev\` runs, other capstan commands find its servers through <data dir>/dev.env.`;

const NAMESPACE = { namespace: { type: 'string', short: 'n' } } as const;
const OUTPUT = { output: { type: 'string', short: 'o' } } as const;
const LIST = { ...NAMESPACE, ...OUTPUT, 'all-namespaces': { type: 'boolean', short: 'A' }, watch: { type: 'boolean', short: 'w' } } as const;
const nsHelp = '  -n, --namespace NS        the objects\' namespace (default "default")';
const outHelp = '  -o, --output FORMAT       table (default), json or yaml';

const listUsage = (resource: string, what: string) => [
  `Usage: capstan get ${resource} [NAME] [-n NS | -A] [--cluster CLUSTER] [-o table|json|yaml] [-w]`,
  '',
  nsHelp,
  `  -A, --all-namespaces      ${what} of every namespace, with a NAMESPACE column`,
  `      --cluster CLUSTER     only this cluster's ${what}`,
  outHelp,
  `  -w, --watch               after the list, print each of the ${what} that changes, until Ctrl-C`,
];
/** `rollout status|pause|resume|restart machinedeployment NAME` (or kubectl's `machinedeployment/NAME`). */
const ROLLOUT_TARGET = { names: ['RESOURCE', 'NAME'], required: 1 };
/** The management cluster a changing command writes to instead of Temporal (client/management-apply.ts). */
const MANAGEMENT = { kubeconfig: { type: 'string' } } as const;
const managementHelp = [
  '      --kubeconfig FILE     the management cluster: the change is written to its objects and the',
  '                            watcher acts on it (default: $CAPSTAN_MANAGEMENT_KUBECONFIG, then',
  '                            $KUBECONFIG; with neither, the change goes to Temporal directly)',
].join('\n');

const kubeconfigSourceHelp = [
  '      --kubeconfig FILE     the management cluster whose Secret <CLUSTER>-kubeconfig holds it, as in',
  '                            Cluster API (default: $CAPSTAN_MANAGEMENT_KUBECONFIG, then $KUBECONFIG);',
  '                            without one, or when it has none, the worker\'s own store',
].join('\n');

const rolloutVerb = (verb: string, what: string[]) =>
  spec({
    name: `rollout ${verb}`,
    usage: [`Usage: capstan rollout ${verb} machinedeployment NAME [-n NS] [--kubeconfig FILE]`, '', ...what, nsHelp, managementHelp],
    options: { ...NAMESPACE, ...MANAGEMENT },
    positionals: ROLLOUT_TARGET,
  });

const spec = (s: Omit<CommandSpec, 'usage'> & { usage: string[] }): CommandSpec => ({ ...s, usage: s.usage.join('\n') });

export const COMMANDS: Record<string, CommandSpec> = {
  dev: spec({
    name: 'dev',
    usage: [
      'Usage: capstan dev [--profile demo|test] [--no-demo] [--exit-when-ready]',
      '',
      'Starts Temporal (with its UI), the simulated cloud and a worker on loopback, then creates the demo cluster.',
      '  --profile demo|test       the simulated cloud\'s latencies (default demo)',
      '  --no-demo                 start the servers only',
      '  --exit-when-ready         stop everything once the demo cluster is Available',
    ],
    options: { profile: { type: 'string' }, 'no-demo': { type: 'boolean' }, 'exit-when-ready': { type: 'boolean' } },
    choices: { profile: ['demo', 'test'] },
    positionals: { names: [], required: 0 },
  }),
  apply: spec({
    name: 'apply',
    usage: [
      'Usage: capstan apply -f FILE [-f FILE...] [--dry-run] [--kubeconfig FILE]',
      '',
      'Creates what the manifests describe (multi-document YAML). With a management cluster, every',
      'document is validated, then written there (server-side apply, field manager capstan) for the',
      'watcher to act on; without one, the workflows are started or changed directly.',
      '  -f, --filename FILE       a manifest; - reads stdin; repeatable',
      '      --dry-run             validate and resolve every document, start nothing',
      managementHelp,
    ],
    options: { filename: { type: 'string', short: 'f', multiple: true }, 'dry-run': { type: 'boolean' }, ...MANAGEMENT },
    positionals: { names: [], required: 0 },
  }),
  'get clusters': spec({
    name: 'get clusters',
    usage: [
      'Usage: capstan get clusters [NAME] [-n NS | -A] [-o table|json|yaml] [-w]',
      '',
      nsHelp,
      '  -A, --all-namespaces      clusters of every namespace, with a NAMESPACE column',
      outHelp,
      '  -w, --watch               after the list, print each cluster that changes, until Ctrl-C',
    ],
    options: LIST,
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 0 },
  }),
  'get machines': spec({
    name: 'get machines',
    usage: [
      'Usage: capstan get machines [NAME] [-n NS | -A] [--cluster CLUSTER] [-o table|json|yaml] [-w]',
      '',
      nsHelp,
      '  -A, --all-namespaces      machines of every namespace, with a NAMESPACE column',
      '      --cluster CLUSTER     only this cluster\'s machines',
      outHelp,
      '  -w, --watch               after the list, print each machine that changes, until Ctrl-C',
    ],
    options: { ...LIST, cluster: { type: 'string' } },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 0 },
  }),
  'get machinedeployments': spec({
    name: 'get machinedeployments',
    usage: listUsage('machinedeployments', 'MachineDeployments'),
    options: { ...LIST, cluster: { type: 'string' } },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 0 },
  }),
  'get machinesets': spec({
    name: 'get machinesets',
    usage: listUsage('machinesets', 'MachineSets'),
    options: { ...LIST, cluster: { type: 'string' } },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 0 },
  }),
  'get kubeadmcontrolplanes': spec({
    name: 'get kubeadmcontrolplanes',
    usage: listUsage('kubeadmcontrolplanes', 'KubeadmControlPlanes'),
    options: { ...LIST, cluster: { type: 'string' } },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 0 },
  }),
  'get machinehealthchecks': spec({
    name: 'get machinehealthchecks',
    usage: listUsage('machinehealthchecks', 'MachineHealthChecks'),
    options: { ...LIST, cluster: { type: 'string' } },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 0 },
  }),
  'get nodes': spec({
    name: 'get nodes',
    usage: ['Usage: capstan get nodes CLUSTER [-n NS] [--kubeconfig FILE]', '', 'The workload cluster\'s Nodes, like kubectl get nodes.', nsHelp, kubeconfigSourceHelp],
    options: { ...NAMESPACE, ...MANAGEMENT },
    positionals: { names: ['CLUSTER'], required: 1 },
  }),
  'get kubeconfig': spec({
    name: 'get kubeconfig',
    usage: ['Usage: capstan get kubeconfig CLUSTER [-n NS] [--kubeconfig FILE]', '', 'Prints the workload cluster\'s admin kubeconfig.', nsHelp, kubeconfigSourceHelp],
    options: { ...NAMESPACE, ...MANAGEMENT },
    positionals: { names: ['CLUSTER'], required: 1 },
  }),
  'describe cluster': spec({
    name: 'describe cluster',
    usage: ['Usage: capstan describe cluster NAME [-n NS] [-o table|json|yaml]', '', nsHelp, '  -o, --output FORMAT       table (default: a summary), json or yaml (the full view)'],
    options: { ...NAMESPACE, ...OUTPUT },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 1 },
  }),
  'describe machine': spec({
    name: 'describe machine',
    usage: ['Usage: capstan describe machine NAME [-n NS] [-o table|json|yaml]', '', nsHelp, '  -o, --output FORMAT       table (default: a summary), json or yaml (the full view)'],
    options: { ...NAMESPACE, ...OUTPUT },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 1 },
  }),
  'describe machinedeployment': spec({
    name: 'describe machinedeployment',
    usage: [
      'Usage: capstan describe machinedeployment NAME [-n NS] [-o table|json|yaml]',
      '',
      'Its spec (replicas, strategy, paused), status counts, conditions and MachineSets with their revisions.',
      nsHelp,
      '  -o, --output FORMAT       table (default: a summary), json or yaml (the full view)',
    ],
    options: { ...NAMESPACE, ...OUTPUT },
    choices: { output: OUTPUTS },
    positionals: { names: ['NAME'], required: 1 },
  }),
  'scale machinedeployment': spec({
    name: 'scale machinedeployment',
    usage: [
      'Usage: capstan scale machinedeployment NAME --replicas N [-n NS] [--kubeconfig FILE]',
      '',
      'Sets the deployment\'s spec.replicas (during a rollout, its sets scale proportionally).',
      '      --replicas N          the desired number of machines',
      nsHelp,
      managementHelp,
    ],
    options: { ...NAMESPACE, replicas: { type: 'string' }, ...MANAGEMENT },
    positionals: { names: ['NAME'], required: 1 },
  }),
  'annotate machine': spec({
    name: 'annotate machine',
    usage: [
      'Usage: capstan annotate machine NAME KEY=VALUE... KEY-... [-n NS]',
      '',
      'Sets (KEY=VALUE) and removes (KEY-) a Machine\'s annotations, as kubectl annotate. A Machine\'s spec',
      'is immutable; its annotations are not. Cluster API\'s that capstan honours:',
      '  cluster.capstan.dev/delete-machine                         deleted first when its set scales down',
      '  pre-drain.delete.hook.machine.cluster.capstan.dev/NAME      holds its deletion before the drain',
      '  pre-terminate.delete.hook.machine.cluster.capstan.dev/NAME  holds its deletion before the instance goes',
      nsHelp,
    ],
    options: { ...NAMESPACE },
    positionals: { names: ['NAME', 'KEY=VALUE|KEY-'], required: 2, variadic: true },
  }),
  'delete cluster': spec({
    name: 'delete cluster',
    usage: [
      'Usage: capstan delete cluster NAME [-n NS] [--wait=false] [--kubeconfig FILE]',
      '',
      'Deletes in Cluster API\'s order: workers, control plane, infrastructure.',
      nsHelp,
      '      --wait=false, --no-wait   return once deletion has started (default: wait until deleted)',
      managementHelp,
    ],
    options: { ...NAMESPACE, wait: { type: 'boolean' }, ...MANAGEMENT },
    negatable: ['wait'],
    positionals: { names: ['NAME'], required: 1 },
  }),
  convert: spec({
    name: 'convert',
    usage: [
      'Usage: capstan convert -f FILE [-f FILE...]',
      '',
      'Prints Cluster API manifests (cluster.x-k8s.io v1beta1 or v1beta2: Cluster, Machine, MachineSet,',
      'MachineDeployment, MachineHealthCheck, KubeadmControlPlane, KubeadmConfig, KubeadmConfigTemplate)',
      'as capstan\'s kinds; an infrastructure provider\'s cluster and machine templates become the',
      'simulated cloud\'s. Every field that has no place in capstan is named on stderr, never dropped',
      'silently. `capstan apply` converts such a manifest itself.',
      '  -f, --filename FILE       a manifest; - reads stdin; repeatable',
    ],
    options: { filename: { type: 'string', short: 'f', multiple: true } },
    positionals: { names: [], required: 0 },
  }),
  'rollout plan': spec({
    name: 'rollout plan',
    usage: [
      'Usage: capstan rollout plan -f FILE [-f FILE...] [--from-replicas N] [-o table|json]',
      '',
      'Prints, before anything is applied, the steps the rollout planner would take for each MachineDeployment',
      'of the manifests: from an old set of machines on a previous template to the manifest\'s template, each',
      'machine becoming available one step after it is created. Its templates must be in the manifests too.',
      '  -f, --filename FILE       a manifest; - reads stdin; repeatable',
      '      --from-replicas N     machines in the old set (default: the MachineDeployment\'s spec.replicas)',
      '  -o, --output FORMAT       table (default) or json',
    ],
    options: { filename: { type: 'string', short: 'f', multiple: true }, 'from-replicas': { type: 'string' }, ...OUTPUT },
    choices: { output: ['table', 'json'] },
    positionals: { names: [], required: 0 },
  }),
  'rollout status': spec({
    name: 'rollout status',
    usage: [
      'Usage: capstan rollout status machinedeployment NAME [-n NS] [--watch=false] [--timeout DURATION]',
      '',
      'Shows the rollout\'s progress (a live bar on a terminal) until every machine is up to date and available.',
      nsHelp,
      '  -w, --watch=false         print the status once and exit 0 (default: watch until done)',
      '      --timeout DURATION    give up after this long, exit 1 (e.g. 90s, 5m; default 0: no limit)',
    ],
    options: { ...NAMESPACE, watch: { type: 'boolean', short: 'w' }, timeout: { type: 'string' } },
    negatable: ['watch'],
    positionals: ROLLOUT_TARGET,
  }),
  'rollout pause': rolloutVerb('pause', ['Pauses the rollout: machines are no longer replaced, but replicas are still followed.']),
  'rollout resume': rolloutVerb('resume', ['Resumes a paused rollout.']),
  'rollout restart': rolloutVerb('restart', ['Replaces every machine (rollout.after = now), through a new MachineSet within maxSurge and maxUnavailable.']),
  watch: spec({
    name: 'watch',
    usage: [
      'Usage: capstan watch [--kubeconfig FILE]',
      '',
      'Runs the CRD watcher: capstan\'s objects in the management cluster (kubectl apply -f) drive the',
      'workflows on the Temporal server the environment names, as `capstan apply` does; a Cluster gets',
      'the finalizer capstan.dev/lifecycle, and loses it once its workflow has deleted it.',
      '  --kubeconfig FILE         the management cluster (default: $KUBECONFIG, then ~/.kube/config)',
    ],
    options: { kubeconfig: { type: 'string' } },
    positionals: { names: [], required: 0 },
  }),
  worker: spec({
    name: 'worker',
    usage: ['Usage: capstan worker', '', 'Runs a worker (workflows + activities) on the Temporal server the environment names.'],
    options: {},
    positionals: { names: [], required: 0 },
  }),
  sim: spec({
    name: 'sim',
    usage: [
      'Usage: capstan sim [--port N] [--profile demo|test]',
      '       capstan sim kill|node-not-ready|node-ready MACHINE',
      '',
      'Runs the simulated cloud in the foreground; or breaks a machine in the running one (CAPSTAN_SIM_URL,',
      'or the cloud `capstan dev` started):',
      '  kill MACHINE              terminate its VM at once, as a failed host (its Node goes Unknown)',
      '  node-not-ready MACHINE    its kubelet posts Ready=False (a broken container network)',
      '  node-ready MACHINE        its kubelet posts Ready=True again',
      '  --port N                  listen on this port (default: a free one)',
      '  --profile demo|test       latencies (default demo)',
    ],
    options: { port: { type: 'string' }, profile: { type: 'string' } },
    choices: { profile: ['demo', 'test'] },
    positionals: { names: ['ACTION', 'MACHINE'], required: 0 },
  }),
};

/** What `rollout status|pause|resume|restart` act on: kubectl's spellings of the one kind that rolls. */
export const ROLLOUT_RESOURCES = ['machinedeployment', 'machinedeployments', 'md'];

/** Resources of the commands that take one, with kubectl's singular and plural spellings. */
export const RESOURCES: Record<string, Record<string, string>> = {
  get: {
    clusters: 'get clusters',
    cluster: 'get clusters',
    machines: 'get machines',
    machine: 'get machines',
    machinedeployments: 'get machinedeployments',
    machinedeployment: 'get machinedeployments',
    md: 'get machinedeployments',
    machinesets: 'get machinesets',
    machineset: 'get machinesets',
    ms: 'get machinesets',
    machinehealthchecks: 'get machinehealthchecks',
    machinehealthcheck: 'get machinehealthchecks',
    mhc: 'get machinehealthchecks',
    kubeadmcontrolplanes: 'get kubeadmcontrolplanes',
    kubeadmcontrolplane: 'get kubeadmcontrolplanes',
    kcp: 'get kubeadmcontrolplanes',
    nodes: 'get nodes',
    node: 'get nodes',
    kubeconfig: 'get kubeconfig',
  },
  describe: {
    cluster: 'describe cluster',
    clusters: 'describe cluster',
    machine: 'describe machine',
    machines: 'describe machine',
    machinedeployment: 'describe machinedeployment',
    machinedeployments: 'describe machinedeployment',
    md: 'describe machinedeployment',
  },
  scale: { machinedeployment: 'scale machinedeployment', machinedeployments: 'scale machinedeployment', md: 'scale machinedeployment' },
  delete: { cluster: 'delete cluster', clusters: 'delete cluster' },
  annotate: { machine: 'annotate machine', machines: 'annotate machine' },
  rollout: { plan: 'rollout plan', status: 'rollout status', pause: 'rollout pause', resume: 'rollout resume', restart: 'rollout restart' },
};

/** What follows a group's name: a resource (`get clusters`) or, for `rollout`, a subcommand. */
export const groupNoun = (group: string): string => (group === 'rollout' ? 'subcommand' : 'resource');

export const groupUsage = (group: string): string => {
  const noun = groupNoun(group);
  return [
    `Usage: capstan ${group} ${noun.toUpperCase()} ...`,
    '',
    `${noun[0]!.toUpperCase()}${noun.slice(1)}s:`,
    ...[...new Set(Object.values(RESOURCES[group]!))].map((c) => `  ${COMMANDS[c]!.usage.split('\n')[0]!.replace('Usage: ', '')}`),
    '',
    `capstan ${group} ${noun.toUpperCase()} --help for its flags.`,
  ].join('\n');
};
