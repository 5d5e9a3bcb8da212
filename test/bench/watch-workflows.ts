// The watch benchmark's stand-in for a Machine workflow: what the CRD watcher reads of a Machine
// (its search attributes and start memo, client/object-mirror.ts) without a VM behind it, so the
// benchmark measures the watcher and the management API, not the simulated cloud. Each signal
// moves it one phase on, as a real worker Machine's upserts do: Running (with its Node and provider
// ID), Deleting, then it ends.
import { condition, defineSignal, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { SA_NODE_NAME, SA_PHASE, SA_PROVIDER_ID } from '../../workflows/search-attributes.js';

export type BenchPhase = 'Running' | 'Deleting' | 'Deleted';
export const benchPhaseSignal = defineSignal<[BenchPhase]>('benchPhase');

export async function BenchMachineWorkflow(name: string): Promise<void> {
  let next: BenchPhase | undefined;
  setHandler(benchPhaseSignal, (p) => void (next = p));
  for (;;) {
    await condition(() => next !== undefined);
    const p = next!;
    next = undefined;
    if (p === 'Deleted') return;
    upsertSearchAttributes([
      { key: SA_PHASE, value: p },
      ...(p === 'Running' ? [{ key: SA_NODE_NAME, value: name }, { key: SA_PROVIDER_ID, value: `sim:///bench/${name}` }] : []),
    ]);
  }
}
