// Mutations of valid objects that are invalid by construction, derived from the kinds' zod
// schemas (never from the errors they produce): an unknown key in any object node, a value of
// the wrong JSON type at any node, a required key deleted. Each says which field path the
// refusal must name. Shared by the property tests and test/bench/fuzz-manifests.ts.
import type { z } from 'zod';
import { formatPath, KINDS, type KindName } from '../../api/kinds.js';

type Path = (string | number)[];
type JsonType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null';

/** zod's internal definition, as far as the walk needs it. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
  entries?: Record<string, unknown>;
  options?: z.ZodType[];
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under optional/default/nullable wrappers: what shape of value it wants. */
function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) s = d.innerType!;
    else if (d.type === 'pipe') s = d.in!;
    else return s;
  }
}

/** The JSON types a schema accepts: one for every schema in api/ but int-or-percent unions. */
export function expectedJsonTypes(s: z.ZodType): JsonType[] {
  const d = defOf(unwrap(s));
  switch (d.type) {
    case 'object':
    case 'record':
      return ['object'];
    case 'array':
      return ['array'];
    case 'string':
    case 'enum':
      return ['string'];
    case 'number':
      return ['number'];
    case 'boolean':
      return ['boolean'];
    case 'literal':
      return [jsonTypeOf(d.values![0])];
    case 'union':
      return [...new Set(d.options!.flatMap(expectedJsonTypes))];
    default:
      throw new Error(`api-mutations: no JSON type for zod schema type ${d.type}`);
  }
}

export function jsonTypeOf(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'object') return t;
  throw new Error(`api-mutations: not a JSON value: ${String(v)}`);
}

/** One value of each JSON type, as a wrong-type mutation puts them in. */
export const VALUES_BY_TYPE: Record<JsonType, unknown> = {
  string: 'x',
  number: 7,
  boolean: true,
  object: { a: 1 },
  array: ['x'],
  null: null,
};

export interface Node {
  path: Path;
  /** The schema this value is checked against, with its wrappers (optional, default). */
  schema: z.ZodType;
  value: unknown;
}

/** Every node of a valid object, depth first, with the schema that checks it. */
export function nodesOf(kind: KindName, object: unknown): Node[] {
  const out: Node[] = [];
  const visit = (schema: z.ZodType, value: unknown, path: Path) => {
    out.push({ path, schema, value });
    const d = defOf(unwrap(schema));
    if (d.type === 'object' && jsonTypeOf(value) === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const field = d.shape![k];
        if (field) visit(field, v, [...path, k]);
      }
    } else if (d.type === 'record' && jsonTypeOf(value) === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) visit(d.valueType!, v, [...path, k]);
    } else if (d.type === 'array' && Array.isArray(value)) {
      value.forEach((v, i) => visit(d.element!, v, [...path, i]));
    }
  };
  visit(KINDS[kind].schema(), object, []);
  return out;
}

/** The object nodes (not records: any key is fine in labels) and the keys their schema knows. */
export function objectNodes(kind: KindName, object: unknown): (Node & { keys: string[]; required: string[] })[] {
  return nodesOf(kind, object).flatMap((n) => {
    const d = defOf(unwrap(n.schema));
    if (d.type !== 'object' || jsonTypeOf(n.value) !== 'object') return [];
    const keys = Object.keys(d.shape!);
    // Required: what the schema refuses to see missing (no default, not optional).
    const required = keys.filter((k) => !d.shape![k]!.safeParse(undefined).success && Object.hasOwn(n.value as object, k));
    return [{ ...n, keys, required }];
  });
}

export type Family = 'unknownKey' | 'wrongType' | 'missingRequired';

export interface Mutation {
  family: Family;
  /** The mutated copy; the original is untouched. */
  object: Record<string, unknown>;
  /** The dotted path the refusal must name. */
  path: string;
  /** What the mutation did, for a report. */
  what: string;
}

// Through JSON, not structuredClone: a sample may share one array between two fields, and a
// mutation of one must not show up in the other.
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function at(root: unknown, path: Path): Record<string | number, unknown> {
  let v = root as Record<string | number, unknown>;
  for (const p of path) v = v[p] as Record<string | number, unknown>;
  return v;
}

function setOwn(target: Record<string | number, unknown>, key: string | number, value: unknown) {
  // defineProperty, so that a key such as `__proto__` becomes a field, as JSON.parse and YAML make it.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export interface Targets {
  unknownKey: ReturnType<typeof objectNodes>;
  wrongType: Node[];
  missingRequired: { path: Path }[];
}
const targetsCache = new WeakMap<object, Targets>();

/** The nodes a mutation of each family can target; `pick` indexes into these. Samples are not
 * mutated in place, so the walk is done once per sample. */
export function targets(kind: KindName, object: object): Targets {
  const cached = targetsCache.get(object);
  if (cached) return cached;
  const objects = objectNodes(kind, object);
  const t = {
    unknownKey: objects,
    wrongType: nodesOf(kind, object).filter((n) => n.path.length > 0),
    missingRequired: objects.flatMap((n) => n.required.map((k) => ({ path: [...n.path, k] }))),
  };
  targetsCache.set(object, t);
  return t;
}

/** Inserts `key` (which the node's schema does not know) into the `pick`-th object node. */
export function insertUnknownKey(kind: KindName, object: Record<string, unknown>, pick: number, key: string, value: unknown): Mutation {
  const nodes = targets(kind, object).unknownKey;
  const node = nodes[pick % nodes.length]!;
  if (node.keys.includes(key)) throw new Error(`api-mutations: "${key}" is a known field at ${formatPath(node.path) || '(root)'}`);
  const copy = clone(object);
  setOwn(at(copy, node.path), key, value);
  const path = formatPath([...node.path, key]);
  return { family: 'unknownKey', object: copy, path, what: `unknown field ${path}` };
}

/** The wrong JSON types for a node: neither what the schema wants nor what is there. */
export function wrongTypesFor(node: Node): JsonType[] {
  const want = expectedJsonTypes(node.schema);
  return (Object.keys(VALUES_BY_TYPE) as JsonType[]).filter(
    (t) => !want.includes(t) && t !== jsonTypeOf(node.value) && !node.schema.safeParse(VALUES_BY_TYPE[t]).success,
  );
}

/** Replaces the `pick`-th node (any depth but the root) with a value of a wrong JSON type. */
export function replaceWithWrongType(kind: KindName, object: Record<string, unknown>, pick: number, typePick: number): Mutation {
  const nodes = targets(kind, object).wrongType;
  const node = nodes[pick % nodes.length]!;
  const types = wrongTypesFor(node);
  const type = types[typePick % types.length]!;
  const copy = clone(object);
  const parent = at(copy, node.path.slice(0, -1));
  setOwn(parent, node.path[node.path.length - 1]!, clone(VALUES_BY_TYPE[type]));
  const path = formatPath(node.path);
  return { family: 'wrongType', object: copy, path, what: `${path}: ${jsonTypeOf(node.value)} → ${type}` };
}

/** Deletes the `pick`-th key that its object's schema requires. */
export function deleteRequired(kind: KindName, object: Record<string, unknown>, pick: number): Mutation {
  const keys = targets(kind, object).missingRequired;
  const { path: p } = keys[pick % keys.length]!;
  const copy = clone(object);
  delete at(copy, p.slice(0, -1))[p[p.length - 1]!];
  const path = formatPath(p);
  return { family: 'missingRequired', object: copy, path, what: `deleted ${path}` };
}
