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

/** Name → type, for registering them on a server. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  CapstanKind: 'Keyword',
  CapstanNamespace: 'Keyword',
  CapstanCluster: 'Keyword',
  CapstanPhase: 'Keyword',
  CapstanNodeName: 'Keyword',
  CapstanProviderID: 'Keyword',
};

export function objectSearchAttributes(kind: string, namespace: string, cluster: string, phase: string) {
  return [
    { key: SA_KIND, value: kind },
    { key: SA_NAMESPACE, value: namespace },
    { key: SA_CLUSTER, value: cluster },
    { key: SA_PHASE, value: phase },
  ];
}
