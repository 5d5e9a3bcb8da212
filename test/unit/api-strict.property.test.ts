// Strict input, the same for every kind: starting from valid objects of every kind, a mutation
// that is invalid by construction (unknown key at any depth, wrong JSON type at any node, a
// required key deleted) is refused naming exactly the mutated path, through validateDocument
// and through loadPlan (file, document, object, field; nothing planned; never a crash).
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type FieldError, type KindName, validateDocument } from '../../api/kinds.js';
import { loadPlan } from '../../client/apply.js';
import { ManifestError } from '../../client/manifests.js';
import { deleteRequired, insertUnknownKey, type Mutation, replaceWithWrongType, targets } from '../support/api-mutations.js';
import { DEMO_MANIFEST, demoDocuments, kindsWithoutSample, MACHINE_DEPLOYMENT_MANIFEST, type Sample, samples } from '../support/api-samples.js';
import { DEMO_WITH_WORKER_MACHINES } from '../support/demo-manifests.js';

const SAMPLES = samples();
const RUNS = 300;

function errorsOf(doc: unknown): FieldError[] {
  const r = validateDocument(doc);
  return r.ok ? [] : r.errors;
}

// Field names a careless or hostile manifest might use: Kubernetes fields capstan does not
// serve, case variants of real ones, and JavaScript's own property names.
const TRICKY_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'status', 'uid', 'Spec', 'apiversion', 'replica', 'instancetype', ''];
const unknownKey = fc.oneof(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,15}$/), fc.constantFrom(...TRICKY_KEYS));

/** One mutation of a sample, of any family, chosen by fast-check. */
function mutationOf(s: Sample) {
  const t = targets(s.kind, s.object);
  const families = [
    fc.tuple(fc.nat(), unknownKey, fc.jsonValue({ maxDepth: 2 })).map(([pick, key, value]) => {
      const node = t.unknownKey[pick % t.unknownKey.length]!;
      return insertUnknownKey(s.kind, s.object, pick, node.keys.includes(key) ? `${key}Unknown` : key, value);
    }),
    fc.tuple(fc.nat(), fc.nat()).map(([pick, type]) => replaceWithWrongType(s.kind, s.object, pick, type)),
  ];
  if (t.missingRequired.length) families.push(fc.nat().map((pick) => deleteRequired(s.kind, s.object, pick)));
  return fc.oneof(...families);
}

