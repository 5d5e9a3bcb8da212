// `capstan worker` refuses a namespace that lacks one of capstan's search attributes (an upgrade
// that added CapstanQuiet, say), naming it and the command that adds it, instead of starting and
// leaving every Cluster that goes quiet failing its workflow task. On a real dev server.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal.js';
import { missingSearchAttributes } from '../../workers/search-attributes-check.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';

const cli = fileURLToPath(new URL('../../bin/capstan.mjs', import.meta.url));

describe('worker preflight: the namespace’s search attributes', () => {
  let temporal: TemporalDevServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-preflight-'));
    const { CapstanQuiet: _left, ...older } = SEARCH_ATTRIBUTES;
    temporal = await startTemporalDevServer({ headless: true, searchAttributes: older, logFile: join(dir, 'temporal.log') });
  }, 120_000);
  afterAll(async () => {
    await temporal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names what the namespace lacks', async () => {
    const connection = await Connection.connect({ address: temporal.address });
    try {
      expect(await missingSearchAttributes(connection, temporal.namespace)).toEqual(['CapstanQuiet']);
    } finally {
      await connection.close();
    }
  });

  it('capstan worker exits 1 with the command that adds it, and starts nothing', async () => {
    const env = { ...process.env, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, CAPSTAN_SIM_URL: 'http://127.0.0.1:9', CAPSTAN_DATA_DIR: dir };
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [cli, 'worker'], { encoding: 'utf8', env, timeout: 60_000 }, (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr })),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`namespace "${temporal.namespace}" lacks capstan's search attribute CapstanQuiet; add it once:`);
    expect(r.stderr).toContain(`temporal operator search-attribute create --namespace ${temporal.namespace} --name CapstanQuiet --type Keyword`);
    expect(r.stderr).not.toContain('polling task queue');
  }, 90_000);
});
