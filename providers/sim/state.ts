// Everything the cloud has acknowledged, durable before the answer is sent: a snapshot in
// <dataDir>/state.json (written atomically) and, after it, a journal of changes in
// <dataDir>/state.journal (one JSON line per change, appended and fdatasync'd), as a database keeps
// a write-ahead log. A change writes the records it touched, not the whole state: rewriting a
// state of 2,000 VMs (1.3 MB) for every VM transition cost the cloud 13 ms of CPU and an fsync of
// the whole file each time, quadratic in the fleet. The snapshot is rewritten when the journal has
// grown past it (so a change costs O(1) amortized) and at every start. User data lives in
// <dataDir>/userdata/<vmId> (mode 0600).
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fdatasyncSync, ftruncateSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { atomicWriteFileSync, fsyncDir, readJsonLines } from './fsutil.js';
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
  /** In the snapshot: the last journal entry it holds (entries up to it are skipped on load). */
  journalSeq?: number;
}

/** The records a change touched (by id). Every other field of the state is small and always written. */
export interface Touched {
  vms?: readonly string[];
  clusters?: readonly string[];
}

/** One line of the journal: the touched records as they are now (null: removed), and the small fields. */
interface JournalEntry {
  seq: number;
  vms?: Record<string, StoredVm | null>;
  clusters?: Record<string, StoredCluster | null>;
  faults: SimFaults;
  nextOctet: number;
  apiPort?: number;
  outbox: SimEvent[];
}

/** The journal is folded into a new snapshot once it is larger than this or than the snapshot. */
const MIN_JOURNAL_BYTES = 256 * 1024;

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
  readonly journalFile: string;
  readonly eventsFile: string;
  private readonly userDataDir: string;
  private journalFd: number | undefined;
  private journalSeq = 0;
  private journalBytes = 0;
  private snapshotBytes = 0;
  /** A journal append failed half-way: the next change writes a snapshot instead. */
  private journalSuspect = false;

  constructor(readonly dataDir: string) {
    this.stateFile = path.join(dataDir, 'state.json');
    this.journalFile = path.join(dataDir, 'state.journal');
    this.eventsFile = path.join(dataDir, 'events.jsonl');
    this.userDataDir = path.join(dataDir, 'userdata');
  }

  /**
   * Creates the data dir if needed and reads the state (empty state for a new dir): the snapshot,
   * then the journal's entries after it (a torn last line, a write cut by a crash, was never
   * acknowledged and is dropped). Writes a fresh snapshot when the journal held anything.
   */
  load(): { state: PersistedState; existed: boolean } {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.userDataDir, { recursive: true, mode: 0o700 });
    chmodSync(this.userDataDir, 0o700);
    const hasSnapshot = existsSync(this.stateFile);
    const hasJournal = existsSync(this.journalFile);
    let state = emptyState();
    if (hasSnapshot) {
      const raw = JSON.parse(readFileSync(this.stateFile, 'utf8')) as PersistedState;
      if (raw.version !== STATE_VERSION) {
        throw new Error(`${this.stateFile}: state version ${raw.version}, this cloud reads version ${STATE_VERSION}`);
      }
      state = { ...emptyState(), ...raw };
    }
    this.journalSeq = state.journalSeq ?? 0;
    let replayed = 0;
    for (const entry of readJsonLines<JournalEntry>(this.journalFile).entries) {
      if (entry.seq <= this.journalSeq) continue; // already in the snapshot
      applyEntry(state, entry);
      this.journalSeq = entry.seq;
      replayed++;
    }
    this.journalFd = openSync(this.journalFile, 'a', 0o600);
    if (!hasJournal) fsyncDir(this.dataDir);
    if (replayed > 0 || (hasJournal && fstatSync(this.journalFd).size > 0)) this.snapshot(state);
    else this.snapshotBytes = hasSnapshot ? statSync(this.stateFile).size : 0;
    return { state, existed: hasSnapshot || replayed > 0 };
  }

  /**
   * Makes the change durable: the `touched` records and the small fields as one journal line, or
   * (no `touched`, or a journal that outgrew the snapshot) the whole state as a new snapshot.
   */
  save(state: PersistedState, touched?: Touched): void {
    if (touched === undefined || this.journalFd === undefined || this.journalSuspect) {
      this.snapshot(state);
      return;
    }
    const entry: JournalEntry = { seq: this.journalSeq + 1, faults: state.faults, nextOctet: state.nextOctet, outbox: state.outbox };
    if (state.apiPort !== undefined) entry.apiPort = state.apiPort;
    if (touched.vms?.length) entry.vms = Object.fromEntries(touched.vms.map((id) => [id, state.vms[id] ?? null]));
    if (touched.clusters?.length) entry.clusters = Object.fromEntries(touched.clusters.map((id) => [id, state.clusters[id] ?? null]));
    const buf = Buffer.from(JSON.stringify(entry) + '\n', 'utf8');
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.journalFd, buf, off, buf.length - off);
      fdatasyncSync(this.journalFd);
    } catch (err) {
      // Part of the line may be on disk: never append after it; the next change rewrites everything.
      this.journalSuspect = true;
      throw err;
    }
    this.journalSeq = entry.seq;
    this.journalBytes += buf.length;
    if (this.journalBytes > Math.max(MIN_JOURNAL_BYTES, this.snapshotBytes)) this.snapshot(state);
  }

  /** Writes the whole state as the snapshot (holding the journal so far), then empties the journal. */
  private snapshot(state: PersistedState): void {
    state.journalSeq = this.journalSeq;
    const text = JSON.stringify(state);
    atomicWriteFileSync(this.stateFile, text, 0o600);
    this.snapshotBytes = Buffer.byteLength(text);
    if (this.journalFd !== undefined) {
      // A crash before this leaves entries the snapshot already holds: load skips them by seq.
      ftruncateSync(this.journalFd, 0);
      fdatasyncSync(this.journalFd);
    }
    this.journalBytes = 0;
    this.journalSuspect = false;
  }

  /** Closes the journal (the state stays on disk). */
  close(): void {
    if (this.journalFd !== undefined) closeSync(this.journalFd);
    this.journalFd = undefined;
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

/** Applies one journal entry: records as written (tokens follow their records), then the small fields. */
function applyEntry(state: PersistedState, entry: JournalEntry): void {
  for (const [id, rec] of Object.entries(entry.vms ?? {})) {
    if (rec === null) delete state.vms[id];
    else {
      state.vms[id] = rec;
      state.vmTokens[rec.vm.clientToken] = id;
    }
  }
  for (const [id, rec] of Object.entries(entry.clusters ?? {})) {
    if (rec === null) delete state.clusters[id];
    else {
      state.clusters[id] = rec;
      state.clusterTokens[rec.cluster.clientToken] = id;
    }
  }
  state.faults = entry.faults;
  state.nextOctet = entry.nextOctet;
  if (entry.apiPort !== undefined) state.apiPort = entry.apiPort;
  state.outbox = entry.outbox;
}
