// Everything the cloud has acknowledged, in <dataDir>/state.json, rewritten atomically after every
// change and before the answer is sent; user data in <dataDir>/userdata/<vmId> (mode 0600).
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { atomicWriteFileSync } from './fsutil.js';
import { NO_FAULTS, type SimCluster, type SimEndpoint, type SimEvent, type SimFaults, type SimVm } from './types.js';

export const STATE_VERSION = 1;

export interface StoredCluster {
  cluster: SimCluster;
  /** Where the load balancer forwards; set by the runtime. */
  backend: SimEndpoint | null;
  /** The x of the cluster's 10.x.0.0/16. */
  octet: number;
  /** Host number of the next VM's address in the cluster. */
  nextHost: number;
  /** Epoch ms when a `deleting` cluster becomes `deleted`. */
  deleteAt?: number;
}

export interface StoredVm {
  vm: SimVm;
  /** Compared on a repeated clientToken; the user data itself lives only in its own file. */
  userDataSha256: string;
  /** Epoch ms at which a `pending` VM becomes `running`; absent for a never-boot VM. */
  bootAt?: number;
  neverBoot?: boolean;
  /** Epoch ms at which a `shutting-down` VM becomes `terminated`. */
  terminateAt?: number;
}

export interface PersistedState {
  version: number;
  /** The API port of the last run, reused when the cloud is restarted without `--port`. */
  apiPort?: number;
  clusters: Record<string, StoredCluster>;
  vms: Record<string, StoredVm>;
  clusterTokens: Record<string, string>;
  vmTokens: Record<string, string>;
  faults: SimFaults;
  nextOctet: number;
  /** Events of the last change, written with it; see events.ts. */
  outbox: SimEvent[];
}

export function emptyState(): PersistedState {
  return {
    version: STATE_VERSION,
    clusters: {},
    vms: {},
    clusterTokens: {},
    vmTokens: {},
    faults: { ...NO_FAULTS },
    nextOctet: 1,
    outbox: [],
  };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class StateStore {
  readonly stateFile: string;
  readonly eventsFile: string;
  private readonly userDataDir: string;

  constructor(readonly dataDir: string) {
    this.stateFile = path.join(dataDir, 'state.json');
    this.eventsFile = path.join(dataDir, 'events.jsonl');
    this.userDataDir = path.join(dataDir, 'userdata');
  }

  /** Creates the data dir if needed and reads the state (empty state for a new dir). */
  load(): { state: PersistedState; existed: boolean } {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.userDataDir, { recursive: true, mode: 0o700 });
    chmodSync(this.userDataDir, 0o700);
    if (!existsSync(this.stateFile)) return { state: emptyState(), existed: false };
    const raw = JSON.parse(readFileSync(this.stateFile, 'utf8')) as PersistedState;
    if (raw.version !== STATE_VERSION) {
      throw new Error(`${this.stateFile}: state version ${raw.version}, this cloud reads version ${STATE_VERSION}`);
    }
    return { state: { ...emptyState(), ...raw }, existed: true };
  }

  save(state: PersistedState): void {
    atomicWriteFileSync(this.stateFile, JSON.stringify(state), 0o600);
  }

  writeUserData(vmId: string, text: string): void {
    atomicWriteFileSync(this.userDataPath(vmId), text, 0o600);
  }

  readUserData(vmId: string): string {
    return readFileSync(this.userDataPath(vmId), 'utf8');
  }

  private userDataPath(vmId: string): string {
    if (!/^i-[0-9a-f]{12}$/.test(vmId)) throw new Error(`not a VM id: ${vmId}`);
    return path.join(this.userDataDir, vmId);
  }
}
