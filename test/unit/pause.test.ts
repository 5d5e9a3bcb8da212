// The pause's pure parts (workflows/pause.ts): the Paused condition's reasons as Cluster API words
// them, which annotation counts, and what a paused workflow says of itself.
import { describe, expect, it } from 'vitest';
import { hasPausedAnnotation, isPaused, PAUSED_DETAILS, pauseDetails, pausedCondition, takePausedAnnotation, type PauseState } from '../../workflows/pause.js';

describe('pausedCondition', () => {
  it('names each reason, the Cluster first, as Cluster API joins them', () => {
    expect(pausedCondition(false)).toEqual({ type: 'Paused', status: 'False', reason: 'NotPaused' });
    expect(pausedCondition(true)).toEqual({ type: 'Paused', status: 'True', reason: 'Paused', message: 'Cluster spec.paused is set to true' });
    expect(pausedCondition(false, { kind: 'MachineDeployment' })).toEqual({ type: 'Paused', status: 'True', reason: 'Paused', message: 'MachineDeployment has the cluster.x-k8s.io/paused annotation' });
    expect(pausedCondition(true, { kind: 'MachineSet' }).message).toBe('Cluster spec.paused is set to true, MachineSet has the cluster.x-k8s.io/paused annotation');
  });
});

describe('the paused annotation', () => {
  it('counts by its presence, whatever its value; no other key counts', () => {
    expect(hasPausedAnnotation({ annotations: { 'cluster.x-k8s.io/paused': '' } })).toBe(true);
    expect(hasPausedAnnotation({ annotations: { 'cluster.x-k8s.io/paused': 'false' } })).toBe(true);
    expect(hasPausedAnnotation({ annotations: { 'cluster.x-k8s.io/pause': '' } })).toBe(false);
    expect(hasPausedAnnotation({})).toBe(false);
    expect(hasPausedAnnotation(undefined)).toBe(false);
  });

  it('is taken into the state only when it changes, and never written while absent', () => {
    const state: PauseState = {};
    expect(takePausedAnnotation(state, { annotations: {} })).toBe(false);
    expect(state).toEqual({});
    expect(takePausedAnnotation(state, { annotations: { 'cluster.x-k8s.io/paused': '' } })).toBe(true);
    expect(isPaused(state)).toBe(true);
    expect(takePausedAnnotation(state, { annotations: { 'cluster.x-k8s.io/paused': 'yes' } })).toBe(false);
    expect(takePausedAnnotation(state, undefined)).toBe(true);
    expect(isPaused(state)).toBe(false);
    expect(isPaused({ paused: true })).toBe(true);
  });

  it('a paused workflow says who paused it and what lets it go', () => {
    expect(pauseDetails({ paused: true })).toBe(PAUSED_DETAILS);
    expect(pauseDetails({ annotated: true })).toBe('paused (it has the cluster.x-k8s.io/paused annotation): acting on nothing until it is removed');
    expect(pauseDetails({ paused: true, annotated: true })).toBe('paused (its Cluster has spec.paused: true, and it has the cluster.x-k8s.io/paused annotation): acting on nothing until its Cluster is resumed and the annotation removed');
  });
});
