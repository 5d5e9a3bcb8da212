// Fuzzer (not a test): applies seeded mutations of the demo manifest, each invalid by
// construction, to loadPlan and counts how each ends:
//   refused naming the field  ManifestError whose problems name file, document, object and the
//                             mutated field path (for broken YAML: file and document)
//   refused elsewhere         ManifestError that does not name that path (a worse message)
//   accepted                  loadPlan returned a plan: a hole
//   crashed                   any other throw
// with a breakdown by mutation family and a few examples of anything not refused by name.
//
//   node --import tsx test/bench/fuzz-manifests.ts [--runs 10000] [--seed N]
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { KINDS, type KindName } from '../../api/kinds.js';
import { GROUPS, VERSION } from '../../api/meta.js';
import { loadPlan } from '../../client/apply.js';
import { ManifestError } from '../../client/manifests.js';
import { deleteRequired, insertUnknownKey, replaceWithWrongType, targets, VALUES_BY_TYPE } from '../support/api-mutations.js';
import { demoDocuments } from '../support/api-samples.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' } } });
const RUNS = Number(values.runs);
const SEED = Number(values.seed);
const FILE = 'demo-cluster.yaml';

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
type Rng = ReturnType<typeof prng>;

type Doc = Record<string, unknown>;
const DOCS: Doc[] = demoDocuments();
const kindOf = (d: Doc) => d.kind as KindName;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

interface Case {
  family: string;
  what: string;
  text: string;
  /** What a refusal must name: the 1-based document and, except for broken YAML, the object and path. */
  expect: { document: number; object?: Doc; path?: string };
}

const render = (docs: Doc[]) => docs.map((d) => stringify(d)).join('---\n');
const label = (o: Doc | undefined) => {
  if (!o) return '';
  const kind = typeof o.kind === 'string' ? o.kind : undefined;
  const name = (o.metadata as { name?: unknown } | undefined)?.name;
  // As client/manifests.ts's where(): an empty kind or name is left out.
  return kind ? ` (${kind}${typeof name === 'string' && name ? ` "${name}"` : ''})` : '';
};
const withDoc = (i: number, d: Doc) => DOCS.map((x, j) => (j === i ? d : x));

