// Histories recorded by earlier releases — what a worker upgraded in place must pick up. Today's
// workflow code must replay each of them without a nondeterminism error (DESIGN: changes that
// would break replay go behind a version check: flow.ts revisions, `patched()`). Recorded once with
// each release's code; binary protobuf, no secret in them (the scan below).
// - release-1: the foundation, before the first changes to the workflows: the demo cluster
//   Available, every workflow open and waiting.
// - release-2: the release of revision 4 (quiet observers), recorded by ../fixtures/histories/record.ts:
//   a deployment restarted through a second MachineSet, a worker remediated by its health check
//   and replaced, then everything quiet; open and closed workflows, every run.
// - release-3: the release of revision 6 (a workload API that does not answer), the same
//   scenario: its machines deleted by signal, drained and torn down in two activities, which
//   revision 7 does otherwise.
// - release-4: the release of revision 8 (Cluster API's OnDelete), the same scenario. (Revision 9
//   changes what a Cluster's memo upserts hold, which replay does not compare — Temporal checks a
//   command's kind, not a memo's content — and adds upserts and reports on paths the scenario
//   does not take: a cluster's deletion, a blocked scale up.)
import { readdirSync, readFileSync } from 'node:fs';
import protoPkg from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/capstan-env.js';

const { temporal } = protoPkg;
/** What a secret in a history would look like: a private key, a kubeconfig's key, a bootstrap token. */
const SECRET = /PRIVATE KEY|client-key-data|[a-z0-9]{6}\.[a-z0-9]{16}/;

it('the secret scan sees one (planted)', () => {
  for (const planted of ['-----BEGIN RSA PRIVATE KEY-----', 'client-key-data: LS0t', 'token: abcdef.0123456789abcdef']) expect(planted).toMatch(SECRET);
});

/** record.ts's scenario: every kind it touches, and machines that have ended (the rollout's, the remediated one). */
function recordedScenario(files: string[]): void {
  for (const prefix of ['cluster_', 'kubeadmcontrolplane_', 'machinedeployment_', 'machineset_', 'machinehealthcheck_', 'machine_']) {
    expect(files.some((f) => f.startsWith(prefix)), prefix).toBe(true);
  }
  expect(files.filter((f) => f.startsWith('machineset_')).length).toBeGreaterThanOrEqual(2);
}

const RELEASES: { name: string; expect: (files: string[]) => void }[] = [
  { name: 'release-1', expect: (files) => expect(files).toHaveLength(7) },
  { name: 'release-2', expect: recordedScenario },
  { name: 'release-3', expect: recordedScenario },
  { name: 'release-4', expect: recordedScenario },
];

describe.each(RELEASES)('histories of $name', ({ name, expect: expectFiles }) => {
  const dir = new URL(`../fixtures/histories/${name}/`, import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.history.bin'));

  it('are all there, and hold no secret', () => {
    expectFiles(files);
    for (const f of files) {
      const text = readFileSync(new URL(f, dir)).toString('latin1');
      expect(text).not.toMatch(SECRET);
    }
  });

  it('replay with today’s workflow code', async () => {
    const histories = files.map((f) => ({
      workflowId: f.replace(/(\.run\d+)?\.history\.bin$/, '').replaceAll('_', '/'),
      history: temporal.api.history.v1.History.decode(readFileSync(new URL(f, dir))),
    }));
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
      expect(r.error, r.workflowId).toBeUndefined();
      replayed++;
    }
    expect(replayed).toBe(files.length);
  }, 300_000);
});
