// Custom search attributes every capstan workflow carries, so the Temporal UI and
// `capstan get` can list objects by cluster, kind and phase. The server must have them
// registered (`temporal operator search-attribute create`; `capstan dev` does it for you).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_KIND = defineSearchAttributeKey('CapstanKind', SearchAttributeType.KEYWORD);
export const SA_NAMESPACE = defineSearchAttributeKey('CapstanNamespace', SearchAttributeType.KEYWORD);
export const SA_CLUSTER = defineSearchAttributeKey('CapstanCluster', SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey('CapstanPhase', SearchAttributeType.KEYWORD);
/** A Machine's Node and provider ID, for `capstan get machines`: upserted with the phase they arrive with. */
export const SA_NODE_NAME = defineSearchAttributeKey('CapstanNodeName', SearchAttributeType.KEYWORD);
export const SA_PROVIDER_ID = defineSearchAttributeKey('CapstanProviderID', SearchAttributeType.KEYWORD);
/**
 * A quiet observer's mark (activities/observer-marks.ts): set by a Cluster or MachineHealthCheck
 * that stopped observing because nothing changed, for the worker's waker, which wakes it when
 * what it watches no longer matches. `<mark>.<spell>`: each quiet spell shows a new value.
 */
export const SA_QUIET = defineSearchAttributeKey('CapstanQuiet', SearchAttributeType.KEYWORD);

/** Name → type, for registering them on a server. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  CapstanKind: 'Keyword',
  CapstanNamespace: 'Keyword',
  CapstanCluster: 'Keyword',
  CapstanPhase: 'Keyword',
  CapstanNodeName: 'Keyword',
  CapstanProviderID: 'Keyword',
  CapstanQuiet: 'Keyword',
};

/** The CapstanQuiet value of a quiet spell: the mark and the workflow's count of spells, so each spell's value is new. */
export function quietValue(mark: string, spell: number): string {
  return `${mark}.${spell}`;
}

/** The mark inside a CapstanQuiet value (undefined: none). */
export function markOf(value: string | undefined): string | undefined {
  return /^([0-9a-f]{16})\.\d+$/.exec(value ?? '')?.[1];
}

export function objectSearchAttributes(kind: string, namespace: string, cluster: string, phase: string) {
  return [
    { key: SA_KIND, value: kind },
    { key: SA_NAMESPACE, value: namespace },
    { key: SA_CLUSTER, value: cluster },
    { key: SA_PHASE, value: phase },
  ];
}
