// One long observing activity at a time, in its own cancellation scope: the MachineHealthCheck's
// observeHealthTargets and the Cluster's mirrorNodeConditions. `ensure` starts a round unless one
// runs; a round's result (or its failure, not a cancellation) goes to the callbacks, and its end
// to `onEnd` (the owner's loop wakes on it); `stop` cancels the round and waits for its end (before
// a continue-as-new or a deletion).
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';

export interface Observer {
  readonly running: boolean;
  ensure(): void;
  stop(): Promise<void>;
}

export function observer<T>(round: () => Promise<T>, on: { result: (r: T) => void; failure: (message: string) => void; end: () => void }): Observer {
  const scope = new CancellationScope();
  let running = false;
  return {
    get running() {
      return running;
    },
    ensure() {
      if (running) return;
      running = true;
      scope
        .run(round)
        .then(on.result, (err) => {
          if (!isCancellation(err)) on.failure((err as Error).message);
        })
        .finally(() => {
          running = false;
          on.end();
        });
    },
    async stop() {
      scope.cancel();
      await condition(() => !running);
    },
  };
}
