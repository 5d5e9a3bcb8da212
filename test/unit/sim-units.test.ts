// Units of the simulated cloud that need no process: profiles and the PRNG, fault dice, flags,
// user-data classification, event log recovery, the load balancer, the client's error classes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../providers/sim/args.js';
import {
  SimCloudClient,
  SimNotFoundError,
  SimServerError,
  SimThrottledError,
  SimValidationError,
} from '../../providers/sim/client.js';
import { EventLog } from '../../providers/sim/events.js';
import { FaultInjector, mergeFaults } from '../../providers/sim/faults.js';
import { LoadBalancer } from '../../providers/sim/load-balancer.js';
import { classifyUserData, NoopRuntime } from '../../providers/sim/noop-runtime.js';
import { parseRange, Prng, PROFILES, resolveProfile } from '../../providers/sim/profile.js';
import { NO_FAULTS, type SimEvent } from '../../providers/sim/types.js';
import { parseVmRequest } from '../../providers/sim/validate.js';
import { probeTcp, startEchoServer } from '../sim/support.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'capstan-sim-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('profiles and PRNG', () => {
  it('has the documented figures', () => {
    expect(PROFILES.demo).toMatchObject({ apiLatencyMs: [20, 80], bootMs: [8000, 12000], deleteMs: [1600, 2400], nodeReadyMs: [1600, 2400] });
    expect(PROFILES.test).toMatchObject({ apiLatencyMs: [0, 5], bootMs: [150, 300], deleteMs: [50, 100], nodeReadyMs: [100, 200] });
    expect(resolveProfile('test', { bootMs: [1, 2] }).bootMs).toEqual([1, 2]);
    expect(resolveProfile('test', { bootMs: [1, 2] }).deleteMs).toEqual([50, 100]);
  });

  it('parses ranges', () => {
    expect(parseRange('150')).toEqual([150, 150]);
    expect(parseRange('100-200')).toEqual([100, 200]);
    expect(() => parseRange('200-100')).toThrow();
    expect(() => parseRange('abc')).toThrow();
    expect(() => parseRange('1.5')).toThrow();
  });

  it('is reproducible from its seed, and samples stay in range', () => {
    const a = new Prng(99);
    const b = new Prng(99);
    const xs = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 20 }, () => new Prng(100).next())).not.toEqual(xs);
    expect(Prng.derive(1, 1).next()).not.toBe(Prng.derive(1, 2).next());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (seed, lo, span) => {
        const p = new Prng(seed);
        for (let i = 0; i < 20; i++) {
          const v = p.sample([lo, lo + span]);
          if (!Number.isInteger(v) || v < lo || v > lo + span) return false;
          const r = p.next();
          if (r < 0 || r >= 1) return false;
        }
        return true;
      }),
    );
  });
});