function setPath(root: Doc, path: (string | number)[], value: unknown) {
  let o = root as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string | number, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

const IDENT = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const TRICKY_KEYS = ['__proto__', 'constructor', 'toString', 'status', 'uid', 'Spec', 'apiversion', 'replica', 'instancetype', '', 'a.b', 'x/y', '<<', '0'];
const randomKey = (r: Rng) =>
  r.int(3) === 0 ? r.pick(TRICKY_KEYS) : Array.from({ length: 1 + r.int(12) }, () => IDENT[r.int(IDENT.length)]).join('');
const randomValue = (r: Rng) => clone(r.pick(Object.values(VALUES_BY_TYPE)));

// Values of the right JSON type but outside the field's domain: [kind or '*', path, value, path named].
const BAD_VALUES: [string, (string | number)[], unknown, string?][] = [
  ['*', ['metadata', 'name'], 'Demo'],
  ['*', ['metadata', 'name'], 'demo_1'],
  ['*', ['metadata', 'name'], '-demo'],
  ['*', ['metadata', 'name'], ''],
  ['*', ['metadata', 'name'], 'a'.repeat(254)],
  ['Cluster', ['metadata', 'name'], 'a'.repeat(64)],
  ['*', ['metadata', 'namespace'], 'Team_A'],
  ['*', ['metadata', 'namespace'], 'a'.repeat(64)],
  ['*', ['metadata', 'labels'], { a: 1 }, 'metadata.labels.a'],
  ['KubeadmControlPlane', ['spec', 'replicas'], -3],
  ['KubeadmControlPlane', ['spec', 'replicas'], 0],
  ['KubeadmControlPlane', ['spec', 'replicas'], 2],
  ['KubeadmControlPlane', ['spec', 'replicas'], 1.5],
  ['KubeadmControlPlane', ['spec', 'version'], '1.37.2'],
  ['KubeadmControlPlane', ['spec', 'version'], 'v1.37'],
  ['Machine', ['spec', 'version'], 'latest'],
  ['Machine', ['spec', 'clusterName'], 'Demo!'],
  ['Machine', ['spec', 'minReadySeconds'], -1],
  ['Machine', ['spec', 'deletion', 'nodeDrainTimeoutSeconds'], 1.5],
  ['Machine', ['spec', 'bootstrap'], {}, 'spec.bootstrap'],
  ['KubeadmControlPlane', ['spec', 'machineTemplate', 'spec', 'deletion', 'nodeDeletionTimeoutSeconds'], -10],
  ['Cluster', ['spec', 'clusterNetwork', 'apiServerPort'], 0],
  ['Cluster', ['spec', 'clusterNetwork', 'apiServerPort'], 70000],
  ['Cluster', ['spec', 'clusterNetwork', 'pods', 'cidrBlocks'], [], 'spec.clusterNetwork.pods.cidrBlocks'],
  ['Cluster', ['spec', 'clusterNetwork', 'services', 'cidrBlocks'], ['ten'], 'spec.clusterNetwork.services.cidrBlocks[0]'],
  ['Cluster', ['spec', 'controlPlaneEndpoint'], { host: '', port: 6443 }, 'spec.controlPlaneEndpoint.host'],
  ['Cluster', ['spec', 'infrastructureRef', 'name'], 'Bad_Name'],
  ['Cluster', ['spec', 'controlPlaneRef', 'apiGroup'], ''],
  ['SimMachine', ['spec', 'instanceType'], 'huge'],
  ['SimMachine', ['spec', 'instanceType'], ''],
  ['SimMachineTemplate', ['spec', 'template', 'spec', 'instanceType'], 'sim.xl'],
  ['SimCluster', ['spec', 'region'], ''],
  ['KubeadmConfig', ['spec', 'format'], 'ignition'],
  ['KubeadmConfig', ['spec', 'files'], [{ path: 'etc/x', content: '' }], 'spec.files[0].path'],
  ['KubeadmConfig', ['spec', 'files'], [{ path: '/etc/x', content: '', permissions: '999' }], 'spec.files[0].permissions'],
  ['KubeadmConfig', ['spec', 'joinConfiguration', 'nodeRegistration', 'taints'], [{ key: 'k', effect: 'Sometimes' }], 'spec.joinConfiguration.nodeRegistration.taints[0].effect'],
  ['KubeadmConfig', ['spec', 'joinConfiguration', 'nodeRegistration', 'kubeletExtraArgs'], [{ name: '', value: 'x' }], 'spec.joinConfiguration.nodeRegistration.kubeletExtraArgs[0].name'],
];

// The references loadPlan resolves: [document kind, path of the ref].
const REFS: [KindName, string[]][] = [
  ['Cluster', ['spec', 'infrastructureRef']],
  ['Cluster', ['spec', 'controlPlaneRef']],
  ['KubeadmControlPlane', ['spec', 'machineTemplate', 'spec', 'infrastructureRef']],
  ['Machine', ['spec', 'infrastructureRef']],
  ['Machine', ['spec', 'bootstrap', 'configRef']],
];

// Lines that make any YAML document invalid, whatever line they follow (indented as it is).
const BROKEN_LINES = ['bad: [1, 2', 'bad: {a: 1', 'bad: "unterminated', 'bad: value: other', '\tbad: 1', 'bad: *nowhere', 'bad: !!set {x}', 'bad: !local x', ': nokey: x'];

const families: Record<string, (r: Rng) => Case> = {
  unknownKey(r) {
    const i = r.int(DOCS.length);
    const d = DOCS[i]!;
    const nodes = targets(kindOf(d), d).unknownKey;
    const pick = r.int(nodes.length);
    let key = randomKey(r);
    if (nodes[pick]!.keys.includes(key)) key = `${key}Unknown`;
    const m = insertUnknownKey(kindOf(d), d, pick, key, randomValue(r));
    return { family: 'unknownKey', what: `document ${i + 1}: ${m.what}`, text: render(withDoc(i, m.object)), expect: { document: i + 1, object: m.object, path: m.path } };
  },
  wrongType(r) {
    const i = r.int(DOCS.length);
    const d = DOCS[i]!;
    const m = replaceWithWrongType(kindOf(d), d, r.int(1e9), r.int(1e9));
    return { family: 'wrongType', what: `document ${i + 1}: ${m.what}`, text: render(withDoc(i, m.object)), expect: { document: i + 1, object: m.object, path: m.path } };
  },
  missingRequired(r) {
    const i = r.int(DOCS.length);
    const d = DOCS[i]!;
    const m = deleteRequired(kindOf(d), d, r.int(1e9));
    return { family: 'missingRequired', what: `document ${i + 1}: ${m.what}`, text: render(withDoc(i, m.object)), expect: { document: i + 1, object: m.object, path: m.path } };
  },
  badValue(r) {
    const [kind, path, value, named] = r.pick(BAD_VALUES);
    const candidates = DOCS.map((d, i) => ({ d, i })).filter(({ d }) => kind === '*' || d.kind === kind);
    const { d, i } = r.pick(candidates);
    const o = clone(d);
    setPath(o, path, clone(value));
    const p = named ?? path.join('.');
    return { family: 'badValue', what: `document ${i + 1}: ${path.join('.')} = ${JSON.stringify(value)}`, text: render(withDoc(i, o)), expect: { document: i + 1, object: o, path: p } };
  },
  unknownKind(r) {
    const i = r.int(DOCS.length);
    const known = new Set(Object.keys(KINDS));
    const kinds = ['MachinePool', 'MachineDeployment', 'MachineSet', 'MachineHealthCheck', 'cluster', 'CLUSTER', 'KubeadmControlplane', 'SimMachines', 'Cluster ', 'DockerMachine', ''];
    // Properties of every JS object: a lookup that is not an own-property one finds them.
    const inherited = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];
    const o: Doc = { ...clone(DOCS[i]!), kind: r.pick([...kinds, ...inherited].filter((k) => !known.has(k))) };
    if (r.int(2) === 0) o.apiVersion = 'undefined/v1alpha1';
    return { family: 'unknownKind', what: `document ${i + 1}: kind ${JSON.stringify(o.kind)}`, text: render(withDoc(i, o)), expect: { document: i + 1, object: o, path: 'kind' } };
  },
  badApiVersion(r) {
    const i = r.int(DOCS.length);
    const d = DOCS[i]!;
    const right = d.apiVersion as string;
    const versions = [
      ...Object.values(GROUPS).map((g) => `${g}/${VERSION}`),
      'cluster.x-k8s.io/v1beta2',
      'infrastructure.cluster.x-k8s.io/v1beta1',
      `${right.split('/')[0]}/v1beta1`,
      `${right.split('/')[0]}/v1`,
      right.split('/')[0]!,
      'v1',
      '',
      `${right} `,
    ].filter((v) => v !== right);
    const o = { ...clone(d), apiVersion: r.pick(versions) };
    return { family: 'badApiVersion', what: `document ${i + 1}: apiVersion ${JSON.stringify(o.apiVersion)}`, text: render(withDoc(i, o)), expect: { document: i + 1, object: o, path: 'apiVersion' } };
  },
  badYaml(r) {
    const i = r.int(DOCS.length);
    const texts = DOCS.map((d) => stringify(d));
    const lines = texts[i]!.trimEnd().split('\n');
    const at = r.int(lines.length + 1);
    const indent = (lines[at] ?? lines[at - 1] ?? '').match(/^ */)![0];
    const broken = r.pick(BROKEN_LINES);
    lines.splice(at, 0, indent + broken);
    texts[i] = `${lines.join('\n')}\n`;
    return { family: 'badYaml', what: `document ${i + 1}: line ${at + 1}: ${JSON.stringify(broken)}`, text: texts.join('---\n'), expect: { document: i + 1 } };
  },
  duplicateName(r) {
    // Either a copy of a document appended, or one renamed to its sibling's name.
    const siblings = DOCS.map((d, i) => ({ d, i })).filter(({ d, i }) => DOCS.some((e, j) => j > i && e.kind === d.kind));
    if (r.int(2) === 0 || siblings.length === 0) {
      const i = r.int(DOCS.length);
      const copy = clone(DOCS[i]!);
      return { family: 'duplicateName', what: `document ${i + 1} repeated at the end`, text: render([...DOCS, copy]), expect: { document: DOCS.length + 1, object: copy, path: 'metadata.name' } };
    }
    const { d, i } = r.pick(siblings);
    const j = DOCS.findIndex((e, k) => k > i && e.kind === d.kind);
    const o = clone(DOCS[j]!);
    (o.metadata as Doc).name = (d.metadata as Doc).name;
    return { family: 'duplicateName', what: `document ${j + 1} renamed to document ${i + 1}'s name`, text: render(withDoc(j, o)), expect: { document: j + 1, object: o, path: 'metadata.name' } };
  },
  badRef(r) {
    const [kind, path] = r.pick(REFS);
    const candidates = DOCS.map((d, i) => ({ d, i })).filter(({ d }) => d.kind === kind);
    const { d, i } = r.pick(candidates);
    const o = clone(d);
    const ref = path.reduce<Doc>((x, p) => x[p] as Doc, o);
    const how = r.int(4);
    if (how === 0) ref.name = `${String(ref.name)}-missing`;
    else if (how === 1) ref.kind = r.pick(Object.keys(KINDS).filter((k) => k !== ref.kind));
    else if (how === 2) ref.apiGroup = r.pick(Object.values(GROUPS).filter((g) => g !== ref.apiGroup));
    else {
      // The target moved to another namespace: the reference, same namespace, finds nothing.
      const t = DOCS.findIndex((x) => x.kind === ref.kind && (x.metadata as Doc).name === ref.name);
      const moved = clone(DOCS[t]!);
      (moved.metadata as Doc).namespace = 'elsewhere';
      return { family: 'badRef', what: `document ${t + 1} moved to namespace "elsewhere", referenced by document ${i + 1} ${path.join('.')}`, text: render(withDoc(t, moved)), expect: { document: i + 1, object: d, path: path.join('.') } };
    }
    return { family: 'badRef', what: `document ${i + 1}: ${path.join('.')} = ${JSON.stringify(ref)}`, text: render(withDoc(i, o)), expect: { document: i + 1, object: o, path: path.join('.') } };
  },
};

