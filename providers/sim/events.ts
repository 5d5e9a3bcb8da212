// The cloud's append-only event log: one JSON object per line in <dataDir>/events.jsonl, every
// line fsynced, all of it kept in memory for `GET /v1/events?since=`.
//
// Events that belong to a state change (vm.created, …) are first written into the state's outbox
// together with the change (state.ts: its journal line, or its snapshot), then appended here; on
// start, outbox events the log lacks are appended. So a crash between the two writes loses
// neither, and the log never tells of a change the state does not hold.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { atomicWriteFileSync, readJsonLines } from './fsutil.js';
import type { SimEvent } from './types.js';

export interface EventInput {
  clusterId?: string;
  vmId?: string;
  message: string;
  data?: Record<string, unknown>;
}

export class EventLog {
  private readonly events: SimEvent[] = [];
  private fd: number | undefined;
  private seq = 0;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly file: string) {}

  /** Reads the log (dropping a torn last line) and appends the outbox events it lacks. */
  load(outbox: readonly SimEvent[]): void {
    const { entries, whole } = readJsonLines<SimEvent>(this.file);
    let intact = whole;
    for (const e of entries) {
      // Sequence numbers only grow: a line out of order ends the log as a torn one does.
      if (typeof e?.seq !== 'number' || e.seq <= this.seq) {
        intact = false;
        break;
      }
      this.events.push(e);
      this.seq = e.seq;
    }
    // Keep only whole lines, ending in a newline, so the next append starts a line of its own.
    if (!intact) atomicWriteFileSync(this.file, this.events.map((e) => JSON.stringify(e) + '\n').join(''));
    this.fd = openSync(this.file, 'a', 0o600);
    const missing = outbox.filter((e) => e.seq > this.seq).sort((a, b) => a.seq - b.seq);
    if (missing.length > 0) this.append(missing);
  }

  /** A new event with the next sequence number; not yet in the log (see `append`). */
  make(type: string, e: EventInput): SimEvent {
    this.seq += 1;
    // Built in the documented field order, so the log reads the same way the API describes it.
    const ev: SimEvent = {
      seq: this.seq,
      time: new Date().toISOString(),
      type,
      ...(e.clusterId !== undefined ? { clusterId: e.clusterId } : {}),
      ...(e.vmId !== undefined ? { vmId: e.vmId } : {}),
      message: e.message,
      ...(e.data !== undefined ? { data: e.data } : {}),
    };
    return ev;
  }

  append(events: readonly SimEvent[]): void {
    if (events.length === 0) return;
    if (this.fd === undefined) throw new Error('event log not loaded');
    writeSync(this.fd, events.map((e) => JSON.stringify(e) + '\n').join(''));
    fsyncSync(this.fd);
    for (const e of events) {
      this.events.push(e);
      if (e.seq > this.seq) this.seq = e.seq;
    }
    for (const w of [...this.waiters]) w();
  }

  since(seq: number, limit = 10_000): SimEvent[] {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return this.events.slice(lo, lo + limit);
  }

  /** Resolves when an event after `seq` exists, or after `timeoutMs`, or when `signal` aborts. */
  waitAfter(seq: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.seq > seq || timeoutMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const check = () => {
        if (this.seq > seq || this.closed) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(check);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  get lastSeq(): number {
    return this.seq;
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
