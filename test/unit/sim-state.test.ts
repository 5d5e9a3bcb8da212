// The simulated cloud's durable state: a snapshot and a journal of the records each change touched
// (providers/sim/state.ts). What a restart loads must be exactly what the cloud held: checked on
// the store alone (torn lines, a crash between a snapshot and the journal's truncation, the
// journal kept bounded) and on a cloud that ran every kind of change.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUserData } from '../../providers/sim/client.js';
import { SimCloud } from '../../providers/sim/cloud.js';
import { NoopRuntime } from '../../providers/sim/noop-runtime.js';
import { resolveProfile } from '../../providers/sim/profile.js';
import { emptyState, StateStore, type PersistedState, type StoredVm } from '../../providers/sim/state.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'capstan-sim-state-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => path.join(tmp, `d${dirs++}`);

/** The state as a restart reads it, without the field that says where the snapshot ends. */
function reload(dir: string): PersistedState {
  const store = new StateStore(dir);
  const { state } = store.load();
  store.close();
  delete state.journalSeq;
  return state;
}
const comparable = (s: PersistedState) => {
  const c = structuredClone(s);
  delete c.journalSeq;
  return c;
};

function vm(id: string, state: StoredVm['vm']['state'] = 'pending'): StoredVm {
  return {
    vm: { id, name: id, clusterId: 'simc-00000000', instanceType: 'sim.small', clientToken: `tok-${id}`, state, providerID: `sim:///r/${id}`, addresses: [], createdAt: new Date(0).toISOString(), bootstrap: { status: 'pending' } },
    userDataSha256: 'x',
  };
}

describe('state store: snapshot and journal', () => {
  it('a change journals the records it touched; a restart reads them back, with their tokens', () => {
    const dir = newDir();
    const store = new StateStore(dir);
    const { state, existed } = store.load();
    expect(existed).toBe(false);
    state.vms['i-000000000001'] = vm('i-000000000001');
    state.vmTokens['tok-i-000000000001'] = 'i-000000000001';
    store.save(state, { vms: ['i-000000000001'] });
    state.vms['i-000000000001']!.vm.state = 'running';
    state.nextOctet = 7;
    store.save(state, { vms: ['i-000000000001'] });
    // Journalled, not snapshotted: the snapshot does not exist yet.
    expect(() => statSync(store.stateFile)).toThrow();
    expect(reload(dir)).toEqual(comparable(state));
    store.close();
  });

  it('drops a torn last line (never acknowledged) and keeps what came before it', () => {
    const dir = newDir();
    const store = new StateStore(dir);
    const { state } = store.load();
    state.vms['i-000000000002'] = vm('i-000000000002');
    state.vmTokens['tok-i-000000000002'] = 'i-000000000002';
    store.save(state, { vms: ['i-000000000002'] });
    store.close();
    const acknowledged = comparable(state);
    appendFileSync(store.journalFile, '{"seq":2,"vms":{"i-000000000002":{"vm":{"id":');
    expect(reload(dir)).toEqual(acknowledged);
    // The restart folded the journal into a snapshot: the torn line is gone for good.
    expect(readFileSync(store.journalFile, 'utf8')).toBe('');
  });

  it('skips journal entries a snapshot already holds (a crash between the snapshot and the truncation)', () => {
    const dir = newDir();
    const store = new StateStore(dir);
    const { state } = store.load();
    let stale = '';
    for (const [i, s] of (['pending', 'running', 'shutting-down'] as const).entries()) {
      state.vms['i-000000000003'] = vm('i-000000000003', s);
      state.vmTokens['tok-i-000000000003'] = 'i-000000000003';
      store.save(state, { vms: ['i-000000000003'] });
      if (i === 1) stale = readFileSync(store.journalFile, 'utf8'); // entries 1 and 2
    }
    store.save(state); // a snapshot holding all three
    state.vms['i-000000000003']!.vm.state = 'terminated';
    store.save(state, { vms: ['i-000000000003'] }); // entry 4, after the snapshot
    store.close();
    // As if the truncation had not happened: the old entries 1 and 2 come before entry 4.
    writeFileSync(store.journalFile, stale + readFileSync(store.journalFile, 'utf8'));
    expect(reload(dir)).toEqual(comparable(state));
    expect(reload(dir).vms['i-000000000003']!.vm.state).toBe('terminated');
  });

  it('folds the journal into the snapshot once it outgrows it, so neither grows with the number of changes', () => {
    const dir = newDir();
    const store = new StateStore(dir);
    const { state } = store.load();
    let maxJournal = 0;
    for (let i = 0; i < 3000; i++) {
      const id = `i-${String(i % 50).padStart(12, '0')}`;
      state.vms[id] = vm(id, i % 2 ? 'running' : 'pending');
      state.vmTokens[`tok-${id}`] = id;
      store.save(state, { vms: [id] });
      maxJournal = Math.max(maxJournal, statSync(store.journalFile).size);
    }
    store.close();
    expect(maxJournal).toBeLessThanOrEqual(256 * 1024 + 4096);
    expect(statSync(store.stateFile).size).toBeGreaterThan(0);
    expect(reload(dir)).toEqual(comparable(state));
  });
});

describe('a cloud that ran every kind of change reloads as it was', () => {
  it('clusters, VMs created, booted, bootstrapped, deleted and killed, faults, backends (planted: an untouched change is caught)', async () => {
    const dataDir = newDir();
    const cloud = await SimCloud.open({ dataDir, profile: resolveProfile('test', { bootMs: [20, 40], deleteMs: [20, 40] }), seed: 5, runtime: new NoopRuntime(), log: () => {} });
    const live = () => (cloud as unknown as { state: PersistedState }).state;
    try {
      const { cluster } = await cloud.createCluster({ clientToken: 'c1', name: 'c1', region: 'sim-local-1' });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const userData = encodeUserData(i === 0 ? '#cloud-config\nruncmd:\n- kubeadm init\n' : '#cloud-config\nruncmd:\n- kubeadm join 10.0.0.1:6443\n');
        ids.push(cloud.createVm({ clientToken: `v${i}`, clusterId: cluster.id, name: `c1-${i}`, instanceType: 'sim.small', userData }).vm.id);
      }
      for (const id of ids) await cloud.waitForVm(id, 'running', 5000);
      cloud.setFaults({ throttleRate: 0.1 });
      cloud.deleteVm(ids[1]!);
      await cloud.waitForVm(ids[1]!, 'terminated', 5000);
      await cloud.vmAction(ids[2]!, 'kill');
      cloud.deleteVm(ids[3]!);
      await cloud.waitForVm(ids[3]!, 'terminated', 5000);
      await new Promise((r) => setTimeout(r, 100)); // the bootstrap reports of the noop runtime
      expect(reload(dataDir)).toEqual(comparable(live()));

      // Planted: a change whose record is not named is not in what a restart reads.
      live().vms[ids[0]!]!.vm.bootstrap = { status: 'failed', message: 'planted' };
      (cloud as unknown as { store: StateStore }).store.save(live(), {});
      expect(reload(dataDir)).not.toEqual(comparable(live()));
    } finally {
      await cloud.close();
    }
  });
});

// The empty state is what a new data dir reads.
it('a new data dir reads the empty state', () => {
  expect(reload(newDir())).toEqual(comparable(emptyState()));
});