type Outcome = 'refusedNamingField' | 'refusedElsewhere' | 'accepted' | 'crashed';

function run(c: Case): { outcome: Outcome; detail: string } {
  let problems: string[];
  try {
    loadPlan([{ file: FILE, text: c.text }]);
    return { outcome: 'accepted', detail: 'planned' };
  } catch (err) {
    if (!(err instanceof ManifestError)) return { outcome: 'crashed', detail: `${(err as Error).name}: ${(err as Error).message}` };
    problems = err.problems;
  }
  const prefix = c.expect.path === undefined ? `${FILE}: document ${c.expect.document}: invalid YAML: ` : `${FILE}: document ${c.expect.document}${label(c.expect.object)}: ${c.expect.path}: `;
  const named = problems.some((p) => p.startsWith(prefix));
  return { outcome: named ? 'refusedNamingField' : 'refusedElsewhere', detail: named ? '' : `wanted "${prefix}…", got ${JSON.stringify(problems)}` };
}

const OUTCOMES: Outcome[] = ['refusedNamingField', 'refusedElsewhere', 'accepted', 'crashed'];
const rng = prng(SEED);
const names = Object.keys(families);
const byFamily = new Map<string, Record<Outcome, number>>(names.map((n) => [n, { refusedNamingField: 0, refusedElsewhere: 0, accepted: 0, crashed: 0 }]));
const examples: string[] = [];
const started = performance.now();
for (let n = 0; n < RUNS; n++) {
  const family = names[n % names.length]!;
  let c: Case;
  try {
    c = families[family]!(rng);
  } catch (err) {
    throw new Error(`fuzz-manifests: the ${family} generator failed (a bug in this script): ${(err as Error).stack}`);
  }
  const { outcome, detail } = run(c);
  byFamily.get(family)![outcome]++;
  if (outcome !== 'refusedNamingField' && examples.length < 12) examples.push(`  [${outcome}] ${c.family}: ${c.what}\n      ${detail.slice(0, 400)}`);
}
const seconds = (performance.now() - started) / 1000;

const total = Object.fromEntries(OUTCOMES.map((o) => [o, [...byFamily.values()].reduce((s, f) => s + f[o], 0)])) as Record<Outcome, number>;
const row = (name: string, f: Record<Outcome, number>) =>
  `${name.padEnd(16)} ${String(OUTCOMES.reduce((s, o) => s + f[o], 0)).padStart(7)} ${OUTCOMES.map((o) => String(f[o]).padStart(o.length)).join(' ')}`;
console.log(`fuzz-manifests: ${RUNS} mutations of config/samples/demo-cluster.yaml, seed ${SEED}, ${seconds.toFixed(1)} s`);
console.log(`${'family'.padEnd(16)} ${'tried'.padStart(7)} ${OUTCOMES.join(' ')}`);
for (const [name, f] of byFamily) console.log(row(name, f));
console.log(row('total', total));
if (examples.length) console.log(`examples of anything not refused by name:\n${examples.join('\n')}`);
process.exitCode = total.accepted + total.crashed + total.refusedElsewhere > 0 ? 1 : 0;
