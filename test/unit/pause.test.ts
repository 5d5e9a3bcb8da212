// The pause's pure parts (workflows/pause.ts): the Paused condition's reasons as Cluster API words
// them, which annotation counts, and what a paused workflow says of itself.
import { describe, expect, it } from 'vitest';
import { hasPausedAnnotation, isPaused, PAUSED_DETAILS, pauseDetails, pausedCondition, takePausedAnnotation, type PauseState } from '../../workflows/pause.js';

describe('pausedCondition', () => {
  it('names each reason, the Cluster first, as Cluster API joins them', () => {
    expect(pausedCondition(false)).toEqual({ type: 'Paused', status: 'False', reason: 'NotPaused' });
    expect(pausedCondition(true)).toEqual({ type: 'Paused', status: 'True', reason: 'Paused', message: 'Cluster spec.paused is set to true' });
    expect(pausedCondition(false, { kind: 'MachineDeployment' })).toEqual({ type: 'Paused', status: 'True', reason: 'Paused', message: 'MachineDeployment has the cluster.capstan.dev/paused annotation' });
    expect(pausedCondition(true, { kind: 'MachineSet' }).message).toBe('Cluster spec.paused is set to true, MachineSet has the cluster.capstan.dev/paused annotation');
  });
});

describe('the paused annotation', () => {
  it('counts by its presence, whatever its value; no other key counts', () => {
    expect(hasPausedAnnotation({ annotations: { 'cluster.capstan.dev/paused': '' } })).toBe(true);
    expect(hasPausedAnnotation({ annotations: { 'cluster.capstan.dev/paused': 'false' } })).toBe(true);
    expect(hasPausedAnnotation({ annotations: { 'cluster.x-k8s.io/pause': '' } })).toBe(false);
    expect(hasPausedAnnotation({})).toBe(false);
    expect(hasPausedAnnotation(undefined)).toBe(false);
  });

  it('is not taken while absent and never had (no patch marker, no state: a history without it stays as it was)', () => {
    // (Taking it calls patched(), which only a workflow can: the workflow tests in object-pause.test.ts do.)
    const state: PauseState = {};
    expect(takePausedAnnotation(state, { annotations: {} })).toBe(false);
    expect(takePausedAnnotation(state, undefined)).toBe(false);
    expect(state).toEqual({});
    expect(isPaused(state)).toBe(false);
    expect(isPaused({ paused: true })).toBe(true);
    expect(isPaused({ annotated: true })).toBe(true);
  });

  it('a paused workflow says who paused it and what lets it go', () => {
    expect(pauseDetails({ paused: true })).toBe(PAUSED_DETAILS);
    expect(pauseDetails({ annotated: true })).toBe('paused (it has the cluster.capstan.dev/paused annotation): acting on nothing until it is removed');
    expect(pauseDetails({ paused: true, annotated: true })).toBe('paused (its Cluster has spec.paused: true, and it has the cluster.capstan.dev/paused annotation): acting on nothing until its Cluster is resumed and the annotation removed');
  });
});