describe('fault dice', () => {
  it('gives the same decisions for the same seed', () => {
    const run = (seed: number) => {
      const f = new FaultInjector(seed, { ...NO_FAULTS, throttleRate: 0.3, errorRate: 0.2, failAfterCommitRate: 0.5 });
      return Array.from({ length: 50 }, () => `${f.beforeRequest()}/${f.failAfterCommit()}`);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('honours the rates at 0 and 1 and counts down neverBoot', () => {
    const f = new FaultInjector(1);
    expect(Array.from({ length: 20 }, () => f.beforeRequest()).every((x) => x === null)).toBe(true);
    f.set({ ...NO_FAULTS, throttleRate: 1 });
    expect(f.beforeRequest()).toBe('throttle');
    f.set({ ...NO_FAULTS, errorRate: 1 });
    expect(f.beforeRequest()).toBe('error');
    f.set({ ...NO_FAULTS, neverBoot: 2 });
    expect([f.takeNeverBoot(), f.takeNeverBoot(), f.takeNeverBoot()]).toEqual([true, true, false]);
    expect(f.current.neverBoot).toBe(0);
  });

  it('validates fault settings by field', () => {
    expect(mergeFaults(NO_FAULTS, { errorRate: 0.5 })).toEqual({ ...NO_FAULTS, errorRate: 0.5 });
    expect(() => mergeFaults(NO_FAULTS, { errorRate: 1.5 })).toThrow(/errorRate/);
    expect(() => mergeFaults(NO_FAULTS, { neverBoot: 1.5 })).toThrow(/neverBoot/);
    expect(() => mergeFaults(NO_FAULTS, { bogus: 1 })).toThrow(/bogus/);
  });
});

describe('flags', () => {
  it('parses flags, both spellings, and range overrides', () => {
    const a = parseArgs(['--data-dir', tmp, '--port=0', '--profile', 'test', '--seed', '3', '--boot-ms', '100-200', '--runtime-opt', 'backend=127.0.0.1:1']);
    expect(a).toMatchObject({ dataDir: tmp, port: 0, seed: 3, runtime: 'noop', runtimeOptions: { backend: '127.0.0.1:1' } });
    expect(a.profile.bootMs).toEqual([100, 200]);
    expect(a.profile.deleteMs).toEqual(PROFILES.test.deleteMs);
    expect(parseArgs(['--data-dir', tmp]).profile.name).toBe('demo');
    expect(() => parseArgs([])).toThrow(/--data-dir/);
    expect(() => parseArgs(['--data-dir', tmp, '--runtime', 'xen'])).toThrow(/--runtime/);
    expect(() => parseArgs(['--data-dir', tmp, '--nope'])).toThrow(/--nope/);
    expect(() => NoopRuntime.fromFactoryOptions({ options: { nope: '1' } })).toThrow(/nope/);
  });
});

describe('user data', () => {
  it('is classified by its kubeadm command', () => {
    expect(classifyUserData('runcmd:\n- kubeadm init --config x')).toEqual({ role: 'init' });
    expect(classifyUserData('- kubeadm join 1.2.3.4:6443 --control-plane')).toEqual({ role: 'control-plane-join' });
    expect(classifyUserData('- kubeadm join 1.2.3.4:6443')).toEqual({ role: 'worker-join' });
    expect(classifyUserData('#!/bin/sh\necho hi')).toEqual({ role: 'unknown' });
  });

  it('is never quoted in a validation error', () => {
    const secret = 'PRIVATE-KEY-abcdef';
    const body = { clientToken: 't', clusterId: 'c', name: 'n', instanceType: 'sim.small', userData: `${secret}!!` };
    expect(() => parseVmRequest(body)).toThrow(/userData/);
    try {
      parseVmRequest(body);
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
    expect(parseVmRequest({ ...body, userData: Buffer.from(secret).toString('base64') }).userData).toBe(secret);
  });
});

describe('event log', () => {
  const ev = (seq: number, type = 't'): SimEvent => ({ seq, time: new Date().toISOString(), type, message: type });

  it('drops a torn last line, appends outbox events it lacks, and continues the sequence', () => {
    const file = path.join(tmp, 'events-torn.jsonl');
    writeFileSync(file, [ev(1), ev(2)].map((e) => JSON.stringify(e) + '\n').join('') + '{"seq":3,"ti');
    const log = new EventLog(file);
    log.load([ev(2, 'outbox-old'), ev(3, 'outbox-new')]);
    expect(log.since(0).map((e) => [e.seq, e.type])).toEqual([
      [1, 't'],
      [2, 't'],
      [3, 'outbox-new'],
    ]);
    const next = log.make('after', { message: 'm', vmId: 'i-1' });
    expect(next.seq).toBe(4);
    log.append([next]);
    log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as SimEvent);
    expect(lines.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(Object.keys(lines[3]!)).toEqual(['seq', 'time', 'type', 'vmId', 'message']);
  });

  it('answers since() and wakes a waiter on append', async () => {
    const file = path.join(tmp, 'events-wait.jsonl');
    const log = new EventLog(file);
    log.load([]);
    log.append([log.make('a', { message: 'a' }), log.make('b', { message: 'b' })]);
    expect(log.since(1).map((e) => e.type)).toEqual(['b']);
    expect(log.since(2)).toEqual([]);
    const waiting = log.waitAfter(2, 5000);
    setTimeout(() => log.append([log.make('c', { message: 'c' })]), 10);
    await waiting;
    expect(log.since(2).map((e) => e.type)).toEqual(['c']);
    log.close();
    appendFileSync(file, ''); // still a readable file
  });
});

describe('load balancer (in process)', () => {
  it('resets without a backend, forwards with one, refuses once closed', async () => {
    const echo = await startEchoServer('e:');
    const lb = new LoadBalancer('lb(test)');
    try {
      const port = await lb.listen(0);
      expect(['reset', 'closed']).toContain((await probeTcp(port, 'x')).kind);
      lb.setBackend({ host: '127.0.0.1', port: echo.port });
      expect(await probeTcp(port, 'abc')).toEqual({ kind: 'data', text: 'e:abc' });
      lb.setBackend(null);
      expect(['reset', 'closed']).toContain((await probeTcp(port, 'x')).kind);
      await lb.close();
      expect(await probeTcp(port, 'x')).toEqual({ kind: 'refused' });
      // The same port can be bound again (what a restarted cloud does).
      const again = new LoadBalancer('lb(again)');
      expect(await again.listen(port)).toBe(port);
      await again.close();
    } finally {
      await lb.close();
      await echo.close();
    }
  });

  it('resets the client when the backend refuses', async () => {
    const lb = new LoadBalancer('lb(dead-backend)');
    const port = await lb.listen(0);
    const spare = new LoadBalancer('spare');
    const deadPort = await spare.listen(0);
    await spare.close();
    lb.setBackend({ host: '127.0.0.1', port: deadPort });
    expect(['reset', 'closed']).toContain((await probeTcp(port, 'x')).kind);
    await lb.close();
  });
});

describe('client error classes', () => {
  const reply =
    (status: number, body: unknown, headers: Record<string, string> = {}): typeof fetch =>
    async () =>
      new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });

  it('maps statuses to retryable and non-retryable errors', async () => {
    const cases: [typeof fetch, new (...a: never[]) => Error, boolean, Record<string, unknown>][] = [
      [reply(429, { error: { code: 'RequestLimitExceeded', message: 'slow', retryAfterMs: 250 } }), SimThrottledError, true, { retryAfterMs: 250 }],
      [reply(429, 'busy', { 'retry-after': '2' }), SimThrottledError, true, { retryAfterMs: 2000, code: 'HTTP429' }],
      [reply(400, { error: { code: 'InvalidParameterValue', message: 'instanceType: no', field: 'instanceType' } }), SimValidationError, false, { field: 'instanceType', status: 400 }],
      [reply(409, { error: { code: 'IdempotentParameterMismatch', message: 'x', field: 'clientToken' } }), SimValidationError, false, { code: 'IdempotentParameterMismatch' }],
      [reply(404, { error: { code: 'NotFound', message: 'no' } }), SimNotFoundError, false, { code: 'NotFound' }],
      [reply(500, { error: { code: 'InternalError', message: 'oops' } }), SimServerError, true, { code: 'InternalError' }],
      [reply(502, '<html>bad gateway</html>'), SimServerError, true, { status: 502 }],
      [reply(200, 'not json'), SimServerError, true, { code: 'BadResponse' }],
    ];
    for (const [f, cls, retryable, props] of cases) {
      const err = await new SimCloudClient('http://sim.invalid', { fetch: f }).getVm('i-1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(cls);
      expect((err as { retryable: boolean }).retryable).toBe(retryable);
      expect(err).toMatchObject(props);
    }
  });

  it('turns a hung request into a retryable timeout and honours the caller’s abort', async () => {
    const hang: typeof fetch = (_input, init) =>
      new Promise((_r, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const timedOut = await new SimCloudClient('http://sim.invalid', { fetch: hang, timeoutMs: 50 }).getVm('i-1').catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(SimServerError);
    expect((timedOut as SimServerError).code).toBe('RequestTimeout');

    const ac = new AbortController();
    const cancelled = new SimCloudClient('http://sim.invalid', { fetch: hang }).waitForVmState('i-1', 'running', { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort(new Error('activity cancelled'));
    expect(((await cancelled) as Error).message).toBe('activity cancelled');
  });
});
