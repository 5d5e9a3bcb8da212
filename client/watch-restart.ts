// An informer that is started again after an error, with exponential backoff. The
// kubernetes-client informer re-lists after a 410 Gone and reconnects a watch the server closed,
// but after any other error (the apiserver down, a 403, a CRD not installed) it stops and tells
// its `error` listeners. The delay doubles with each failure in a row (1 s, 2 s, … 30 s) and starts
// over only once a start has listed and is watching again, as client-go's reflector backs off.
// (The informer's `connect` event is no sign of health: it fires before each list or watch is
// tried, so a backoff reset there would retry a failing list every second forever.)

/** What of a client-node informer this needs. */
export interface RestartableInformer {
  start(): Promise<void>;
  on(verb: 'error', cb: (err: unknown) => void): void;
}

export interface KeepWatchingOptions {
  /** True once the owner is stopping: no further start. */
  stopped: () => boolean;
  /** Told each failure, with the delay before the next start. */
  onError: (err: unknown, retryInMs: number) => void;
  firstMs?: number;
  maxMs?: number;
  /** The timer (tests pass their own). */
  setTimer?: (fn: () => void, ms: number) => unknown;
}

export const WATCH_BACKOFF_FIRST_MS = 1000;
export const WATCH_BACKOFF_MAX_MS = 30_000;

/** Starts the informer and keeps it running; resolves once the first start has returned. */
export function keepWatching(informer: RestartableInformer, o: KeepWatchingOptions): Promise<void> {
  const first = o.firstMs ?? WATCH_BACKOFF_FIRST_MS;
  const max = o.maxMs ?? WATCH_BACKOFF_MAX_MS;
  const setTimer = o.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  let delay = first;
  let errors = 0;
  const start = (): Promise<void> => {
    const before = errors;
    // start() returns once listed and watching, or after its error was told (counted below).
    return informer.start().then(
      () => {
        if (errors === before) delay = first;
      },
      (err: unknown) => failed(err),
    );
  };
  const failed = (err: unknown) => {
    errors++;
    if (o.stopped()) return;
    const wait = delay;
    delay = Math.min(delay * 2, max);
    o.onError(err, wait);
    setTimer(() => void (o.stopped() ? undefined : start()), wait);
  };
  informer.on('error', failed);
  return start();
}