describe('validateDocument: strict input, the same for every kind', () => {
  it('has a sample of every kind', () => {
    expect(kindsWithoutSample()).toEqual([]);
  });

  it.each(SAMPLES.map((s) => ({ name: s.name, s })))('validateDocument: valid $name → accepted', ({ s }) => {
    expect(errorsOf(s.object)).toEqual([]);
  });

  it('validateDocument: an unknown key in any object node of any kind → refused naming the object path and the key', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLES).chain((s) => {
          const nodes = targets(s.kind, s.object).unknownKey;
          return fc.tuple(fc.constant(s), fc.nat(nodes.length - 1), unknownKey, fc.jsonValue({ maxDepth: 2 }));
        }),
        ([s, pick, key, value]) => {
          const node = targets(s.kind, s.object).unknownKey[pick]!;
          const m = insertUnknownKey(s.kind, s.object, pick, node.keys.includes(key) ? `${key}Unknown` : key, value);
          expect(errorsOf(m.object)).toEqual([{ path: m.path, message: 'unknown field' }]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('validateDocument: a wrong JSON type at any node of any kind → refused naming that node path', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLES).chain((s) => fc.tuple(fc.constant(s), fc.nat(targets(s.kind, s.object).wrongType.length - 1), fc.nat())),
        ([s, pick, type]) => {
          const m = replaceWithWrongType(s.kind, s.object, pick, type);
          const errors = errorsOf(m.object);
          expect(errors.map((e) => e.path), m.what).toEqual([m.path]);
          expect(errors[0]!.message, m.what).toMatch(/^must be /);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('validateDocument: a required key deleted at any depth of any kind → refused with "<path>: is required"', () => {
    const withRequired = SAMPLES.filter((s) => targets(s.kind, s.object).missingRequired.length > 0);
    fc.assert(
      fc.property(
        fc.constantFrom(...withRequired).chain((s) => fc.tuple(fc.constant(s), fc.nat(targets(s.kind, s.object).missingRequired.length - 1))),
        ([s, pick]) => {
          const m = deleteRequired(s.kind, s.object, pick);
          const errors = errorsOf(m.object);
          expect(errors.map((e) => e.path), m.what).toEqual([m.path]);
          expect(errors[0]!.message, m.what).toMatch(/^is required/);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('validateDocument: every required key of every sample deleted, one at a time → refused naming it', () => {
    // The exhaustive form of the property above: the required keys are few.
    for (const s of SAMPLES) {
      targets(s.kind, s.object).missingRequired.forEach((_, pick) => {
        const m = deleteRequired(s.kind, s.object, pick);
        expect(errorsOf(m.object).map((e) => `${e.path}: ${e.message.split(':')[0]}`), `${s.name}: ${m.what}`).toEqual([`${m.path}: is required`]);
      });
    }
  });
});

describe('validateDocument: the holes issue 6 found', () => {
  const template = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
    apiVersion: 'infrastructure.capstan.dev/v1alpha1',
    kind: 'SimMachineTemplate',
    metadata: { name: 'demo-control-plane', ...metadata },
    spec,
  });
  it.each([
    { name: 'under spec', doc: template({ template: { spec: { instanceType: 'sim.large' } }, bogus: 1 }), want: 'spec.bogus: unknown field' },
    { name: 'under spec.template', doc: template({ template: { spec: {}, bogus: 1 } }), want: 'spec.template.bogus: unknown field' },
    { name: 'under spec.template.spec', doc: template({ template: { spec: { instanceTypo: 'sim.large' } } }), want: 'spec.template.spec.instanceTypo: unknown field' },
    { name: 'under metadata', doc: template({ template: {} }, { label: { a: 'b' } }), want: 'metadata.label: unknown field' },
  ])('SimMachineTemplate: an unknown field $name → refused naming it', ({ doc, want }) => {
    expect(errorsOf(doc).map((e) => `${e.path}: ${e.message}`)).toEqual([want]);
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', ''])('validateDocument: kind %j (a property of every JS object, or empty) → "unknown kind", not a crash', (kind) => {
    // With apiVersion "undefined/v1alpha1" the old lookup found Object.prototype's entry and called its schema().
    const errors = errorsOf({ apiVersion: 'undefined/v1alpha1', kind, metadata: { name: 'x' } });
    expect(errors.map((e) => e.path)).toEqual(['kind']);
    expect(errors[0]!.message).toMatch(/^unknown kind /);
  });

  it.each([
    { kind: undefined, want: 'kind: is required' },
    { kind: 7, want: 'kind: must be a string' },
    { kind: { a: 1 }, want: 'kind: must be a string' },
  ])('validateDocument: kind $kind → $want', ({ kind, want }) => {
    expect(errorsOf({ apiVersion: 'cluster.capstan.dev/v1alpha1', kind, metadata: { name: 'x' } }).map((e) => `${e.path}: ${e.message}`)).toEqual([want]);
  });

  const kcp = (replicas: unknown) => ({
    apiVersion: 'controlplane.capstan.dev/v1alpha1',
    kind: 'KubeadmControlPlane',
    metadata: { name: 'demo-cp' },
    spec: {
      replicas,
      version: 'v1.37.2',
      machineTemplate: { spec: { infrastructureRef: { apiGroup: 'infrastructure.capstan.dev', kind: 'SimMachineTemplate', name: 't' } } },
    },
  });
  it.each([
    { replicas: -3, want: 'must be >= 1' },
    { replicas: -1, want: 'must be >= 1' },
    { replicas: 0, want: 'must be >= 1' },
    { replicas: 2, want: 'cannot be an even number when etcd is stacked' },
    { replicas: 4, want: 'cannot be an even number when etcd is stacked' },
    { replicas: 1.5, want: 'must be an integer' },
    { replicas: -2.5, want: 'must be an integer' },
    { replicas: '3', want: 'must be a number' },
    { replicas: null, want: 'must be a number' },
  ])('KubeadmControlPlane: spec.replicas $replicas → one error: $want', ({ replicas, want }) => {
    expect(errorsOf(kcp(replicas)).map((e) => `${e.path}: ${e.message}`)).toEqual([`spec.replicas: ${want}`]);
  });

  it.each([1, 3, 5, 7])('KubeadmControlPlane: spec.replicas %i → accepted', (replicas) => {
    expect(errorsOf(kcp(replicas))).toEqual([]);
  });
});

describe.each([
  { file: 'demo.yaml', text: DEMO_MANIFEST },
  { file: 'demo-worker-machines.yaml', text: DEMO_WITH_WORKER_MACHINES },
  { file: 'machinedeployment.yaml', text: MACHINE_DEPLOYMENT_MANIFEST },
])('loadPlan: a mutated sample manifest ($file)', ({ file, text }) => {
  const DOCS = demoDocuments(text);
  const where = (index: number, o: Record<string, unknown>) => {
    const kind = typeof o.kind === 'string' ? o.kind : undefined;
    const metaName = (o.metadata as { name?: unknown } | undefined)?.name;
    const name = typeof metaName === 'string' ? metaName : undefined;
    return `${file}: document ${index}${kind ? ` (${kind}${name ? ` "${name}"` : ''})` : ''}`;
  };
  const manifest = (docs: unknown[]) => docs.map((d) => stringify(d)).join('---\n');

  it('loadPlan: the manifest round-tripped through YAML → planned', () => {
    const plan = loadPlan([{ file, text: manifest(DOCS) }]);
    const planned = (kind: string) => DOCS.filter((d) => d.kind === kind).length;
    expect([plan.clusters.length, plan.machines.length, plan.machineDeployments.length]).toEqual([planned('Cluster'), planned('Machine'), planned('MachineDeployment')]);
  });

  it('loadPlan: one document mutated (unknown key, wrong type, required key deleted) → ManifestError naming file, document, object and field; nothing planned; no crash', () => {
    fc.assert(
      fc.property(
        fc.nat(DOCS.length - 1).chain((i) => {
          const s: Sample = { name: `document ${i + 1}`, kind: DOCS[i]!.kind as KindName, object: DOCS[i]! };
          return mutationOf(s).map((m: Mutation) => ({ i, m }));
        }),
        ({ i, m }) => {
          const docs = DOCS.map((d, j) => (j === i ? m.object : d));
          let thrown: unknown;
          let plan: unknown;
          try {
            plan = loadPlan([{ file, text: manifest(docs) }]);
          } catch (err) {
            thrown = err;
          }
          expect(plan, `accepted: ${m.what}`).toBeUndefined();
          expect(thrown, `crashed: ${m.what}: ${String(thrown)}`).toBeInstanceOf(ManifestError);
          const problems = (thrown as ManifestError).problems;
          expect(problems, m.what).toHaveLength(1);
          expect(problems[0]!.startsWith(`${where(i + 1, m.object)}: ${m.path}: `), `${m.what}: ${problems[0]}`).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

});
