// Cluster API's in-place propagation from an owner's machine template to the machines it has: a
// MachineSet's (and so a MachineDeployment's) or a KubeadmControlPlane's template labels,
// annotations and deletion timeouts reach its existing machines without replacing them. The
// owner notes what changed when its template does (`pendingInPlace`) and tells each machine once
// (`tellMachinesInPlace`): the timeouts to every machine — one being deleted included, so a
// shorter nodeDrainTimeout frees a stuck drain — and the labels and annotations to those not being
// deleted, as Cluster API does.
import { machineWorkflowId } from './ids.js';
import { updateMachineInPlaceSignal } from './messages.js';
import { signalOrForget } from './reports.js';
import { canonicalJson } from './spec-diff.js';
import type { PendingInPlace, TemplateInPlace } from './types.js';

export type { PendingInPlace, TemplateInPlace };

/** What to tell the machines after the template went from `before` to `after` (with what was still to be told); undefined when nothing they take changed. */
export function pendingInPlace(before: TemplateInPlace, after: TemplateInPlace, pending?: PendingInPlace): PendingInPlace | undefined {
  if (canonicalJson(before) === canonicalJson(after)) return pending;
  const removed = [...new Set([...(pending?.removed ?? []), ...Object.keys(before.annotations)])].filter((k) => !(k in after.annotations)).sort();
  return { ...after, removed };
}

/** Tells each machine (one signal each); `forget` is called for one whose workflow is gone. */
export async function tellMachinesInPlace(namespace: string, machines: { name: string; deleting: boolean }[], told: PendingInPlace, forget: (name: string) => void): Promise<void> {
  const annotations = { set: told.annotations, remove: told.removed };
  await Promise.all(
    machines.map(({ name, deleting }) =>
      signalOrForget(
        machineWorkflowId({ namespace, name }),
        (h) => h.signal(updateMachineInPlaceSignal, { deletion: told.deletion, ...(deleting ? {} : { labels: told.labels, annotations }) }),
        () => forget(name),
      ),
    ),
  );
}
