// The watcher's restart of a failed informer (client/watch-restart.ts): the delay doubles while
// starts keep failing and starts over only after a start that listed and watched.
import { describe, expect, it } from 'vitest';
import { keepWatching, type RestartableInformer } from '../../client/watch-restart.js';

/**
 * An informer whose starts succeed or fail as the script says. Like client-node's, a failed start
 * tells its error listeners (after firing `connect`, which this one has no use for) and resolves.
 */
function scripted(outcomes: ('ok' | 'fail')[]) {
  const listeners: ((err: unknown) => void)[] = [];
  let starts = 0;
  const informer: RestartableInformer & { failLater(): void } = {
    async start() {
      const outcome = outcomes[starts++] ?? 'ok';
      if (outcome === 'fail') for (const l of listeners) l(new Error(`list failed (start ${starts})`));
    },
    on(_verb, cb) {
      listeners.push(cb);
    },
    /** A watch that was healthy breaks (the apiserver restarted). */
    failLater() {
      for (const l of listeners) l(new Error('watch closed with an error'));
    },
  };
  return { informer, starts: () => starts };
}

/** Runs every start the timers ask for, recording the delays. */
async function run(outcomes: ('ok' | 'fail')[], then?: (i: ReturnType<typeof scripted>['informer']) => void) {
  const s = scripted(outcomes);
  const delays: number[] = [];
  const timers: (() => void)[] = [];
  await keepWatching(s.informer, { stopped: () => false, onError: (_e, ms) => delays.push(ms), setTimer: (fn) => timers.push(fn) });
  const drain = async () => {
    while (timers.length) {
      timers.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  await drain();
  if (then) {
    then(s.informer);
    await drain();
  }
  return { delays, starts: s.starts() };
}

describe('keepWatching', () => {
  it.each([
    { name: 'a first start that works', outcomes: ['ok'] as const, delays: [], starts: 1 },
    { name: 'failures in a row double the delay', outcomes: ['fail', 'fail', 'fail', 'ok'] as const, delays: [1000, 2000, 4000], starts: 4 },
    { name: 'the delay stops at 30 s', outcomes: Array(8).fill('fail').concat('ok'), delays: [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000], starts: 9 },
  ])('$name', async ({ outcomes, delays, starts }) => {
    const r = await run([...outcomes] as ('ok' | 'fail')[]);
    expect(r.delays).toEqual(delays);
    expect(r.starts).toBe(starts);
  });

  it('starts over at 1 s once a start has listed and watched', async () => {
    // Three failures, a good start, then the healthy watch breaks and the next start fails once.
    const r = await run(['fail', 'fail', 'fail', 'ok', 'fail', 'ok'], (i) => i.failLater());
    expect(r.delays).toEqual([1000, 2000, 4000, 1000, 2000]);
  });

  it('does not start again once stopped', async () => {
    const s = scripted(['fail', 'fail']);
    const timers: (() => void)[] = [];
    let stopped = false;
    await keepWatching(s.informer, { stopped: () => stopped, onError: () => undefined, setTimer: (fn) => timers.push(fn) });
    stopped = true;
    timers.shift()!();
    expect(s.starts()).toBe(1);
  });
});
