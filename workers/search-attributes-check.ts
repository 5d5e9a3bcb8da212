// A worker refuses to start on a namespace that lacks one of capstan's search attributes: a
// workflow that upserts an unregistered one fails its task again and again (BadSearchAttributes),
// so a Cluster going quiet after an upgrade would hang where nobody looks. Checked once at start.
import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';

/**
 * The capstan search attributes the namespace lacks; undefined when the server will not say
 * (a server without ListSearchAttributes, or a key not allowed to call it): then nothing is refused.
 */
export async function missingSearchAttributes(connection: Connection, namespace: string): Promise<string[] | undefined> {
  let have: Record<string, unknown>;
  try {
    have = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch {
    return undefined;
  }
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in have));
}

/** The error a worker stops with, naming what is missing and how to add it. */
export function missingSearchAttributesError(namespace: string, missing: string[]): Error {
  const commands = missing.map((name) => `  temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${SEARCH_ATTRIBUTES[name]}`).join('\n');
  return new Error(`namespace "${namespace}" lacks capstan's search attribute${missing.length === 1 ? '' : 's'} ${missing.join(', ')}; add ${missing.length === 1 ? 'it' : 'them'} once:\n${commands}`);
}
