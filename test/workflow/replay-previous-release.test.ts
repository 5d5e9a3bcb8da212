// Histories recorded by the previous release (the foundation, before this version's changes to
// the workflows): the demo cluster Available, every workflow open and waiting — what a worker
// upgraded in place must pick up. Today's workflow code must replay each of them without a
// nondeterminism error (DESIGN: changes that would break replay go behind a version check).
// Recorded once with that release's code; binary protobuf, no secret in them (the scan below).
import { readdirSync, readFileSync } from 'node:fs';
import protoPkg from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/capstan-env.js';

const { temporal } = protoPkg;
const dir = new URL('../fixtures/histories/release-1/', import.meta.url);

describe('histories of the previous release', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.history.bin'));

  it('are all there: the Cluster, its control plane and five Machines, and hold no secret', () => {
    expect(files).toHaveLength(7);
    for (const f of files) {
      const text = readFileSync(new URL(f, dir)).toString('latin1');
      expect(text).not.toMatch(/PRIVATE KEY|client-key-data|[a-z0-9]{6}\.[a-z0-9]{16}/);
    }
  });

  it('replay with today’s workflow code', async () => {
    const histories = files.map((f) => ({
      workflowId: f.replace('.history.bin', '').replaceAll('_', '/'),
      history: temporal.api.history.v1.History.decode(readFileSync(new URL(f, dir))),
    }));
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
      expect(r.error, r.workflowId).toBeUndefined();
      replayed++;
    }
    expect(replayed).toBe(7);
  }, 120_000);
});
