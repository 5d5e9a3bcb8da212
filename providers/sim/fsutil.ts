// Durable file writes: a reader (or a restart after kill -9 or power loss) sees the old file or
// the new one, never a torn one.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Writes `data` to a temp file beside `file`, fsyncs it, renames it over `file`, fsyncs the directory. */
export function atomicWriteFileSync(file: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines of a JSON-lines file, parsed, up to the first that does not parse: only the last line
 * can be torn (a write cut by a crash), and nothing after it was acknowledged. `whole` is false
 * when a line was dropped or the file does not end in a newline (the next append would join it).
 * A missing file reads as empty and whole.
 */
export function readJsonLines<T>(file: string): { entries: T[]; whole: boolean } {
  if (!existsSync(file)) return { entries: [], whole: true };
  const text = readFileSync(file, 'utf8');
  const entries: T[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      entries.push(JSON.parse(line) as T);
    } catch {
      return { entries, whole: false };
    }
  }
  return { entries, whole: text.length === 0 || text.endsWith('\n') };
}
