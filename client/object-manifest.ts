// A capstan object as the management cluster holds it, and as a manifest: what the watcher
// applies to the workflows and what `capstan apply` resolves references against.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface CapstanObject extends KubernetesObject {
  kind?: string;
  spec?: Record<string, any> & { clusterName?: string };
}

/** An object a workflow made (a deployment's set, a set's or control plane's machine): its owner drives it. */
export const madeByOwner = (o: CapstanObject) => o.metadata?.ownerReferences?.some((r) => r.controller) ?? false;

/**
 * On a workflow-made Machine (and its KubeadmConfig and SimMachine): the keys of the annotations it
 * has from its set's template (comma separated), which the mirror writes and a change of the
 * template changes, not the user.
 */
export const TEMPLATE_ANNOTATIONS_ANNOTATION = 'capstan.dev/template-annotations';

/** The annotation keys a workflow-made Machine has from its set's template (TEMPLATE_ANNOTATIONS_ANNOTATION). */
export const templateAnnotationKeys = (o: CapstanObject): Set<string> => new Set((o.metadata?.annotations?.[TEMPLATE_ANNOTATIONS_ANNOTATION] ?? '').split(',').filter(Boolean));

/** An object's annotations but kubectl's and capstan's own (and those a Machine has from its set's template), which are about the object, not what it asks for. */
export const userAnnotations = (o: CapstanObject): Record<string, string> => {
  const fromTemplate = templateAnnotationKeys(o);
  return Object.fromEntries(
    Object.entries(o.metadata?.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration' && !k.startsWith('capstan.dev/') && !fromTemplate.has(k)),
  );
};

/** Kinds whose `spec.providerID` the controllers set (the watcher, once the instance exists), not the user. */
const PROVIDER_SET = new Set(['Machine', 'SimMachine']);

/**
 * An object as a manifest: apiVersion, kind, name, namespace, labels, annotations and spec (without
 * a Machine's or SimMachine's `spec.providerID`: what the instance turned out to be, not what is asked).
 */
export function asManifest(o: CapstanObject): Record<string, unknown> {
  const m = o.metadata ?? {};
  const annotations = userAnnotations(o);
  const spec = o.spec && PROVIDER_SET.has(o.kind ?? '') && 'providerID' in o.spec ? (({ providerID: _p, ...rest }) => rest)(o.spec) : o.spec;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: m.name, namespace: m.namespace, ...(m.labels ? { labels: m.labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) },
    ...(spec ? { spec } : {}),
  };
}
