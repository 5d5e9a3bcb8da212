// Test helper: runs the openssl CLI on temporary files when it is on PATH, so tests can
// check our DER against an independent parser. Not imported by production code.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

/** Writes `files` to a temp dir, runs `openssl ...args` there ({name} → path), returns stdout. */
export function openssl(args: string[], files: Record<string, string | Buffer> = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'capstan-openssl-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const resolved = args.map((arg) => arg.replace(/\{([^}]+)\}/g, (_, name: string) => join(dir, name)));
    return execFileSync('openssl', resolved, { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
